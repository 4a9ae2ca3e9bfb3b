"""Shot prose's present tense, as the small parser misreads it.

Scripts for video models are written in the present ("the dog barks and darts toward the farmhouse",
"the farmer waves from the doorway", "Morning light filters through the window"); spaCy's small English
pipeline often reads a subject and its "-s" verb as one compound noun ("dog barks", "farmer waves"). `slip`
tells those from real compounds ("the tram rails", "tiny paw prints", "the fishing boats").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planners import animacy
from storyteller.core import lexicon as lx

_VERB_WORDS: dict[str, bool] = {}  # word -> whether the parser reads it as a verb after a subject


def slip(doc: Any, token: Any, nlp: Callable[[str], Any]) -> int | None:
    """The subject's token index where `token` (a plural-looking noun) is really the verb of the noun before
    it, else None: a living being's noun (or a name) then the "-s" word with no verb after it; a thing
    worn or held by someone ("a trucker in a faded cap stares": the trucker stares); or, in a sentence with
    no verb at all, a thing then a word the parser reads as a verb after "It" (`nlp`: the pipeline)."""
    as_verb = token.pos_ == "VERB" and token.tag_ == "VBZ" and token.dep_ == "pobj"  # "in a wool hat leans"
    if not (as_verb or (token.pos_ == "NOUN" and token.tag_ == "NNS")) or not token.lower_.endswith("s"):
        return None
    if token.i == 0:
        return None
    before, after = doc[token.i - 1], doc[token.i + 1] if token.i + 1 < len(doc) else None
    named = before.text[:1].isupper() and before.lower_ not in lx.PERSONAL and before.dep_ == "poss"  # "Zoë grins"
    if (not named and (before.dep_ != "compound" or before.tag_ not in ("NN", "NNP"))) or before.head != token:
        return None
    if any(c.dep_ == "case" for c in before.children):
        return None  # "Zoë's grins": a possessive after all
    if after is not None and after.pos_ in ("VERB", "AUX", "NOUN", "PROPN"):
        return None
    wearer = token.head.head if token.dep_ == "pobj" and token.head.lower_ in ("in", "with") else None
    if wearer is not None and wearer.pos_ == "NOUN" and _alive(lx.singular(wearer.lemma_.lower())):
        return wearer.i if as_verb or _can_be_verb(token.lower_, nlp) else None  # "in a grey scarf hurries"
    if as_verb or any(
        c.dep_ in ("amod", "nummod", "poss") and c != before and c.pos_ != "VERB" for c in token.children
    ):
        return None  # "tiny paw prints", "two dog bowls", "his dog tags": a noun phrase
    low = lx.singular(before.lemma_.lower())
    if low.endswith("ing") or low in lx.BODY_PARTS:
        return None  # "the fishing boats", "paw prints"
    if before.pos_ == "PROPN" or _alive(low):
        return before.i
    # a thing does it, in a sentence with no verb otherwise: "Morning light filters through the window"
    verbless = not any(t.pos_ in ("VERB", "AUX") and t.dep_ not in ("amod", "acl") for t in doc)
    if verbless and after is not None and after.pos_ in ("ADP", "ADV", "PART") and _can_be_verb(token.lower_, nlp):
        return before.i
    return None


def misread(doc: Any, token: Any, nlp: Callable[[str], Any]) -> int | None:
    """The subject's token index where the parser took a present-tense verb for a plural noun in other
    places than `slip`'s: one with a subject of its own ("the sound of alarms echoes"), the second of two
    verbs ("the rocket lifts off and arcs toward Mars"), or one after a comma that closes a description
    ("Forrest, a farm boy in a straw hat, trots along a fence"). Else None."""
    if token.pos_ != "NOUN" or token.tag_ != "NNS" or not token.lower_.endswith("s"):
        return None
    after = doc[token.i + 1] if token.i + 1 < len(doc) else None
    if after is None or after.pos_ not in ("ADP", "ADV", "PART", "PUNCT"):
        return None  # a verb of this kind goes on with "along", "toward", "in", "off" (or ends the clause)
    subject = next((c for c in token.children if c.dep_ == "nsubj"), None)
    if subject is not None:
        found = subject.i
    elif token.dep_ == "conj" and token.head.pos_ == "VERB":
        found = next((c.i for c in token.head.children if c.dep_ == "nsubj"), -1)
    elif token.dep_ == "appos" and token.i > 0 and doc[token.i - 1].text == ",":
        found = token.head.i
    else:
        return None
    return found if found >= 0 and _can_be_verb(token.lower_, nlp) else None


def _alive(lemma: str) -> bool:
    return lemma in lx.ANIMATE or (lemma not in lx.INANIMATE and animacy.is_alive(lemma))


def _can_be_verb(word: str, nlp: Callable[[str], Any]) -> bool:
    """Whether `word` is a verb in the third person: one the lexicon knows ("trots"), or one the parser reads
    as a verb after a subject ("It filters.")."""
    if word not in _VERB_WORDS:
        base = {word[:-1], word[:-2]} if word.endswith("es") else {word[:-1]}
        known = word in lx.VERB_FORMS or bool(base & (lx.LIVING_VERBS | lx.SOCIAL_VERBS))  # "trots"
        _VERB_WORDS[word] = known or nlp(f"It {word}.")[1].tag_ == "VBZ"
    return _VERB_WORDS[word]
