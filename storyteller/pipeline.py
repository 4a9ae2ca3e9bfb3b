"""The orchestrator: plan -> retrieve -> keyframes -> animate -> stitch, every artifact cached.

result = Storyteller().make(open("story.txt").read(), name="story")
result.video  # runs/story/story.mp4
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from storyteller.cache import Cache, atomic_write_text, publish
from storyteller.errors import StorytellerError
from storyteller.models import MotionGuide, PlanConfig, Shot, StoryPlan
from storyteller.progress import QuietReporter, Reporter

MAX_STORY_CHARS = 2_000_000  # about 20 novels: past this it is a mistake, not a story
FILM_ENCODER = {"codec": "libx264", "pix_fmt": "yuv420p", "crf": 20}


@dataclass
class RunResult:
    plan: StoryPlan
    run_dir: Path
    plan_path: Path
    video: Path
    subtitles: Path
    contact_sheet: Path
    keyframes: list[Path]
    seconds: dict[str, float] = field(default_factory=dict)
    cache_hits: dict[str, int] = field(default_factory=dict)
    rendered: dict[str, int] = field(default_factory=dict)


class Storyteller:
    """Composes one backend per stage. Each may be a registered name or any object that fits the protocol."""

    def __init__(
        self,
        planner: Any = "heuristic",
        keyframe: Any = "animatic",
        animator: Any = "animatic",
        retriever: Any = None,
        runs_dir: Path | str = "runs",
        reporter: Reporter | None = None,
        workers: int = 1,
        fill: Any = "default",
        colour_match: bool = False,
        deflicker: bool = False,
    ) -> None:
        from generators import ANIMATORS, KEYFRAME_GENERATORS
        from planners import PLANNERS
        from retrieval import RETRIEVERS

        self.planner = PLANNERS.create(planner) if isinstance(planner, str) else planner
        self.keyframer = KEYFRAME_GENERATORS.create(keyframe) if isinstance(keyframe, str) else keyframe
        self.animator = ANIMATORS.create(animator) if isinstance(animator, str) else animator
        self.retriever = RETRIEVERS.create(retriever) if isinstance(retriever, str) else retriever
        self.runs_dir = Path(runs_dir)
        self.reporter = reporter or QuietReporter()
        self.workers = max(1, workers)
        self.colour_match, self.deflicker = colour_match, deflicker
        from stitching.fill import FillSettings

        # NUWA-XL: the animator renders every stride-th frame, the infill makes the rest; None renders all
        self.fill: FillSettings | None = FillSettings() if fill == "default" else fill
        if self.fill is not None:
            from stitching.infill import INFILLERS

            if isinstance(self.fill.infill, str):
                INFILLERS.create(self.fill.infill)  # an unknown infill backend fails now, not mid-render

    # --- the pipeline ---------------------------------------------------------------------------

    def make(self, story: str, name: str = "story", output: Path | None = None, **config: Any) -> RunResult:
        """Plan the story and render it into runs/<name>/."""
        run_dir = self.runs_dir / name
        plan = self.plan(story, PlanConfig(title=name, cache_dir=run_dir / "cache", **config))
        _save_plan(plan, run_dir / "plan.json")
        return self.render(plan, run_dir, output)

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        check_story(story)
        with self.reporter.stage("plan", 1) as advance:
            plan = self.planner.plan(story, config)
            advance(1)
        if not isinstance(plan, StoryPlan):
            raise StorytellerError(f"planner {_name(self.planner)} returned {type(plan).__name__}, not a StoryPlan")
        return plan

    def render(self, plan: StoryPlan, run_dir: Path, output: Path | None = None) -> RunResult:
        """Render a plan; everything already in the cache is reused, so only changed shots are redone."""
        run_dir = Path(run_dir)
        cache = Cache(run_dir / "cache")
        seconds: dict[str, float] = {}
        rendered = {"keyframes": 0, "clips": 0, "films": 0}

        clock = time.perf_counter()
        guides = self._retrieve(cache, plan)
        if any(guides.get(s.id) != s.guide for s in plan.shots):  # recorded, so a user can pin or swap them
            plan = plan.model_copy(
                update={"shots": [s.model_copy(update={"guide": guides.get(s.id)}) for s in plan.shots]}
            )
            _save_plan(plan, run_dir / "plan.json")
        seconds["retrieve"] = time.perf_counter() - clock

        clock = time.perf_counter()
        keyframes: list[Path] = []
        with self.reporter.stage("keyframes", len(plan.shots)) as advance:
            for shot in plan.shots:
                path, made = self._keyframe(cache, shot, plan)
                keyframes.append(path)
                rendered["keyframes"] += made
                advance(1)
        _close(self.keyframer)  # its models leave memory before the animator loads its own
        seconds["keyframes"] = time.perf_counter() - clock

        clock = time.perf_counter()
        jobs = self._clip_jobs(cache, plan, keyframes, guides)
        # Clips are content-addressed by what makes them, so their keys (not their bytes) key the film:
        # the film can start encoding while later shots are still being drawn.
        film_inputs = {
            "clips": [job.key for job in jobs],
            "timeline": [
                [plan.shot_frames(s), plan.overlap_frames(i), s.transition.kind] for i, s in enumerate(plan.shots)
            ],
            "fps": plan.fps,
        }
        film_key = cache.key("film", "x264", FILM_ENCODER, film_inputs)
        film = cache.get("film", film_key, ".mp4")
        if film is None:
            try:
                film = self._film(cache, plan, jobs, film_key, rendered)
            finally:
                _close(self.animator)
            rendered["films"] += 1
        seconds["animate+stitch"] = time.perf_counter() - clock

        clock = time.perf_counter()
        video = Path(output) if output else run_dir / f"{run_dir.name}.mp4"
        publish(film, video)
        subtitles = video.with_suffix(".srt") if output else run_dir / "story.srt"
        sheet = run_dir / "contact_sheet.png"
        from stitching import contact_sheet, write_srt

        write_srt(plan, subtitles)
        contact_sheet(plan, keyframes, sheet)
        shown = []
        for shot, keyframe in zip(plan.shots, keyframes, strict=True):
            publish(keyframe, run_dir / "keyframes" / f"{shot.id}.png")
            shown.append(run_dir / "keyframes" / f"{shot.id}.png")
        seconds["publish"] = time.perf_counter() - clock
        return RunResult(
            plan=plan,
            run_dir=run_dir,
            plan_path=run_dir / "plan.json",
            video=video,
            subtitles=subtitles,
            contact_sheet=sheet,
            keyframes=shown,
            seconds=seconds,
            cache_hits=dict(cache.stats.hits),
            rendered=rendered,
        )

    # --- stages ---------------------------------------------------------------------------------

    def _retrieve(self, cache: Cache, plan: StoryPlan) -> dict[str, Any]:
        guides = {shot.id: shot.guide for shot in plan.shots if shot.guide is not None}  # pinned by hand
        if self.retriever is None:
            return guides
        backend = self.retriever
        with self.reporter.stage("retrieve", len(plan.shots)) as advance:
            for shot in plan.shots:
                if shot.id not in guides:
                    key = cache.key("guide", _name(backend), _config(backend), _shot_inputs(shot, plan))
                    found = cache.get("guide", key, ".json")
                    if found:  # a re-run asks neither the embedder nor the index
                        data = json.loads(found.read_text())
                        guides[shot.id] = MotionGuide.model_validate(data) if data else None
                    else:
                        guide = backend.guide(shot, plan)
                        text = guide.model_dump_json() if guide else "null"
                        cache.put("guide", key, ".json", lambda p, t=text: p.write_text(t))
                        guides[shot.id] = guide
                advance(1)
        return guides

    def _keyframe(self, cache: Cache, shot: Shot, plan: StoryPlan) -> tuple[Path, int]:
        backend = self.keyframer
        key = cache.key("keyframe", _name(backend), _config(backend), _shot_inputs(shot, plan))
        found = cache.get("keyframe", key, ".png")
        if found:
            return found, 0

        def write(path: Path) -> None:
            with StepBar(self.reporter, f"{shot.id} keyframe") as steps:
                image = backend.keyframe(shot, plan, **_progress_kwarg(backend.keyframe, steps))
            if image.size != (plan.width, plan.height):
                image = image.resize((plan.width, plan.height), Image.LANCZOS)
            # text entries (which backend drew it, say) survive the round trip through the cache
            text = PngImagePlugin.PngInfo()
            for name, value in image.info.items():
                if isinstance(value, str):
                    text.add_text(name, value)
            image.save(path, format="PNG", pnginfo=text)

        return cache.put("keyframe", key, ".png", write), 1

    def _clip_jobs(self, cache: Cache, plan: StoryPlan, keyframes: list[Path], guides: dict) -> list[ClipJob]:
        jobs = []
        backend = self.animator
        places: dict[tuple, Path] = {}  # (location, time of day, weather) -> the first keyframe showing it
        for index, (shot, keyframe) in enumerate(zip(plan.shots, keyframes, strict=True)):
            guide = guides.get(shot.id)
            inputs = {
                **_shot_inputs(shot, plan),
                "keyframe": cache.digest("keyframe", keyframe.stem, ".png"),
                "guide": guide.model_dump(mode="json") if guide is not None else None,
            }
            reference = None
            if self.colour_match and shot.location is not None:
                place = (shot.location, shot.graph.time_of_day, shot.graph.weather)
                reference = places.setdefault(place, keyframe)
                reference = None if reference == keyframe else reference
                inputs["colour_reference"] = cache.digest("keyframe", reference.stem, ".png") if reference else None
            if self.deflicker:
                inputs["deflicker"] = True
            fill = self.fill if self.fill is not None and self.fill.stride_for(plan.fps) > 1 else None
            if fill is not None:
                inputs["fill"] = {**fill.config(), "stride": fill.stride_for(plan.fps)}
            key = cache.key("clip", _name(backend), _config(backend), inputs)
            jobs.append(ClipJob(index, shot, keyframe, guide, key, None, fill, reference, self.deflicker))
        return jobs

    def _film(self, cache: Cache, plan: StoryPlan, jobs: list[ClipJob], key: str, rendered: dict) -> Path:
        """Animate the shots not in the cache and join all of them into the film, both at once."""
        from stitching import prefetch, stitch, write_video

        with (
            self.reporter.stage("animate", len(jobs)) as animated,
            self.reporter.stage("stitch", plan.total_frames) as stitched,
        ):
            clips = self._clips_in_order(cache, plan, jobs, animated, rendered)
            frames = prefetch(_counted(stitch(plan, clips), stitched))
            return cache.put("film", key, ".mp4", lambda p: write_video(frames, p, plan.fps, crf=FILM_ENCODER["crf"]))

    def _clips_in_order(
        self, cache: Cache, plan: StoryPlan, jobs: list[ClipJob], animated: Any, rendered: dict
    ) -> Iterator[Path]:
        """Every shot's clip in timeline order, rendering missing ones here or on a pool of processes."""
        for job in jobs:
            job.cached = cache.get("clip", job.key, ".mkv")
        missing = [job for job in jobs if job.cached is None]
        animated(len(jobs) - len(missing))
        workers = min(self.workers, getattr(self.animator, "max_workers", self.workers))
        if workers <= 1 or len(missing) < 2:
            for job in jobs:
                if job.cached is None:
                    with (
                        self.reporter.task(job.shot.id, plan.shot_frames(job.shot)) as advance,
                        StepBar(self.reporter, f"{job.shot.id} denoise") as steps,
                    ):
                        job.cached = render_clip(self.animator, plan, job, cache.root, advance, steps)
                    rendered["clips"] += 1
                    animated(1)
                yield job.cached
            return
        import multiprocessing
        import threading
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent may hold torch or rich threads that a forked child would inherit locked
        context = multiprocessing.get_context("spawn")
        progress = context.Queue()
        bars: dict[str, Any] = {}

        def relay() -> None:  # frames done in the workers -> the bars in this process
            for shot_id, n in iter(progress.get, None):
                if shot_id in bars:
                    bars[shot_id][1](n)

        relay_thread = threading.Thread(target=relay, daemon=True)
        relay_thread.start()
        try:
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_init, initargs=(progress,)
            ) as pool:
                futures = {}
                for job in missing:
                    bar = self.reporter.task(job.shot.id, plan.shot_frames(job.shot))
                    bars[job.shot.id] = (bar, bar.__enter__())
                    futures[job.index] = pool.submit(render_clip, self.animator, plan, job, cache.root, None)
                for job in jobs:
                    if job.cached is None:
                        job.cached = futures[job.index].result()
                        bars.pop(job.shot.id)[0].__exit__(None, None, None)
                        rendered["clips"] += 1
                        animated(1)
                    yield job.cached
        finally:
            progress.put(None)
            relay_thread.join(5)


