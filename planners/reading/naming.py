"""Names in a sentence: runs of capitalised tokens, whom each names (someone met, someone new, a place,
a thing, an alter ego), and the nouns tied to them ("the violinist, Lena Hart")."""

from __future__ import annotations

import re
from typing import Any

from planners import animacy, names
from planners.reading import nouns, state, tokens
from storyteller.core import lexicon as lx


def namey(doc: Any, token: Any, reader: state.Reader) -> bool:
    if not tokens.capitalised(token) or token.lower_ in lx.PERSONAL or token.text == "I":
        return False
    low = token.lower_.rstrip(".")
    if reader.by_name(token.text) is not None:
        return True
    if token.dep_ == "compound" and f"{low} {token.head.lower_}" in lx.COMPOUNDS:
        return False  # "Teddy bear" is a toy, not a bear called Teddy
    if (token.ent_type_ in tokens.NOT_THINGS and token.pos_ != "PROPN") or low in lx.NOT_NAMES:
        return False
    if low in lx.TITLES and token.i + 1 < len(doc) and tokens.capitalised(doc[token.i + 1]):
        return True
    if tokens.initial(doc, token):
        # the first word is capitalised anyway: a name only if the parser or the NER says so
        if low in lx.KIN:
            return token.pos_ == "PROPN"
        if token.text in reader.names_seen:
            return True  # capitalised in the middle of a sentence somewhere in the story: a name
        common = nouns.is_known_noun(low) or low in lx.VERB_FORMS or nouns.common_word(low)
        # a plural English noun the NER does not call a person ("Stalls of salt filled the square")
        common = common or (low != lx.singular(low) and animacy.is_noun(low) and token.ent_type_ != "PERSON")
        if not token.text.isascii() and token.text.isalpha():
            return True  # "Ольга", "Nguyễn": no English word is spelt so
        nxt = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if nxt is not None and token.whitespace_ and tokens.capitalised(nxt) and nxt.pos_ == "PROPN" and not common:
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


def name_chains(doc: Any, reader: state.Reader, quoted: list[bool]) -> list[tuple[int, int, str | None]]:
    """(first, last, title) of every run of name tokens; "Captain Amara Diallo" has title "captain"."""
    chains, i = [], 0
    while i < len(doc):
        if not namey(doc, doc[i], reader):
            i += 1
            continue
        j = i
        while j + 1 < len(doc):
            nxt = doc[j + 1]
            if not doc[j].whitespace_ and nxt.text in ("-", "–") and j + 2 < len(doc) and not nxt.whitespace_:
                j += 2  # "Jean-Luc": the hyphen is inside the name
                continue
            if doc[j].whitespace_ and namey(doc, nxt, reader) and not tokens.initial(doc, nxt):
                j += 1
                continue
            if doc[j].whitespace_ and names.is_particle(nxt.text) and j + 2 < len(doc):
                after = doc[j + 3] if doc[j + 2].text in ("-", "–") and j + 3 < len(doc) else doc[j + 2]
                if tokens.capitalised(after) and namey(doc, after, reader):
                    j = after.i  # "Vincent van Gogh", "Ibn al-Haytham": a particle inside a name
                    continue
            if not doc[j].whitespace_ and nxt.text[:1].isalnum() and tokens.capitalised(doc[i]):
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


def chain_head(doc: Any, first: int, last: int) -> Any:
    """The name's token that hangs on the sentence; a noun before another word ("Nguyễn Thị Lan, a
    cartographer, waited": the tagger takes "Nguyễn" for a verb and hangs it on the sentence too)."""
    span = doc[first : last + 1]
    outward = [t for t in span if not (first <= t.head.i <= last) or t.head == t]
    nominal = [t for t in outward if t.pos_ in ("PROPN", "NOUN")] or [t for t in span if t.pos_ == "PROPN"][-1:]
    return (nominal or outward or [span[-1]])[0]


def _animal_after(doc: Any, head: Any, fake_verbs: dict[int, int]) -> bool:
    """The name is followed by "the" and a living kind in lower case, however the parser hung them."""
    after = doc[head.i + 1 : head.i + 3]
    if len(after) < 2 or after[0].lower_ != "the" or after[1].pos_ != "NOUN" or after[1].i in fake_verbs:
        return False
    return after[1].is_lower and lx.singular(after[1].lemma_.lower()) in lx.ANIMATE


