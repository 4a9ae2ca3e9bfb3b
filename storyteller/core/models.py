"""The data model: one plan describes the whole story, and every stage reads or writes it.

A `StoryPlan` is plain JSON that a user may edit by hand; `storyteller schema` prints its JSON Schema.
Each `Shot` carries a `SceneGraph` in the style of Dysen-VDM: entities with attributes, relations
between them, and actions that span a time range inside the shot.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from storyteller.core.errors import StorytellerError

SCHEMA_VERSION = 1
MIN_SHOT_SECONDS, MAX_SHOT_SECONDS = 0.25, 120.0  # a shot's length, whatever asks for it (--minutes, speech)
MAX_SHOT_TEXT = 10_000  # characters: minutes of narration, more than a shot can hold; planners split before
MAX_ASPECT = 4  # the frame's long side at most this many times its short side (a 1024x16 film is a mistake)

CameraMove = Literal[
    "static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "close_up", "wide"
]
TransitionKind = Literal["cut", "crossfade", "morph"]  # morph: a crossfade that follows optical flow
TimeOfDay = Literal["dawn", "morning", "day", "sunset", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "snow", "fog", "storm"]


class _Model(BaseModel):
    # Unknown keys in a hand-edited plan are typos; say so instead of silently dropping them.
    model_config = ConfigDict(extra="forbid")


class Voice(_Model):
    """How someone speaks: fixed in the character bible, the same in every shot, editable by hand."""

    backend: str | None = Field(
        default=None,
        max_length=500,
        description="Another speech backend for this voice (espeak, transformers:MODEL, piper:FILE); "
        "null: the film's own (--voice).",
    )
    name: str = Field(
        default="en",
        max_length=200,
        description="The backend's voice: for espeak a language and a variant, 'en+f3'; for Piper, a speaker id.",
    )
    pitch: int = Field(default=50, ge=0, le=99, description="Base pitch, 0 to 99 (espeak's scale).")
    rate: int = Field(default=165, ge=80, le=450, description="Words per minute.")


class Lora(_Model):
    """LoRA weights that draw one character (or, in a preset, the film's style): active in every shot it is in."""

    path: str = Field(
        max_length=4096,
        pattern=r"(?i)\.safetensors$",
        description="A .safetensors file of LoRA weights (diffusers' "
        "or kohya's layout); pickled weights are refused, since loading them can run code.",
    )
    scale: float = Field(default=1.0, ge=-4, le=4, description="How strongly the adapter acts (1: as trained).")
    trigger: str = Field(
        default="",
        max_length=200,
        description="The word the LoRA was trained on; it joins the character's "
        "appearance in every prompt that shows it.",
    )


class Character(_Model):
    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Stable id, referenced by shots and scene graphs.")
    name: str = Field(description="The name as the story writes it in full: 'Vincent van Gogh', 'Lin Daiyu'.")
    aliases: list[str] = Field(
        default=[], description="Other names the story calls the character: a shorter form, an alter ego."
    )
    kind: str = Field(description="What the character is, as a noun: 'girl', 'hamster', 'bear'.")
    appearance: str = Field(description="Used verbatim in every prompt that shows this character.")
    reference: str | None = Field(
        default=None, description="Path to an image of this character; diffusion backends hold to it (IP-Adapter)."
    )
    voice: Voice | None = Field(default=None, description="How the character speaks its lines (chosen if not set).")
    lora: Lora | None = Field(default=None, description="LoRA weights that draw this character (diffusers backends).")
    remembered: str | None = Field(
        default=None,
        max_length=4096,
        description="Written by the render: the keyframe of the character's first shot (references/ID.png in the "
        "run directory), which later keyframes are held to when the model takes a reference. It follows that "
        "shot; set `reference` to pin this picture or another.",
    )


class Location(_Model):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    description: str = ""


class Entity(_Model):
    id: str = Field(description="A character id, or an object id local to the shot.")
    label: str = Field(
        min_length=1, max_length=200, description="The noun drawn or prompted for: 'hamster', 'boxing gloves'."
    )
    attributes: list[str] = []


class Relation(_Model):
    subject: str
    predicate: str = Field(description="Spatial or possessive: in, on, above, under, near, left_of, wears ...")
    object: str


SPEAK = "speak"  # the verb of a character saying a line: set by the sound stage, timed to the speech


class Action(_Model):
    agent: str
    verb: str = Field(description="Canonical verb: walk, run, jump, fly, fall, punch, spin, grow, explode ...")
    object: str | None = None
    start: float = Field(ge=0, description="Seconds from the start of the shot.")
    end: float = Field(ge=0)
    line: str | None = Field(
        default=None,
        max_length=2000,
        description="For 'speak': the words said, timed to the speech (set by the sound stage at each render).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Action:
        if self.end < self.start:
            raise ValueError(f"action '{self.verb}' ends ({self.end}) before it starts ({self.start})")
        return self


class SceneGraph(_Model):
    entities: list[Entity] = []
    relations: list[Relation] = []
    actions: list[Action] = []
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"


class Transition(_Model):
    kind: TransitionKind = "cut"
    duration: float = Field(default=0.0, ge=0, le=5, description="Seconds of overlap with the previous shot.")


# A finite number of frames' widths: a hand-edited NaN or 1e308 is refused when the plan is read.
Fraction = Annotated[float, Field(allow_inf_nan=False, ge=-100, le=100)]


class Structure(_Model):
    """A reference clip's structure at a few moments of the shot (Animate-A-Story): low-resolution depth maps
    (near = bright) or edge maps, which steer generation where a model takes them (a ControlNet)."""

    kind: Literal["depth", "edges"]
    width: int = Field(ge=1, le=256)
    height: int = Field(ge=1, le=256)
    times: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=16, description="When each map holds, as a fraction of the shot (0: its start)."
    )
    maps: list[str] = Field(
        min_length=1, max_length=16, description="Each map as width x height bytes (0 to 255, rows first), base64."
    )

    @model_validator(mode="after")
    def _whole(self) -> Structure:
        if len(self.times) != len(self.maps):
            raise ValueError(f"structure: {len(self.times)} times for {len(self.maps)} maps")
        for encoded in self.maps:
            try:
                size = len(base64.b64decode(encoded, validate=True))
            except ValueError:
                raise ValueError("structure: a map is not base64") from None
            if size != self.width * self.height:
                raise ValueError(f"structure: a map of {size} bytes is not {self.width}x{self.height}")
        return self

    def map_at(self, time: float) -> bytes:
        """The map nearest `time` (a fraction of the shot), width x height bytes."""
        nearest = min(range(len(self.times)), key=lambda i: abs(self.times[i] - time))
        return base64.b64decode(self.maps[nearest])


class MotionGuide(_Model):
    """Motion taken from a reference clip (Animate-A-Story): where the subject goes, how the camera moves."""

    source: str = Field(description="The reference clip this motion came from.")
    trajectory: list[tuple[Fraction, Fraction]] = Field(
        default=[],
        max_length=10_000,
        description="The main subject's path, (x, y) as fractions of the frame, evenly spaced in time.",
    )
    camera: tuple[Fraction, Fraction, Fraction] | None = Field(
        default=None, description="Camera drift over the shot: (dx, dy) in frame fractions, and zoom change."
    )
    structure: Structure | None = Field(
        default=None, description="The clip's depth (or edge) maps, for models that take structure."
    )


class Scene(_Model):
    """A part of the story under one heading (a chapter, a part, a screenplay's scene): its shots share a place
    and a time of day, a transition opens it, and the film carries it as a chapter marker."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(
        default="",
        max_length=500,
        description="The heading as the story writes it ('Chapter 3: The Salt Market'); '' for the opening "
        "before any heading and after a scene break ('***').",
    )
    location: str | None = Field(default=None, description="Where the scene happens, when the text says.")
    time_of_day: TimeOfDay = "day"


class Shot(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(
        max_length=MAX_SHOT_TEXT,
        description="The span of the story this shot shows, as written; also its caption and narration unless "
        "`narration` says otherwise.",
    )
    narration: str | None = Field(
        default=None,
        max_length=MAX_SHOT_TEXT,
        description="What is read aloud and captioned, when it is not the whole text: a shot script's directions "
        'to the camera ("Wide tracking shot. Realistic style.") are planned, never read. null: the text.',
    )
    span: tuple[int, int] = Field(description="Character offsets of `text` in the story.")
    duration: float = Field(ge=MIN_SHOT_SECONDS, le=MAX_SHOT_SECONDS, description="Seconds.")
    camera: CameraMove = "static"
    prompt: str
    keyframe_prompt: str = Field(
        default="", description="The first frame's picture when it is not `prompt` (a shot list's first-frame prompt)."
    )
    motion_prompt: str = Field(default="", description="How things move, for image-to-video backends.")
    negative_prompt: str = ""
    characters: list[str] = []
    location: str | None = None
    transition: Transition = Transition()
    continues: bool = Field(
        default=False,
        description="The shot goes on from the previous one without a cut (a shot list's `cut: false`): the same "
        "place and people, no transition; an image-to-video animator starts it from the previous clip's last frame.",
    )
    scene: str | None = Field(default=None, description="The id of the scene (chapter) the shot belongs to.")
    card: str | None = Field(
        default=None,
        max_length=500,
        description="A title card: this text shown large on a plain ground instead of a picture, never read "
        "aloud (a chapter's heading). null: a shot of the story.",
    )
    keyframe: str | None = Field(
        default=None,
        max_length=4096,
        description="Path to an image pinned as the shot's first frame: no keyframe model draws it.",
    )
    last_frame: str | None = Field(
        default=None,
        max_length=4096,
        description="Path to an image pinned as the shot's last frame, for animators that take one "
        "(a first-and-last-frame model: Wan FLF2V, LTX conditions, a ComfyUI workflow's {{last_image}}).",
    )
    graph: SceneGraph = SceneGraph()
    guide: MotionGuide | None = Field(default=None, description="Retrieved motion; pin or swap it by hand.")

    @property
    def said(self) -> str:
        """What the shot reads aloud and captions: its narration, else its text."""
        return self.text if self.narration is None else self.narration


class StoryPlan(_Model):
    schema_version: int = SCHEMA_VERSION
    title: str
    style: str = ""
    shots_by: Literal["paragraph", "sentence", "list"] | None = Field(
        default=None,
        description="How the planner cut the text into shots: a shot a paragraph (shot prose, as written for "
        "video models), by its sentences (narrative prose), or as a shot list gave them (StoryMem's JSON, "
        "HoloCine's prompt); null: another way (a screenplay, a model).",
    )
    seed: int = Field(default=0, ge=0, lt=2**63, description="Random seed, 0 to 2**63 - 1.")
    fps: int = Field(default=24, ge=1, le=120)
    width: int = Field(default=512, ge=16, le=4096)
    height: int = Field(default=288, ge=16, le=4096)
    language: str = Field(
        default="en", max_length=20, description="The story's language (an espeak code: en, de, pl ...)."
    )
    narrator: Voice | None = Field(default=None, description="Who reads the story aloud (chosen if not set).")
    characters: list[Character] = []
    locations: list[Location] = []
    scenes: list[Scene] = Field(
        default=[], description="The story's chapters or scenes, in order; each shot names its own. []: one."
    )
    shots: list[Shot] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> StoryPlan:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not supported (expected {SCHEMA_VERSION})")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"size {self.width}x{self.height} must have even width and height for H.264")
        if max(self.width, self.height) > MAX_ASPECT * min(self.width, self.height):
            raise ValueError(f"size {self.width}x{self.height}: one side may be at most {MAX_ASPECT} times the other")
        _unique("character", [c.id for c in self.characters])
        _unique("location", [loc.id for loc in self.locations])
        _unique("scene", [scene.id for scene in self.scenes])
        _unique("shot", [s.id for s in self.shots])
        characters = {c.id for c in self.characters}
        locations = {loc.id for loc in self.locations}
        if self.shots[0].continues:
            raise ValueError(f"shot {self.shots[0].id}: the first shot has no shot before it to continue")
        scenes = {scene.id for scene in self.scenes}
        for scene in self.scenes:
            if scene.location is not None and scene.location not in locations:
                raise ValueError(f"scene {scene.id}: location '{scene.location}' is not in the plan's locations")
        for shot in self.shots:
            if shot.scene is not None and shot.scene not in scenes:
                raise ValueError(f"shot {shot.id}: scene '{shot.scene}' is not in the plan's scenes")
            if shot.card is not None and shot.continues:
                raise ValueError(f"shot {shot.id}: a title card cannot continue the shot before it")
            for cid in shot.characters:
                if cid not in characters:
                    raise ValueError(f"shot {shot.id}: character '{cid}' is not in the plan's characters")
            if shot.location is not None and shot.location not in locations:
                raise ValueError(f"shot {shot.id}: location '{shot.location}' is not in the plan's locations")
            entities = {e.id for e in shot.graph.entities}
            for rel in shot.graph.relations:
                for end in (rel.subject, rel.object):
                    if end not in entities:
                        raise ValueError(f"shot {shot.id}: relation refers to unknown entity '{end}'")
            for act in shot.graph.actions:
                if act.agent not in entities or (act.object is not None and act.object not in entities):
                    raise ValueError(f"shot {shot.id}: action '{act.verb}' refers to an unknown entity")
                if act.end > shot.duration + 1e-6:
                    raise ValueError(
                        f"shot {shot.id}: action '{act.verb}' ends at {act.end}s, after the shot ({shot.duration}s)"
                    )
        return self

    # --- timeline -------------------------------------------------------------------------------

    def shot_frames(self, shot: Shot) -> int:
        return max(1, round(shot.duration * self.fps))

    def overlap_frames(self, index: int) -> int:
        """Frames shot `index` shares with the one before it (a crossfade); 0 for a cut."""
        if index == 0 or self.shots[index].transition.kind == "cut":
            return 0
        wanted = round(self.shots[index].transition.duration * self.fps)
        limit = min(self.shot_frames(self.shots[index - 1]), self.shot_frames(self.shots[index])) // 2
        return max(0, min(wanted, limit))

    def shot_starts(self) -> list[int]:
        """First frame of every shot on the stitched timeline."""
        starts, cursor = [], 0
        for i, shot in enumerate(self.shots):
            cursor -= self.overlap_frames(i)
            starts.append(cursor)
            cursor += self.shot_frames(shot)
        return starts

    @property
    def total_frames(self) -> int:
        return self.shot_starts()[-1] + self.shot_frames(self.shots[-1])

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps

    def chapters(self) -> list[tuple[Scene, int]]:
        """Each scene with the index of its first shot, in the film's order (the MP4's chapter markers)."""
        first: dict[str, int] = {}
        for index, shot in enumerate(self.shots):
            if shot.scene is not None:
                first.setdefault(shot.scene, index)
        return sorted(((s, first[s.id]) for s in self.scenes if s.id in first), key=lambda pair: pair[1])

    def chapter_marks(self) -> list[tuple[int, int, str]]:
        """The film's chapter markers: (first frame, end frame, title) of each scene; an untitled scene (the
        opening, or one after a break) is named by its number."""
        chapters = self.chapters()
        starts = self.shot_starts()
        marks = []
        for n, (scene, first) in enumerate(chapters):
            end = starts[chapters[n + 1][1]] if n + 1 < len(chapters) else self.total_frames
            marks.append((starts[first], end, scene.title or f"Scene {n + 1}"))
        return marks

    # --- lookups --------------------------------------------------------------------------------

    def character(self, cid: str) -> Character:
        return next(c for c in self.characters if c.id == cid)

    def location(self, lid: str | None) -> Location | None:
        return next((loc for loc in self.locations if loc.id == lid), None)

    def shot_context(self, shot: Shot) -> dict[str, Any]:
        """Everything outside the shot itself that changes how it renders; part of its cache key."""
        where = self.location(shot.location)
        return {
            "style": self.style,
            "seed": self.seed,
            "fps": self.fps,
            "size": [self.width, self.height],
            # (a voice changes what is heard, not what is seen: not part of any picture's key)
            # (nor is `remembered`: a note of what the render did, keyed by the shot it came from)
            "characters": [self.character(c).model_dump(exclude={"voice", "remembered"}) for c in shot.characters],
            "location": where.model_dump() if where is not None else None,
        }


def scaled(shot: Shot, duration: float) -> Shot:
    """The shot lasting `duration` seconds, its actions' times scaled with it."""
    duration = round(min(MAX_SHOT_SECONDS, max(MIN_SHOT_SECONDS, duration)), 3)
    factor = duration / shot.duration
    actions = [
        a.model_copy(update={"start": round(a.start * factor, 3), "end": round(min(a.end * factor, duration), 3)})
        for a in shot.graph.actions
    ]
    return shot.model_copy(update={"duration": duration, "graph": shot.graph.model_copy(update={"actions": actions})})


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{what} id '{i}' is used twice")
        seen.add(i)


