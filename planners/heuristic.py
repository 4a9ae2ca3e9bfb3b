"""The default planner: spaCy's parse and rules on top of it, no network, deterministic.

Two passes over the story. The first (planners/reading/) reads every sentence: the cast (one id per
character, names, aliases and pronouns resolved to it, one appearance gathered from the whole story),
who is in the sentence, what they do and where. The second groups sentences into shots and writes each
shot's scene graph: entities, relations, timed actions, location, time of day, weather and camera.
"""

from __future__ import annotations

import random
import re
import typing
from collections import Counter
from dataclasses import dataclass, replace

from planners import headings, reading, scenes, shot_lists, shot_prose
from planners.reading import Member, SentenceReading
from planners.scenes import NEGATIVE_PROMPT
from planners.shot_lists import ShotList
from storyteller.core import lexicon as lx
from storyteller.core.backend import Planner
from storyteller.core.configs import Configured
from storyteller.core.errors import StorytellerError
from storyteller.core.language import detect_language
from storyteller.core.models import (
    Action,
    CameraMove,
    Character,
    Entity,
    Location,
    PlanConfig,
    Relation,
    Scene,
    SceneGraph,
    Shot,
    StoryPlan,
    Transition,
    scaled,
)

WORDS_PER_SECOND = 2.4  # a comfortable caption-reading pace: durations follow the text
MIN_SHOT, MAX_SHOT = 2.5, 10.0
# characters: a run-on sentence longer than this is parsed, shown and narrated in pieces, cut at a clause
# (about 100 words: under a minute of narration even in a slow voice, so a shot always holds what is said)
MAX_SENTENCE = 600
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n\s*\n")
_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "mt.", "jr.", "sr.")
_STYLE = re.compile(r"^\s*([^.,;:\n]{2,60}?\bstyle)\s*[,:.]\s*", re.IGNORECASE)


@dataclass
class Sentence:
    text: str
    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class HeuristicConfig:
    """The offline planner's settings.

    Attributes:
        words_per_second: the reading pace a shot's length follows (a comfortable caption pace); what is
            spoken in it may lengthen it at render time.
        names: people known in advance (a screenplay's cast): any mention of them counts, capitalised or not.
        shots: a shot per "paragraph" (shot prose: a paragraph of camera and action is one shot), per
            "sentence" (narrative prose), or "auto": by what the text reads as.
    """

    words_per_second: float = WORDS_PER_SECOND
    names: tuple[str, ...] = ()
    shots: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))  # a list given is kept as a tuple: frozen
        if self.shots not in shot_prose.SHOT_MODES:
            raise StorytellerError(f"shots '{self.shots}': give one of {', '.join(shot_prose.SHOT_MODES)}")