def linked_noun(doc: Any, head: Any, in_chain: dict, fake_verbs: dict[int, int]) -> Any | None:
    """The common noun a name is tied to: apposition, compound, "named X", "X was the baker"."""
    if head.dep_ in ("appos", "compound") and head.head.pos_ == "NOUN" and head.head.i not in fake_verbs:
        return head.head  # "his sister Chloé", "the violinist, Lena Hart" (not "Max talks", a verb)
    if head.dep_ in ("conj", "npadvmod") and head.head.pos_ == "NOUN" and head.head.i == head.i - 1:
        return head.head
    if _animal_after(doc, head, fake_verbs):
        return doc[head.i + 2]  # "Rex the dog", "Pepper the cat" (not "Alexander the Great": a title, capitalised)
    for child in head.children:
        # an apposition follows the name, no verb between (not "Lin Daiyu sits ..., a silk fan resting ...");
        # the NER vouches for the name: any noun for someone right after it ("Ольга Petrova, the lantern maker")
        if child.dep_ != "appos" or not nouns.close_apposition(child):
            continue
        person = head.ent_type_ == "PERSON" and child.i - head.i <= 4
        if child.pos_ == "NOUN" and nouns.person_noun(child, lenient=person):
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


def only_words_of_quote(doc: Any, first: int, last: int, quoted: list[bool]) -> int:
    """'"Lucía," said the girl': a quote that is a name and nothing else is the speaker saying who she is."""
    start, end = first, last
    while start > 0 and quoted[start - 1]:
        start -= 1
    while end + 1 < len(doc) and quoted[end + 1]:
        end += 1
    others = [t for t in doc[start : end + 1] if not (first <= t.i <= last) and not t.is_punct]
    return 1 if not others else 0


def self_named(head: Any) -> int:
    """ "My name is Tobin" (1), "your name is Ada" (2), "I am Tobin" (1): whose name a quote says, by person."""
    verb = head.head if head.dep_ in ("attr", "oprd") else None
    if verb is None or verb.lemma_ not in ("be", "call", "name"):
        return 0
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None:
        return 0
    owner = next((c for c in subject.children if c.dep_ == "poss"), subject) if subject.lemma_ == "name" else subject
    return lx.PERSONAL.get(owner.lower_, (0, ""))[0] if owner.lower_ in ("i", "my", "you", "your", "me") else 0


def name_owner(head: Any, mentions: dict[int, state.Mention], reader: state.Reader) -> state.Member | None:
    """ "Its name was Bolt-7", "her name was Mia": whose name this is."""
    verb = head.head if head.dep_ == "attr" else None
    if verb is None or verb.lemma_ != "be":
        return None
    subject = next((c for c in verb.children if c.dep_ == "nsubj" and c.lemma_ == "name"), None)
    owner = next((c for c in subject.children if c.dep_ == "poss"), None) if subject is not None else None
    if owner is None:
        return None
    ids = resolve_owner(owner, reader)
    member = reader.cast.get(ids[0]) if ids else None
    return member if member is not None and member.name is None else None


def resolve_owner(owner: Any, reader: state.Reader, mentions: dict[int, state.Mention] | None = None) -> list[str]:
    """The character a possessive word outside the parse order points to (the latest that fits)."""
    if owner.lower_ not in lx.PERSONAL:
        return []
    _, gender = lx.PERSONAL[owner.lower_]
    here = [
        state.Seen(reader.number, cid, 0.0, m.character, False, m.head.i)
        for m in sorted((mentions or {}).values(), key=lambda m: m.head.i)
        if m.head.i < owner.i and m.character
        for cid in m.ids
    ]
    for seen in reversed([*reader.recent(), *here]):
        if seen.character and seen.id in reader.cast and state.fits_gender(seen, gender, reader)[0]:
            return [seen.id]
    return []


def relate_kin(noun: Any, member: state.Member, reader: state.Reader, mentions: dict[int, state.Mention]) -> None:
    """ "her daughter Ольга": Ольга's mother is whoever "her" is, so "her mother" later finds them."""
    owner = next((c for c in noun.children if c.dep_ == "poss"), None)
    role = noun.lemma_.lower()
    if owner is None or role not in lx.KIN_INVERSE:
        return
    ids = reader.owners.get(owner.i) or resolve_owner(owner, reader, mentions)
    if not ids or ids[0] == member.id or ids[0] not in reader.cast:
        return
    elder = reader.cast[ids[0]]
    reader.kin[(elder.id, role)] = member.id
    for inverse in lx.KIN_INVERSE[role]:
        gender = lx.KIN_GENDER.get(inverse, "?")
        if gender in ("?", elder.gender) or elder.gender == "?":
            reader.kin[(member.id, inverse)] = elder.id


