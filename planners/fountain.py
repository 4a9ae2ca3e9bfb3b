"""A planner for screenplays in the Fountain format (https://fountain.io).

Scene headings become scenes (each opened by an establishing shot of its place), locations and times of
day; action paragraphs become shots with their actions, dialogue becomes shots captioned with the line,
the speaker on screen talking. The screenplay's cast (every character cue) is known before the first
shot, so names resolve wherever they appear. The shot analysis itself is the heuristic planner's: this
module only reads the screenplay.

    storyteller make script.fountain      # picked by the extension
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planners.heuristic import MIN_SHOT, WORDS_PER_SECOND, HeuristicPlanner
from planners.scenes import establishing
from storyteller.core.backend import Planner
from storyteller.core.models import PlanConfig, Scene, SceneGraph, Shot, StoryPlan, scaled

_HEADING = re.compile(r"^(?:\.(?!\.)|(?:INT|EXT|EST|INT\.?/EXT|I/E)[. ])\s*(.*)$", re.IGNORECASE)
_CUE = re.compile(r"^@?([A-Z][A-Z0-9 .'\-]*?)\s*(\(.*\))?\s*\^?$")
_TRANSITION = re.compile(r"^(?:>.*[^<]|[A-Z ]+TO:)$")
_TIMES = {"DAY": "day", "NIGHT": "night", "MORNING": "morning", "EVENING": "evening", "DUSK": "dusk",
          "DAWN": "dawn", "SUNSET": "sunset", "SUNRISE": "sunrise", "AFTERNOON": "afternoon"}  # fmt: skip


@dataclass
class Element:
    kind: str  # "heading" | "action" | "dialogue"
    text: str
    start: int
    end: int
    speaker: str = ""
    scene: int = 0  # the number of the scene heading above it (0: none yet)


class FountainPlanner(Planner):
    name = "fountain"
    deterministic = True
    apart = True  # spaCy and the embedder stay out of the rendering process

    def config(self) -> dict:
        return {"reader": 1}

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        elements, title = parse(story)
        speakers = sorted({e.speaker for e in elements if e.kind == "dialogue"})
        prose, origins = _as_prose(elements, speakers)
        plan = HeuristicPlanner(names=speakers).plan(prose, config.model_copy(update={"title": title or config.title}))
        headings = {e.scene: e for e in elements if e.kind == "heading"}
        shots: list[Shot] = []
        scenes: list[Scene] = []
        for shot in plan.shots:
            # spans point into the screenplay, not into the prose it was read through
            element = _origin(origins, shot.span[0])
            if element.kind == "dialogue":  # on screen as long as the line takes to read
                seconds = max(MIN_SHOT, len(element.text.split()) / WORDS_PER_SECOND)
                shot = scaled(shot, seconds).model_copy(update={"text": f"{element.speaker}: {element.text}"})
            heading = headings.get(element.scene)
            if heading is not None and (not scenes or scenes[-1].title != _slugline(story, heading)):
                # a scene heading opens a scene: its place seen first (a screenplay shows no card for it)
                scene = Scene(id=f"scene_{len(scenes) + 1:02d}", title=_slugline(story, heading),
                              location=shot.location, time_of_day=shot.graph.time_of_day)  # fmt: skip
                scenes.append(scene)
                if (location := plan.location(shot.location)) is not None:
                    light = SceneGraph(time_of_day=shot.graph.time_of_day, weather=shot.graph.weather)
                    shots.append(
                        establishing(scene, location, light, plan.style, (heading.start, heading.end), bool(shots))
                    )
            scene_id = scenes[-1].id if scenes and heading is not None else None
            shots.append(shot.model_copy(update={"span": (element.start, element.end), "scene": scene_id}))
        if scenes and shots[0].scene is None:  # the script's opening, before its first heading
            scenes.insert(0, Scene(id="scene_00", location=shots[0].location))
            shots = [s if s.scene else s.model_copy(update={"scene": "scene_00"}) for s in shots]
        shots = [s.model_copy(update={"id": f"shot_{n + 1:03d}"}) for n, s in enumerate(shots)]
        return plan.model_copy(update={"shots": shots, "scenes": scenes, "title": title or plan.title})


def parse(script: str) -> tuple[list[Element], str]:
    """The screenplay's headings, action paragraphs and dialogue blocks, with their character spans."""
    script = script.replace("\r\n", "\n")
    script = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group()), script, flags=re.DOTALL)  # boneyard
    script = re.sub(r"\[\[.*?\]\]", lambda m: " " * len(m.group()), script, flags=re.DOTALL)  # notes
    title, body = "", 0
    head = re.match(r"(?:(?:title|credit|authors?|source|draft date|contact|notes|copyright)\s*:.*\n(?:[ \t]+.*\n)*)+",
                    script, re.IGNORECASE)  # fmt: skip
    if head:  # the title page
        found = re.search(r"(?im)^title\s*:\s*(.+)$", head.group())
        title = found.group(1).strip().strip("_*") if found else ""
        body = head.end()
    elements: list[Element] = []
    scene = 0
    for block in re.finditer(r"(?:[^\n]+\n?)+", script[body:]):
        start = body + block.start()
        lines = block.group().rstrip("\n").split("\n")
        first = lines[0].strip()
        end = start + len(block.group().rstrip("\n"))
        if not first or first.startswith(("#", "=", "~")) or _TRANSITION.match(first):
            continue  # sections, synopses, page breaks, lyrics, transitions: nothing to show
        heading = _HEADING.match(first)
        if heading and len(lines) == 1:
            scene += 1
            elements.append(Element("heading", heading.group(1).strip(), start, end, scene=scene))
            continue
        cue = _CUE.match(first)
        if cue and len(lines) > 1 and not first.startswith("!") and any(c.isalpha() for c in cue.group(1)):
            spoken = " ".join(line.strip() for line in lines[1:] if not line.strip().startswith("("))
            speaker = cue.group(1).strip().title()
            elements.append(Element("dialogue", spoken.strip(), start, end, speaker=speaker, scene=scene))
            continue
        text = " ".join(line.strip().lstrip("!") for line in lines).strip()
        if text.startswith(">") and text.endswith("<"):
            text = text[1:-1].strip()
        elements.append(Element("action", text, start, end, scene=scene))
    return elements, title


