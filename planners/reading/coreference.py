"""Who a pronoun or a noun points back to: by gender, number, recency and grammatical role; groups;
"the stranger" and "the figure"; and the sentence's nouns read in order."""

from __future__ import annotations

from typing import Any

from planners.reading import naming, nouns, state, tokens
from storyteller.core import lexicon as lx

# What a pronoun's candidate antecedent costs (the cheapest is taken; ties go to the later mention), on top of
# its grammatical salience (tokens.cost):
SENTENCE_COST = 2.0  # each sentence back
PARAGRAPH_COST = 3.0  # met in another paragraph
INEXACT = 3.0  # its gender unknown, against one known to fit
BEYOND_REACH = 99.0  # a candidate costing more is never taken


def resolve_pronoun(
    token: Any, doc: Any, reader: state.Reader, mentions: dict[int, state.Mention], quoted: list[bool]
) -> list[str]:
    """Whom a personal pronoun points at: the narrator for "I"; the cheapest candidate of the sentences
    before (and the words before it in its own) that fits its gender, its role and its clause."""
    person, gender = lx.PERSONAL[token.lower_]
    if person == 1 and not quoted[token.i]:
        return _narrating(reader, gender)
    if person in (1, 2):
        return []  # inside a quote: the speaker or the one spoken to, known once the speaker is (dialogue)
    candidates, excluded = _candidates(token, reader, mentions, quoted)
    if gender == "p":
        return resolve_plural(token, reader, candidates, excluded)
    into = token.head.dep_ == "pobj" and token.head.head.lower_ in ("into", "onto", "to", "toward", "towards", "at")
    if token.dep_ == "poss" and lx.singular(token.head.lemma_.lower()) in lx.BODY_PARTS:
        candidates = _body_owners(token, doc, reader, mentions, candidates, into)
    if token.dep_ == "poss" and token.head.dep_ in ("dobj", "pobj") and gender in "mf" and not into:
        owner = _clause_owner(token, doc, reader, mentions, candidates, gender)
        if owner is not None:
            return [owner]
    if token.dep_ in ("dobj", "pobj") and tokens.social(token):
        living = [s for s in candidates if s.character]  # "a lizard watches it": the robot, not its battery
        candidates = living or candidates
    return _cheapest(reader, candidates, gender)


def _narrating(reader: state.Reader, gender: str) -> list[str]:
    """ "I" outside quotes is the narrator; "we" the narrator and those with them."""
    narrator = reader.cast.get("narrator") or reader.new_member("narrator", name="I", cid="narrator", human=True)
    if gender != "p":
        return [narrator.id]
    others = [
        s.id
        for s in reader.recent(1)
        if s.character and s.id != narrator.id and reader.cast[s.id].human and not reader.cast[s.id].group
    ]
    return list(dict.fromkeys([*others[-3:], narrator.id]))  # "we": the narrator and company


def _candidates(
    token: Any, reader: state.Reader, mentions: dict[int, state.Mention], quoted: list[bool]
) -> tuple[list[state.Seen], set[str]]:
    """What a pronoun may point at (mentions of the reader's window, and of its sentence before it, on its
    side of any quotation), and what it may not (the subject of its own clause: "the tortoise plodded past
    him" is never the tortoise)."""
    bound = tokens.clause_subject(token) if token.dep_ in ("dobj", "pobj", "dative") else None
    if token.dep_ == "nsubj" and token.head.dep_ in ("ccomp", "xcomp") and token.lower_ in ("him", "her", "them"):
        bound = tokens.clause_subject(token.head)  # "Akosua helps him twist off his helmet": not Akosua
    excluded = set(mentions[bound.i].ids) if bound is not None and bound.i in mentions else set()
    if token.lower_.endswith(("self", "selves")):
        excluded = set()
    here = [
        state.Seen(reader.number, cid, tokens.cost(m.head), m.character, tokens.plural(m.head), m.head.i)
        for m in mentions.values()
        if m.head.i < token.i and (quoted[m.head.i] == quoted[token.i])
        for cid in m.ids
    ]
    candidates = [s for s in [*reader.recent(), *sorted(here, key=lambda s: s.position)] if s.id not in excluded]
    return [s for s in candidates if s.id != "narrator"], excluded  # the narrator is "I", never "he" or "she"


