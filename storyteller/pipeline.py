"""The orchestrator: plan -> retrieve -> keyframes -> animate -> stitch, every artifact cached.

result = Storyteller().make(open("story.txt").read(), name="story")
result.video  # runs/story/story.mp4
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storyteller.cache import Cache, atomic_write_text, publish
from storyteller.errors import StorytellerError
from storyteller.executors import Call
from storyteller.files import MAX_REFERENCE_BYTES, file_digest, local_file
from storyteller.models import MotionGuide, PlanConfig, Shot, StoryPlan
from storyteller.outputs import check_output
from storyteller.progress import QuietReporter, Reporter
from storyteller.work import ClipJob, Worker, finish_clip, image_of

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
        executor: Any = "local",
        fill: Any = "default",
        colour_match: bool = False,
        deflicker: bool = False,
    ) -> None:
        from generators import ANIMATORS, KEYFRAME_GENERATORS
        from planners import PLANNERS
        from retrieval import RETRIEVERS

        self.planner = PLANNERS.create(planner) if isinstance(planner, str) else planner
        self.planned_by: dict | None = None  # set by plan(): which planner made it, and any fallback
        self.keyframer = KEYFRAME_GENERATORS.create(keyframe) if isinstance(keyframe, str) else keyframe
        self.animator = ANIMATORS.create(animator) if isinstance(animator, str) else animator
        self.retriever = RETRIEVERS.create(retriever) if isinstance(retriever, str) else retriever
        self.runs_dir = Path(runs_dir)
        self.reporter = reporter or QuietReporter()
        from storyteller.executors import executor as make_executor

        self.executor = make_executor(executor, max(1, workers))
        self.colour_match, self.deflicker = colour_match, deflicker
        from stitching.fill import FillSettings

        # NUWA-XL: the animator renders every stride-th frame, the infill makes the rest; None renders all
        self.fill: FillSettings | None = FillSettings() if fill == "default" else fill
        self.infill: Any = None
        if self.fill is not None:
            from stitching.infill import INFILLERS

            infill = self.fill.infill  # an unknown infill backend fails now, not mid-render
            self.infill = INFILLERS.create(infill) if isinstance(infill, str) else infill

    # --- the pipeline ---------------------------------------------------------------------------

    def make(
        self, story: str, name: str = "story", output: Path | None = None, overwrite: bool = False, **config: Any
    ) -> RunResult:
        """Plan the story and render it into runs/<name>/; `output` is replaced only if `overwrite`, or if it
        is this run's own earlier film."""
        run_dir = self.runs_dir / name
        if output is not None:
            check_output(output, overwrite=overwrite, run_dir=run_dir)
        plan = self.plan(story, PlanConfig(title=name, cache_dir=run_dir / "cache", **config))
        _save_plan(plan, run_dir / "plan.json")
        return self.render(plan, run_dir, output, overwrite=overwrite)

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        check_story(story)
        with self.reporter.stage("plan", 1) as advance:
            plan = self.planner.plan(story, config)
            advance(1)
        # which planner made the plan (an LLM planner may have fallen back, and says why), for run.json
        self.planned_by = getattr(self.planner, "outcome", None) or {"planner": _name(self.planner)}
        if not isinstance(plan, StoryPlan):
            raise StorytellerError(f"planner {_name(self.planner)} returned {type(plan).__name__}, not a StoryPlan")
        return plan

    def render(self, plan: StoryPlan, run_dir: Path, output: Path | None = None, overwrite: bool = False) -> RunResult:
        """Render a plan; everything already in the cache is reused, so only changed shots are redone."""
        run_dir = Path(run_dir)
        if output is not None:
            check_output(output, inputs=[run_dir / "plan.json"], overwrite=overwrite, run_dir=run_dir)
        cache = Cache(run_dir / "cache")
        cache.sweep()  # temporaries of a run that was killed
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

        # Only work that is not in the cache is scheduled; the workers start only if there is some.
        worker = Worker(self.keyframer, self.animator, self.infill if self._fill_for(plan) is not None else None)
        with _Workers(self.executor, worker, self.reporter, lambda: self._tasks(cache, plan, guides)) as workers:
            clock = time.perf_counter()
            keyframes = self._keyframes(cache, plan, workers, rendered)
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
                film = self._film(cache, plan, jobs, film_key, workers, rendered)
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
        result = RunResult(
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
        _save_record(result, self.executor, self.planned_by)
        return result

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

    def _keyframe_key(self, cache: Cache, shot: Shot, plan: StoryPlan) -> str:
        backend = self.keyframer
        return cache.key("keyframe", _name(backend), _config(backend), _shot_inputs(shot, plan))

    def _keyframes(self, cache: Cache, plan: StoryPlan, workers: _Workers, rendered: dict) -> list[Path]:
        keys = [self._keyframe_key(cache, shot, plan) for shot in plan.shots]
        found = [cache.get("keyframe", key, ".png") for key in keys]
        with self.reporter.stage("keyframes", len(plan.shots)) as advance:
            advance(sum(path is not None for path in found))
            missing = [i for i, path in enumerate(found) if path is None]
            calls = (Call("keyframe", (plan.shots[i], plan), f"{plan.shots[i].id} keyframe") for i in missing)
            for i, png in zip(missing, workers.map(calls), strict=True):
                found[i] = cache.put("keyframe", keys[i], ".png", lambda p, data=png: p.write_bytes(data))
                rendered["keyframes"] += 1
                advance(1)
        return found

    def _fill_for(self, plan: StoryPlan) -> Any:
        return self.fill if self.fill is not None and self.fill.stride_for(plan.fps) > 1 else None

    def _segments_as_tasks(self, plan: StoryPlan) -> bool:
        """A model-backed infill's segments are tasks of their own; a cheap one runs inside the shot's task."""
        return self._fill_for(plan) is not None and not getattr(self.infill, "cheap", False)

    def _clip_jobs(self, cache: Cache, plan: StoryPlan, keyframes: list[Path | None], guides: dict) -> list[ClipJob]:
        """Each shot's clip job; a shot whose keyframe (or colour reference) is not made yet gets no key."""
        jobs = []
        backend = self.animator
        places: dict[tuple, Path | None] = {}  # (location, time of day, weather) -> the first keyframe showing it
        fill = self._fill_for(plan)
        for index, (shot, keyframe) in enumerate(zip(plan.shots, keyframes, strict=True)):
            guide = guides.get(shot.id)
            inputs = {
                **_shot_inputs(shot, plan),
                "keyframe": cache.digest("keyframe", keyframe.stem, ".png") if keyframe else None,
                "guide": guide.model_dump(mode="json") if guide is not None else None,
            }
            reference = None
            known = keyframe is not None
            if self.colour_match and shot.location is not None:
                place = (shot.location, shot.graph.time_of_day, shot.graph.weather)
                if place not in places:  # the first shot of a place keeps its own colours
                    places[place] = keyframe
                elif places[place] != keyframe or keyframe is None:
                    reference = places[place]
                    known = known and reference is not None
                if reference is not None:
                    inputs["colour_reference"] = cache.digest("keyframe", reference.stem, ".png")
                else:
                    inputs["colour_reference"] = None
            if self.deflicker:
                inputs["deflicker"] = True
            if fill is not None:
                inputs["fill"] = {**fill.config(), "stride": fill.stride_for(plan.fps)}
            key = cache.key("clip", _name(backend), _config(backend), inputs) if known else ""
            jobs.append(ClipJob(index, shot, keyframe, guide, key, None, fill, reference, self.deflicker))
        return jobs

    def _tasks(self, cache: Cache, plan: StoryPlan, guides: dict) -> int:
        """How many tasks this render will schedule, at most: the workers started are sized by it."""
        keys = [self._keyframe_key(cache, shot, plan) for shot in plan.shots]
        keyframes = [cache.path("keyframe", k, ".png") if cache.has("keyframe", k, ".png") else None for k in keys]
        jobs = self._clip_jobs(cache, plan, keyframes, guides)
        missing = [job for job in jobs if not job.key or not cache.has("clip", job.key, ".mkv")]
        if self._segments_as_tasks(plan):
            from stitching.fill import anchor_count

            stride = self._fill_for(plan).stride_for(plan.fps)
            return sum(anchor_count(plan.shot_frames(job.shot), stride) for job in missing)  # gaps, and anchors
        return max(len(missing), sum(k is None for k in keyframes))

    def _film(
        self, cache: Cache, plan: StoryPlan, jobs: list[ClipJob], key: str, workers: _Workers, rendered: dict
    ) -> Path:
        """Animate the shots not in the cache and join all of them into the film, both at once."""
        from stitching import prefetch, stitch, write_video

        with (
            self.reporter.stage("animate", len(jobs)) as animated,
            self.reporter.stage("stitch", plan.total_frames) as stitched,
        ):
            clips = self._clips_in_order(cache, plan, jobs, workers, animated, rendered)
            frames = prefetch(_counted(stitch(plan, clips), stitched))
            return cache.put("film", key, ".mp4", lambda p: write_video(frames, p, plan.fps, crf=FILM_ENCODER["crf"]))

    def _clips_in_order(
        self, cache: Cache, plan: StoryPlan, jobs: list[ClipJob], workers: _Workers, animated: Any, rendered: dict
    ) -> Iterator[Path]:
        """Every shot's clip in timeline order; missing ones are made by the workers as the film is encoded."""
        for job in jobs:
            job.cached = cache.get("clip", job.key, ".mkv")
        missing = [job for job in jobs if job.cached is None]
        animated(len(jobs) - len(missing))
        if missing and self._segments_as_tasks(plan):
            results = self._filled_by_segments(cache, plan, missing, workers)
        else:  # a cheap infill runs inside the shot's task: shipping its frames would cost more than making them
            calls = (
                Call("clip", (plan, job, *_keyframe_bytes(job)), job.shot.id, plan.shot_frames(job.shot))
                for job in missing
            )
            results = workers.map(calls)
        made = iter(zip(missing, results, strict=True))
        for job in jobs:
            if job.cached is None:
                done, data = next(made)
                assert done is job
                job.cached = cache.put("clip", job.key, ".mkv", lambda p, d=data: p.write_bytes(d))
                rendered["clips"] += 1
                animated(1)
            yield job.cached

    def _filled_by_segments(
        self, cache: Cache, plan: StoryPlan, missing: list[ClipJob], workers: _Workers
    ) -> Iterator[bytes]:
        """NUWA-XL with a model-backed infill: every shot's anchors, then every infill segment as a task of
        its own (level by level: a level's segments are independent), then each clip joined here."""
        from stitching.fill import SegmentStore, fill_clip
        from stitching.schedule import plan_fill

        fill = self._fill_for(plan)
        stride = fill.stride_for(plan.fps)
        store = SegmentStore(cache.root, self.infill)
        anchors: dict[int, Path] = {}
        keys = {}
        for job in missing:
            inputs = {"clip": job.key, "stride": stride}
            keys[job.index] = cache.key("anchors", _name(self.animator), _config(self.animator), inputs)
            if found := cache.get("anchors", keys[job.index], ".npy"):
                anchors[job.index] = found
        todo = [job for job in missing if job.index not in anchors]
        with self.reporter.stage("anchors", len(todo)) as advance:
            calls = (Call("anchors", (plan, job, _keyframe_bytes(job)[0]), job.shot.id) for job in todo)
            for job, data in zip(todo, workers.map(calls), strict=True):
                write = lambda path, data=data: path.write_bytes(data)  # noqa: E731
                anchors[job.index] = cache.put("anchors", keys[job.index], ".npy", write)
                advance(1)
        levels = plan_fill(stride + 1, stride, fill.depth).levels
        for depth, level in enumerate(levels):
            needed = []  # (first, last, times) of every segment of this level not yet in the store
            for job in missing:
                for first, last in itertools.pairwise(np.load(anchors[job.index], mmap_mode="r")):
                    known = store.known(first, last, list(levels[:depth]), stride)
                    for segment in level:
                        ends = (known[segment.start], known[segment.end])
                        if not store.has(*ends, segment.times):
                            needed.append((*ends, list(segment.times)))
            with self.reporter.stage(f"infill level {depth + 1}", len(needed)) as advance:
                calls = (Call("segment", (np.array(a), np.array(b), t)) for a, b, t in needed)
                for (first, last, times), frames in zip(needed, workers.map(calls), strict=True):
                    store.put(first, last, times, frames)
                    advance(1)
        for job in missing:
            anchor_frames = (np.array(f) for f in np.load(anchors[job.index], mmap_mode="r"))
            filled = fill_clip(anchor_frames, plan.shot_frames(job.shot), stride, fill.depth, store)
            keyframe, reference = _keyframe_bytes(job)
            yield finish_clip(filled, plan, job, image_of(keyframe), reference)


class _Workers:
    """The executor's workers for one render, started by the first call that needs them: a render with
    everything cached starts none."""

    def __init__(self, executor: Any, worker: Worker, reporter: Reporter, tasks: Any) -> None:
        self.executor, self.worker, self.reporter, self.tasks = executor, worker, reporter, tasks
        self._stack = ExitStack()
        self._pool: Any = None

    def __enter__(self) -> _Workers:
        return self

    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        calls = iter(calls)
        first = next(calls, None)
        if first is None:
            return iter(())
        if self._pool is None:
            worker = self.worker
            self._pool = self._stack.enter_context(
                self.executor.pool(worker, worker.resources(), self.tasks(), worker.limit(), self.reporter)
            )
        return self._pool.map(itertools.chain([first], calls))

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)
        if self._pool is None:
            self.worker.close()


