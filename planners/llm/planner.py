"""The LLM planner: Dysen-VDM's three steps on any langchain chat model.

For each chunk of the story (a long story is planned in chunks, with a running summary and the
character bible carried forward): (1) action planning, (2) event -> dynamic scene graph, (3) scene
imagination. Each answer is validated against the plan's invariants; a failure goes back to the model
with the reason, a bounded number of times. The character bible is fixed when a character first
appears and used verbatim in every prompt that shows it.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from planners import PLANNERS, scenes, shot_lists
from planners.llm import prompts
from planners.llm.calls import ModelCaller, PlanningError
from planners.llm.schemas import (
    ActionPlan,
    BibleEntry,
    Event,
    Imagination,
    PlaceEntry,
    SceneGraphs,
    ShotGraph,
    ShotImagination,
)
from planners.shot_lists import ShotList
from storyteller.core.backend import Planner
from storyteller.core.configs import Configured
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.language import detect_language
from storyteller.core.models import (
    Action,
    Character,
    Entity,
    Location,
    PlanConfig,
    Scene,
    SceneGraph,
    Shot,
    StoryPlan,
    Transition,
)

WORDS_PER_SECOND = 2.4  # the heuristic planner's pace, for a target length derived from the text
DURATION_TOLERANCE = 0.05
CHUNK_CHARS = 6000  # about 1,500 tokens of story per call: small enough for any model's context
MAX_NEW_TOKENS = 2048  # a local model's longest answer: three steps' JSON for one chunk fits well inside


@dataclass(frozen=True)
class LLMConfig:
    """The LLM planner's settings (its model and fallback are its parts, not settings).

    Attributes:
        attempts: tries per step: an answer that breaks the schema or the story is asked again, saying why.
        chunk_chars: story characters per call (about a quarter as many tokens): small enough for any
            model's context; a longer story is planned chunk by chunk, the bible carried along.
    """

    attempts: int = 3
    chunk_chars: int = CHUNK_CHARS


class LLMPlanner(Configured, Planner):
    """Plans with any langchain chat model: an outline, then each event's scene graph, then its shot.

    Args:
        model: a langchain chat model, or "provider:model" for `init_chat_model` ("openai:gpt-4o-mini").
        fallback: the planner that plans a story the model cannot (a name, "heuristic", or a planner);
            None: the model's failure is an error.
        config: its settings (`LLMConfig`), or give them as keywords: `LLMPlanner(model, attempts=2)`.
    """

    name = "llm"
    parts = ("model", "fallback")  # objects it is made of, beside its settings
    Config = LLMConfig
    settings: LLMConfig

    def __init__(self, model: Any, fallback: Any = None, config: LLMConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.model = load_chat_model(model) if isinstance(model, str) else model
        if isinstance(fallback, str):
            fallback = PLANNERS.create(fallback)
        self.fallback = fallback
        self.stats = None
        self.outcome: dict[str, str] = {}  # which planner made the last plan, and why, for run.json

    @classmethod
    def from_spec(cls, spec: str, max_new_tokens: int = MAX_NEW_TOKENS, **kwargs: Any) -> LLMPlanner:
        """`provider:model`, e.g. `openai:gpt-4o-mini`, `ollama:llama3.1`, through `init_chat_model`."""
        return cls(load_chat_model(spec, max_new_tokens), **kwargs)

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        caller = ModelCaller(self.model, config.cache_dir / "llm" if config.cache_dir else None, self.settings.attempts)
        self.stats = caller.stats
        try:
            try:
                plan = self._plan(story, config, caller)
                self.outcome = {"planner": self.name}
                return plan
            except ValidationError as error:  # an answer that passed every check but still breaks the plan
                raise PlanningError(f"the answers do not make a valid plan: {error.errors()[0]['msg']}") from None
        except PlanningError as error:
            if self.fallback is None:
                raise StorytellerError(f"LLM planner: {error} (add --fallback heuristic to plan without it)") from None
            used = getattr(self.fallback, "name", type(self.fallback).__name__)
            # said out loud: a user who waited for a model must know the plan is not the model's
            # (every time, not once per process: each plan the model fails is news)
            print(f"storyteller: the model's plan was refused ({error}); planned with {used} instead", file=sys.stderr)
            self.outcome = {"planner": used, "refused": self.name, "reason": str(error)}
            return self.fallback.plan(story, config)
        finally:
            self.stats = caller.stats

    def _plan(self, story: str, config: PlanConfig, caller: ModelCaller) -> StoryPlan:
        given = shot_lists.read(story)
        spans: list[tuple[int, int]] = []
        if given is not None:  # another tool's shot list: the model plans each given shot, never re-cuts
            story, spans = given.as_text()
        pieces = _pieces(story, spans, self.settings.chunk_chars, given)
        words = sum(shown for *_, shown in pieces)  # a prologue, a title or a heading is not shown
        target = config.minutes * 60 if config.minutes else max(3.0, words / WORDS_PER_SECOND)
        bible: dict[str, BibleEntry] = {}
        places: dict[str, PlaceEntry] = {}
        summary, title, style = "", given.title if given else "", ""
        shots: list[Shot] = []
        chapters = Opening(story, given is None)
        for start, chunk, listed, shown in pieces:
            shots += chapters.begin(start, len(shots))  # a chapter's title card, made here, never by the model
            chunk_target = target * shown / max(1, words)
            outline = _outline(caller, chunk, chunk_target, bible, places, summary, listed)
            for entry in outline.characters:  # the bible is fixed at first sight
                bible.setdefault(entry.id, entry)
            for place in outline.locations:
                places.setdefault(place.id, place)
            title, style = title or outline.title, style or outline.style
            summary = (summary + " " + outline.summary).strip()[-1500:]
            events = outline.events
            by_event = _graphs(caller, events, bible)
            details = _imagined(caller, events, by_event, bible, style)
            for event in events:
                shot = _shot(len(shots), event, by_event[event.id], details[event.id], story, start, bible, style)
                if given is not None:  # the given shot's own words and span, its first frame, its cut
                    n = len(shots)
                    shot = shot.model_copy(update={"text": story[slice(*spans[n])], "span": spans[n]})
                    previous = shots[-1] if shots else None
                    shot = shot_lists.as_given(shot, given.shots[n], previous, lambda cid: _entity_of(bible[cid]))
                shots += chapters.place(shot, places, style, len(shots))  # its establishing shot, first time
                shots.append(shot.model_copy(update={"scene": chapters.current}))
        for index in range(1, len(shots) if given is None else 0):  # a shot list cuts as it says
            if shots[index].location != shots[index - 1].location and shots[index].transition.kind == "cut":
                shots[index].transition = Transition(kind="crossfade", duration=0.5)
        used = {c for s in shots for c in s.characters}
        shots = [s.model_copy(update={"id": f"shot_{n + 1:03d}"}) for n, s in enumerate(shots)]  # cards among them
        return StoryPlan(
            title=title or config.title,
            style=style,
            shots_by="list" if given else None,
            language=detect_language(story),
            **config.picture(),
            characters=[
                Character(id=b.id, name=b.name, kind=b.kind, appearance=b.appearance)
                for b in bible.values()
                if b.id in used
            ],
            locations=[Location(id=p.id, name=p.name, description=p.description) for p in places.values()],
            scenes=chapters.scenes,
            shots=shots,
        )


def _outline(
    caller: ModelCaller,
    chunk: str,
    target: float,
    bible: dict[str, BibleEntry],
    places: dict[str, PlaceEntry],
    summary: str,
    listed: list[str],
) -> ActionPlan:
    """Step 1, action planning: the chunk's cast, places and events (given the bible and the story so far)."""
    return caller.ask(
        "action planning",
        prompts.STEP1.format(
            target=target,
            bible=_bible_text(bible),
            locations=prompts.dumps([p.model_dump() for p in places.values()]),
            summary=summary or "(the beginning)",
            example1=prompts.dumps(prompts.EXAMPLE1),
            example1b_story=prompts.EXAMPLE1B_STORY,
            example1b=prompts.dumps(prompts.EXAMPLE1B),
            story=chunk,
        ),
        ActionPlan,
        functools.partial(_check_outline_given, bible=bible, places=places, target=target, ids=listed),
    )


