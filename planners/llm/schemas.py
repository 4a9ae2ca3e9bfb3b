"""What the model is asked to answer at each of the three Dysen-VDM steps.

Lenient on the way in (unknown keys are ignored: models add them), strict where it matters: the
invariants that tie the answers to each other are checked in `planner.py` and fed back on failure.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from storyteller.core.models import CameraMove, Relation, TimeOfDay, Weather

ID = r"^[a-z0-9_]+$"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BibleEntry(_Answer):
    id: str = Field(pattern=ID, description="lowercase id, e.g. 'zosia'")
    name: str
    kind: str = Field(description="what the character is, one noun: girl, hamster, robot")
    appearance: str = Field(description="one fixed visual description, reused in every shot")


class PlaceEntry(_Answer):
    id: str = Field(pattern=ID)
    name: str
    description: str = ""


class Event(_Answer):
    id: str = Field(pattern=ID, description="e1, e2, ... in story order")
    text: str = Field(description="the sentence(s) of the story this event shows, copied verbatim")
    agent: str = Field(description="a character id, or the noun of the thing that acts")
    action: str = Field(description="one verb: walk, run, jump, fly, fall, punch, spin, grow, explode, roar ...")
    object: str | None = Field(default=None, description="a character id or noun the action is done to")
    characters: list[str] = Field(default=[], description="ids of the characters on screen")
    location: str | None = Field(default=None, description="a location id")
    duration: float = Field(gt=0, le=60, description="seconds on screen")


class ActionPlan(_Answer):
    """Step 1, action planning: the cast (fixed once) and the ordered events of the story."""

    title: str = ""
    style: str = Field(default="", description="the visual style the story asks for, if any")
    summary: str = Field(default="", description="two sentences: what happened in this part")
    characters: list[BibleEntry] = []
    locations: list[PlaceEntry] = []
    events: list[Event] = Field(min_length=1)


class GraphAction(_Answer):
    agent: str
    verb: str
    object: str | None = None
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class GraphEntity(_Answer):
    id: str
    label: str = Field(description="the noun to draw: 'hamster', 'boxing gloves'")
    attributes: list[str] = []


class ShotGraph(_Answer):
    event_id: str
    camera: CameraMove = "static"
    entities: list[GraphEntity] = []
    relations: list[Relation] = []
    actions: list[GraphAction] = []


class SceneGraphs(_Answer):
    """Step 2, event -> dynamic scene graph: one graph per event."""

    shots: list[ShotGraph] = Field(min_length=1)


class ShotImagination(_Answer):
    event_id: str
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"
    setting: str = Field(default="", description="the place in concrete visual detail: light, colours, props")
    attributes: dict[str, list[str]] = Field(default={}, description="entity id -> extra visual attributes")
    keyframe_prompt: str = Field(min_length=1, description="a text-to-image prompt for the shot's first frame")
    motion_prompt: str = Field(default="", description="how things and camera move during the shot")


class Imagination(_Answer):
    """Step 3, scene imagination: visual detail and the prompts of every shot."""

    shots: list[ShotImagination] = Field(min_length=1)
