"""The bases of the stage backends: one required method per stage, and optional capabilities with defaults.

Like langchain-core's base classes: a stage's base (planners.Planner, generators.Animator ...) names the
one method a backend must write; everything else here has a default that a backend overrides when it
has something to say. The orchestrator calls these directly, never asks whether they exist.

A plain object with the stage's method (any object "that fits the protocol") is adopted: wrapped in
the stage's `Adopted` class, which reads what the object offers once, here, and defaults the rest.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np

from storyteller.core.errors import StorytellerError

if TYPE_CHECKING:
    from PIL import Image

    from storyteller.core.models import MotionGuide, PlanConfig, Shot, StoryPlan, Voice

UNLIMITED = 1 << 16
Progress = Callable[[int, int], None]  # progress(done, total): denoise steps, for a backend that counts them


@dataclass(frozen=True)
class Resources:
    """What one worker asks of a machine: Ray places actors by it; a local pool caps its size by it."""

    cpus: float = 1
    gpus: float = 0

    def __or__(self, other: Resources) -> Resources:  # a worker serving two backends needs the larger of each
        return Resources(max(self.cpus, other.cpus), max(self.gpus, other.gpus))


class _ClassName:
    """`name` when a backend sets none: its class's name."""

    def __get__(self, backend: object, owner: type) -> str:
        return owner.__name__


class Backend:
    """Optional capabilities shared by the backends of every stage.

    Attributes:
        name: the backend's label in cache keys, run.json and the summary (default: the class name).
        max_workers: how many copies may run on one machine at once; a backend holding one model per
            device says 1 (default: no limit).
    """

    name: str = _ClassName()  # type: ignore[assignment]
    max_workers: int = UNLIMITED
    kind: ClassVar[str] = "backend"  # what the stage calls it, for errors: "planner", "animator" ...
    required: ClassVar[str] = ""  # the one method a backend of the stage must have

    def config(self) -> dict[str, Any]:
        """Everything that changes the output: part of every cache key this backend's work goes under."""
        return {}

    @property
    def implementation(self) -> str:
        """The class doing the work (for an adopted object, its own): what a measurement of it is about."""
        return f"{type(self).__module__}.{type(self).__qualname__}"

    def runs_at(self, plan: StoryPlan) -> str | None:
        """What it runs at for `plan`, for the run summary (a model's frame size, clip length and rate);
        default: nothing to say."""
        return None

    def resources(self) -> Resources:
        """What one worker running this backend needs (default: one CPU)."""
        return Resources()

    def prepare_plan(self, plan: StoryPlan) -> None:
        """Optional: called once in the driver, before the render's first task, with the whole plan. Work
        done here once (the animatic matches every noun to a glyph) is not done again by every worker.
        Default: nothing."""

    def close(self) -> None:
        """Free models and memory once the stage is over; the backend may be used again after."""


B = TypeVar("B", bound=Backend)


class Adopted(Backend):
    """A plain object serving as a backend: what it offers is read here once, the rest defaulted.

    Each stage defines `Adopted<Stage>(Adopted, <Stage>)` forwarding its required method through `call`.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = str(getattr(inner, "name", "") or type(inner).__name__)
        self.max_workers = int(getattr(inner, "max_workers", UNLIMITED))
        self._takes_progress = _takes(getattr(inner, self.required), "progress")

    def config(self) -> dict[str, Any]:
        config = getattr(self.inner, "config", None)
        return config() if callable(config) else {}

    @property
    def implementation(self) -> str:
        return f"{type(self.inner).__module__}.{type(self.inner).__qualname__}"

    def resources(self) -> Resources:
        resources = getattr(self.inner, "resources", None)
        return resources() if callable(resources) else Resources()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def call(self, *args: Any, progress: Progress | None = None) -> Any:
        """The inner object's required method; `progress` is passed only if it takes one."""
        extra = {"progress": progress} if progress is not None and self._takes_progress else {}
        return getattr(self.inner, self.required)(*args, **extra)


def adopt(backend: Any, base: type[B]) -> B:
    """`backend` itself if it extends the stage's base; a plain object with the stage's method, adopted."""
    if isinstance(backend, base):
        return backend
    if not callable(getattr(backend, base.required, None)) and not (base is Speaker and callable(backend)):
        raise StorytellerError(f"{type(backend).__name__} cannot be a {base.kind}: it has no {base.required}() method")
    return ADOPTERS[base](backend)  # type: ignore[return-value]


# --- one base per stage ---------------------------------------------------------------------------