@dataclass
class ClipJob:
    index: int
    shot: Shot
    keyframe: Path
    guide: Any
    key: str
    cached: Path | None
    fill: Any = None  # FillSettings when the animator renders anchors and the infill makes the rest
    colour_reference: Path | None = None  # the keyframe whose colours this shot's place keeps
    deflicker: bool = False


_PROGRESS: Any = None  # a worker process's queue back to the parent's progress bars


def _worker_init(progress: Any) -> None:
    global _PROGRESS
    _PROGRESS = progress
    from stitching.fill import one_thread_each

    one_thread_each()


def render_clip(
    animator: Any, plan: StoryPlan, job: ClipJob, cache_root: Path, advance: Any = None, steps: Any = None
) -> Path:
    """Animate one shot into the cache. Runs in this process or in a worker: it touches no shared state."""
    from stitching import prefetch, write_video

    if advance is None:
        queue, shot_id = _PROGRESS, job.shot.id
        advance = (lambda n=1: queue.put((shot_id, n))) if queue is not None else (lambda n=1: None)
    count = plan.shot_frames(job.shot)
    shape = (plan.height, plan.width, 3)
    with Image.open(job.keyframe) as image:
        image.load()
    if job.fill is None:
        frames = animator.animate(image, job.shot, plan, job.guide, **_progress_kwarg(animator.animate, steps))
    else:
        frames = _anchored(animator, image, plan, job, steps, shape, cache_root)
    frames = _exactly(frames, count, shape, advance)
    if job.colour_reference is not None:
        from stitching.smooth import colour_match

        with Image.open(job.colour_reference) as reference:
            match = colour_match(np.asarray(reference.convert("RGB")), np.asarray(image.convert("RGB")))
        frames = map(match, frames)
    if job.deflicker:
        from stitching.smooth import deflicker

        frames = deflicker(frames)
    checked = prefetch(frames)
    path = Cache(cache_root).put("clip", job.key, ".mkv", lambda p: write_video(checked, p, plan.fps, lossless=True))
    _return_frames_to_the_os()
    return path


