"""The character bible from what a script says anywhere: clothing, what is held, hair and marks.

Shot prose packs a character's look into participles and prepositions the small parser attaches where it
likes: "Harry, wearing his Gryffindor robe and holding his wand, …", "Ana, an old harbour keeper in a
yellow oilskin, walks along the pier carrying a coil of rope", "Zoë, a street musician with a red
accordion". Each such phrase belongs to the character mentioned last before it in the sentence (or to the
subject of its verb), whatever the parse hangs it on.
"""

from __future__ import annotations

from typing import Any

from planners import animacy
from storyteller.core import lexicon as lx

WEAR_VERBS = {"wear", "don", "sport", "dress"}
HOLD_VERBS = {"hold", "carry", "clutch", "grip", "cradle", "wield", "hug", "grasp", "brandish", "tote", "swing"}
HAIR = {"braid", "plait", "ponytail", "bun", "curl", "dreadlock", "fringe", "bang", "mohawk", "pigtail", "afro"}
THINGS = ("an object", "a tool", "a bag", "a box", "an instrument", "a weapon", "a toy", "a book")
NOT_THINGS = ("a facial expression", "a feeling", "a sound", "a gesture", "a place", "weather", "a mood")
WEARABLE = ("clothing", "a garment", "a hat", "a coat", "shoes", "a uniform", "a helmet")
NOT_WEARABLE = ("a place", "a room", "a shape", "weather", "a feeling", "a vehicle", "a tool", "light", "a crowd")


def looks(doc: Any, owners: dict[int, str]) -> list[tuple[str, str, str]]:
    """(character id, "worn" | "held" | "feature", phrase) for what the sentence says each one wears,
    holds or looks like. `owners`: token index -> id of each mention of one character."""
    found: list[tuple[str, str, str]] = []
    for token in doc:
        lemma = token.lemma_.lower()
        if token.pos_ == "VERB" and lemma in WEAR_VERBS | HOLD_VERBS:
            owner = _subject_owner(token, owners) or _owner_before(token.i, owners)
            what = "worn" if lemma in WEAR_VERBS else "held"
            for thing in _objects(token):
                if owner is not None and not _alive(thing) and (what == "worn" or _carried(thing)):
                    found.append((owner, what, _phrase(thing)))
        elif token.dep_ == "prep" and token.lower_ in ("in", "with", "wearing"):
            owner = _owner_before(token.i, owners)
            if owner is not None:
                found += [(owner, kind, phrase) for kind, phrase in _prepositional(token)]
    return found


def _prepositional(prep: Any) -> list[tuple[str, str]]:
    """What "in a yellow oilskin" or "with a grey braid and a red accordion" says of who it follows."""
    facts = []
    on_noun = prep.head.pos_ in ("NOUN", "PROPN", "PRON")  # "a musician with an accordion", not "filled it with"
    for obj in _conjuncts(next((c for c in prep.children if c.dep_ == "pobj"), None)):
        lemma = lx.singular(obj.lemma_.lower())
        if lemma in lx.BODY_PARTS or lemma in lx.MARKS or lemma in HAIR:
            if prep.lower_ == "with" and (_adjectives(obj) or lemma in lx.MARKS or lemma in HAIR):
                facts.append(("feature", _phrase(obj)))  # "with a grey braid", "with long silver hair"
        elif is_clothing(obj) or (prep.lower_ == "in" and _indefinite(obj) and _wearable(obj)):
            facts.append(("worn", _phrase(obj)))  # "in a yellow oilskin", "with a scarf"
        elif prep.lower_ == "with" and on_noun and obj.pos_ == "NOUN" and not _alive(obj) and _carried(obj):
            facts.append(("held", _phrase(obj)))  # "a street musician with a red accordion"
    return facts


def _subject_owner(verb: Any, owners: dict[int, str]) -> str | None:
    subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
    return owners.get(subject.i) if subject is not None else None


def _owner_before(index: int, owners: dict[int, str]) -> str | None:
    before = [k for k in owners if k < index]
    return owners[max(before)] if before else None


def _objects(verb: Any) -> list[Any]:
    direct = next((c for c in verb.children if c.dep_ == "dobj"), None)
    return _conjuncts(direct)


def _conjuncts(token: Any) -> list[Any]:
    if token is None:
        return []
    found = [token]
    for child in token.children:
        if child.dep_ == "conj" and child.pos_ in ("NOUN", "PROPN"):
            found += _conjuncts(child)
    return found


def _phrase(token: Any) -> str:
    """ "a coil of rope" -> "coil of rope"; "his Gryffindor robe" -> "Gryffindor robe"."""
    words = [*_adjectives(token), token.text if token.pos_ == "PROPN" else token.lower_]
    of = next((c for c in token.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    held = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
    if held is not None:
        words += ["of", held.lower_]  # "a coil of rope", "a cup of tea"
    return " ".join(words)


def _adjectives(token: Any) -> list[str]:
    words = []
    for child in token.children:
        modifies = child.i < token.i and child.dep_ in ("amod", "compound")
        if modifies and child.pos_ in ("ADJ", "VERB", "NOUN", "PROPN") and child.lower_ not in lx.NOT_LOOKS:
            words.append(child.text if child.pos_ == "PROPN" else child.lower_)
    return words


def _indefinite(token: Any) -> bool:
    return any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in token.children) or token.tag_ == "NNS"


def is_clothing(token: Any) -> bool:
    """ "jacket", "gloves", and compounds of them: "raincoat", "snowboots"."""
    lemma = lx.singular(token.lemma_.lower())
    return lemma in lx.CLOTHING or lemma == "glove" or lemma.endswith(lx.CLOTHING_ENDINGS)


def _alive(token: Any) -> bool:
    return lx.singular(token.lemma_.lower()) in lx.ANIMATE or token.pos_ in ("PRON",)


def _carried(token: Any) -> bool:
    """A thing one carries, not a place, a feeling, an expression or the weather ("with a big grin")."""
    lemma = lx.singular(token.lemma_.lower())
    never = lx.PLACES | lx.ABSTRACT | set(lx.WEATHER_WORDS) | lx.TIME_WORDS.keys() | lx.NOT_ENTITIES
    if lemma in never or lemma.endswith(lx.ABSTRACT_ENDINGS) or not lemma.isalpha():
        return False
    return animacy.nearer(lemma, THINGS, NOT_THINGS) > 0


def _wearable(token: Any) -> bool:
    lemma = lx.singular(token.lemma_.lower())
    if lemma in lx.PLACES or lemma in lx.WEATHER_WORDS or lemma in lx.ABSTRACT:
        return False
    return _wear_margin(lemma) > 0


def _wear_margin(noun: str) -> float:
    """How much nearer "a <noun>" lies to clothing than to places, shapes, weather and tools."""
    return animacy.nearer(noun, WEARABLE, NOT_WEARABLE)