def _body_owners(
    token: Any,
    doc: Any,
    reader: state.Reader,
    mentions: dict[int, state.Mention],
    candidates: list[state.Seen],
    into: bool,
) -> list[state.Seen]:
    """Who "her eyes", "its tail" may belong to: someone alive, and not whoever does something to them."""
    candidates = [s for s in candidates if s.character]  # "its eyes opened": the robot's, not the sheet's
    verb = token.head.head
    if token.head.dep_ == "dobj" and verb.lemma_.lower() in lx.OTHER_BODY_VERBS:
        own = {cid for x in tokens.subjects_of(verb, {}, doc) if x.i in mentions for cid in mentions[x.i].ids}
        candidates = [s for s in candidates if s.id not in own]  # "the waiter avoids her eyes": not his
    if lx.singular(token.head.lemma_.lower()) in lx.ANIMAL_PARTS:  # "crept past her tail": no person's tail
        candidates = [s for s in candidates if not reader.cast[s.id].human]
    if into:  # "Zosia jumped into her arms": someone else's arms
        verb = token.head.head.head
        own = {cid for x in tokens.subjects_of(verb, {}, doc) if x.i in mentions for cid in mentions[x.i].ids}
        candidates = [s for s in candidates if s.id not in own]
    return candidates


def _clause_owner(
    token: Any,
    doc: Any,
    reader: state.Reader,
    mentions: dict[int, state.Mention],
    candidates: list[state.Seen],
    gender: str,
) -> str | None:
    """ "wagging his tail", "carried her violin": an owner in the clause is its subject, if it may be."""
    verb = token.head.head if token.head.dep_ == "dobj" else token.head.head.head
    owners = [cid for s in tokens.subjects_of(verb, {}, doc) if s.i in mentions for cid in mentions[s.i].ids]
    seen = [s for s in candidates if s.id in owners[:1]]
    fits, exact = state.fits_gender(seen[-1], gender, reader) if seen else (False, False)
    body = (
        lx.singular(token.head.lemma_.lower()) in lx.BODY_PARTS
        and token.head.dep_ == "dobj"
        and verb.lemma_.lower() not in lx.OTHER_BODY_VERBS
    )
    if not (fits and (exact or body)):  # ("heard her song" need not be the hearer's, "crept past her tail" not)
        return None
    member = reader.cast.get(seen[-1].id)
    if member is not None and member.gender == "?":
        member.gender = gender
    return seen[-1].id


def _cheapest(reader: state.Reader, candidates: list[state.Seen], gender: str) -> list[str]:
    """The candidate of least cost that fits the gender (its own gender, unknown till now, then told)."""
    best, best_cost = None, BEYOND_REACH
    for candidate in candidates:
        fits, exact = state.fits_gender(candidate, gender, reader)
        if not fits:
            continue
        cost = SENTENCE_COST * (reader.number - candidate.sentence) + candidate.cost + (0.0 if exact else INEXACT)
        elsewhere = reader.paragraph_of.get(candidate.sentence, reader.paragraph) != reader.paragraph
        cost += PARAGRAPH_COST if elsewhere else 0.0
        if cost <= best_cost:  # ties go to the later mention
            best, best_cost = candidate, cost
    if best is None:
        return []
    if best.character and gender in "mf":
        member = reader.cast[best.id]
        if member.gender == "?":
            member.gender = gender
    return [best.id]


def resolve_plural(token: Any, reader: state.Reader, candidates: list[state.Seen], excluded: set[str]) -> list[str]:
    """ "they", "them", "both of them": a group met lately, or the characters just named."""
    found = plural_referent(token, reader, candidates, excluded)
    quantifier = token.head.head if token.dep_ == "pobj" and token.head.lower_ == "of" else None
    count = lx.NUMBERS.get(quantifier.lower_, 0) if quantifier is not None else 0
    if count and len(found) > count and all(cid in reader.cast for cid in found):
        latest = [s.id for s in reversed(candidates) if s.id in found]  # "the two of them": the two met last
        found = list(dict.fromkeys([*latest, *found]))[:count]
    return found


def plural_referent(token: Any, reader: state.Reader, candidates: list[state.Seen], excluded: set[str]) -> list[str]:
    recent_groups = [g for n, g in reader.groups if reader.number - n <= state.GROUP_WINDOW and not set(g) & excluded]
    things = [s for s in candidates if not s.character and s.plural and reader.number - s.sentence <= 1]
    if things and token.dep_ in ("dobj", "pobj") and not tokens.social(token):
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