class HeuristicPlanner(Configured, Planner):
    """Plans without a model. Same story and seed, same plan, byte for byte."""

    name = "heuristic"
    deterministic = True
    apart = True  # spaCy and the embedder stay out of the rendering process
    Config = HeuristicConfig
    settings: HeuristicConfig

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        story = story.replace("\r\n", "\n")
        given = shot_lists.read(story)
        if given is not None:  # another tool's shot list: its shots, one for one
            text, spans = given.as_text()
            return self._plan(text, spans[0][0], given.title, "", config, given)
        title, body_start = _title_of(story)
        style, style_end = _style_of(story[body_start:])
        return self._plan(story, body_start + style_end, title, style, config)

    def _plan(
        self, story: str, body_start: int, title: str, style: str, config: PlanConfig, given: ShotList | None = None
    ) -> StoryPlan:
        # a shot list's prologue (its overview, HoloCine's global caption) is read for who is who, never shot
        sentences = _split_sentences(story, 0 if given else body_start)
        prologue = {s.start for s in sentences if s.start < body_start} if given else set()
        numbers = dict.fromkeys(s.paragraph for s in sentences if s.start not in prologue)
        paragraphs = [[s.text for s in sentences if s.paragraph == n] for n in numbers]
        by_paragraph = given is not None or shot_prose.reads_as_shots(paragraphs, self.settings.shots)
        # shot prose: a sentence of direction alone (the style, the mood, a framing) is read for the camera and
        # the look, never for people; in one that also shows something, the framing's words are blanked
        directions = {s.start for s in sentences if by_paragraph and shot_prose.is_direction(s.text)} - prologue
        sizes = Counter(s.paragraph for s in sentences)
        titles = {s.start for s in sentences if sizes[s.paragraph] == 1 and headings.is_heading(s.text)}
        found, cast = self._read(sentences, titles, directions, by_paragraph)
        readings = [  # each with its own words again (the shot's text and caption), as written
            replace(found[s.start], text=s.text)
            if s.start in found
            else SentenceReading(s.text, s.start, s.end, s.paragraph, len(_WORD.findall(s.text)))
            for s in sentences
            if s.start not in prologue
        ]
        if given is not None:  # one shot a given shot, however long
            shots_text = [[r for r in readings if r.paragraph == n] for n in numbers]
        else:
            shots_text = _by_paragraph(readings) if by_paragraph else _group_into_shots(readings)
        locations: dict[str, Location] = {}
        shots: list[Shot] = []
        state = {"location": None, "time": "day", "weather": "clear"}
        for sentence in (found[s.start] for s in sentences if s.start in prologue and s.start in found):
            _set_scene(sentence, locations, state)  # a global caption's "The environment is a harbour at dusk"
        chapters = Chapters([] if given else readings, titles, found)
        for index, group in enumerate(shots_text):
            if chapters.opens(group[0].start):  # a heading: the scene's title card and its place, never a shot
                shots += chapters.open(group[0], locations, state, style, len(shots))
                if group[0].start in titles:
                    continue
            shot = self._shot(
                len(shots), group, cast, locations, state, config, style, directions | titles, by_paragraph
            )
            if given is not None:
                previous = shots[-1] if shots else None
                shot = shot_lists.as_given(shot, given.shots[index], previous, lambda cid: _entity(cast[cid]))
            shots.append(shot.model_copy(update={"scene": chapters.current}))
        if config.minutes:  # stretch or squeeze every shot, and its actions, to the asked length
            scale = config.minutes * 60 / sum(s.duration for s in shots)
            shots = [scaled(s, s.duration * scale) for s in shots]
        return StoryPlan(
            title=title or config.title,
            style=style,
            shots_by="list" if given else "paragraph" if by_paragraph else "sentence",
            language=detect_language(story),
            characters=_characters(cast, shots),
            locations=list(locations.values()),
            scenes=chapters.scenes,
            shots=shots,
            **config.picture(),
        )

    def _read(
        self, sentences: list[typing.Any], titles: set[int], directions: set[int], by_paragraph: bool
    ) -> tuple[dict[int, SentenceReading], dict[str, Member]]:
        """The readings of the sentences that are read, by start, and the cast. A framing with a place in it
        ("Wide shot of a harbour at dawn") is read for the place and what is in it; a look or mood alone
        ("Realistic style.", "The mood is calm.") is not read at all, nor is a heading (no one, nowhere)."""
        seen = [s for s in sentences if s.start not in titles]
        seen = [s for s in seen if s.start not in directions or not shot_prose.is_look(s.text)]
        shown = [(shot_prose.masked(s.text) if by_paragraph else s.text, s.start, s.end, s.paragraph) for s in seen]
        window = shot_prose.PRONOUN_WINDOW if by_paragraph else reading.WINDOW
        seen_readings, cast = reading.read(shown, self.settings.names, window)
        return {r.start: r for r in seen_readings}, cast

    def _shot(
        self,
        index: int,
        group: list[SentenceReading],
        cast: dict[str, Member],
        locations: dict[str, Location],
        state: dict,
        config: PlanConfig,
        style: str,
        directions: set[int],
        by_paragraph: bool,
    ) -> Shot:
        start, end = group[0].start, group[-1].end
        text, said, directed, shows = _texts(group, directions, by_paragraph)
        words = sum(s.words for s in group)
        duration = round(min(MAX_SHOT, max(MIN_SHOT, words / self.settings.words_per_second)), 2)

        previous_location, previous_time = state["location"], state["time"]
        entities, relations, actions, camera = _shown(group, cast, locations, state, duration)
        characters = [e.id for e in entities.values() if e.id in cast]
        rng = random.Random(f"{config.seed}:{index}:{text}")
        if by_paragraph:  # shot prose: the camera the script names
            camera = shot_prose.camera_of([s.text for s in group]) or camera
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
        light = scenes.light(state["time"], state["weather"])
        prompt = _prompt(style, said or text, directed if shows else [], [cast[c] for c in characters], location, light)
        return Shot(
            id=f"shot_{index + 1:03d}",
            text=text,
            narration=said if said != text else None,
            span=(start, end),
            duration=duration,
            camera=typing.cast(CameraMove, camera),  # one of the moves the lexicon names, checked by the model
            prompt=prompt,
            negative_prompt=NEGATIVE_PROMPT,
            characters=characters,
            location=location.id if location else None,
            transition=transition,
            graph=graph,
        )


