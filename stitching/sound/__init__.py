"""Sound: the story read aloud, its characters in their own voices, over a quiet bed of the scene's sound.

    voices    a voice for the narrator and each character, chosen once from who they are, kept in plan.json
    lines     each shot's spoken lines: its narration (the text without the dialogue) and each quoted line,
              in the speaker's voice
    timing    a shot lasts at least as long as what is said in it, plus a pause
    mix       (stitching.sound.mix) the speech over ambience and music, ducked, loudness-normalised

Speech backends register by name (SPEAKERS); any callable (text, voice) -> samples works through the API.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from storyteller.core import lexicon
from storyteller.core.backend import Speaker, Speech
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MAX_SHOT_SECONDS, Character, Shot, StoryPlan, Voice, scaled
from storyteller.core.registry import Registry

SPEAKERS: Registry[Speaker] = Registry("speech backend", "storyteller.speakers")
SPEAKERS.register("espeak", "stitching.sound.espeak:EspeakSpeaker")
SPEAKERS.register("transformers", "stitching.sound.neural:TransformersSpeaker")  # "transformers:MODEL_OR_FOLDER"
SPEAKERS.register("piper", "stitching.sound.neural:PiperSpeaker")  # "piper:VOICE.onnx"

NARRATION_MODES = ("story", "dialogue", "none")
LEAD = 0.3  # seconds of quiet before a shot's first line
PAUSE = 0.25  # between two lines
TAIL = 0.4  # after the last line, before the next shot
_QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|«([^»]+)»|„([^“”]+)[“”]")
_FEMALE_WORDS = {"she", "her", "hers", "herself"}
_MALE_WORDS = {"he", "him", "his", "himself"}


@dataclass(frozen=True)
class Line:
    """One thing said in a shot: by the narrator or a character, in their voice."""

    text: str
    voice: Voice
    speaker: str  # "narrator" or a character id


# --- voices ----------------------------------------------------------------------------------------


def with_voices(plan: StoryPlan) -> StoryPlan:
    """The plan with a voice for the narrator and every character that has none yet: chosen from who
    they are (a girl, a bear, a fisherman; she or he in the text), the same every time for the same plan,
    and written into plan.json, where a user may change them (a voice's `backend` gives one character
    another speech backend; unset, the film's own speaks)."""
    narrator = plan.narrator or Voice(name=plan.language, pitch=42, rate=160)
    characters = [c if c.voice else c.model_copy(update={"voice": _voice_for(c, plan)}) for c in plan.characters]
    if narrator == plan.narrator and characters == plan.characters:
        return plan
    return plan.model_copy(update={"narrator": narrator, "characters": characters})


def _voice_for(character: Character, plan: StoryPlan) -> Voice:
    kind = character.kind.lower()
    draw = int(hashlib.sha256(f"{plan.seed}|{character.id}".encode()).hexdigest(), 16)
    if kind in lexicon.FEMALE or kind in lexicon.MALE:
        female = kind in lexicon.FEMALE
    else:  # what the story calls them: she or he, in the shots they are in
        words = [w.lower() for s in plan.shots if character.id in s.characters for w in re.findall(r"\w+", s.text)]
        female = sum(w in _FEMALE_WORDS for w in words) > sum(w in _MALE_WORDS for w in words)
    variant = f"f{1 + draw % 5}" if female else f"m{1 + draw % 7}"
    pitch = 40 + (draw >> 8) % 25
    if kind in lexicon.SMALL:  # a hamster squeaks, a bear rumbles
        pitch = 80 + (draw >> 8) % 15
    elif kind in lexicon.LARGE or kind in lexicon.HUGE:
        pitch = 10 + (draw >> 8) % 15
    if kind in lexicon.YOUNG_KINDS:  # a child speaks higher
        pitch = min(99, pitch + 20)
    return Voice(name=f"{plan.language}+{variant}", pitch=pitch, rate=150 + (draw >> 16) % 35)


# --- lines -----------------------------------------------------------------------------------------


def lines(plan: StoryPlan, shot: Shot, narration: str = "story") -> list[Line]:
    """What is said in the shot, in the order of its text: the narration between the quotes (`story` mode)
    and each quoted line in its speaker's voice (`story` and `dialogue`); nothing with `none`."""
    if narration == "none":
        return []
    said: list[Line] = []
    parts = _parts(shot.said)
    narrator = plan.narrator or Voice(name=plan.language)
    for index, (text, quoted) in enumerate(parts):
        text = re.sub(r"\s+", " ", text).strip(" ,;:")
        if not re.search(r"\w", text):
            continue
        if quoted:
            speaker = _speaker(plan, shot, parts, index)
            voice = speaker.voice if speaker is not None and speaker.voice else narrator
            said.append(Line(text, voice, speaker.id if speaker is not None else "narrator"))
        elif narration == "story":
            said.append(Line(text, narrator, "narrator"))
    return said


def _parts(text: str) -> list[tuple[str, bool]]:
    """The text cut at its quotes: (piece, is it quoted)."""
    parts, last = [], 0
    for match in _QUOTE.finditer(text):
        parts.append((text[last : match.start()], False))
        parts.append((next(g for g in match.groups() if g is not None), True))
        last = match.end()
    parts.append((text[last:], False))
    return [(t, q) for t, q in parts if t]


def _speaker(plan: StoryPlan, shot: Shot, parts: list[tuple[str, bool]], index: int) -> Character | None:
    """Who says the quote at `index`: the character its dialogue tag names ("...," shouted Mia; the keeper
    said, "..."), else one named right after or before it, else the shot's first character."""
    present = [plan.character(cid) for cid in shot.characters]
    quote = parts[index][0].strip()
    around = [(n, parts[n][0]) for n in (index - 1, index + 1) if 0 <= n < len(parts) and not parts[n][1]]
    for tagged in (True, False):
        for neighbour, text in around:
            after, words = neighbour > index, text.lower()
            if tagged:
                # a tag: `the keeper said, "..."` (a speech verb ending the words before, then a comma), or
                # `"...!" shouted Mia` (a quote not ended by a full stop, a speech verb just after it)
                if after and quote.endswith("."):
                    continue
                if not after and not text.rstrip().endswith((",", ":")):
                    continue
                near = " ".join(words.split()[:3] if after else words.split()[-3:])
                if not any(singular_verb(w) in lexicon.SPEECH_VERBS for w in re.findall(r"[a-z]+", near)):
                    continue
                words = " ".join(words.split()[:6] if after else words.split()[-6:])
            named = [c for c in present if _distance(words, c, after) >= 0]
            if named:  # the one named closest to the quote
                return min(named, key=lambda c: _distance(words, c, after))
    return present[0] if present else None


def singular_verb(word: str) -> str:
    """A verb's plain form, near enough for the speech verbs: shouted, shouts, cried -> shout, cry."""
    for ending, plain in (("ied", "y"), ("ies", "y"), ("ed", ""), ("es", ""), ("s", ""), ("d", "")):
        if word.endswith(ending) and word[: -len(ending)] + plain in lexicon.SPEECH_VERBS:
            return word[: -len(ending)] + plain
    return word


def _distance(words: str, character: Character, after: bool) -> int:
    """How far from the quote the character is named in `words` (-1: not named there)."""
    for name in (character.name.lower(), character.kind.lower()):
        found = re.search(rf"\b{re.escape(name)}\b", words)
        if found:
            return found.start() if after else len(words) - found.end()
    return -1


# --- timing ----------------------------------------------------------------------------------------


def needed_seconds(spoken: list[Speech]) -> float:
    """How long a shot must last for its lines, one after another with pauses."""
    if not spoken:
        return 0.0
    return LEAD + sum(s.seconds for s in spoken) + PAUSE * (len(spoken) - 1) + TAIL


def fitted(plan: StoryPlan, spoken: list[list[Speech]]) -> StoryPlan:
    """The plan with every shot lasting at least as long as what is said in it (its planned duration is the
    least it lasts), and as long as the crossfade into the next shot, which the speech must not run into;
    action times scale with the shot."""
    shots = []
    for index, (shot, speech) in enumerate(zip(plan.shots, spoken, strict=True)):
        following = plan.shots[index + 1].transition.duration if index + 1 < len(plan.shots) else 0.0
        needed = needed_seconds(speech) + (following if speech else 0.0)
        if needed > MAX_SHOT_SECONDS:  # cut short, the narration would run on past the shot and the film
            raise StorytellerError(
                f"shot {shot.id}: what is said in it lasts {needed:.0f} s, and a shot lasts at most "
                f"{MAX_SHOT_SECONDS:.0f} s: split its text into more shots (or make its voice faster)"
            )
        shots.append(scaled(shot, needed) if needed > shot.duration + 1e-3 else shot)
    return plan if shots == plan.shots else plan.model_copy(update={"shots": shots})


def placements(plan: StoryPlan, spoken: list[list[Speech]]) -> list[list[float]]:
    """When each line starts, in seconds on the film's timeline."""
    starts = plan.shot_starts()
    placed = []
    for start, speech in zip(starts, spoken, strict=True):
        at, times = start / plan.fps + LEAD, []
        for piece in speech:
            times.append(at)
            at += piece.seconds + PAUSE
        placed.append(times)
    return placed


__all__ = ["NARRATION_MODES", "SPEAKERS", "Line", "fitted", "lines", "placements", "with_voices"]