def described_by(token: Any, mentions: dict[int, state.Mention]) -> state.Mention | None:
    """The character a noun only describes: an apposition to it, or what it "was"."""
    if token.dep_ == "appos":
        described = mentions.get(token.head.i) if nouns.close_apposition(token) else None
    elif token.dep_ == "attr" and token.head.lemma_ == "be":
        subject = next((c for c in token.head.children if c.dep_ == "nsubj"), None)
        described = mentions.get(subject.i) if subject is not None else None
        if described is None and subject is not None:  # "a fox and a stork were neighbours"
            described = next((mentions[c.i] for c in subject.children if c.dep_ == "conj" and c.i in mentions), None)
    else:
        return None
    return described if described is not None and described.character else None


def resolve_noun(token: Any, doc: Any, reader: state.Reader, mentions: dict[int, state.Mention]) -> list[str]:
    """Whom a noun for someone points at: one met (by kinship, kind, role, or "the stranger"), or a new member;
    a plural noun, a group (see `resolve_group`)."""
    label = tokens.noun_label(token)
    plural = token.tag_ in ("NNS", "NNPS") and label not in lx.GROUP_NOUNS
    if plural:
        return resolve_group(token, reader, lx.singular(label))
    owner = next((c for c in token.children if c.dep_ == "poss"), None)
    if owner is not None and owner.i in reader.owners and reader.owners[owner.i]:
        kin = reader.kin.get((reader.owners[owner.i][0], label))
        if kin is not None:
            return [kin]  # "her mother": the mother we already know
    determiner = next((c.lower_ for c in token.children if c.dep_ in ("det", "amod")), "")
    same = None if determiner in ("another", "other", "second") else reader.by_kind(label)
    if same is None and determiner in ("the", "this", "that"):
        here = {cid for m in mentions.values() if m.character and m.head.pos_ != "PRON" for cid in m.ids}
        looks = {tokens.stem(t.lower_) for t in token.subtree if t.i < token.i and t.pos_ in ("ADJ", "NOUN", "VERB")}
        same = reader.pointed_at(label, here, looks)  # "the stranger", "the figure": someone already met
    if same is None and (determiner in ("the", "this", "that") or token.dep_ == "poss"):
        same = reader.by_role(label)  # "the boy" is the boy we have met, whatever the story called him
    if same is None:
        same = reader.new_member(label, attributes=tokens.adjectives(token), group=label in lx.GROUP_NOUNS)
        if owner is not None:
            naming.relate_kin(token, same, reader, mentions)  # "her husband" ... "his wife": she again
    else:
        same.attributes += [a for a in tokens.adjectives(token) if a not in same.attributes]
    return [same.id]


def resolve_group(token: Any, reader: state.Reader, singular: str) -> list[str]:
    """A plural noun: the group met lately, the people met if enough of them, or a group member of its own."""
    # "the two children", "the friends", "the two astronauts": the people already met, if enough of them
    count = next((tokens.number(c) for c in token.children if c.dep_ == "nummod"), 0)
    definite = any(c.dep_ == "det" and c.lower_ in ("the", "these", "those") for c in token.children)
    recent_groups = [g for n, g in reader.groups if reader.number - n <= state.GROUP_WINDOW]
    generic = lx.GENERIC_PEOPLE.get(singular)
    if recent_groups and not count and (token.lower_ in lx.PEOPLE_PLURALS or generic):
        gender = generic[0] if generic else "?"
        group = recent_groups[-1]  # "we carried it ... the friends cheered", "the girls": the same ones
        if all(reader.cast[cid].human and reader.cast[cid].gender in ("?", gender) for cid in group) or (gender == "?"):
            for cid in group:
                if reader.cast[cid].gender == "?" and gender != "?":
                    reader.cast[cid].gender = gender
            return list(group)
    # "the two astronauts", "two silhouettes": whoever they are
    counted = bool(count) and ((definite and state.is_human(singular)) or singular in lx.FIGURE_WORDS)
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
    member = reader.new_member(token.lower_, group=True, attributes=tokens.adjectives(token))
    member.human = singular in lx.PEOPLE
    return [member.id]