def _characters(cast: dict[str, Member], shots: list[Shot]) -> list[Character]:
    """The plan's characters: every member of the cast some shot shows, under its whole name."""
    used = {cid for shot in shots for cid in shot.characters}
    return [
        Character(
            id=m.id,
            name=m.full_name or m.name or m.kind.title(),
            aliases=[n for n in m.names() if n != (m.full_name or m.name)],
            kind=m.kind,
            appearance=m.appearance(),
        )
        for m in cast.values()
        if m.id in used
    ]


def _texts(group: list[SentenceReading], directions: set[int], by_paragraph: bool) -> tuple[str, str, list[str], bool]:
    """The shot as written; what is read and captioned (what is seen, never the directions); the directions;
    whether any sentence shows something."""
    unsaid = {s.start for s in group if s.start in directions or (by_paragraph and not shot_prose.narrated(s.text))}
    directed = [s.text.strip() for s in group if s.start in unsaid]
    shown = [shot_prose.spoken(s.text) if by_paragraph else s.text.strip() for s in group if s.start not in unsaid]
    return " ".join(s.text.strip() for s in group), " ".join(shown), directed, bool(shown)


def _shown(
    group: list[SentenceReading],
    cast: dict[str, Member],
    locations: dict[str, Location],
    state: dict[str, typing.Any],
    duration: float,
) -> tuple[dict[str, Entity], list[Relation], list[Action], str | None]:
    """The shot's scene graph from its sentences (each moving the scene where it says so), and the camera
    move a sentence names: who is there, the things shown, then whoever acts or is acted on, in order."""
    entities: dict[str, Entity] = {}
    relations: list[Relation] = []
    actions: list[Action] = []
    camera: str | None = None
    for s_index, sentence in enumerate(group):
        low = sentence.text.lower()
        camera = camera or next((move for phrase, move in lx.CAMERA_PHRASES if phrase in low), None)
        _set_scene(sentence, locations, state)
        # who is there, the things shown, then whoever acts or is acted on (in order: no hash seeds)
        involved = [i for a in sentence.actions for i in (a[0], a[2]) if i]
        involved += [i for r in sentence.relations for i in (r[0], r[2])]
        shown = [
            *(_entity(cast[cid]) for cid in sentence.present),
            *(Entity(id=t.id, label=t.label, attributes=list(t.attributes)) for t in sentence.things),
            *(_entity(cast[cid]) for cid in dict.fromkeys(involved) if cid in cast),
        ]
        for entity in shown:
            entities.setdefault(entity.id, entity)
        relations += [
            Relation(subject=s, predicate=p, object=o)
            for s, p, o in sentence.relations
            if s in entities and o in entities
        ]
        span = (duration * s_index / len(group), duration * (s_index + 1) / len(group))
        actions += _timed_actions(
            [a for a in sentence.actions if a[0] in entities and (a[2] is None or a[2] in entities)], span
        )

    return entities, relations, actions, camera


def _prompt(
    style: str, said: str, directed: list[str], people: list[Member], location: Location | None, light: str
) -> str:
    """The keyframe prompt: the style, what is seen, the framing, the look and the mood the script gives,
    every character's appearance, the place and its light."""
    parts = [style] if style else []
    parts.append(said)
    parts += [d.rstrip(".") for d in directed]
    parts += [member.appearance() for member in people]
    if location:
        parts.append(location.name)
    parts.append(light)
    return ", ".join(p for p in parts if p)