def stable_hash(obj: object) -> str:
    """sha256 of a JSON-able object with sorted keys: the basis of every cache key."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jsonable).encode()
    return hashlib.sha256(data).hexdigest()


def _jsonable(obj: object) -> object:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot hash {type(obj).__name__}")


class PlanConfig(_Model):
    """What the user asked for, handed to every planner."""

    title: str = "story"
    seed: int = Field(default=0, ge=0, lt=2**63, description="Random seed, 0 to 2**63 - 1.")
    fps: int = Field(default=24, ge=1, le=120)
    width: int = Field(default=512, ge=16, le=4096)
    height: int = Field(default=288, ge=16, le=4096)
    minutes: float | None = Field(default=None, gt=0, le=600, description="Target length; None: from the text.")
    cache_dir: Path | None = Field(default=None, description="Where a planner may cache its work (model calls).")

    def picture(self) -> dict[str, Any]:
        """The fields a StoryPlan takes over as they are: `StoryPlan(..., **config.picture())`."""
        return {"seed": self.seed, "fps": self.fps, "width": self.width, "height": self.height}


MAX_PLAN_BYTES = 200_000_000  # a plan of a 2,000,000-character story is well under this


def read_plan(path: str | Path) -> StoryPlan:
    """Load plan.json; any problem is one line naming the file, the field and the reason."""
    path = Path(path)
    if path.is_symlink():  # the run writes plan.json back: never through a link to somewhere else
        raise StorytellerError(f"{path}: is a symbolic link; copy the plan into its run directory")
    if path.exists() and not path.is_file():
        raise StorytellerError(f"{path}: not a regular file")
    if path.exists() and path.stat().st_size > MAX_PLAN_BYTES:
        raise StorytellerError(f"{path}: {path.stat().st_size:,} bytes; a plan may have {MAX_PLAN_BYTES:,} at most")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StorytellerError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StorytellerError(f"{path}: cannot read the plan ({error})") from None
    try:
        # strictly as JSON types: "seed": true or "7", "duration": "4.17" are not what the schema says
        return StoryPlan.model_validate_json(text, strict=True)
    except ValidationError as error:
        raise StorytellerError(f"{path}: {validation_message(error)}") from None


def validation_message(error: ValidationError) -> str:
    """A plan's validation error as one line: the field, the reason, how many more."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])  # none: the plan as a whole (it names the shot itself)
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    reason = first["msg"].removeprefix("Value error, ")
    return f"{where}: {reason}{more}" if where else f"{reason}{more}"
