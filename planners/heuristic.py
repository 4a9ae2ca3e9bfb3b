"""The default planner: rules and word lists, no model, deterministic.

Two passes over the story. The first finds the cast (one id per character, names and pronouns
resolved to it) and fixes each character's appearance; the second groups sentences into shots and
writes each shot's scene graph: entities, relations, timed actions, location, time of day, weather and
camera.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from planners import lexicon as lx
from storyteller.models import (
    Action,
    Character,
    Entity,
    Location,
    PlanConfig,
    Relation,
    SceneGraph,
    Shot,
    StoryPlan,
    Transition,
)

WORDS_PER_SECOND = 2.4  # a comfortable caption-reading pace: durations follow the text
MIN_SHOT, MAX_SHOT = 2.5, 10.0
NEGATIVE_PROMPT = "blurry, low quality, distorted, deformed, extra limbs, watermark, text"
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+|\n\s*\n")
_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "mt.", "jr.", "sr.")
_STYLE = re.compile(r"^\s*([^.,;:\n]{2,60}?\bstyle)\s*[,:.]\s*", re.IGNORECASE)


@dataclass
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower().replace("’", "'")


@dataclass
class Mention:
    kind: str  # "character" | "object" | "place"
    label: str
    head: str
    attributes: list[str]
    first: int  # token index range inside the sentence
    last: int
    ref: str = ""  # character id once resolved
    text: str = ""


@dataclass
class Sentence:
    text: str
    start: int
    end: int
    paragraph: int
    tokens: list[Token] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class CastMember:
    id: str
    kind: str
    name: str | None
    attributes: list[str]
    gender: str  # "f" | "m" | "p" | "n" | "?"
    worn: list[str] = field(default_factory=list)

    def appearance(self) -> str:
        noun = " ".join([*self.attributes, self.kind])
        if self.kind in lx.GROUP_NOUNS:
            noun += " of people"
        article = "an" if noun[:1].lower() in "aeiou" else "a"
        looks = f"{self.name}, {article} {noun}" if self.name else f"{article} {noun}"
        if self.worn:
            looks += " wearing " + _join(self.worn)
        return looks


class HeuristicPlanner:
    """Plans without a model. Same story and seed, same plan, byte for byte."""

    name = "heuristic"

    def __init__(self, words_per_second: float = WORDS_PER_SECOND, names: list[str] | None = None) -> None:
        self.words_per_second = words_per_second
        self.names = list(names or [])  # people known in advance (a screenplay's cast), so any mention counts

    def config(self) -> dict:
        return {"words_per_second": self.words_per_second, "names": self.names}

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        story = story.replace("\r\n", "\n")
        title, body_start = _title_of(story)
        style, style_end = _style_of(story[body_start:])
        body_start += style_end
        sentences = _split_sentences(story, body_start)
        cast: dict[str, CastMember] = {}
        for name in self.names:
            _new_member(cast, kind="person", name=name, attributes=[])
        recent: list[str] = []
        for sentence in sentences:
            sentence.tokens = [Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(sentence.text)]
            sentence.mentions = _find_mentions(sentence)
            _resolve_cast(sentence, cast, recent)
        shots_text = _group_into_shots(sentences)
        locations: dict[str, Location] = {}
        shots: list[Shot] = []
        state = {"location": None, "time": "day", "weather": "clear"}
        for index, group in enumerate(shots_text):
            shots.append(self._shot(index, group, story, cast, locations, state, config, style))
        if config.minutes:  # stretch or squeeze every shot, and its actions, to the asked length
            scale = config.minutes * 60 / sum(s.duration for s in shots)
            shots = [scaled(s, scale) for s in shots]
        used = {cid for shot in shots for cid in shot.characters}
        characters = [
            Character(id=m.id, name=m.name or m.kind.title(), kind=m.kind, appearance=m.appearance())
            for m in cast.values()
            if m.id in used
        ]
        return StoryPlan(
            title=title or config.title,
            style=style,
            characters=characters,
            locations=list(locations.values()),
            shots=shots,
            **config.picture(),
        )

    def _shot(
        self,
        index: int,
        group: list[Sentence],
        story: str,
        cast: dict[str, CastMember],
        locations: dict[str, Location],
        state: dict,
        config: PlanConfig,
        style: str,
    ) -> Shot:
        start, end = group[0].start, group[-1].end
        text = " ".join(s.text.strip() for s in group)
        words = sum(len(s.tokens) for s in group)
        duration = round(min(MAX_SHOT, max(MIN_SHOT, words / self.words_per_second)), 2)

        entities: dict[str, Entity] = {}
        relations: list[Relation] = []
        actions: list[Action] = []
        camera = None
        previous_location, previous_time = state["location"], state["time"]
        for s_index, sentence in enumerate(group):
            low = sentence.text.lower()
            camera = camera or next((move for phrase, move in lx.CAMERA_PHRASES if phrase in low), None)
            words = {t.low for t in sentence.tokens}
            for token in sentence.tokens:
                state["time"] = lx.TIME_WORDS.get(token.low, state["time"])
                state["weather"] = lx.WEATHER_WORDS.get(token.low, state["weather"])
            if words & lx.WEATHER_ENDS and words & set(lx.WEATHER_WORDS):
                state["weather"] = "clear"
            ids = _sentence_entities(sentence, cast, entities)
            place = _location_of(sentence)
            if place is not None:
                lid = _slug(place.label)
                locations.setdefault(lid, Location(id=lid, name=place.label, description=place.text))
                state["location"] = lid
            relations += _relations(sentence, ids, cast)
            span = (duration * s_index / len(group), duration * (s_index + 1) / len(group))
            actions += _actions(sentence, ids, span)

        characters = [e.id for e in entities.values() if e.id in cast]
        rng = random.Random(f"{config.seed}:{index}:{text}")
        if camera is None:
            camera = _default_camera(actions, rng)
        new_paragraph = group[0].paragraph != state.get("paragraph", group[0].paragraph)
        state["paragraph"] = group[-1].paragraph
        moved = state["location"] != previous_location or state["time"] != previous_time
        scene_change = index > 0 and (moved or new_paragraph)
        transition = Transition(kind="crossfade", duration=0.5) if scene_change else Transition()
        graph = SceneGraph(
            entities=list(entities.values()),
            relations=_dedupe(relations),
            actions=actions,
            time_of_day=state["time"],
            weather=state["weather"],
        )
        location = locations.get(state["location"]) if state["location"] else None
        prompt_parts = [style] if style else []
        prompt_parts.append(text)
        prompt_parts += [cast[c].appearance() for c in characters]
        if location:
            prompt_parts.append(location.name)
        prompt_parts.append(_light(state["time"], state["weather"]))
        return Shot(
            id=f"shot_{index + 1:03d}",
            text=text,
            span=(start, end),
            duration=duration,
            camera=camera,
            prompt=", ".join(p for p in prompt_parts if p),
            negative_prompt=NEGATIVE_PROMPT,
            characters=characters,
            location=location.id if location else None,
            transition=transition,
            graph=graph,
        )


# --- text -----------------------------------------------------------------------------------------


def _title_of(story: str) -> tuple[str, int]:
    """A short first line with no full stop, followed by a blank line, is the title."""
    match = re.match(r"\s*([^\n.!?]{1,80})\n\s*\n", story)
    if match and len(match.group(1).split()) <= 10:
        return match.group(1).strip(), match.end()
    return "", 0


def _style_of(story: str) -> tuple[str, int]:
    """A leading "<something> style," phrase is the look of the whole film, not part of a shot."""
    match = _STYLE.match(story)
    if match:
        return match.group(1).strip(), match.end()
    return "", len(story) - len(story.lstrip())


def _split_sentences(story: str, start: int) -> list[Sentence]:
    sentences: list[Sentence] = []
    paragraph, cursor = 0, start
    pieces = _SENTENCE_END.split(story[start:])
    offset = start
    for piece in pieces:
        index = story.find(piece, offset) if piece else offset
        offset = index + len(piece)
        text = piece.strip()
        if not text:
            continue
        if story[cursor:index].count("\n") >= 2:
            paragraph += 1
        leading = len(piece) - len(piece.lstrip())
        begin = index + leading
        if sentences and sentences[-1].text.lower().rsplit(None, 1)[-1] in _ABBREVIATIONS:
            previous = sentences[-1]
            previous.text = story[previous.start : begin + len(text)]
            previous.end = begin + len(text)
        else:
            sentences.append(Sentence(text=text, start=begin, end=begin + len(text), paragraph=paragraph))
        cursor = begin + len(text)
    return sentences


def _group_into_shots(sentences: list[Sentence]) -> list[list[Sentence]]:
    """One sentence a shot; a very short one joins the next in its paragraph."""
    groups: list[list[Sentence]] = []
    pending: list[Sentence] = []
    for sentence in sentences:
        if pending and pending[-1].paragraph != sentence.paragraph:
            groups.append(pending)
            pending = []
        pending.append(sentence)
        if sum(len(_WORD.findall(s.text)) for s in pending) >= 6:
            groups.append(pending)
            pending = []
    if pending:
        if groups and groups[-1][-1].paragraph == pending[0].paragraph:
            groups[-1] += pending
        else:
            groups.append(pending)
    return groups


# --- mentions -------------------------------------------------------------------------------------


def _is_noun(word: str) -> bool:
    one = lx.singular(word)
    return any(
        w in lx.ANIMATE or w in lx.PLACES or w in lx.CLOTHING or w in lx.COMMON_NOUNS or w in lx.drawable_nouns()
        for w in (word, one)
    )


def _breaks_phrase(word: str) -> bool:
    if word in lx.FUNCTION_WORDS or word in lx.VERB_FORMS or word in lx.NOUN_ACTIONS:
        return not _is_noun(word) or word in lx.FUNCTION_WORDS
    return word.endswith("ing") and word not in lx.ING_NOUNS and not _is_noun(word)


def _find_mentions(sentence: Sentence) -> list[Mention]:
    tokens, text = sentence.tokens, sentence.text
    mentions: list[Mention] = []
    i = 0
    while i < len(tokens):
        low = tokens[i].low
        if low in lx.PRONOUNS:
            mentions.append(Mention("pronoun", low, low, [], i, i))
            i += 1
            continue
        if low in ("named", "called") and i + 1 < len(tokens) and tokens[i + 1].text[:1].isupper():
            mentions.append(Mention("name", tokens[i + 1].text, tokens[i + 1].text, [], i + 1, i + 1))
            i += 2
            continue
        has_determiner = low in lx.DETERMINERS
        j = i + 1 if has_determiner else i
        run: list[int] = []
        while j < len(tokens) and (
            _starts_compound(tokens, j)
            or not _breaks_phrase(tokens[j].low)
            or (has_determiner and j == i + 1 and tokens[j].low not in lx.FUNCTION_WORDS)  # "the waves"
        ):
            if run and re.search(r"[,;:.!?()]", text[tokens[j - 1].end : tokens[j].start]):
                break
            joined = bool(run) and _starts_compound(tokens, run[-1])
            if run and not joined and tokens[run[-1]].text[:1].isupper() and tokens[j].text[:1].islower():
                break  # a name ends its phrase: "Zosia stopped"
            if (
                run
                and not joined
                and _is_noun(tokens[run[-1]].low)
                and (not _is_noun(tokens[j].low) or tokens[j].low in lx.VERB_FORMS)
            ):
                break  # a noun ends its phrase unless another noun follows: "a small boat waited"
            if run and tokens[j].text[:1].isupper() and tokens[run[-1]].low in lx.ANIMATE:
                break  # "his cat Pepper": the name is its own mention
            run.append(j)
            j += 1
            if len(run) >= 5:
                break
        # "a pair of boxing gloves", "a crowd of people": the group word is not the thing drawn
        if run and tokens[run[-1]].low in lx.GROUP_WORDS and j + 1 < len(tokens) and tokens[j].low == "of":
            i = j + 1
            continue
        mention = _phrase(tokens, run, has_determiner, i == 0 or _after_break(text, tokens, run[0] if run else i))
        if mention is None:
            i = max(i + 1, j if not has_determiner else i + 1)
            continue
        if mention.head in lx.GROUP_NOUNS and j + 1 < len(tokens) and tokens[j].low == "of":
            j += 2  # "a crowd of people" is one crowd
        mention.text = text[tokens[i].start : tokens[j - 1].end]
        mentions.append(mention)
        i = j
    return mentions


def _starts_compound(tokens: list[Token], j: int) -> bool:
    return any(" ".join(t.low for t in tokens[j : j + n]) in lx.COMPOUNDS for n in (2, 3))


def _after_break(text: str, tokens: list[Token], index: int) -> bool:
    return index == 0 or bool(re.search(r"[.!?]\s*$", text[: tokens[index].start]))


def _phrase(tokens: list[Token], run: list[int], has_determiner: bool, sentence_initial: bool) -> Mention | None:
    if not run:
        return None
    words = [tokens[k].low for k in run]
    # longest known compound ending the run wins ("boxing gloves", "teddy bear")
    for size in (3, 2):
        if len(words) >= size and " ".join(words[-size:]) in lx.COMPOUNDS:
            head = " ".join(words[-size:])
            attributes = words[:-size]
            break
    else:
        head, attributes = words[-1], words[:-1]
    last = run[-1]
    base = lx.singular(head.split()[-1])
    capitalised = tokens[last].text[:1].isupper()
    if base in lx.NOT_ENTITIES or head in lx.NOT_ENTITIES or head.isdigit():
        return None
    if base in lx.ANIMATE or head in lx.ANIMATE:
        kind = "character"
    elif base in lx.PLACES:
        kind = "place"
    elif capitalised and not _is_noun(head.lower()):
        # a capitalised first word is only a name if the cast already has it (see _resolve_cast)
        kind = "maybe_name" if sentence_initial and len(run) == 1 else "name"
    elif head in lx.COMPOUNDS or _is_noun(head) or (has_determiner and len(head) > 2):
        kind = "object"
    else:
        return None
    if kind == "place":
        label = " ".join(tokens[k].text for k in run) if capitalised else head
        return Mention(kind, label, base, attributes, run[0], last)
    if capitalised and " " not in head:
        head = tokens[last].text  # names keep their case: "Zosia", "Godzilla"
    return Mention(kind, head, base, [a for a in attributes if not a.isdigit()], run[0], last)


# --- cast -----------------------------------------------------------------------------------------


def _resolve_cast(sentence: Sentence, cast: dict[str, CastMember], recent: list[str]) -> None:
    """Give every character mention a stable id: names, repeated nouns and pronouns all resolve."""
    previous: Mention | None = None
    for mention in sentence.mentions:
        if mention.kind == "maybe_name":
            known = next((m for m in cast.values() if m.name == mention.label), None)
            mention.kind = "character" if known else "none"
            mention.ref = known.id if known else ""
        elif mention.kind == "name":
            named = next((m for m in cast.values() if m.name == mention.label), None)
            if named is None and previous is not None and previous.kind == "object":
                # "an old fisherman named Tomas": whatever is named is a character
                previous.kind = "character"
                member = _new_member(cast, kind=previous.label, name=None, attributes=previous.attributes)
                previous.ref = member.id
            if named is None and previous is not None and previous.kind == "character" and previous.ref:
                member = cast[previous.ref]
                if member.name is None:  # "a little girl named Zosia"
                    member.name = mention.label
                    named = member
            if named is None:
                named = _new_member(cast, kind="person", name=mention.label, attributes=[])
            mention.kind, mention.ref = "character", named.id
        elif mention.kind == "character":
            kind = mention.label if " " in mention.label else lx.singular(mention.label.lower())
            if mention.label[:1].isupper() and " " not in mention.label:
                kind = mention.label  # "Godzilla" keeps its capital
            same = next((m for m in reversed(cast.values()) if m.kind.lower() == kind.lower()), None)
            if _apposition(sentence, previous, mention):  # "Zosia, a little girl in a red jacket,"
                same = cast[previous.ref]
                if same.kind == "person":
                    same.kind = kind
                    same.gender = _gender_of(kind)
            if same is None:
                same = _new_member(cast, kind=kind, name=None, attributes=mention.attributes)
            else:
                same.attributes += [a for a in mention.attributes if a not in same.attributes]
            mention.ref = same.id
        elif mention.kind == "pronoun":
            gender = lx.PRONOUNS[mention.label]
            if gender == "n":
                previous = mention
                continue
            candidates = [cast[r] for r in reversed(recent)]
            match = next((m for m in candidates if m.gender == gender), None) or next(
                (m for m in candidates if m.gender == "?" and gender in "fm"), None
            )
            if match is None:
                previous = mention
                continue
            if match.gender == "?":
                match.gender = gender
            mention.kind, mention.ref = "character", match.id
        if mention.kind == "character" and mention.ref:
            if mention.ref in recent:
                recent.remove(mention.ref)
            recent.append(mention.ref)
        previous = mention
    # "With gloves and a cozy jacket, she walked": clothing in a sentence dresses its first character
    wearer = next((m.ref for m in sentence.mentions if m.kind == "character" and m.ref), None)
    if wearer:
        for mention in sentence.mentions:
            if _is_clothing(mention):
                item = " ".join([*mention.attributes, mention.label])
                if item not in cast[wearer].worn:
                    cast[wearer].worn.append(item)


def _apposition(sentence: Sentence, previous: Mention | None, mention: Mention) -> bool:
    if previous is None or previous.kind != "character" or not previous.ref or previous.label[:1].islower():
        return False
    between = sentence.text[sentence.tokens[previous.last].end : sentence.tokens[mention.first].start]
    return bool(re.fullmatch(r",\s*(?:a|an|the)?\s*(?:[\w'-]+\s+)*?", between + " ")) and "," in between


def _gender_of(kind: str) -> str:
    head = kind.split()[-1]
    return "f" if head in lx.FEMALE else "m" if head in lx.MALE else "p" if head in lx.GROUP_NOUNS else "?"


def _new_member(cast: dict[str, CastMember], kind: str, name: str | None, attributes: list[str]) -> CastMember:
    base = _slug(name or kind)
    cid, n = base, 2
    while cid in cast:
        cid, n = f"{base}_{n}", n + 1
    cast[cid] = CastMember(id=cid, kind=kind, name=name, attributes=list(attributes), gender=_gender_of(kind))
    return cast[cid]


# --- per-shot graph -------------------------------------------------------------------------------


def _sentence_entities(sentence: Sentence, cast: dict[str, CastMember], entities: dict[str, Entity]) -> list[str]:
    """Entity id for each mention of the sentence ("" where the mention is no entity)."""
    ids = []
    for mention in sentence.mentions:
        if mention.kind == "character" and mention.ref:
            member = cast[mention.ref]
            entities.setdefault(member.id, Entity(id=member.id, label=member.kind, attributes=list(member.attributes)))
            ids.append(member.id)
        elif mention.kind == "object":
            eid = _slug(mention.label)
            if eid in cast:
                eid += "_object"
            entities.setdefault(eid, Entity(id=eid, label=mention.label, attributes=mention.attributes))
            ids.append(eid)
        else:
            ids.append("")
    return ids


def _location_of(sentence: Sentence) -> Mention | None:
    """The place the sentence happens in; "in/at/along X" beats "from/to X"."""
    best, best_rank = None, 9
    for mention in sentence.mentions:
        if mention.kind != "place":
            continue
        first = mention.first
        before = [sentence.tokens[k].low for k in range(max(0, first - 3), first)]
        prepositions = [w for w in before if w in lx.LOCATION_PREPOSITIONS]
        if not prepositions:
            continue
        rank = 1 if prepositions[-1] in ("from", "to", "toward", "towards") else 0
        if rank < best_rank:
            best, best_rank = mention, rank
    return best


def _relations(sentence: Sentence, ids: list[str], cast: dict[str, CastMember]) -> list[Relation]:
    relations = []
    mentions = sentence.mentions
    wearer = next((ids[k] for k, m in enumerate(mentions) if ids[k] in cast), None)
    for k, mention in enumerate(mentions):
        if not ids[k]:
            continue
        before = [t.low for t in sentence.tokens[max(0, mention.first - 4) : mention.first]]
        subject = next((ids[p] for p in range(k - 1, -1, -1) if ids[p] and ids[p] in cast), None)
        if _is_clothing(mention) and wearer:
            relations.append(Relation(subject=wearer, predicate="wears", object=ids[k]))
            continue
        if subject is None or subject == ids[k]:
            continue
        if "wearing" in before:
            relations.append(Relation(subject=subject, predicate="wears", object=ids[k]))
        elif "holding" in before or "carrying" in before:
            relations.append(Relation(subject=subject, predicate="holds", object=ids[k]))
        else:
            near = [w for w in before[-2:] if w in lx.PREPOSITIONS]
            if near:
                previous = next(ids[p] for p in range(k - 1, -1, -1) if ids[p])
                if previous != ids[k]:
                    relations.append(Relation(subject=previous, predicate=lx.PREPOSITIONS[near[-1]], object=ids[k]))
    return relations


def _actions(sentence: Sentence, ids: list[str], span: tuple[float, float]) -> list[Action]:
    found: list[tuple[str, str, str | None]] = []
    lows = [t.low for t in sentence.tokens]
    for t_index, token in enumerate(sentence.tokens):
        pair = " ".join(lows[t_index : t_index + 2])
        verb = lx.PHRASE_VERBS.get(pair) or lx.VERB_FORMS.get(token.low) or lx.NOUN_ACTIONS.get(token.low)
        if t_index and lows[t_index - 1] in lx.DETERMINERS - set(lx.PRONOUNS):
            continue  # "the waves" is a noun
        if verb is None or any(m.first <= t_index <= m.last and m.kind != "pronoun" for m in sentence.mentions):
            continue
        before = [(m, ids[k]) for k, m in enumerate(sentence.mentions) if m.last < t_index and ids[k]]
        after = [(m, ids[k]) for k, m in enumerate(sentence.mentions) if m.first > t_index and ids[k]]
        # the nearest thing before the verb does it ("big fire is burning"), but clothes never act
        agent = next(
            (
                i
                for m, i in reversed(before)
                if not _is_clothing(m) and not _after_preposition(sentence, m) and not _object_pronoun(sentence, m)
            ),
            None,
        )
        agent = agent or next((i for m, i in after if m.kind == "character"), None)
        if agent is None:
            continue
        clause_end = _clause_end(sentence, t_index)
        target = next((i for m, i in after if i != agent and m.first <= clause_end), None)
        agents = [agent]
        # "Tomas and Pepper walked": both do it
        mentions = [(m, i) for m, i in before]
        for n in range(len(mentions) - 1, 0, -1):
            m, i = mentions[n]
            if i == agent and lows[m.first - 1 : m.first] == ["and"] and mentions[n - 1][0].kind == "character":
                agents.insert(0, mentions[n - 1][1])
                break
        for who in agents:
            if (who, verb, target) not in found:
                found.append((who, verb, target))
    start, end = span
    actions = []
    for n, (agent, verb, target) in enumerate(found):
        # Verbs of one sentence overlap, each starting a little after the previous one.
        begin = start + (end - start) * 0.15 * n / max(1, len(found))
        actions.append(Action(agent=agent, verb=verb, object=target, start=round(begin, 3), end=round(end, 3)))
    return actions


def _after_preposition(sentence: Sentence, mention: Mention) -> bool:
    """ "by the fire", "into the water": the object of a preposition does not act."""
    lows = [t.low for t in sentence.tokens]
    k = mention.first - 1
    if k >= 0 and lows[k] in lx.DETERMINERS and lows[k] not in lx.PRONOUNS:
        k -= 1
    return k >= 0 and (lows[k] in lx.PREPOSITIONS or lows[k] in lx.LOCATION_PREPOSITIONS) and mention.kind != "pronoun"


def _object_pronoun(sentence: Sentence, mention: Mention) -> bool:
    """ "ran after her", "hugged him": a pronoun after a verb or preposition is acted on, not acting."""
    if mention.label in ("him", "them", "me", "us"):
        return True
    if mention.label != "her":  # "her" is also a possessive: "her mother waved"
        return False
    word = sentence.tokens[mention.first - 1].low if mention.first else ""
    return word in lx.VERB_FORMS or word in lx.FUNCTION_WORDS | {"after"}


def _is_clothing(mention: Mention) -> bool:
    return mention.kind == "object" and lx.singular(mention.head.split()[-1]) in lx.CLOTHING | {"glove"}


def _clause_end(sentence: Sentence, index: int) -> int:
    """Last token index of the clause holding token `index`: the next comma or semicolon ends it."""
    tokens = sentence.tokens
    for k in range(index + 1, len(tokens)):
        if re.search(r"[,;:]", sentence.text[tokens[k - 1].end : tokens[k].start]) or k - index > 6:
            return k - 1
    return len(tokens) - 1


def scaled(shot: Shot, scale: float) -> Shot:
    duration = round(min(120.0, shot.duration * scale), 3)
    factor = duration / shot.duration
    actions = [
        a.model_copy(update={"start": round(a.start * factor, 3), "end": round(min(a.end * factor, duration), 3)})
        for a in shot.graph.actions
    ]
    return shot.model_copy(update={"duration": duration, "graph": shot.graph.model_copy(update={"actions": actions})})


def _default_camera(actions: list[Action], rng: random.Random) -> str:
    verbs = {a.verb for a in actions}
    if verbs & {"walk", "run"}:
        return "pan_right"  # walkers head right unless something draws them elsewhere
    if verbs & {"fly", "jump", "grow", "raise"}:
        return rng.choice(["tilt_up", "zoom_out"])
    if verbs & {"punch", "roar", "explode"}:
        return rng.choice(["zoom_in", "close_up"])
    return rng.choice(["static", "zoom_in", "zoom_out", "static"])


def _light(time: str, weather: str) -> str:
    parts = {"day": "daylight", "night": "at night"}.get(time, time)
    return parts if weather == "clear" else f"{parts}, {weather}"


def _dedupe(relations: list[Relation]) -> list[Relation]:
    seen, out = set(), []
    for r in relations:
        key = (r.subject, r.predicate, r.object)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "thing"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