def _graphs(caller: ModelCaller, events: list[Event], bible: dict[str, BibleEntry]) -> dict[str, ShotGraph]:
    """Step 2, scene graphs (Dysen-VDM's): each event's entities, relations and timed actions, by event."""
    graphs = caller.ask(
        "scene graphs",
        prompts.STEP2.format(
            bible=_bible_text(bible),
            example_event=prompts.dumps(prompts.EXAMPLE_EVENT),
            example2=prompts.dumps(prompts.EXAMPLE2),
            events=prompts.dumps([e.model_dump() for e in events]),
        ),
        SceneGraphs,
        functools.partial(check_graphs, events=events, bible=bible),
    )
    return {g.event_id: g for g in graphs.shots}


def _imagined(
    caller: ModelCaller,
    events: list[Event],
    by_event: dict[str, ShotGraph],
    bible: dict[str, BibleEntry],
    style: str,
) -> dict[str, ShotImagination]:
    """Step 3, scene imagination: each event's light, weather and keyframe and motion prompts, by event."""
    imagined = caller.ask(
        "scene imagination",
        prompts.STEP3.format(
            style=f" The film's style: {style}." if style else "",
            bible=_bible_text(bible),
            example_event=prompts.dumps({**prompts.EXAMPLE_EVENT, "graph": prompts.EXAMPLE2["shots"][0]}),
            example3=prompts.dumps(prompts.EXAMPLE3),
            shots=prompts.dumps([{**e.model_dump(), "graph": by_event[e.id].model_dump()} for e in events]),
        ),
        Imagination,
        functools.partial(check_imagination, events=events),
    )
    return {s.event_id: s for s in imagined.shots}