def _anchored(
    animator: Any, keyframe: Image.Image, plan: StoryPlan, job: ClipJob, steps: Any, shape: tuple, cache_root: Path
) -> Any:
    """The shot rendered at 1/stride of the frame rate, brought back to it by the infill (NUWA-XL).

    The animator sees the same shot at the anchor rate, lengthened to the anchor on or after the last frame,
    so every anchor falls on a frame of the film and actions keep their times.
    """
    from stitching.fill import CachedInfill, anchor_count, fill_clip

    stride = job.fill.stride_for(plan.fps)
    anchors = anchor_count(plan.shot_frames(job.shot), stride)
    rate = plan.fps // stride
    slow = plan.model_copy(update={"fps": rate})
    shot = job.shot.model_copy(update={"duration": anchors / rate})
    frames = animator.animate(keyframe, shot, slow, job.guide, **_progress_kwarg(animator.animate, steps))
    exact = _exactly(frames, anchors, shape, lambda n=1: None)
    infiller = _infiller(job.fill.infill)
    if not getattr(infiller, "cheap", False):  # a model's segments are worth keeping; flow's are not
        infiller = CachedInfill(infiller, cache_root)
    return fill_clip(exact, plan.shot_frames(job.shot), stride, job.fill.depth, infiller)


def _infiller(spec: Any) -> Any:
    return _named_infiller(spec) if isinstance(spec, str) else spec


