"""What the sentence says a character looks like (clothes, features, adjectives), into the bible."""

from __future__ import annotations

from typing import Any

from planners import bible
from planners.reading import state, tokens
from storyteller.core import lexicon as lx


def describe(doc: Any, mentions: dict[int, state.Mention], reader: state.Reader, fake_verbs: dict[int, int]) -> None:
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
                        looks = [a for a in tokens.adjectives(obj) if worn.lower_ not in a.split()] + tokens.adjectives(
                            worn
                        )
                        obj = doc[obj.i - 1]  # "a man in a grey scarf hurries": the parser's "scarf hurries"
                    if obj.dep_ in ("pobj", "compound") and bible.is_clothing(obj):
                        wear(member, obj, looks)
                    elif obj.dep_ == "pobj" and child.lower_ == "with" and is_feature(obj):
                        feature = " ".join([*tokens.adjectives(obj), obj.lower_])
                        if feature not in member.features:
                            member.features.append(feature)
        if head.dep_ == "poss" and head.head.pos_ == "NOUN":  # "her long red hair", "its single orange eye"
            owned = head.head
            looks = tokens.adjectives(owned)
            if lx.singular(owned.lemma_.lower()) in lx.BODY_PARTS and looks:
                feature = " ".join([*looks, owned.lower_])
                if feature not in member.features:
                    member.features.append(feature)
            elif bible.is_clothing(owned):
                wear(member, owned)
        verb = head.head if head.dep_ == "nsubj" else None
        if verb is not None and verb.lemma_ == "have":  # "Lila had long red hair"
            for obj in verb.children:
                looks = tokens.adjectives(obj)
                if obj.dep_ == "dobj" and lx.singular(obj.lemma_.lower()) in lx.BODY_PARTS and looks:
                    feature = " ".join([*looks, obj.lower_])
                    if feature not in member.features:
                        member.features.append(feature)
        for child in verb.children if verb is not None else ():  # "With gloves and a cozy jacket, she walked"
            if child.dep_ == "prep" and child.lower_ == "with":
                for item in child.subtree:
                    if item.pos_ == "NOUN" and bible.is_clothing(item):
                        wear(member, item)
        if verb is not None and verb.lemma_ in ("wear", "put"):
            for obj in verb.children:
                if obj.dep_ == "dobj" and bible.is_clothing(obj):
                    wear(member, obj)


def read_looks(doc: Any, mentions: dict[int, state.Mention], reader: state.Reader) -> None:
    """What planners/bible.py finds each character wears, holds and looks like, into the bible."""
    owners = {i: m.ids[0] for i, m in mentions.items() if m.character and len(m.ids) == 1 and m.ids[0] in reader.cast}
    for cid, kind, phrase in bible.looks(doc, owners):
        member = reader.cast[cid]
        facts = {"worn": member.worn, "held": member.held, "feature": member.features}[kind]
        if phrase not in facts and not any(phrase in f or f in phrase for f in member.worn + member.held):
            facts.append(phrase)


def is_feature(token: Any) -> bool:
    lemma = lx.singular(token.lemma_.lower())
    return lemma in lx.BODY_PARTS or lemma in lx.MARKS


def wear(member: state.Member, token: Any, looks: list[str] | None = None) -> None:
    """`looks`: the item's adjectives where the parser hung them elsewhere."""
    item = " ".join([*(looks if looks is not None else tokens.adjectives(token)), token.lower_])
    if any(item == w or w.endswith(" " + item) for w in member.worn):
        return  # "a grey scarf" said already
    member.worn[:] = [w for w in member.worn if not item.endswith(" " + w)]  # "hat", then "a wool hat"
    member.worn.append(item)