# --- invariants, as messages the model can act on -------------------------------------------------


def check_outline(
    answer: ActionPlan, bible: dict[str, BibleEntry], places: dict[str, PlaceEntry], target: float
) -> list[str]:
    errors = []
    characters = set(bible) | {c.id for c in answer.characters}
    locations = set(places) | {p.id for p in answer.locations}
    ids = [e.id for e in answer.events]
    if len(set(ids)) != len(ids):
        errors.append("event ids must be unique")
    for event in answer.events:
        for cid in event.characters:
            if cid not in characters:
                errors.append(f"event {event.id}: character '{cid}' is not in the bible; add it to characters")
        if event.location is not None and event.location not in locations:
            errors.append(f"event {event.id}: location '{event.location}' is not in locations")
    total = sum(e.duration for e in answer.events)
    if abs(total - target) > DURATION_TOLERANCE * target:
        errors.append(f"the durations add up to {total:.1f}s; they must add up to {target:.1f}s (within 5 %)")
    return errors


def _check_outline_given(
    answer: ActionPlan, bible: dict[str, BibleEntry], places: dict[str, PlaceEntry], target: float, ids: list[str]
) -> list[str]:
    return check_outline(answer, bible, places, target) + check_given(answer, ids)


def check_given(answer: ActionPlan, ids: list[str]) -> list[str]:
    """A shot list's part: exactly its shots, one event each, by their ids and in their order."""
    got = [e.id for e in answer.events]
    if not ids or got == ids:
        return []
    return [f"this is a shot list: give exactly one event per shot, with the shot's id, in order: {ids} (got {got})"]


def check_graphs(answer: SceneGraphs, events: list[Event], bible: dict[str, BibleEntry]) -> list[str]:
    errors = []
    wanted = {e.id: e for e in events}
    got = [g.event_id for g in answer.shots]
    if sorted(got) != sorted(wanted):
        errors.append(f"give exactly one graph per event: {sorted(wanted)} (got {sorted(got)})")
    for graph in answer.shots:
        event = wanted.get(graph.event_id)
        if event is None:
            continue
        entities = [e.id for e in graph.entities]
        if len(set(entities)) != len(entities):
            errors.append(f"{graph.event_id}: entity ids must be unique")
        known = set(entities)
        for rel in graph.relations:
            for end in (rel.subject, rel.object):
                if end not in known:
                    errors.append(f"{graph.event_id}: relation refers to '{end}', which is not an entity")
        for act in graph.actions:
            for acted in (act.agent, act.object):
                if acted is not None and acted not in known:
                    errors.append(f"{graph.event_id}: action '{act.verb}' refers to '{acted}', which is not an entity")
            if not 0 <= act.start <= act.end <= event.duration + 1e-6:
                errors.append(
                    f"{graph.event_id}: action '{act.verb}' runs {act.start}-{act.end}s; "
                    f"it must lie in 0-{event.duration}s"
                )
        for cid in event.characters:
            if cid not in known:
                errors.append(f"{graph.event_id}: character '{cid}' is on screen, so it must be an entity")
    return errors


def check_imagination(answer: Imagination, events: list[Event]) -> list[str]:
    wanted = sorted(e.id for e in events)
    got = sorted(s.event_id for s in answer.shots)
    return [] if got == wanted else [f"give exactly one entry per event: {wanted} (got {got})"]


