"""Names as people write them: "Vincent van Gogh", "Lin Daiyu", "Nguyễn Thị Lan", "KIT-9", "Ольга".

A name is kept whole as the character's name; the shorter forms the text uses ("Pieter", "van Dijk",
"Daiyu") are aliases of the same person, and so is the same name in capitals ("TOMÁS"), in another script
("Olga" for "Ольга") or without its number ("KIT" for "KIT-9"). Comparison goes through `key`: the name
transliterated to ASCII, case-folded, with its punctuation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from anyascii import anyascii

# lowercase words inside a name: "Vincent van Gogh", "Leonardo da Vinci", "Ibn al-Haytham", "Ana de Armas"
PARTICLES = {
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la", "le", "bin", "bint",
    "ibn", "al", "el", "ben", "ter", "ten", "zu", "af", "av",
}  # fmt: skip
# capitalised adjectives a name may follow ("Young Forrest", "Little Sheldon", "Old Tom"): a description,
# never the name itself
NAME_ADJECTIVES = {
    "young", "little", "old", "big", "tiny", "poor", "dear", "brave", "sweet", "baby", "wee", "great", "mighty",
    "lonely", "clever", "sad", "happy", "angry", "tired", "shy", "fat", "thin", "tall", "small", "grumpy",
}  # fmt: skip
_NUMBERED = re.compile(r"^(.*?[^\W\d_])[\s-]*\d+[a-z]?$", re.IGNORECASE)  # "KIT-9", "Unit 7", "R2"


def key(name: str) -> str:
    """What two spellings of one name share: ASCII, case-folded, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", anyascii(name).casefold())


def keys(name: str) -> set[str]:
    """The keys a name answers to: itself, each of its words (but particles), its particle-led family name
    ("van Dijk"), and the name without its number ("KIT" for "KIT-9")."""
    words = name.split()
    found = {key(name)}
    found.update(key(w) for w in words if w.lower() not in PARTICLES)
    for n, word in enumerate(words):
        if word.lower() in PARTICLES and n + 1 < len(words):
            found.add(key(" ".join(words[n:])))
    numbered = _NUMBERED.match(name)
    if numbered and len(key(numbered.group(1))) >= 2:
        found.add(key(numbered.group(1)))
    return {k for k in found if k}


def answers_to(name: str, known: Iterable[str]) -> bool:
    """Whether `name` (as the text writes it now) is one of the `known` names or a shorter form of one."""
    wanted = key(name)
    if not wanted:
        return False
    for other in known:
        if wanted == key(other) or wanted in keys(other):
            return True
        numbered = _NUMBERED.match(name)  # "KIT-9" met after "KIT"
        if numbered and key(numbered.group(1)) == key(other):
            return True
    return False


def is_particle(word: str) -> bool:
    return word.lower().rstrip("-") in PARTICLES