class Planner(Backend):
    """Stage 1: story text -> StoryPlan.

    Attributes:
        outcome: which planner made the last plan, and why (an LLM planner that fell back says so); run.json
            records it. None: this planner made it.
        stats: model calls and tokens of the last plan, for the summary (None: no model).
        deterministic: the same story, config() and code always give the same plan, so a plan is cached
            (keyed by those, the code by a digest of its package's source) and a second make skips it.
        apart: a make plans in a process of its own (the planner is pickled there): what it loads (a parser,
            a sentence embedder) goes back to the OS before the render, which never needs it. For a planner
            that holds nothing a process cannot rebuild (not a live model client).
    """

    kind, required = "planner", "plan"
    outcome: dict[str, str] | None = None
    stats: Any = None
    deterministic: bool = False  # the same story and config always plan alike: the plan is then cached
    apart: bool = False

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        """The plan of `story`: characters, places, shots and their scene graphs."""
        raise NotImplementedError


class Retriever(Backend):
    """Stage 2: a reference clip whose motion guides a shot (Animate-A-Story)."""

    kind, required = "retriever", "guide"

    def guide(self, shot: Shot, plan: StoryPlan) -> MotionGuide | None:
        """The best clip's motion for the shot, or None to render it unguided."""
        raise NotImplementedError


class KeyframeGenerator(Backend):
    """Stage 3a: a shot's first frame (text-to-image), as in MicroCinema.

    Every render stage sees `plan` as the shot's task carries it: the film's settings, every character and
    place, and the shot with its neighbours (whose transitions touch it), never all the shots of a long
    film (a worker would unpickle a whole book for every shot it draws).
    """

    kind, required = "keyframe backend", "keyframe"
    # whether a character's `reference` image steers its keyframes (an IP-Adapter): then a character is
    # remembered, its later keyframes held to its first (default: no)
    takes_references: bool = False
    # whether it draws each character the same in every shot by itself (the animatic): no memory needed
    consistent: bool = False
    # whether a retrieved clip's structure maps (MotionGuide.structure) steer its keyframes (a ControlNet):
    # then they are part of the keyframe's cache key (default: no)
    takes_structure: bool = False

    def keyframe(self, shot: Shot, plan: StoryPlan, progress: Progress | None = None) -> Image.Image:
        """The shot's first frame at (or near) the plan's size; `progress(done, total)` counts steps."""
        raise NotImplementedError


class Animator(Backend):
    """Stage 3b: the keyframe animated into the shot (image-to-video).

    Attributes:
        continues_from_last_frame: a continuing shot starts from the previous clip's last frame.
        frame_cost: what drawing a frame costs, declared, never measured (a film must not depend on how
            fast or busy the machine is): milliseconds per megapixel on the reference machine (two x86-64
            cores; `benchmarks/fill.py` measures it). None: unknown, as for a model, taken as costly.
            `--fill auto` draws every frame where that costs less than infilling them.
        keeps_clips: whether its clips are worth keeping in the cache. False (the animatic): drawing a clip
            again costs less than storing it losslessly and reading it back, so each worker draws a shot
            and encodes its stretch of the film straight away, and no clip is kept.
    """

    kind, required = "animator", "animate"
    frame_cost: float | None = None
    keeps_clips: bool = True
    # whether a shot that continues the one before (`Shot.continues`: a shot list's "cut": false) starts from
    # that clip's last frame instead of a keyframe of its own (an image-to-video model: one take, no jump).
    # The animatic draws the plan itself and keeps the place and people the plan carries over (default: no).
    continues_from_last_frame: bool = False

    def animate(
        self,
        keyframe: Image.Image,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        progress: Progress | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield `plan.shot_frames(shot)` RGB frames (H x W x 3, uint8), one at a time."""
        raise NotImplementedError

    def frames_from(
        self, keyframe: Image.Image, shot: Shot, plan: StoryPlan, guide: MotionGuide | None, first: int
    ) -> Iterator[np.ndarray]:
        """The shot's frames from frame `first` on (a crossfade's tail, drawn again). Optional: by default the
        frames before it are drawn and dropped; an animator that can start anywhere says so by overriding."""
        return itertools.islice(self.animate(keyframe, shot, plan, guide), first, None)


class Infiller(Backend):
    """Stage 4: the frames between two known frames (NUWA-XL's local pass).

    Attributes:
        cheap: remaking a segment costs less than storing it, so it runs inside the shot's task; a
            model-backed infill (False) gets a task per segment, and its segments are cached.
        frame_cost: what making a frame costs, declared as the animator's is (None: unknown, taken as
            costly).
    """

    kind, required = "infill backend", "fill"
    cheap: bool = False
    frame_cost: float | None = None

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        """RGB frames at each time in (0, 1) between `first` (0) and `last` (1), same size and dtype."""
        raise NotImplementedError


@dataclass(frozen=True)
class Speech:
    """Spoken audio: mono float samples in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class SpeechTiming:
    """How long a line will last, known before it is spoken: `samples` at `rate` Hz."""

    samples: int
    rate: int

    @property
    def seconds(self) -> float:
        return self.samples / self.rate


