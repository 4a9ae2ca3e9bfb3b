"""Which nouns are someone: the living, the things, the places (word lists first, then the sentence
embedder for a noun no list knows)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from planners import animacy
from planners.reading import tokens
from storyteller.core import lexicon as lx


def common_word(low: str) -> bool:
    """ "Snow fell", "Fireworks exploded": a capitalised first word that names a thing or weather."""
    one = lx.singular(low)
    words = (lx.WEATHER_WORDS, lx.TIME_WORDS, lx.SKY_THINGS, lx.drawable_nouns(), lx.ABSTRACT, lx.INANIMATE)
    return any(w in group for w in (low, one) for group in words)


def is_known_noun(low: str) -> bool:
    one = lx.singular(low)
    return any(w in lx.ANIMATE or w in lx.PLACES or w in lx.COMMON_NOUNS for w in (low, one))


def person_noun(token: Any, lenient: bool = False) -> bool:
    """A noun for someone: a known one, or one the sentence embedder puts among the living ("courier");
    `lenient`: any noun no list calls a place or a thing (a name the NER calls a person's vouches for it)."""
    lemma = lx.singular(token.lemma_.lower())
    if lemma in lx.ANIMATE:
        return True
    known = lx.PLACES | lx.INANIMATE | lx.NOT_ENTITIES | lx.BODY_PARTS | lx.ABSTRACT
    return lemma.isalpha() and lemma not in known and (lenient or animacy.is_alive(lemma))


def close_apposition(token: Any) -> bool:
    """An apposition that follows what it describes with no verb between: "Kenji, a courier," (not what
    the parser hangs on the subject from the sentence's end: "Lin Daiyu sits by a window, a silk fan ...")."""
    between = token.doc[min(token.i, token.head.i) + 1 : max(token.i, token.head.i)]
    return not any(t.pos_ in ("VERB", "AUX") for t in between)


def animate_noun(token: Any, doc: Any, fake_verbs: dict[int, int], known_things: Iterable[str] = ()) -> bool:
    lemma = lx.singular(token.lemma_.lower())
    if tokens.modifies(token):
        return False  # "the fox-masked figure"
    if listed_with_things(token):
        return False  # "stalls of salt, fish and rope": goods
    made = any(c.dep_ in ("compound", "amod") and c.lower_ in lx.MATERIALS for c in token.children)
    if made and lemma not in lx.MACHINES:
        return False  # "a silk fan", "a wooden horse", "a stone lion": made, not born (a brass robot is someone)
    if lemma in lx.ANIMATE or token.lower_ in lx.ANIMATE or tokens.noun_label(token) in lx.ANIMATE:
        return True
    if lemma in lx.MACHINES and (tokens.inverted_speaker(token) or token.head.lemma_.lower() in lx.SPEECH_VERBS):
        return True  # '"Hello," said the machine': a machine that talks is someone
    if lemma in lx.PLACES or lemma in lx.BODY_PARTS or lemma in lx.NOT_ENTITIES or lemma in lx.INANIMATE:
        return False
    if lemma in lx.CELESTIAL or token.lower_ in lx.CELESTIAL:
        return False  # "Phobos hangs in the sky"
    if lemma in lx.FIGURE_WORDS and tokens.of_object(token) is None:
        # "the fox-masked figure steps forward", "two silhouettes sit" (not "the figure of a horse")
        return token.dep_ == "nsubj" or any(c.dep_ in ("det", "nummod") and c.lower_ != "a" for c in token.children)
    # "the stranger smiled", "said the skipper", "a bearded trucker stares": a noun no list knows is alive
    # when it does something and the sentence embedder places it among the living ("a dot climbs" is not)
    verb = token.head if token.dep_ == "nsubj" or tokens.inverted_speaker(token) else None
    if token.i in fake_verbs.values():
        verb = next(doc[v] for v, s in fake_verbs.items() if s == token.i)
    if verb is None or (verb.pos_ not in ("VERB", "AUX") and token.i not in fake_verbs.values()):
        return False
    if animacy.is_alive(lemma):
        return True  # (a thing only misread before: "an old tea master ... kneels", then "the tea master pours")
    if tokens.noun_label(token) in known_things:
        return False  # "flew a red kite ... the kite snapped free": still the kite
    return verb.lemma_.lower() in lx.SPEECH_VERBS and animacy.margin(lemma) > -0.1


def listed_with_things(token: Any) -> bool:
    """A noun with no article of its own in a list whose other nouns are no living thing ("salt, fish and
    rope", "bread, cheese and chicken"): what is sold or eaten, not a character."""
    if any(c.dep_ in ("det", "poss", "nummod") for c in token.children):
        return False
    first = token
    while first.dep_ == "conj" and first.head.pos_ in ("NOUN", "PROPN"):
        first = first.head
    listed = [first, *(t for t in first.subtree if t.dep_ == "conj" and t.pos_ in ("NOUN", "PROPN"))]
    others = [t for t in listed if t != token]
    return bool(others) and not any(lx.singular(t.lemma_.lower()) in lx.ANIMATE for t in others)


def depicted(token: Any) -> bool:
    """Under a verb of picturing, as what is pictured (not as who pictures it)."""
    node = token
    for _ in range(3):
        if node.dep_ in ("nsubj", "nsubjpass") or node.head == node:
            return False
        if node.dep_ in ("dobj", "pobj") and node.head.lemma_.lower() in lx.DEPICTING_VERBS:
            return True
        node = node.head
        if node.pos_ == "VERB" and node.lemma_.lower() in lx.DEPICTING_VERBS:
            return True
    return False


def agentive(noun: Any, name: Any) -> bool:
    """ "Nadia was the clockmaker", "Tom, the gardener,": a name given a doer's noun is a person."""
    lemma = noun.lemma_.lower()
    tied = (name.dep_ == "nsubj" and name.head.lemma_ == "be") or noun.dep_ == "appos" or name.dep_ == "appos"
    if not tied or lemma in lx.INANIMATE or lemma in lx.PLACES:
        return False
    return lemma.endswith(lx.AGENTIVE_ENDINGS) or animacy.is_alive(lx.singular(lemma))  # "Kenji, a courier"


def is_thing(token: Any, lemma: str) -> bool:
    if token.pos_ not in ("NOUN", "PROPN") or len(lemma) < 3 or not lemma.isalpha():
        return False
    if lemma in lx.NOT_ENTITIES or lemma in lx.BODY_PARTS or lemma in lx.ABSTRACT or lemma in lx.TIME_WORDS:
        return False
    if lemma in lx.WEATHER_WORDS or token.lower_ in lx.WEATHER_WORDS or lemma in lx.COLOURS:
        return False
    if lemma.endswith(lx.ABSTRACT_ENDINGS) and lemma not in lx.COMMON_NOUNS:
        return False
    if lemma.endswith("ing") and lemma not in lx.ING_NOUNS and not is_known_noun(lemma):
        return False  # "camping", "fishing": an activity, not a thing
    # a verb the tagger called a noun ("crackled"), unless it is also a known thing
    return not ((token.lower_ in lx.VERB_FORMS or token.lower_ in lx.IRREGULAR_PAST) and not is_known_noun(lemma))


def choose_place(places: list[tuple[Any, str, str]]) -> tuple[str, str] | None:
    """The place the sentence happens in: "in/at/along X" beats "to/from X"; what is only seen from where the
    story is ("a storm gathered over the hills", "bells rang over the roofs") is no place it moves to."""
    best, best_rank = None, 9
    for token, name, text in places:
        prep = token.head.lower_ if token.dep_ == "pobj" else ""
        if token.dep_ == "pobj" and token.head.lower_ == "of" and token.head.head.dep_ == "pobj":
            prep = token.head.head.head.lower_  # "in the harbour of X": the outer preposition decides
        if prep not in lx.PLACE_PREPOSITIONS and token.dep_ not in ("nsubj", "dobj", "attr"):  # "… is a harbour"
            continue
        seen_from_afar = prep in lx.VIEW_PREPOSITIONS and lx.singular(name.split()[-1]) in lx.SKYLINE
        if seen_from_afar or (name == "space" and prep not in ("in", "into", "through")):
            continue  # ("a space between them" is a gap, "in space" a place)
        rank = 1 if prep in ("from", "to", "toward", "towards") else 2 if not prep else 0
        if rank < best_rank:
            best, best_rank = (name, text), rank
    return best


def is_place_name(doc: Any, head: Any, quoted: list[bool]) -> bool:
    """ "the market of Oaxaca", "sailed to Lisbon", "in Ærøskøbing": a proper noun that is a place."""
    if head.lower_ in lx.CELESTIAL:
        return False  # "under the Sun"
    if head.dep_ == "pobj":
        prep = head.head
        if prep.lower_ == "of" and lx.singular(prep.head.lemma_.lower()) in lx.PLACES:
            return True
        if prep.lower_ in lx.INSIDE_PREPOSITIONS:
            return True  # "near Kraków", "in Ærøskøbing", even when the NER takes it for a person
        if prep.lower_ in lx.PLACE_PREPOSITIONS and head.ent_type_ != "PERSON":
            return True  # ("ran to Lena" is a person)
    if head.ent_type_ == "PERSON":
        return False
    return head.ent_type_ in ("GPE", "LOC", "FAC") and head.dep_ not in ("nsubj", "nsubjpass")