def read_names(s: state.Scratch, reader: state.Reader) -> None:
    """Names: who each is (known, new, a role's, a place's or a thing's), and the nouns they take."""
    for first, last, title in s.chains:
        read_name(s, reader, first, last, title)


def read_name(s: state.Scratch, reader: state.Reader, first: int, last: int, title: str | None) -> None:
    """One name (tokens `first` to `last`, after its `title`): its member, and its mentions in the sentence."""
    doc, mentions = s.doc, s.mentions
    head = chain_head(doc, first, last)
    name_tokens = [t for t in doc[first : last + 1] if t.i >= first + (1 if title else 0)]
    full = doc[name_tokens[0].i : last + 1].text if name_tokens else doc[first : last + 1].text
    full = re.sub(r"['’]s$", "", full)
    given = re.split(r"\s+", full)[0]
    member = _known(reader, full, given)
    if member is None and _called(s, head, first, last, given, full):
        return
    ego = names.alter_ego_of(head, mentions) if member is None else None
    if ego is not None and not isinstance(ego, str):
        s.egos.append((head, full, ego))  # "he flies over the city as Superman": who "he" is, is read next
        return
    if ego is not None:  # "Kenji, the Night Fox,", "Clark Kent ... as Superman": one character, two names
        member = reader.cast[ego]
        if full not in member.names():
            member.aliases.append(full)
    owner = name_owner(head, mentions, reader)
    if member is None and owner is not None:  # "Its name was Bolt-7": the robot is Bolt-7
        member, owner.name = owner, given
        owner.full_name = full if full != given else None
    noun, outer = _tied_nouns(s, head)
    if member is None and _no_character(s, head, first, full, noun, ego):
        return
    member = _member_of(reader, member, noun, title, given, full)
    _mentioned(s, reader, member, head, noun, outer)


def _known(reader: state.Reader, full: str, given: str) -> state.Member | None:
    """The member the name is of, if the story has met them (by name, a shorter name, or their kinship)."""
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
    return member


def _called(s: state.Scratch, head: Any, first: int, last: int, given: str, full: str) -> bool:
    """Whether a quote says whose name this is (kept in `s.called` for the sentence's speakers to resolve)."""
    doc, quoted = s.doc, s.quoted
    person = (self_named(head) or only_words_of_quote(doc, first, last, quoted)) if quoted[head.i] else 0
    if person:
        s.called.append((head, given, full, person))  # '"My name is Tobin," he replied', '"Lucía," said the girl'
        return True
    if quoted[head.i] and tokens.vocative(head):
        s.called.append((head, given, full, 2))  # "Welcome, ADA-2": whose name this is, the speaker's words say
        return True
    return False


def _tied_nouns(s: state.Scratch, head: Any) -> tuple[Any | None, Any | None]:
    """The common noun the name is tied to, and the noun that one is in apposition to, if alive."""
    doc, fake_verbs = s.doc, s.fake_verbs
    noun = linked_noun(doc, head, s.in_chain, fake_verbs)
    outer = noun.head if noun is not None and noun.dep_ == "appos" and noun.head.pos_ == "NOUN" else None
    if noun is not None and outer is not None and nouns.animate_noun(outer, doc, fake_verbs):
        # "Its conductor, an old man named Ivan": the conductor is Ivan too, and says more than "man"
        s.consumed.add(outer.i)
        if noun.lemma_.lower() in lx.GENERIC_PEOPLE:
            noun, outer = outer, noun
    return noun, outer