def _keyframe_bytes(job: ClipJob) -> tuple[bytes, bytes | None]:
    reference = job.colour_reference.read_bytes() if job.colour_reference is not None else None
    return job.keyframe.read_bytes(), reference


def _save_record(result: RunResult, executor: Any, planned_by: dict | None = None) -> None:
    """run.json: what the last render did (which executor, what it found cached, what it made, how long)."""
    record = {
        **({"plan": planned_by} if planned_by else {}),
        "executor": getattr(executor, "name", type(executor).__name__),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "cache_hits": result.cache_hits,
        "rendered": result.rendered,
        "video": str(result.video),
    }
    atomic_write_text(result.run_dir / "run.json", json.dumps(record, indent=2))


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
        "references": _reference_digests(shot, plan),
    }


def _reference_digests(shot: Shot, plan: StoryPlan) -> dict[str, str]:
    """The content of each reference image the shot's characters have: a new picture at the same path
    must make a new keyframe. (Checked here, before anything opens it: a local regular file, size-capped.)"""
    digests = {}
    for cid in shot.characters:
        character = plan.character(cid)
        if character is not None and character.reference:
            digests[cid] = _digest_of(local_file(character.reference, "reference image", MAX_REFERENCE_BYTES))
    return digests


def _digest_of(path: Path) -> str:
    info = path.stat()
    return _digest_cached(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=256)
def _digest_cached(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(Path(path))


def _counted(frames: Iterable[np.ndarray], advance: Any) -> Iterator[np.ndarray]:
    for frame in frames:
        advance(1)
        yield frame


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