def read_nouns_and_pronouns(s: state.Scratch, reader: state.Reader, out: state.SentenceReading) -> None:
    """Nouns and pronouns, in order: a pronoun sees what came before it in the sentence."""
    things_met = {t.label for t in reader.things.values()}
    kinds_met = {m.kind for m in reader.cast.values() if m.kind not in ("person", "narrator")}
    for token in s.doc:
        i = token.i
        if i in s.in_chain or i in s.consumed or i in s.mentions:
            continue
        if token.pos_ == "PRON" and token.lower_ in lx.PERSONAL:
            _read_pronoun(s, reader, token)
            continue
        lemma = _noun_lemma(s, token)
        if lemma is None:
            continue
        met = lemma in kinds_met and lemma not in things_met  # "the trucker" again, whatever the parse
        if i not in s.inert and (met or nouns.animate_noun(token, s.doc, s.fake_verbs, things_met)):
            _read_someone(s, reader, token)
        elif nouns.is_thing(token, lemma):
            _read_thing(s, reader, out, token)


def _read_pronoun(s: state.Scratch, reader: state.Reader, token: Any) -> None:
    ids = resolve_pronoun(token, s.doc, reader, s.mentions, s.quoted)
    reader.owners[token.i] = ids
    if ids:
        character = all(cid in reader.cast and cid not in reader.things for cid in ids)
        present = tokens.counts(token, s.quoted) and (token.dep_ != "poss" or tokens.shows_owner(token.head))
        s.mentions[token.i] = state.Mention(token, ids, character, present)


def _noun_lemma(s: state.Scratch, token: Any) -> str | None:
    """The noun's lemma if it may be someone or something in the picture; None for what is no entity (a
    quantity, a place: kept in `s.places`, a name, a verb the parser took for a noun). Marks what a container
    holds, and what is only depicted, as inert."""
    doc, i, low = s.doc, token.i, token.lower_
    capital_thing = token.pos_ == "PROPN" and tokens.initial(doc, token) and nouns.common_word(low)  # "Fireworks"
    skipped = token.pos_ not in ("NOUN", "PROPN") or (
        token.text[:1].isupper() and token.pos_ == "PROPN" and not capital_thing
    )
    if skipped and not tokens.mistagged_person(doc, token):
        return None
    if token.dep_ == "compound" and i not in s.fake_verbs.values() and not tokens.compound_is_head(token):
        return None
    lemma = lx.singular(token.lemma_.lower()) if token.lemma_ else low
    if i in s.fake_verbs or token.ent_type_ in tokens.NOT_THINGS:
        return None
    holds = tokens.of_object(token)
    if lemma in lx.QUANTITY_WORDS and holds is not None:
        return None  # "a piece of cheese" is cheese: the noun after "of" speaks for it
    if lemma in lx.CONTAINERS and holds is not None:
        s.inert.add(holds.i)
    if (lemma in lx.PLACES or tokens.noun_label(token) in lx.PLACES) and token.dep_ != "dobj":
        s.places.append((token, tokens.place_label(token), tokens.phrase_text(token)))
        return None  # (a place someone builds or paints, "built a volcano", is a thing in the picture)
    if nouns.depicted(token):
        s.inert.add(i)  # "painted a dragon on it", "dreaming of dolphins": a picture of one, not one
    return str(lemma)


def _read_someone(s: state.Scratch, reader: state.Reader, token: Any) -> None:
    """A noun for someone: whom it describes, points back to, or a new member."""
    if token.dep_ == "poss" and not tokens.shows_owner(token.head) and reader.by_kind(tokens.noun_label(token)) is None:
        return  # "the baker's son": the baker is only talked about
    described = described_by(token, s.mentions)
    if described is not None:  # "The waiter, a thin man", "a fox and a stork were neighbours"
        if len(described.ids) == 1:
            member = reader.cast[described.ids[0]]
            member.attributes += [a for a in tokens.adjectives(token) if a not in member.attributes]
            if token.lemma_.lower() not in (member.kind, *member.roles):
                member.roles.append(token.lemma_.lower())
            s.mentions[token.i] = state.Mention(token, described.ids, True, present=described.present)
        return
    ids = resolve_noun(token, s.doc, reader, s.mentions)
    present = tokens.counts(token, s.quoted) and (token.dep_ != "poss" or tokens.shows_owner(token.head))
    s.mentions[token.i] = state.Mention(token, ids, True, present=present)


def _read_thing(s: state.Scratch, reader: state.Reader, out: state.SentenceReading, token: Any) -> None:
    label = tokens.noun_label(token)
    thing = state.Thing(state.slug(label), label, tuple(tokens.adjectives(token)))
    if thing.id in reader.cast:
        thing = state.Thing(thing.id + "_object", thing.label, thing.attributes)
    if thing not in out.things:
        out.things.append(thing)
    reader.things[thing.id] = thing
    s.mentions[token.i] = state.Mention(token, [thing.id], False)