class Chapters:
    """The story's headings as scenes: each opens with a title card (a chapter's heading; a scene break has
    none) and an establishing shot of the place its text first names, and its place and time of day hold
    from its first shot until its text moves them. A story without headings is one scene, and has none."""

    def __init__(self, readings: list[SentenceReading], titles: set[int], found: dict[int, SentenceReading]) -> None:
        self.scenes: list[Scene] = []
        self.current: str | None = None
        self._titles = {r.start: headings.title_of(r.text) for r in readings if r.start in titles}
        self._opening: dict[int, tuple[tuple[str, str] | None, str | None]] = {}
        if not self._titles:
            return
        starts, place, time = None, None, None
        for sentence in readings:  # the place and time each scene's text names first
            if sentence.start in self._titles or starts is None:
                if starts is not None:
                    self._opening[starts] = (place, time)
                starts, place, time = sentence.start, None, None
            if (read := found.get(sentence.start)) is not None and sentence.start not in self._titles:
                place = place or read.place
                words = (w.lower() for w in _WORD.findall(read.text))
                time = time or next((lx.TIME_WORDS[w] for w in words if w in lx.TIME_WORDS), None)
        if starts is not None:
            self._opening[starts] = (place, time)

    def opens(self, start: int) -> bool:
        return start in self._opening

    def open(
        self, first: SentenceReading, locations: dict[str, Location], state: dict, style: str, count: int
    ) -> list[Shot]:
        """Begin the scene that starts at `first`: set its place and time in `state`; its card and establishing
        shot (numbered from `count`)."""
        place, time = self._opening[first.start]
        if place is not None:
            lid = reading.slug(place[0])
            locations.setdefault(lid, Location(id=lid, name=place[0], description=place[1]))
            state["location"] = lid
        state["time"] = time or state["time"]
        scene = Scene(
            id=f"scene_{len(self.scenes) + 1:02d}",
            title=self._titles.get(first.start, ""),
            location=state["location"],
            time_of_day=state["time"],
        )
        self.scenes.append(scene)
        self.current = scene.id
        if first.start not in self._titles:  # the opening, before any heading
            return []
        graph = SceneGraph(time_of_day=state["time"], weather=state["weather"])
        span = (first.start, first.end)
        shots = [scenes.card(scene, first.text.strip(), span, graph, bool(count))] if scene.title else []
        location = locations.get(scene.location) if scene.location else None
        if location is not None:
            shots.append(scenes.establishing(scene, location, graph, style, span, bool(count or shots)))
        return [shot.model_copy(update={"id": f"shot_{count + n + 1:03d}"}) for n, shot in enumerate(shots)]


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
    """Sentences with their offsets and paragraph; one longer than MAX_SENTENCE is cut at spaces."""
    sentences = []
    for sentence in _sentences(story, start):
        text, offset = sentence.text, sentence.start
        while len(text) > MAX_SENTENCE:
            cut = _clause_cut(text)
            sentences.append(Sentence(text[:cut], offset, offset + cut, sentence.paragraph))
            skip = len(text[cut:]) - len(text[cut:].lstrip())
            text, offset = text[cut + skip :], offset + cut + skip
        if text:
            sentences.append(Sentence(text, offset, offset + len(text), sentence.paragraph))
    return sentences


