"""What the reader knows as it reads: the cast (`Member`), the things a sentence shows (`Thing`), each
sentence's reading (`SentenceReading`), and the running state of one story (`Reader`) and of one sentence
(`Scratch`, its `Mention`s)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from anyascii import anyascii

from planners import animacy, names
from planners.reading import tokens
from storyteller.core import lexicon as lx

WINDOW = 3  # sentences a pronoun looks back over


GROUP_WINDOW = 6  # sentences a group ("Wen and Mei") stays the likely "they"


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
            looks += " with " + join(self.features[:3])
        if self.worn:
            looks += " wearing " + join(self.worn[:4])
        if self.held:
            looks += (", " if self.worn else " ") + "holding " + join(self.held[:2])
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
class Seen:
    sentence: int
    id: str
    cost: float  # grammatical salience: subject 0, object 0.6, anything else 1.0
    character: bool
    plural: bool = False
    position: int = 0  # token index, for mentions earlier in the same sentence


@dataclass
class Reader:
    cast: dict[str, Member] = field(default_factory=dict)
    window: int = WINDOW  # sentences a pronoun looks back over
    history: list[Seen] = field(default_factory=list)
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
            member.gender = "n" if kind.split()[-1] in lx.MACHINES else gender_of(kind)
        member.human = member.human or is_human(kind)
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
            self.history.append(Seen(self.number, cid, cost, character, plural))

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
            if looks & {tokens.stem(w) for w in re.findall(r"\w+", said.lower())}:
                return member
        return people[-1] if people else None

    def recent(self, back: int | None = None) -> list[Seen]:
        """Mentions of the last `back` sentences (default: the reader's window), oldest first (the history
        is in reading order, so only its tail is looked at: a long story costs no more per pronoun than a
        short one)."""
        back = self.window if back is None else back
        start = len(self.history)
        while start > 0 and self.number - self.history[start - 1].sentence <= back:
            start -= 1
        return self.history[start:]


@dataclass
class Mention:
    head: Any  # the spaCy token that carries the mention's role in the parse
    ids: list[str]
    character: bool
    present: bool = True
    remote: bool = False  # only their words are here: "a message from Akosua scrolls across the glass"


@dataclass
class Scratch:
    """What the steps of reading one sentence hand to each other."""

    doc: Any
    quoted: list[bool]  # per token: inside a quotation
    fake_verbs: dict[int, int]  # nouns the parser took for verbs: {verb token: its subject token}
    chains: list[tuple[int, int, str | None]]  # runs of name tokens: (first, last, title)
    mentions: dict[int, Mention] = field(default_factory=dict)  # by head token index
    places: list[tuple[Any, str, str]] = field(default_factory=list)  # (token, name, text)
    consumed: set[int] = field(default_factory=set)  # nouns a name already took ("the cat named Max")
    called: list[tuple[Any, str, str, int]] = field(default_factory=list)  # names said in a quote, by person
    inert: set[int] = field(default_factory=set)  # nouns never characters ("a basket of fish", "painted a dragon")
    egos: list[tuple[Any, str, Any]] = field(default_factory=list)  # (name's head, name, pronoun it is another of)

    @property
    def in_chain(self) -> dict[int, tuple[int, int, str | None]]:
        return {i: chain for chain in self.chains for i in range(chain[0], chain[1] + 1)}


def slug(text: str) -> str:
    """An ASCII id for any script: "Søren" is soren, "Ольга" is olga."""
    slug = re.sub(r"[^a-z0-9]+", "_", anyascii(text).lower().replace("'", "")).strip("_")
    return slug or "thing"


def join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def gender_of(kind: str) -> str:
    head = kind.split()[-1]
    return "f" if head in lx.FEMALE else "m" if head in lx.MALE else "?"


def is_human(kind: str) -> bool:
    head = kind.split()[-1]
    if head in lx.MACHINES:
        return False  # a robot is "it"
    if head in lx.PEOPLE or lx.singular(head) in lx.PEOPLE or head in lx.TITLES.values():
        return True
    one = lx.singular(head)  # a kind no list knows ("busker", "trucker", "astronauts"): nearer people or animals?
    known = lx.ANIMALS | lx.INANIMATE | lx.PLACES | lx.NOT_ENTITIES
    return one not in known and head.isalpha() and animacy.is_alive(one) and animacy.is_human(one)


def fits_gender(seen: Seen, gender: str, reader: Reader) -> tuple[bool, bool]:
    if not seen.character:
        return gender == "n" and not seen.plural, True
    member = reader.cast[seen.id]
    if member.group:
        return False, False
    if gender in "mf":
        return member.gender in (gender, "?"), member.gender == gender
    # an animal or a machine is "it", though one the story has named seldom is, until the story says so
    return not member.human and member.gender in ("?", "n"), member.gender == "n" or member.name is None


def quoted(doc: Any, reader: Reader) -> list[bool]:
    """Whether each token is inside a quotation; a quote may open in an earlier sentence."""
    inside, flags = reader.in_quote, []
    for token in doc:
        text = token.text
        if text in tokens.QUOTES_OPEN or (text in tokens.QUOTES_BOTH and not inside):
            flags.append(False)
            inside = True
        elif text in tokens.QUOTES_CLOSE or (text in tokens.QUOTES_BOTH and inside):
            flags.append(False)
            inside = False
        else:
            flags.append(inside)
    reader.in_quote = inside
    return flags
