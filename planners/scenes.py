"""A story's scenes: where its headings cut it, and the shots that open each scene.

Every planner opens a scene alike: a chapter's title card (its heading shown, never read), then an
establishing shot of the scene's place, faded into from what came before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planners import headings
from storyteller.core.models import Location, Scene, SceneGraph, Shot, Transition

CARD_SECONDS, ESTABLISHING_SECONDS = 3.0, 3.5
SCENE_FADE = Transition(kind="crossfade", duration=0.5)  # into a chapter's card, and from the card to its place
NEGATIVE_PROMPT = "blurry, low quality, distorted, deformed, extra limbs, watermark, text"
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")


@dataclass(frozen=True)
class Section:
    """The story from one heading to the next: the heading's title ("" for the opening, or after a break),
    where the heading stands (None: no heading opens it) and where its text runs."""

    title: str
    heading: tuple[int, int] | None
    body: tuple[int, int]


def sections(story: str, start: int = 0) -> list[Section]:
    """The story cut at its headings (chapters, parts, Markdown headings, scene breaks); one section, with
    no heading, for a story without any."""
    found: list[Section] = []
    title, heading, body_start = "", None, start
    for paragraph in _PARAGRAPH.finditer(story, start):
        if headings.is_heading(paragraph.group()):
            if heading is not None or story[body_start : paragraph.start()].strip():
                found.append(Section(title, heading, (body_start, paragraph.start())))
            title, heading, body_start = headings.title_of(paragraph.group()), paragraph.span(), paragraph.end()
    found.append(Section(title, heading, (body_start, len(story))))
    return found


def card(scene: Scene, text: str, span: tuple[int, int], graph: SceneGraph, fade: bool) -> Shot:
    """A chapter's title card: its heading shown on a plain ground, never narrated."""
    return Shot(id="card", text=text, narration="", span=span, duration=CARD_SECONDS, prompt=scene.title,
                card=scene.title, scene=scene.id, transition=SCENE_FADE if fade else Transition(),
                graph=graph, negative_prompt=NEGATIVE_PROMPT)  # fmt: skip


def establishing(
    scene: Scene, location: Location, graph: SceneGraph, style: str, span: tuple[int, int], fade: bool
) -> Shot:
    """A scene's establishing shot: its place, wide, in its light, with no one in it yet (`span`: the heading
    that opens the scene; `fade`: faded into from what comes before)."""
    words = [style, f"establishing shot of {location.name}", location.description, "no people"]
    words.append(light(graph.time_of_day, graph.weather))
    return Shot(id="establishing", text="", span=span, duration=ESTABLISHING_SECONDS, camera="wide",
                prompt=", ".join(w for w in words if w), negative_prompt=NEGATIVE_PROMPT, location=location.id,
                scene=scene.id, transition=SCENE_FADE if fade else Transition(), graph=graph)  # fmt: skip


def light(time: str, weather: str) -> str:
    """The light of a time of day and weather, as a prompt says it."""
    parts = {"day": "daylight", "night": "at night"}.get(time, time)
    return parts if weather == "clear" else f"{parts}, {weather}"