class Speaker(Backend):
    """Stage 4's voice: text spoken in a voice (narration, and each character's lines)."""

    kind, required = "speech backend", "speak"

    def speak(self, text: str, voice: Voice) -> Speech:
        """`text` spoken in `voice` (its name, pitch and rate as this backend reads them)."""
        raise NotImplementedError

    def has_language(self, language: str) -> bool:
        """Whether this backend has a voice for the language (an espeak code: en, de, pl ...)."""
        return language.split("-")[0] == "en"

    def timing(self, text: str, voice: Voice) -> SpeechTiming | None:
        """How long `text` will last in `voice`, where the backend can tell at a fraction of speaking it (a
        neural voice's duration predictor): the render is timed by it and the line spoken beside the drawing,
        to exactly that length. None (the default): speak it to know."""
        return None

    def spec(self) -> str | None:
        """How `--voice` and plan.json name this backend as it is ("piper", "piper:voices/"), if they can."""
        return None

    def voice_name(self, language: str, female: bool | None, draw: int) -> str:
        """A voice of this backend's for someone (female None: the narrator), `draw` a number fixed for them:
        the backend's own voices shared out among the characters. Default: the language."""
        return language

    def prepare(self) -> None:
        """Start loading what speaking needs; called before the story is planned, so the two overlap."""


class AdoptedPlanner(Adopted, Planner):
    @property
    def outcome(self) -> dict[str, str] | None:  # type: ignore[override]
        return getattr(self.inner, "outcome", None)

    @property
    def stats(self) -> Any:
        return getattr(self.inner, "stats", None)

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        return cast("StoryPlan", self.call(story, config))


class AdoptedRetriever(Adopted, Retriever):
    def guide(self, shot: Shot, plan: StoryPlan) -> MotionGuide | None:
        return cast("MotionGuide | None", self.call(shot, plan))


class AdoptedKeyframes(Adopted, KeyframeGenerator):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.takes_references = bool(getattr(inner, "takes_references", False))
        self.consistent = bool(getattr(inner, "consistent", False))
        self.takes_structure = bool(getattr(inner, "takes_structure", False))

    def keyframe(self, shot: Shot, plan: StoryPlan, progress: Progress | None = None) -> Image.Image:
        return cast("Image.Image", self.call(shot, plan, progress=progress))


def _declared_cost(inner: Any) -> float | None:
    cost = getattr(inner, "frame_cost", None)
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0 else None


class AdoptedAnimator(Adopted, Animator):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.frame_cost = _declared_cost(inner)

    def animate(
        self,
        keyframe: Image.Image,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        progress: Progress | None = None,
    ) -> Iterator[np.ndarray]:
        return cast("Iterator[np.ndarray]", self.call(keyframe, shot, plan, guide, progress=progress))


class AdoptedInfiller(Adopted, Infiller):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.cheap = bool(getattr(inner, "cheap", False))
        self.frame_cost = _declared_cost(inner)

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        return cast("list[np.ndarray]", self.call(first, last, times, guide))


class AdoptedSpeaker(Adopted, Speaker):
    """A plain object with `speak`, or any callable (text, voice) -> samples (22,050 Hz) or (samples, rate)."""

    required = "speak"

    def __init__(self, inner: Any) -> None:
        if not hasattr(inner, "speak") and callable(inner):
            inner = _CallableSpeaker(inner)
        super().__init__(inner)

    def has_language(self, language: str) -> bool:
        """The object's own answer; one that gives none is taken at its word for any language."""
        has = getattr(self.inner, "has_language", None)
        return bool(has(language)) if callable(has) else True

    def speak(self, text: str, voice: Voice) -> Speech:
        spoken = self.call(text, voice)
        if isinstance(spoken, Speech):
            return spoken
        samples, rate = spoken if isinstance(spoken, tuple) else (spoken, 22_050)
        return Speech(np.asarray(samples, dtype=np.float32).reshape(-1), int(rate))


class _CallableSpeaker:
    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.name = getattr(function, "__name__", "callable")

    def speak(self, text: str, voice: Voice) -> Any:
        return self.function(text, voice)


ADOPTERS: dict[type[Backend], type[Adopted]] = {
    Planner: AdoptedPlanner,
    Retriever: AdoptedRetriever,
    KeyframeGenerator: AdoptedKeyframes,
    Animator: AdoptedAnimator,
    Infiller: AdoptedInfiller,
    Speaker: AdoptedSpeaker,
}


def _takes(method: Callable[..., Any], parameter: str) -> bool:
    try:
        return parameter in inspect.signature(method).parameters
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return False
