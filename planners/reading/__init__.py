"""Story reading for the default planner: who is in each sentence, what they do, where.

spaCy's English pipeline (tokenizer, tagger, dependency parser, named entities, lemmas) parses each
sentence; the rules here turn the parse into a cast and per-sentence facts:

1. **Names** are runs of capitalised tokens in any script ("Søren", "Ольга", "KIT-9", "Jean-Luc"),
   titles stripped ("Captain Amara Diallo" is Amara, a captain). A name tied to a noun ("a cat named
   Max", "his sister Chloé", "the violinist, Lena Hart", "Nadia was the baker") takes that noun as its
   kind; a name tied to a place or a thing ("the market of Oaxaca", "the ship Halcyon") is not a character.
2. **Nouns** are characters when they are people, animals or machines (a word list), or when they act
   as only the living do (say, laugh, agree ...); quantities name what they hold ("a piece of cheese"),
   containers hold a thing ("a basket of fish"), body parts and abstractions are never entities.
3. **Pronouns** resolve by gender, number, recency and grammatical role (a subject is more salient than
   an object), never to the subject of their own clause ("the tortoise plodded past him");
   "I"/"we" outside quotes are a narrator, inside quotes the speaker; "they", "both of them",
   "the two children" resolve to the group last formed.
4. **Dialogue** puts the speaker ("he boasted", "said the hare") and the one spoken to in the shot.
5. **Actions** are agent - verb - object from the parse's subject and object; **relations** from
   prepositions and wear/hold verbs; **places** from place nouns and proper names after "in", "at", "of".

Everything is deterministic: the same story gives the same reading.

The package reads in layers, each module importing only those above it in this list: `tokens` (what the
parser says of a word, and its slips), `state` (the cast and the reader's running state), `nouns` (who
is someone), `naming` (names), `coreference` (pronouns, nouns pointing back, the sentence's nouns),
`dialogue` (speakers and the sentence's cast), `description` (the bible), `events` (actions, relations);
this module reads a story sentence by sentence through them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from planners import animacy
from planners.reading import coreference, description, dialogue, events, naming, nouns, state, tokens
from planners.reading.state import GROUP_WINDOW, WINDOW, Member, SentenceReading, Thing, slug
from planners.reading.tokens import english
from storyteller.core import lexicon as lx

__all__ = ["GROUP_WINDOW", "WINDOW", "Member", "SentenceReading", "Thing", "english", "read", "slug"]

BATCH = 256  # sentences parsed (and their unknown nouns embedded) at a time


NAME_WORD = re.compile(r"(?<![\w\"“(])[^\W\d_][\w'’-]*")  # words, not the first after a quote mark


def read(
    sentences: list[tuple[str, int, int, int]], names: Iterable[str] = (), window: int = state.WINDOW
) -> tuple[list[state.SentenceReading], dict[str, state.Member]]:
    """Read every (text, start, end, paragraph) sentence; return the readings and the cast. `window`: how
    many sentences back a pronoun looks (shot prose follows one protagonist through "she" for longer)."""
    reader = state.Reader(window=window)
    for name in names:  # a screenplay's cast: known before any sentence
        reader.new_member("person", name=name, human=True)
    nlp = tokens.english()
    readings = []
    for text, *_ in sentences:  # a name is capitalised where no sentence starts; know them all up front
        words = NAME_WORD.findall(text)
        reader.names_seen.update(w for w in words[1:] if w[:1].isupper() and w.lower() not in lx.NOT_NAMES)
    reader.names_seen -= {"I"}
    docs = primed(nlp.pipe((text for text, *_ in sentences), batch_size=BATCH))
    for (text, start, end, paragraph), doc in zip(sentences, docs, strict=True):
        if paragraph != reader.paragraph:
            reader.in_quote, reader.paragraph = False, paragraph
        reader.paragraph_of[reader.number] = paragraph
        readings.append(read_sentence(doc, state.SentenceReading(text, start, end, paragraph), reader))
        reader.number += 1
    return readings, reader.cast


def primed(docs: Iterator[Any]) -> Iterator[Any]:
    """The parsed sentences, a batch at a time, with the nouns no list knows embedded for the batch in one
    call (planners/animacy.py asks about them one by one; memory stays one batch deep)."""
    known = lx.ANIMATE | lx.PLACES | lx.INANIMATE | lx.NOT_ENTITIES | lx.BODY_PARTS | lx.ABSTRACT
    while batch := list(itertools.islice(docs, BATCH)):
        nouns = {lx.singular(t.lemma_.lower()) for doc in batch for t in doc if t.pos_ == "NOUN"}
        animacy.prime(n for n in nouns if n.isalpha() and n not in known)
        yield from batch


def read_sentence(doc: Any, out: state.SentenceReading, reader: state.Reader) -> state.SentenceReading:
    """Four steps: names, then nouns and pronouns in order, then who is there (speakers included), then
    what they look like, do, and where."""
    out.words = sum(1 for t in doc if not t.is_punct and not t.is_space)
    quoted = state.quoted(doc, reader)
    reader.owners = {}
    fake_verbs = tokens.repair(doc)
    scratch = state.Scratch(doc, quoted, fake_verbs, naming.name_chains(doc, reader, quoted))
    naming.read_names(scratch, reader)
    coreference.read_nouns_and_pronouns(scratch, reader, out)
    naming.read_egos(scratch, reader)
    dialogue.read_presence(scratch, reader, out)
    mentions = scratch.mentions
    description.describe(doc, mentions, reader, fake_verbs)
    description.read_looks(doc, mentions, reader)
    out.actions = events.actions(doc, mentions, fake_verbs, quoted)
    out.relations = events.relations(doc, mentions, reader)
    out.place = nouns.choose_place([p for p in scratch.places if not quoted[p[0].i]])  # "far from home," she said
    return out
