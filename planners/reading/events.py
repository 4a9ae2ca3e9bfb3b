"""What happens: agent - verb - object actions and the relations (on, in, wears, holds ...)."""

from __future__ import annotations

from typing import Any

from planners import bible
from planners.reading import state, tokens
from storyteller.core import lexicon as lx


def ids(token: Any, mentions: dict[int, state.Mention]) -> list[str]:
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


def agents_of(verb: Any, mentions: dict[int, state.Mention], fake_verbs: dict[int, int], doc: Any) -> list[str]:
    """Who does it: the parsed subject, or for a caption with no clause ("a hamster throwing punches"),
    the nearest character named before the verb."""
    found = [cid for s in tokens.subjects_of(verb, fake_verbs, doc) for cid in ids(s, mentions)]
    if found or verb.dep_ not in ("ROOT", "advcl", "acl", "conj", "xcomp"):
        return found
    if verb.dep_ == "acl" and verb.tag_ == "VBN":
        return []  # "a bottle half buried in the sand": done to the bottle, by no one named
    before = [m for m in mentions.values() if m.character and m.head.i < verb.i and m.head.dep_ != "pobj"]
    return max(before, key=lambda m: m.head.i).ids if before else []


def actions(
    doc: Any, mentions: dict[int, state.Mention], fake_verbs: dict[int, int], quoted: list[bool]
) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    shown = {cid for m in mentions.values() if m.present for cid in m.ids}
    absent = {cid for m in mentions.values() if m.remote for cid in m.ids} - shown  # "a message from Akosua"
    for verb in doc:
        if (verb.pos_ != "VERB" and verb.i not in fake_verbs) or quoted[verb.i]:
            continue  # what a quote says happens is not shown
        if verb.lemma_ in lx.STATE_VERBS or (verb.dep_ in ("amod", "acl") and verb.lemma_ in ("name",)):
            continue
        canonical = tokens.canonical(verb)
        agents = [a for a in agents_of(verb, mentions, fake_verbs, doc) if a not in absent]
        if not agents:
            continue
        target = next((cid for o in tokens.objects(verb) for cid in ids(o, mentions) if cid not in agents), None)
        for agent in agents:
            if (agent, canonical, target) not in found:
                found.append((agent, canonical, target))
    return found


def relations(doc: Any, mentions: dict[int, state.Mention], reader: state.Reader) -> list[tuple[str, str, str]]:
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
        objects = [cid for c in token.children if c.dep_ == "pobj" for cid in ids(c, mentions)]
        if not objects:
            continue
        owner = token.head
        subjects = ids(owner, mentions)
        if not subjects and owner.pos_ == "VERB":
            subjects = [cid for s in tokens.subjects_of(owner, {}, doc) for cid in ids(s, mentions)]
        predicate = lx.PREPOSITIONS[token.lower_]
        pobj = next(c for c in token.children if c.dep_ == "pobj")
        if bible.is_clothing(pobj) and token.lower_ in ("in", "with"):
            predicate = "wears"
        add(subjects, predicate, objects)
    for verb in doc:
        held = {"wear": "wears", "hold": "holds", "carry": "holds", "grip": "holds"}.get(verb.lemma_)
        if held is None:
            continue
        subjects = agents_of(verb, mentions, {}, doc)
        objects = [cid for c in verb.children if c.dep_ == "dobj" for cid in ids(c, mentions)]
        add(subjects, held, objects)
    for mention in mentions.values():  # "a basket of fish": the fish are in the basket
        holds = tokens.of_object(mention.head)
        if holds is not None and holds.i in mentions and not mention.character:
            add(mentions[holds.i].ids, "in", mention.ids)
    return found