def _no_character(s: state.Scratch, head: Any, first: int, full: str, noun: Any | None, ego: Any) -> bool:
    """Whether a name no one has is a place's (kept in `s.places`) or a thing's, not a character's."""
    doc, quoted, fake_verbs = s.doc, s.quoted, s.fake_verbs
    inside = head.dep_ == "pobj" and head.head.lower_ in lx.INSIDE_PREPOSITIONS  # "In Xianyang, the scholar …"
    if (noun is None or inside) and nouns.is_place_name(doc, head, quoted):
        prep = head.head
        if not (head.dep_ == "pobj" and prep.lower_ == "of" and lx.singular(prep.head.lemma_.lower()) in lx.PLACES):
            before = doc[first - 1] if first > 0 else None
            if before is not None and re.fullmatch(r"\d+(st|nd|rd|th)", before.lower_):
                full = f"{before.text} {full}"  # "5th Avenue"
            s.places.append((head, full, tokens.phrase_text(head)))  # else "the harbour of X" names the place
        return True
    if noun is None and names.names_no_one(doc, first, head, full, fake_verbs, nouns.person_noun):
        return True  # "a white Tesla", "the Leica", "the Moon", "a can of Pocari Sweat": a thing's name
    of = head.head if head.dep_ == "pobj" and head.head.lower_ == "of" else None
    owned = of is not None and of.head.pos_ == "NOUN" and not nouns.person_noun(of.head)
    if noun is None and ego is None and owned and full.lower() not in lx.ANIMATE:
        return True  # "the frosty grounds of Hogwarts", "the logo of Apple" (not "the son of Odin")
    person_noun = noun is not None and (
        nouns.animate_noun(noun, doc, fake_verbs)
        or nouns.agentive(noun, head)
        or ("appos" in (head.dep_, noun.dep_) and head.ent_type_ == "PERSON" and nouns.person_noun(noun, lenient=True))
    )  # "her first mate, TOMÁS": a person's name in apposition makes the noun someone's
    if noun is not None and not person_noun:
        if lx.singular(noun.lemma_.lower()) in lx.PLACES:
            s.places.append((noun, f"{noun.lemma_.lower()} of {full}", tokens.phrase_text(noun)))
            s.consumed.add(noun.i)
        return True  # "the research ship Halcyon": a name for a thing
    return False


def _member_of(
    reader: state.Reader, member: state.Member | None, noun: Any | None, title: str | None, given: str, full: str
) -> state.Member:
    """The member the name is of: new (its kind from its noun, its title or itself), or one met, its kind told."""
    if member is None:
        kind = title or "person"
        if noun is not None:
            kind = tokens.noun_label(noun)
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
        member.kind = tokens.noun_label(noun)
        member.gender = state.gender_of(member.kind) if member.gender == "?" else member.gender
    return member


def _mentioned(
    s: state.Scratch, reader: state.Reader, member: state.Member, head: Any, noun: Any | None, outer: Any | None
) -> None:
    """The name's mentions (and its nouns'): what they add to the member, and whether they are in the shot."""
    quoted, fake_verbs, mentions = s.quoted, s.fake_verbs, s.mentions
    if noun is not None:
        s.consumed.add(noun.i)
        member.attributes += [a for a in tokens.adjectives(noun) if a not in member.attributes]
        relate_kin(noun, member, reader, mentions)
    if outer is not None:
        member.attributes += [a for a in tokens.adjectives(outer) if a not in member.attributes]
        if outer.lemma_.lower() not in member.roles:
            member.roles.append(outer.lemma_.lower())
        mentions[outer.i] = state.Mention(outer, [member.id], True, present=tokens.counts(head, quoted))
    shown = head.dep_ != "poss" or tokens.shows_owner(head.head)  # "Kofi's goat ate": Kofi need not be there
    prep, owned = head.head, head
    if head.dep_ == "compound" and prep.i in fake_verbs and prep.dep_ == "pobj":
        owned, prep = prep, prep.head  # "a message from Akosua scrolls": the parser's "Akosua scrolls"
    remote = owned.dep_ == "pobj" and prep.lower_ in ("from", "by") and prep.head.pos_ == "NOUN"
    remote = remote and lx.singular(prep.head.lemma_.lower()) not in lx.PLACES  # (not "the girl from Oslo")
    present = tokens.counts(head, quoted) and shown and not remote
    mentions[head.i] = state.Mention(head, [member.id], True, present=present, remote=remote)
    if noun is not None and noun.i not in s.in_chain:  # "A girl named Mia ran": the girl is Mia, the subject
        mentions[noun.i] = state.Mention(noun, [member.id], True, present=tokens.counts(head, quoted))


def read_egos(s: state.Scratch, reader: state.Reader) -> None:
    """Names that are another name of someone a pronoun points at: "he flies over the city as Superman"."""
    for head, full, pronoun in s.egos:
        mention = s.mentions.get(pronoun.i)
        if mention is None or not mention.character or len(mention.ids) != 1:
            continue
        member = reader.cast[mention.ids[0]]
        if full not in member.names():
            member.aliases.append(full)
        s.mentions[head.i] = state.Mention(head, [member.id], True, present=tokens.counts(head, s.quoted))
