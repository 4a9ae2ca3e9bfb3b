"""Who speaks and to whom, and the sentence's cast: everyone mentioned and shown, its speaker and
whom they speak to."""

from __future__ import annotations

from typing import Any

from planners.reading import naming, state, tokens
from storyteller.core import lexicon as lx


def dialogue(
    doc: Any, mentions: dict[int, state.Mention], quoted: list[bool], reader: state.Reader
) -> tuple[str | None, list[str]]:
    """The speaker (the subject of a speech verb, or of the sentence around a quote) and those spoken to."""
    if not any(quoted) and not any(t.text in tokens.QUOTES_BOTH | tokens.QUOTES_OPEN for t in doc):
        speech = [t for t in doc if t.lemma_.lower() in lx.SPEECH_VERBS and t.pos_ == "VERB"]
        if not any(any(c.dep_ == "ccomp" for c in v.children) for v in speech):
            return None, []
    speaker = None
    for token in doc:
        if quoted[token.i] or token.pos_ not in ("VERB", "NOUN"):
            continue
        subject = next((c for c in token.children if c.dep_ in ("nsubj", "nsubjpass") and not quoted[c.i]), None)
        if subject is None:
            subject = next((c for c in token.children if tokens.inverted_speaker(c)), None)
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
            group = list(dict.fromkeys(s.id for s in others if s.sentence == latest and s.cost < tokens.QUOTED_COST))
            return speaker, group or [others[0].id]
    for token in doc:  # "I" and "you" inside the quote
        if quoted[token.i] and token.lower_ in lx.PERSONAL:
            person, _ = lx.PERSONAL[token.lower_]
            who = speaker if person == 1 else addressee if person == 2 else None
            if who is not None:
                mentions.setdefault(token.i, state.Mention(token, [who], True, present=False))
    return speaker, [addressee] if addressee else []


def read_presence(s: state.Scratch, reader: state.Reader, out: state.SentenceReading) -> None:
    """The sentence's cast: everyone mentioned and shown, its speaker and whom they speak to."""
    doc, quoted, chains, mentions, called = s.doc, s.quoted, s.chains, s.mentions, s.called
    for mention in mentions.values():
        cost = tokens.cost(mention.head) + (tokens.QUOTED_COST if quoted[mention.head.i] else 0.0)
        reader.seen(mention.ids, cost, mention.character, tokens.plural(mention.head))
        for tid in mention.ids:  # a thing "it" points back to is in the picture again
            thing = reader.things.get(tid)
            if thing is not None and thing not in out.things and mention.present:
                out.things.append(thing)
        if mention.character and len(mention.ids) > 1:
            reader.groups.append((reader.number, tuple(mention.ids)))
    present = [cid for m in mentions.values() if m.character and m.present for cid in m.ids]
    speaker, addressees = dialogue(doc, mentions, quoted, reader)
    present += [cid for cid in (speaker, *addressees) if cid]
    for first, last, _ in chains:  # a name called out inside a quote is spoken to: "Come here, Max!"
        head = naming.chain_head(doc, first, last)
        m = mentions.get(head.i)
        if m is not None and quoted[head.i] and tokens.vocative(head):
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
        mentions[head.i] = state.Mention(head, [listener.id], True)
        present.append(listener.id)
    out.present = list(dict.fromkeys(present))
    conj = [tuple(m.ids) for m in mentions.values() if m.character and m.head.dep_ == "conj"]
    if conj:  # "Tomas and Pepper": a group "they" may point back to
        group = tuple(dict.fromkeys(cid for m in mentions.values() if m.character for cid in m.ids))
        if len(group) > 1:
            reader.groups.append((reader.number, group))