def _as_prose(elements: list[Element], speakers: list[str]) -> tuple[str, list[tuple[int, Element]]]:
    """The screenplay retold as paragraphs the heuristic planner reads; each paragraph remembers its element."""
    paragraphs: list[str] = []
    origins: list[tuple[int, Element]] = []
    offset, setting = 0, ""
    for element in elements:
        if element.kind == "heading":
            setting = _setting(element.text, speakers)
            continue
        # a line of dialogue is the caption, not something to draw: the speaker talks
        text = f"{element.speaker} talks." if element.kind == "dialogue" else _names_in_title_case(element.text)
        if setting:  # the scene heading opens the scene's first shot
            first = text.split()[0]
            text = f"{setting} {text if first in speakers else text[:1].lower() + text[1:]}"
            setting = ""
        origins.append((offset, element))
        paragraphs.append(text)
        offset += len(text) + 2
    return "\n\n".join(paragraphs), origins


def _setting(heading: str, speakers: list[str]) -> str:
    place, _, time = heading.partition(" - ")
    place = re.sub(r"\s+", " ", place).strip().lower()
    for name in speakers:  # "ZOSIA'S KITCHEN" is Zosia's kitchen: a name stays a name
        place = re.sub(rf"\b{re.escape(name.lower())}\b", name, place)
    when = _TIMES.get(time.strip().upper().split()[0], "") if time.strip() else ""
    article = "" if place[:1].isupper() else "the "  # "In Zosia's kitchen", "In the school yard"
    return f"In {article}{place}{' at ' + when if when and when != 'day' else ' in the daytime' if when else ''},"


def _slugline(script: str, heading: Element) -> str:
    """The scene heading as the screenplay writes it: "INT. KITCHEN - NIGHT"."""
    return script[heading.start : heading.end].strip().lstrip(".").strip()


def _names_in_title_case(text: str) -> str:
    """Action lines shout a character's name when it first appears: ZOSIA -> Zosia."""
    return re.sub(r"\b[A-Z][A-Z'\-]{1,}\b", lambda m: m.group().title(), text)


def _origin(origins: list[tuple[int, Element]], offset: int) -> Element:
    chosen = origins[0][1]
    for start, element in origins:
        if start <= offset:
            chosen = element
    return chosen