# --- assembly ---------------------------------------------------------------------------------


def _shot(
    index: int,
    event: Event,
    graph: ShotGraph,
    detail: Any,
    story: str,
    chunk_start: int,
    bible: dict[str, BibleEntry],
    style: str,
) -> Shot:
    found = story.find(event.text.strip(), chunk_start) if event.text.strip() else -1
    span = (found, found + len(event.text.strip())) if found >= 0 else (chunk_start, chunk_start)
    entities = [
        Entity(id=e.id, label=e.label, attributes=_merged(e.attributes, detail.attributes.get(e.id, [])))
        for e in graph.entities
    ]
    duration = round(event.duration, 3)
    appearances = [bible[c].appearance for c in event.characters if c in bible]
    prompt = detail.keyframe_prompt
    missing = [a for a in appearances if a not in prompt]
    prompt = ", ".join(p for p in [style, prompt, *missing, detail.setting] if p)
    return Shot(
        id=f"shot_{index + 1:03d}",
        text=event.text.strip() or event.action,
        span=span,
        duration=duration,
        camera=graph.camera,
        prompt=prompt,
        motion_prompt=detail.motion_prompt,
        negative_prompt="blurry, low quality, distorted, deformed, extra limbs, watermark, text",
        characters=[c for c in event.characters if c in bible],
        location=event.location,
        graph=SceneGraph(
            entities=entities,
            relations=graph.relations,
            actions=[_action(a, duration) for a in graph.actions],
            time_of_day=detail.time_of_day,
            weather=detail.weather,
        ),
    )


class Opening:
    """The story's chapters as scenes, chunk by chunk: a chunk never crosses a heading, the heading itself is
    never sent to the model (it is no one and nowhere), its title card is made here, and the scene's first
    shot with a place is preceded by an establishing shot of it."""

    def __init__(self, story: str, prose: bool) -> None:
        cut = scenes.sections(story) if prose else []
        self._sections = {s.body[0]: s for s in cut} if any(s.heading for s in cut) else {}
        self.scenes: list[Scene] = []
        self.current: str | None = None
        self._story, self._placed = story, True

    def begin(self, start: int, count: int) -> list[Shot]:
        """At a chunk starting at `start`: the card of the chapter it opens, if it opens one."""
        section = self._sections.get(start)
        if section is None:
            return []
        self.scenes.append(Scene(id=f"scene_{len(self.scenes) + 1:02d}", title=section.title))
        self.current, self._placed = self.scenes[-1].id, False
        if not section.title or section.heading is None:
            return []
        text = self._story[slice(*section.heading)].strip()
        shot = scenes.card(self.scenes[-1], text, section.heading, SceneGraph(), bool(count))
        return [shot.model_copy(update={"id": f"shot_{count + 1:03d}"})]

    def place(self, shot: Shot, places: dict[str, PlaceEntry], style: str, count: int) -> list[Shot]:
        """Before the scene's first shot that has a place: the scene takes that place and time, and is
        established."""
        if self._placed or shot.location is None or shot.location not in places:
            return []
        self._placed = True
        scene = self.scenes[-1].model_copy(update={"location": shot.location, "time_of_day": shot.graph.time_of_day})
        self.scenes[-1] = scene
        entry = places[shot.location]
        location = Location(id=entry.id, name=entry.name, description=entry.description)
        graph = SceneGraph(time_of_day=shot.graph.time_of_day, weather=shot.graph.weather)
        made = scenes.establishing(scene, location, graph, style, (shot.span[0], shot.span[0]), count > 0)
        return [made.model_copy(update={"id": f"shot_{count + 1:03d}"})]