def _clause_cut(text: str) -> int:
    """Where to cut a run-on sentence: after the last clause mark (, ; : —) in its second half up to
    MAX_SENTENCE, else at the last space, else at MAX_SENTENCE."""
    window = text[: MAX_SENTENCE + 1]
    marks = [m.end() for m in re.finditer(r"[,;:—–]\s", window) if m.end() >= MAX_SENTENCE // 2]
    if marks:
        return marks[-1] - 1
    space = window.rfind(" ")
    return space if space > 0 else MAX_SENTENCE


def _sentences(story: str, start: int) -> list[Sentence]:
    """Sentences end at . ! ? … (with any closing quotes) or a blank line, but not after an abbreviation
    ("Dr. Reyes") and not before a dialogue tag (\"Hurry!\" shouted the captain)."""
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _BOUNDARY.finditer(story, start):
        end = match.start() if match.group().startswith("\n") else match.end()
        if not match.group().startswith("\n"):
            after = story[match.end() :].lstrip(" \t")
            if match.group()[-1] in "\"'”’" and after[:1].islower():
                continue
            if story[begin:end].lower().rsplit(None, 1)[-1:] in ([a] for a in _ABBREVIATIONS):
                continue
        if story[begin:end].strip():
            spans.append((begin, end))
        begin = match.end()
    if story[begin:].strip():
        spans.append((begin, len(story)))
    sentences: list[Sentence] = []
    paragraph, previous_end = 0, start
    for first, last in spans:
        text = story[first:last]
        first += len(text) - len(text.lstrip())
        last -= len(text) - len(text.rstrip())
        if sentences and story[previous_end:first].count("\n") >= 2:
            paragraph += 1
        sentences.append(Sentence(text=story[first:last], start=first, end=last, paragraph=paragraph))
        previous_end = last
    return sentences


QUOTE_WORDS = 60  # a quoted speech longer than this is cut between its sentences after all


def _group_into_shots(sentences: list[SentenceReading]) -> list[list[SentenceReading]]:
    """One sentence a shot; a very short one joins the next in its paragraph, and a quote that runs on over
    sentences is kept whole in one shot (who says it is heard and seen saying all of it)."""
    groups: list[list[SentenceReading]] = []
    pending: list[SentenceReading] = []
    for sentence in sentences:
        if pending and pending[-1].paragraph != sentence.paragraph:
            groups.append(pending)
            pending = []
        pending.append(sentence)
        words = sum(s.words for s in pending)
        if words >= 6 and (not _quote_open(" ".join(s.text for s in pending)) or words >= QUOTE_WORDS):
            groups.append(pending)
            pending = []
    if pending:
        if groups and groups[-1][-1].paragraph == pending[0].paragraph:
            groups[-1] += pending
        else:
            groups.append(pending)
    return _joined_speeches(groups)


def _joined_speeches(groups: list[list[SentenceReading]]) -> list[list[SentenceReading]]:
    """A shot that is only a quotation, with no tag, goes on the speech of the shot before it in its
    paragraph (`"It's a barn owl," he said. "Leave it be."`): the same speaker, seen saying both."""
    joined: list[list[SentenceReading]] = []
    for group in groups:
        text = " ".join(s.text for s in group)
        before = " ".join(s.text for s in joined[-1]) if joined else ""
        if (
            joined
            and joined[-1][-1].paragraph == group[0].paragraph
            and _QUOTED.search(before)
            and not re.search(r"\w", _QUOTED.sub("", text))
            and sum(s.words for s in [*joined[-1], *group]) < QUOTE_WORDS
        ):
            joined[-1] = [*joined[-1], *group]
        else:
            joined.append(group)
    return joined


_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»|„[^“”]*[“”]")


def _quote_open(text: str) -> bool:
    """Whether the text opens a quotation it does not close."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”") or text.count("«") > text.count("»")


LONG_PARAGRAPH = 80  # words: a paragraph of shot prose longer than this is read a sentence at a time


def _by_paragraph(sentences: list[SentenceReading]) -> list[list[SentenceReading]]:
    """Shot prose: one shot a paragraph, as the writer cut it; a long one splits as narrative prose does."""
    groups: list[list[SentenceReading]] = []
    for paragraph in dict.fromkeys(s.paragraph for s in sentences):
        members = [s for s in sentences if s.paragraph == paragraph]
        if sum(s.words for s in members) > LONG_PARAGRAPH:
            groups += _group_into_shots(members)
        else:
            groups.append(members)
    return groups


def _set_scene(sentence: SentenceReading, locations: dict[str, Location], state: dict) -> None:
    """The place, time of day and weather a sentence moves the story to (`state`, in place)."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(sentence.text)]
    for word in words:
        state["time"] = lx.TIME_WORDS.get(word, state["time"])
        state["weather"] = lx.WEATHER_WORDS.get(word, state["weather"])
    if set(words) & lx.WEATHER_ENDS and set(words) & set(lx.WEATHER_WORDS):
        state["weather"] = "clear"
    if sentence.place is not None:
        name, description = sentence.place
        lid = reading.slug(name)
        locations.setdefault(lid, Location(id=lid, name=name, description=description))
        state["location"] = lid


def _entity(member: Member) -> Entity:
    return Entity(id=member.id, label=member.kind, attributes=list(member.attributes))


def _timed_actions(found: list[tuple[str, str, str | None]], span: tuple[float, float]) -> list[Action]:
    """A sentence's actions over its part of the shot; verbs of one sentence overlap, each starting a little later."""
    start, end = span
    actions = []
    for n, (agent, verb, target) in enumerate(found):
        begin = start + (end - start) * 0.15 * n / max(1, len(found))
        actions.append(Action(agent=agent, verb=verb, object=target, start=round(begin, 3), end=round(end, 3)))
    return actions


def _default_camera(actions: list[Action], rng: random.Random) -> str:
    verbs = {a.verb for a in actions}
    if verbs & {"walk", "run"}:
        return "pan_right"  # walkers head right unless something draws them elsewhere
    if verbs & {"fly", "jump", "grow", "raise"}:
        return rng.choice(["tilt_up", "zoom_out"])
    if verbs & {"punch", "roar", "explode"}:
        return rng.choice(["zoom_in", "close_up"])
    return rng.choice(["static", "zoom_in", "zoom_out", "static"])


def _dedupe(relations: list[Relation]) -> list[Relation]:
    seen, out = set(), []
    for r in relations:
        key = (r.subject, r.predicate, r.object)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
