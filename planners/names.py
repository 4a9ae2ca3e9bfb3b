"""Names as people write them: "Vincent van Gogh", "Lin Daiyu", "Nguyễn Thị Lan", "KIT-9", "Ольга".

A name is kept whole as the character's name; the shorter forms the text uses ("Pieter", "van Dijk",
"Daiyu") are aliases of the same person, and so is the same name in capitals ("TOMÁS"), in another script
("Olga" for "Ольга") or without its number ("KIT" for "KIT-9"). Comparison goes through `key`: the name
transliterated to ASCII, case-folded, with its punctuation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from anyascii import anyascii

from planners import animacy
from storyteller.core import lexicon as lx

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
PLACE_LIKE = -0.2  # a name the embedder puts this far from the living is a place's ("Kyoto" -0.26, "Paris" -0.24)
THING_ENTITIES = {"ORG", "PRODUCT", "NORP", "WORK_OF_ART", "EVENT", "LAW", "LANGUAGE"}  # the NER's, not a person's
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


def other_family(full_name: str | None, full: str) -> bool:
    """Whether `full` is another person's name than `full_name`, which shares its first word (Steve
    Wozniak is not Steve Jobs)."""
    return full_name is not None and key(full_name) != key(full)


# --- names in a parse (spaCy tokens) ------------------------------------------------------------------


def names_no_one(
    doc: Any, first: int, head: Any, full: str, fake_verbs: dict[int, int], person_noun: Callable[[Any], bool]
) -> bool:
    """A name that is no character's: a celestial body ("the Moon", "Mars"), a brand or a thing with an
    article ("a white Tesla", "raises the Leica"; "the Night Fox leaps" is someone's epithet), a maker's
    name on a thing ("a Honda scooter"), what a container holds ("a can of Pocari Sweat"), what the NER
    calls an organisation or a product, or a word the sentence embedder places far from the living
    ("Kyoto") that does nothing only the living do. `head`: the name's head token; `first`: its first
    token's index; `fake_verbs`: nouns the parser took for verbs ({verb: its subject}); `person_noun`:
    whether a common noun is someone's."""
    low = full.lower()
    if low in lx.ANIMATE:
        return False  # "an angry Godzilla"
    if low in lx.CELESTIAL:
        return True
    articles = {c.lower_ for c in head.children if c.dep_ == "det"} | ({doc[first - 1].lower_} if first else set())
    verb = head.head
    subject = head.dep_ in ("nsubj", "nsubjpass") and verb.pos_ in ("VERB", "AUX")
    if fake_verbs.get(verb.i) == head.i:
        return False  # "Ольга waves from the bridge", read by the parser as a compound
    if articles & {"a", "an"}:
        return True
    modified = verb if verb.pos_ == "NOUN" else verb.head if verb.pos_ == "VERB" and verb.dep_ == "compound" else None
    on_thing = modified is not None and modified.i > head.i and not person_noun(modified)
    if head.dep_ in ("compound", "npadvmod", "nmod") and on_thing:
        return True
    if articles & {"the", "this", "that"}:
        return not (subject and len(full.split()) > 1)
    holder = verb.head if head.dep_ == "pobj" and verb.lower_ == "of" else None
    if holder is not None and lx.singular(holder.lemma_.lower()) in lx.QUANTITY_WORDS | lx.CONTAINERS:
        return True
    if subject and verb.lemma_.lower() in lx.LIVING_VERBS | lx.SOCIAL_VERBS:
        return False
    if head.dep_ in ("dobj", "dative") and verb.lemma_.lower() in lx.SOCIAL_VERBS:
        return False  # "Tomás met Pepper": someone, though the NER calls the word a company's
    if head.ent_type_ in THING_ENTITIES:
        return True
    return head.ent_type_ != "PERSON" and animacy.margin(full) < PLACE_LIKE


def alter_ego_of(head: Any, mentions: dict[int, Any]) -> str | Any | None:
    """The character a new name is another name of, where the sentence ties them: in apposition ("Kenji,
    the Night Fox,"), after "as" ("Clark Kent flies over the city as Superman"), "known as", "alias".
    `mentions`: the sentence's mentions so far by head token index (each with `ids` and `character`).
    Returns the character's id; or, where the one tied is a pronoun not read yet ("he flies over the city
    as Superman"), the pronoun's token, for the caller to resolve once pronouns are read."""

    def one(token: Any) -> str | None:
        mention = mentions.get(token.i)
        return mention.ids[0] if mention is not None and mention.character and len(mention.ids) == 1 else None

    if head.dep_ == "appos":
        return one(head.head)
    if head.dep_ != "pobj" or head.head.lower_ not in ("as", "alias", "aka"):
        return None
    governor = head.head.head  # "known as X" hangs on the name; "flies ... as X" on the verb
    if governor.lower_ == "known":
        governor = governor.head
    if governor.i in mentions and governor.dep_ in ("nsubj", "appos", "ROOT"):
        return one(governor)
    for _ in range(6):  # "… then flies over Metropolis as Superman": the one who flies
        subject = next((c for c in governor.children if c.dep_ == "nsubj"), None)
        if subject is not None and governor.pos_ in ("VERB", "AUX"):
            return subject if subject.pos_ == "PRON" and subject.i not in mentions else one(subject)
        if governor.head == governor:
            break
        governor = governor.head
    return None