@lru_cache(maxsize=2)
def _named_infiller(spec: str) -> Any:
    """One infill backend per process: a model-backed one loads its weights once per run, not once per shot."""
    from stitching.infill import INFILLERS

    return INFILLERS.create(spec)


def _return_frames_to_the_os() -> None:
    """Hand the heap's free frame buffers back to the OS once a shot is done.

    glibc serves frame-sized buffers from its heap once it has seen a few freed, and keeps what is freed;
    without a trim, resident memory creeps up with the length of the film.
    """
    import contextlib
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class StepBar:
    """A bar for one backend call's denoising steps, opened at the first step, when the total is known."""

    def __init__(self, reporter: Reporter, name: str) -> None:
        self.reporter, self.name = reporter, name
        self._bar: Any = None
        self._advance: Any = None
        self._done = 0

    def __enter__(self) -> StepBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = self.reporter.task(self.name, total)
            self._advance = self._bar.__enter__()
        self._advance(done - self._done)
        self._done = done

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


# --- helpers --------------------------------------------------------------------------------------


def _progress_kwarg(method: Any, progress: Any) -> dict[str, Any]:
    """Backends that count steps take `progress=`; the protocol does not require it."""
    import inspect

    if progress is None:
        return {}
    try:
        return {"progress": progress} if "progress" in inspect.signature(method).parameters else {}
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return {}


