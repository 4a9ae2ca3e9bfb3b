"""The language a story is written in, told from its commonest short words (no model: a film's voice and its
reading are chosen by it before anything loads)."""

from __future__ import annotations

import re

# The commonest short words of the languages espeak speaks best: enough to tell a story's language from
# a paragraph of it. Codes are espeak's.
LANGUAGE_WORDS = {
    "en": "the and to of a in was he she it that his her with for on at as had but they said",
    "de": "der die und das nicht ist ich er sie es zu den mit sich auf dem ein eine war hatte sagte",
    "fr": "le la les et de des un une est il elle que qui dans pas pour sur avec au était dit",
    "es": "el la los las y de que en un una es se no por con para su dijo era estaba",
    "it": "il la le e di che un una non è per con si del della era disse sono",
    "pt": "o a os as e de que um uma não em para com se do da era disse foi",
    "nl": "de het een en van is niet dat die zijn met op te hij zij was zei",
    "pl": "i w nie na się z że do to jest jak ale było był była powiedział już",
    "sv": "och att det som en på är av för med inte han hon var sa den",
    "cs": "a se na je že to v s do ale jak byl byla řekl není",
}
_LANGUAGE_SETS = {code: set(words.split()) for code, words in LANGUAGE_WORDS.items()}


def detect_language(text: str) -> str:
    """The language of `text`, by which language's commonest words it uses most; English when unsure."""
    words = re.findall(r"[^\W\d_]+", text.lower())[:2000]
    if len(words) < 4:
        return "en"
    counts = {code: sum(w in common for w in words) for code, common in _LANGUAGE_SETS.items()}
    best = max(counts, key=lambda code: counts[code])
    return best if counts[best] > max(2, counts["en"]) else "en"
