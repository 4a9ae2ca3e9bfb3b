"""Shot prose: the scripts people write for video models, one paragraph a shot.

"Wide establishing shot of the harbour at dusk. Ana, in a yellow coat, waits on the pier. Cinematic,
realistic style." is one shot: what is seen (Ana waits on the pier) and directions to the camera and the
look (the framing, a move, the style, the mood). A sentence of direction is never a shot of its own and
never a character; it sets the shot's camera and joins its prompt.

A script is read as shot prose when most of its paragraphs carry a direction sentence (`auto`); narrative
prose keeps its sentence-by-sentence reading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from storyteller.core import lexicon as lx

SHOT_MODES = ("auto", "paragraph", "sentence")
PRONOUN_WINDOW = 12  # sentences: a script follows its protagonist through "she" across several shots

# the vocabulary of framing, camera moves, lenses, style and mood that shot prose is written in
_FRAMING = (  # one to three framing words before "shot": "Wide establishing shot", "Slow tracking shot"
    r"(?:(?:extreme|slow|wide|medium|close|long|full|establishing|tracking|two|three|cowboy|insert|aerial|"
    r"overhead|master|reaction|closing|opening|point[- ]of[- ]view|pov|over[- ]the[- ]shoulder|dolly|crane|"
    r"drone|static|handheld|low[- ]angle|high[- ]angle)[- ,]+){1,3}"
)
_SHOT = re.compile(  # a framing or a move, as a phrase: "Medium two-shot", "Close-up of", "Tracking shot following"
    rf"(?:\b{_FRAMING}(?:up|shot|angle|view|frame|framing|pan|zoom)s?\b"
    r"|\b(?:low|high|dutch|eye[- ]level|bird'?s[- ]eye|worm'?s[- ]eye)[- ]angle\b"
    r"|\bclose[- ]?up\b|\btwo[- ]shot\b)"
    r"(?:\s+(?:shot|of|on|from|following|as|with|through|behind|over|inside|at)\b)?",
    re.IGNORECASE,
)
_CAMERA_WORDS = re.compile(
    r"\b(?:camera|lens|shot|framing|focus|depth of field|slow motion|time[- ]lapse|pans?|panning|tilts?|dolly|"
    r"zooms?|push(?:es)?[- ]in|pulls?[- ]back|tracks?|tracking|orbits?)\b",
    re.IGNORECASE,
)
_LOOK = re.compile(  # a sentence of look or mood: "Cinematic, realistic style." "The mood is patient and quiet."
    r"\bstyle\.?\s*$"
    r"|^(?:[\w'’-]+[ ,;]+){0,5}(?:mood|atmosphere|tone|feel|feeling|look|lighting|palette|colou?rs|timing|ending|"
    r"energy|aesthetic|framing|composition|realism|grading|vibe)\.?\s*$"
    r"|^\s*(?:the\s+)?(?:mood|atmosphere|tone|feeling|lighting|light|colou?rs?|colou?r palette|palette|sound|"
    r"music|silence|air)\b[^.]*\b(?:is|are|feels?|remains?|stays?|grows?|becomes?|turns?|hangs?|settles?)\b",
    re.IGNORECASE,
)
_SOMEONE = re.compile(r"\b(?:he|she|they|him|her|them|his|their|its|it)\b|(?<=\s)[A-Z][a-z]")
_LIVING = re.compile(r"[a-z]+")
_WORDS = re.compile(r"\w+")
_CAMERA_MOVE = re.compile(  # a move or the camera itself, as words to blank: "slow push-in", "handheld camera"
    r"\b(?:(?:slow|quick|fast|gentle|smooth|subtle|shaky)\s+)?(?:pans?|panning|tilts?|zooms?|push(?:es)?[- ]ins?|"
    r"pulls?[- ]back|dolly(?:[- ](?:in|out))?|dollies|crane shot|handheld(?: camera)?|camera)\b",
    re.IGNORECASE,
)


def _shows_someone(text: str) -> bool:
    """A pronoun, a name, or a living thing ("the woman", "a fox") in what is left of a sentence."""
    return bool(_SOMEONE.search(text)) or any(lx.singular(w) in lx.ANIMATE for w in _LIVING.findall(text.lower()))


def is_look(sentence: str) -> bool:
    """A sentence of look or mood alone: "Cinematic, realistic style.", "The mood is patient and quiet." """
    return bool(_LOOK.search(sentence.strip()))


def is_direction(sentence: str) -> bool:
    """A sentence about the camera, the framing, the style or the mood, and nothing else: "Cinematic,
    realistic style.", "The mood is patient.", "Medium shot, soft focus on the background." It is no shot
    of its own and names no one. ("Close-up of her hands on the lens" shows someone: see `masked`.)"""
    sentence = sentence.strip()
    if is_look(sentence):
        return True
    rest = _CAMERA_MOVE.sub(" ", _SHOT.sub(" ", sentence))
    return rest != sentence and not _shows_someone(rest)


_CLAUSE = re.compile(r"\b(?:as|while|when|where)\s+(\w.*)$")


def spoken(sentence: str) -> str:
    """What of a sentence is read aloud: after a framing phrase, the clause it frames ("Wide shot of the quay
    as the woman walks along the stones." -> "The woman walks along the stones.") or what it frames
    ("Medium shot of Tomas mending a net." -> "Tomas mending a net."); else the sentence."""
    sentence = sentence.strip()
    framing = _SHOT.match(sentence)
    if framing is None:
        return sentence
    clause = _CLAUSE.search(sentence, framing.end())
    rest = clause.group(1) if clause else sentence[framing.end() :].strip()
    return rest[:1].upper() + rest[1:]


def narrated(sentence: str) -> bool:
    """Whether a sentence of shot prose is read aloud: no direction, nor a framing with a few words after it
    ("Wide shot from behind her.", "Close-up of Pip's ears twitching."): that describes the shot, not the story."""
    sentence = sentence.strip()
    framing = _SHOT.match(sentence)
    return not is_direction(sentence) and not (framing and len(_WORDS.findall(sentence[framing.end() :])) < 5)


def directs(sentence: str) -> bool:
    """Whether a sentence carries any direction at all: a framing, a camera word, a look or a mood."""
    return bool(_SHOT.search(sentence) or _CAMERA_WORDS.search(sentence) or _LOOK.search(sentence))


def masked(sentence: str) -> str:
    """The sentence with its framing phrases blanked (the same length: offsets hold), so "Close-up of her
    hands" is read as "her hands" and no "Close" becomes a name."""
    return _SHOT.sub(lambda m: " " * len(m.group()), sentence)


_CAMERA_MOVES = [  # (pattern, the plan's camera move), the first that matches
    (r"close[- ]?up|extreme close|insert shot", "close_up"),
    (r"push(?:es)?[- ]in|zooms? in|dolly in|dollies in|moves? in", "zoom_in"),
    (r"pulls? back|zooms? out|dolly out|dollies out", "zoom_out"),
    (r"pans?\s+(?:to the\s+)?left|tracks? left", "pan_left"),
    (r"pans?\s+(?:to the\s+)?right|tracks? right|tracking shot|tracking", "pan_right"),
    (r"tilts? up|low[- ]angle|crane up|looking up", "tilt_up"),
    (r"tilts? down|high[- ]angle|overhead|bird'?s[- ]eye|top[- ]down", "tilt_down"),
    (r"wide|establishing|aerial|long shot|full shot|drone", "wide"),
    (r"static|locked[- ]off|medium|two[- ]shot|over[- ]the[- ]shoulder", "static"),
]


_MOVE = re.compile(
    r"\b(?:pans?|panning|tilts?|zooms?|push(?:es)?[- ]in|pulls?[- ]back|dolly|dollies)\b[\w -]{0,14}", re.I
)


def camera_of(sentences: Sequence[str]) -> str | None:
    """The camera move the script's direction names (its framing phrases and moves, in order; a "wide" that
    describes a river is not one), if any."""
    for sentence in sentences:
        phrases = sorted([*_SHOT.finditer(sentence), *_MOVE.finditer(sentence)], key=lambda m: m.start())
        for phrase in phrases:
            low = phrase.group().lower()
            move = next((move for pattern, move in _CAMERA_MOVES if re.search(pattern, low)), None)
            if move is not None:
                return move
    return None


def reads_as_shots(paragraphs: Sequence[Sequence[str]], mode: str = "auto") -> bool:
    """Whether a script's paragraphs are its shots: asked (`paragraph`), or, for `auto`, when at least half
    of its paragraphs (two or more of them) hold a sentence of direction."""
    if mode != "auto":
        return mode == "paragraph"
    directed = sum(any(directs(s) for s in sentences) for sentences in paragraphs)
    return len(paragraphs) >= 2 and directed * 2 >= len(paragraphs)