def _close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if callable(close):
        close()


def check_story(story: str) -> None:
    if not story.strip():
        raise StorytellerError("the story is empty: write at least one sentence")
    if len(story) > MAX_STORY_CHARS:
        raise StorytellerError(
            f"the story is {len(story):,} characters; the limit is {MAX_STORY_CHARS:,}: split it into parts"
        )


def _shot_inputs(shot: Shot, plan: StoryPlan) -> dict[str, Any]:
    # The id and transition change where a shot sits, not what it shows: renumbering or a new
    # crossfade must not re-render it.
    return {
        "shot": shot.model_dump(mode="json", exclude={"id", "transition", "guide"}),
        "context": plan.shot_context(shot),
        "frames": plan.shot_frames(shot),
    }


def _counted(frames: Iterable[np.ndarray], advance: Any) -> Iterator[np.ndarray]:
    for frame in frames:
        advance(1)
        yield frame


def _exactly(
    frames: Iterable[np.ndarray], count: int, shape: tuple[int, int, int], advance: Any
) -> Iterator[np.ndarray]:
    """Hold a backend to the plan: exactly `count` frames of the plan's size (a short clip holds its last frame)."""
    last = None
    produced = 0
    for frame in frames:
        if produced == count:
            break
        frame = np.asarray(frame)
        if frame.shape != shape:
            frame = np.asarray(Image.fromarray(frame.astype(np.uint8)).convert("RGB").resize((shape[1], shape[0])))
        last = frame
        produced += 1
        advance(1)
        yield frame
    if last is None:
        raise StorytellerError("the animator produced no frames")
    for _ in range(count - produced):
        advance(1)
        yield last


def _save_plan(plan: StoryPlan, path: Path) -> None:
    """Write plan.json; a different plan already there (perhaps edited by hand) is kept as plan.prev.json."""
    text = plan.model_dump_json(indent=2)
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return
        atomic_write_text(path.with_name("plan.prev.json"), old)
    atomic_write_text(path, text)


def _name(backend: Any) -> str:
    return getattr(backend, "name", type(backend).__name__)


def _config(backend: Any) -> dict[str, Any]:
    config = getattr(backend, "config", None)
    return config() if callable(config) else {}