def _pieces(
    story: str, spans: list[tuple[int, int]], limit: int, given: ShotList | None
) -> list[tuple[int, str, list[str], int]]:
    """(offset, text to plan, the ids of its given shots, the words it shows): prose chapter by chapter, in
    chunks (a heading is never in one); a shot list in runs of whole shots, each written as `[s3] …` under a
    line that says so, its prologue (who is who) before the first."""
    if given is None:
        cut = scenes.sections(story)
        title = ""
        if len(cut) > 1 and cut[0].heading is None and _is_title(story[slice(*cut[0].body)]):
            title, cut = story[slice(*cut[0].body)].strip() + "\n\n", cut[1:]  # read with the first chapter
        sectioned: list[tuple[int, str, list[str], int]] = [
            (section.body[0] + start, chunk, [], len(chunk.split()))
            for section in cut
            for start, chunk in chunks(story[slice(*section.body)], limit)
        ]
        if not sectioned:
            return sectioned
        return [(sectioned[0][0], title + sectioned[0][1], [], sectioned[0][3]), *sectioned[1:]]
    pieces: list[tuple[int, str, list[str], int]] = []
    run: list[int] = []
    for n in range(len(spans) + 1):
        size = sum(spans[k][1] - spans[k][0] for k in run)
        if run and (n == len(spans) or size + spans[n][1] - spans[n][0] > limit):
            ids = [f"s{k + 1}" for k in run]
            lines = "\n".join(f"[s{k + 1}] {story[slice(*spans[k])]}" for k in run)
            intro = f"{given.prologue}\n\n" if not pieces and given.prologue else ""
            rule = f"This part is a shot list: plan one event per shot, its id as the event's id ({', '.join(ids)})."
            shown = sum(len(story[slice(*spans[k])].split()) for k in run)
            pieces.append((spans[run[0]][0], f"{intro}{rule}\n{lines}", ids, shown))
            run = []
        if n < len(spans):
            run.append(n)
    return pieces


def _is_title(text: str) -> bool:
    """A book's title line before its first chapter: short, one line, no sentence's end."""
    line = text.strip()
    return bool(line) and "\n" not in line and len(line.split()) <= 10 and line[-1] not in '.!?…"”'


def _entity_of(entry: BibleEntry) -> Entity:
    return Entity(id=entry.id, label=entry.kind)


def chunks(story: str, limit: int) -> list[tuple[int, str]]:
    """(offset, text) pieces of at most about `limit` characters, cut between paragraphs (or sentences)."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(story):
        end = min(len(story), start + limit)
        if end < len(story):
            cut = story.rfind("\n\n", start, end)
            if cut <= start:
                ends = [m.end() for m in re.finditer(r"[.!?]\s", story[start:end])]
                cut = start + ends[-1] if ends else end
            end = cut
        text = story[start:end]
        if text.strip():
            pieces.append((start, text))
        start = end
    return pieces


def _action(action: Any, duration: float) -> Action:
    """The graph's action, its times kept inside the (rounded) shot."""
    end = round(min(action.end, duration), 3)
    return Action(
        agent=action.agent, verb=action.verb, object=action.object, start=min(round(action.start, 3), end), end=end
    )


def _merged(first: list[str], more: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *more]))


def _bible_text(bible: dict[str, BibleEntry]) -> str:
    return prompts.dumps([b.model_dump() for b in bible.values()]) if bible else "(empty)"


# --- loading a model by name ---------------------------------------------------------------------

EXTRAS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama", "huggingface": "huggingface"}
KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "huggingface": "HUGGINGFACEHUB_API_TOKEN"}


def load_chat_model(spec: str, max_new_tokens: int = MAX_NEW_TOKENS) -> Any:
    provider, _, name = spec.partition(":")
    if not name:
        raise StorytellerError(f"--llm '{spec}' should look like provider:model, e.g. openai:gpt-4o-mini")
    options: dict[str, Any] = {}
    if provider == "huggingface":  # in-process: only the generated text comes back, and not endlessly
        try:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # the planner's own progress is the only bar
            transformers_logging.set_verbosity_error()
        except ImportError:
            pass  # init_chat_model below names the missing package
        options = {
            "task": "text-generation",
            "pipeline_kwargs": {"return_full_text": False, "max_new_tokens": max_new_tokens, "do_sample": False},
        }
    try:
        from langchain.chat_models import init_chat_model

        return init_chat_model(name, model_provider=provider, **options)
    except ImportError as error:
        extra = EXTRAS.get(provider)
        hint = f"pip install 'storyteller[{extra}]'" if extra else "install its langchain package"
        package = re.search(r"langchain-[a-z0-9-]+", str(error))
        raise StorytellerError(
            f"--llm {spec} needs {package.group() if package else 'its provider package'}: {hint}"
        ) from None
    except Exception as error:
        key = KEYS.get(provider)
        reason = first_line(error)
        hint = f"; set {key}" if key and ("key" in reason.lower() or "token" in reason.lower()) else ""
        raise StorytellerError(f"--llm {spec}: {reason[:200]}{hint}") from None
