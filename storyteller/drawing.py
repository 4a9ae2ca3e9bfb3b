"""One render's drawing: every shot's keyframe, its clip and its stretch of the film, from the cache or
made by the workers, and the film joined from them; the contact sheets. `Storyteller` (storyteller/pipeline.py)
decides what a render is; this is how its pictures are made."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from stitching import contact_sheet
from stitching.fill import SegmentStore, fill_clip
from stitching.schedule import plan_fill
from stitching.timeline import read_planes
from stitching.timeline import segment as timeline_segment
from stitching.timeline import tail as timeline_tail
from storyteller.core.backend import (
    Infiller,
    KeyframeGenerator,
)
from storyteller.core.cache import (
    Cache,
)
from storyteller.core.content import ContentDigest, combined
from storyteller.core.executors import Call, Executor
from storyteller.core.files import read_image
from storyteller.core.models import StoryPlan
from storyteller.core.progress import Advance, Reporter
from storyteller.core.video_io import concat_videos, last_frame, prefetch, write_video
from storyteller.render_plan import (
    FILM_SEGMENT,
    RenderPlan,
    ShotWork,
    clips_needed,
)
from storyteller.work import ClipJob, Worker, card_clip, finish_clip, image_of


class Drawing:
    """The drawing stages of a render, with the backends that draw and the reporter that shows them."""

    def __init__(self, reporter: Reporter, keyframer: KeyframeGenerator, infill: Infiller | None) -> None:
        self.reporter, self.keyframer, self.infill = reporter, keyframer, infill

    def keyframes(self, cache: Cache, work: RenderPlan, workers: Workers, rendered: dict) -> list[Path]:
        """Every shot's keyframe, from the cache or drawn: in waves where characters are remembered, a shot
        drawn once the keyframes it is held to are."""
        found = [cache.get("keyframe", shot.keyframe_key, ".png") for shot in work.shots]
        with self.reporter.stage("keyframes", len(work.shots)) as advance:
            advance(sum(path is not None for path in found))
            missing = [shot for shot, path in zip(work.shots, found, strict=True) if path is None]
            for shot in missing:  # a pinned first frame is read and fitted, never drawn
                if shot.shot.keyframe:
                    fit = functools.partial(_pinned, shot.shot.keyframe, (work.plan.width, work.plan.height))
                    found[shot.index] = cache.put("keyframe", shot.keyframe_key, ".png", fit)
                    advance(1)
            missing = [shot for shot in missing if not shot.shot.keyframe]
            taken = [shot for shot in missing if shot.continues_from is not None]  # from the clip before
            missing = [shot for shot in missing if shot.continues_from is None]
            while missing:
                ready = [s for s in missing if all(found[source] is not None for source in s.memory.values())]
                calls = (
                    Call(
                        "keyframe",
                        (shot.shot, _around(_with_memory(work.plan, shot, found), shot.index)[0]),
                        f"{shot.shot.id} keyframe",
                    )
                    for shot in ready
                )
                for shot, png in zip(ready, workers.map(calls), strict=True):
                    write = lambda p, data=png: p.write_bytes(data)  # noqa: E731
                    found[shot.index] = cache.put("keyframe", shot.keyframe_key, ".png", write)
                    rendered["keyframes"] += 1
                    advance(1)
                missing = [shot for shot in missing if found[shot.index] is None]
            for shot in taken:  # in timeline order: a take of several shots continues shot by shot
                before = work.shots[shot.continues_from]  # type: ignore[index]
                clip = next(self.clips(cache, work, [before], found, workers, _uncounted, rendered))  # type: ignore[arg-type]
                write = lambda p, clip=clip: Image.fromarray(last_frame(clip)).save(p, format="PNG")  # noqa: E731
                found[shot.index] = cache.put("keyframe", shot.keyframe_key, ".png", write)
                advance(1)
        return [path for path in found if path is not None]  # (every one is made now)

    def sheet(self, cache: Cache, work: RenderPlan, keyframes: list[Path]) -> tuple[Path, list[tuple[str, Path]]]:
        """The contact sheet, and one a chapter where the story has them; from the cache or drawn."""
        sheets = [(None, work.sheet_key), *work.chapter_sheet_keys]
        drawn = []
        for scene, key in sheets:
            draw = lambda p, scene=scene: contact_sheet(work.plan, keyframes, p, scene=scene)  # noqa: E731
            drawn.append((scene or "", cache.get("sheet", key, ".png") or cache.put("sheet", key, ".png", draw)))
        return drawn[0][1], drawn[1:]

    def film(
        self,
        cache: Cache,
        work: RenderPlan,
        keyframes: list[Path],
        workers: Workers,
        rendered: dict,
        soundtrack: Future[Path] | None = None,
    ) -> Path:
        """Animate the shots whose clips are needed, encode the segments not in the cache as the clips come,
        and join every segment into the film by copying their packets."""
        plan = work.plan
        # what is really there (an entry the plan counted may turn out damaged, and is made again)
        found = [cache.get_with_facts(FILM_SEGMENT, shot.segment_key, ".mp4") for shot in work.shots]
        if work.direct:
            drawn = self._drawn_segments(cache, work, found, keyframes, workers, rendered)
            return self._joined(cache, work, drawn, soundtrack)
        missing = {shot.index for shot, segment in zip(work.shots, found, strict=True) if segment is None}
        needed = [shot for shot in work.shots if shot.index in clips_needed(plan, missing)]
        with (
            self.reporter.stage("animate", len(needed)) as animated,
            self.reporter.stage("encode", sum(work.shots[i].frames for i in missing)) as encoded,
        ):
            clips = self.clips(cache, work, needed, keyframes, workers, animated, rendered)
            encode = encoder(work)
            segments: list[Path] = []
            tail: list[np.ndarray] | None = None  # the previous shot's last frames, when its clip was read
            for shot, segment in zip(work.shots, found, strict=True):
                clip = next(clips) if shot in needed else None
                if segment is None:
                    # its clip, and across a transition the previous one's tail, were read: clips_needed
                    assert clip is not None and (tail is not None or not plan.overlap_frames(shot.index))
                    kept: list[np.ndarray] = []
                    given = ContentDigest()  # the frames the encoder is given: sealed with the segment
                    timeline = timeline_segment(plan, shot.index, read_planes(clip), tail or [], kept)
                    frames = prefetch(_counted(given.frames(timeline), encoded))
                    segment = cache.put(
                        FILM_SEGMENT,
                        shot.segment_key,
                        ".mp4",
                        functools.partial(_encode_frames, encode, frames),
                        facts=functools.partial(given.facts, "frames"),
                    )
                    rendered["segments"] += 1
                    tail = kept
                else:
                    tail = timeline_tail(plan, shot.index, read_planes(clip)) if clip is not None else None
                segments.append(segment)
        return self._joined(cache, work, segments, soundtrack)

    def _drawn_segments(
        self,
        cache: Cache,
        work: RenderPlan,
        found: list[Path | None],
        keyframes: list[Path],
        workers: Workers,
        rendered: dict,
    ) -> list[Path]:
        """The film's segments, each missing one drawn and encoded by a worker (an animator whose clips are
        not kept): the workers share the encoding, and no clip is written or read back."""
        missing = [shot for shot, segment in zip(work.shots, found, strict=True) if segment is None]
        ends, labels = _chapter_ends(work.plan), _labels(work.plan)
        with (
            self.reporter.stage("chapters", len(ends)) as chapters,
            self.reporter.stage("animate", len(missing)) as animated,
            self.reporter.stage("encode", sum(shot.frames for shot in missing)) as encoded,
        ):
            calls = (
                Call("film_segment", (*_task_of(work.plan, shot), *_keyframe_bytes(shot, keyframes),
                                      _before(work, shot, keyframes), work.encoder), labels[shot.index],
                     shot.frames)
                for shot in missing
            )  # fmt: skip
            made = iter(zip(missing, workers.map(calls), strict=True))
            segments = []
            for shot, segment in zip(work.shots, found, strict=True):
                if segment is None:
                    done, (data, facts) = next(made)
                    assert done is shot
                    write = functools.partial(_write_bytes, data)
                    segment = cache.put(
                        FILM_SEGMENT, shot.segment_key, ".mp4", write, facts=functools.partial(dict, facts)
                    )
                    rendered["segments"] += 1
                    animated(1)
                    encoded(shot.frames)
                chapters(1 if shot.index in ends else 0)
                segments.append(segment)
        return segments

    def _joined(self, cache: Cache, work: RenderPlan, segments: list[Path], soundtrack: Future[Path] | None) -> Path:
        """The segments joined into the film by copying their packets, the soundtrack laid under them."""
        plan = work.plan
        audio = soundtrack.result() if soundtrack is not None else None
        # the film's content: its frames (its segments' digests, in order) and its sound, before the encoders
        parts = [cache.facts(FILM_SEGMENT, shot.segment_key, ".mp4") for shot in work.shots]
        content = {
            "frames": sum(part["frames"] for part in parts),
            "frames_sha256": combined(part["frames_sha256"] for part in parts),
            **(cache.facts("soundtrack", work.soundtrack_key, ".m4a") if audio and work.soundtrack_key else {}),
        }
        join = lambda p: concat_videos(segments, p, plan.fps, audio, plan.chapter_marks())  # noqa: E731
        return cache.put("film", work.film_key, ".mp4", join, facts=lambda: content)

    def clips(
        self,
        cache: Cache,
        work: RenderPlan,
        needed: list[ShotWork],
        keyframes: list[Path],
        workers: Workers,
        animated: Advance,
        rendered: dict,
    ) -> Iterator[Path]:
        """The `needed` clips, in timeline order; those not in the cache are made by the workers while earlier
        segments are encoded."""
        clips = [cache.get("clip", shot.clip.key, ".mkv") for shot in needed]
        missing = [shot for shot, path in zip(needed, clips, strict=True) if path is None]
        animated(len(clips) - len(missing))
        if missing and work.segments_as_tasks:
            results = self._filled_by_segments(cache, work, missing, keyframes, workers)
        else:  # a cheap infill runs inside the shot's task: shipping its frames would cost more than making them
            calls = (
                Call("clip", (*_task_of(work.plan, shot), *_keyframe_bytes(shot, keyframes)), shot.shot.id, shot.frames)
                for shot in missing
            )
            results = workers.map(calls)
        made = iter(zip(missing, results, strict=True))
        for shot, clip in zip(needed, clips, strict=True):
            if clip is None:
                done, data = next(made)
                assert done is shot
                clip = cache.put("clip", shot.clip.key, ".mkv", functools.partial(_write_bytes, data))
                rendered["clips"] += 1
                animated(1)
            yield clip

    def _filled_by_segments(
        self, cache: Cache, work: RenderPlan, missing: list[ShotWork], keyframes: list[Path], workers: Workers
    ) -> Iterator[bytes]:
        """NUWA-XL with a model-backed infill: every shot's anchors, then every infill segment as a task of
        its own (level by level: a level's segments are independent), then each clip joined here."""
        plan, stride = work.plan, work.stride
        store = SegmentStore(cache.root, self.infill)
        anchors: dict[int, Path] = {}
        cards = {shot.index for shot in missing if shot.shot.card is not None}  # no anchors: drawn here
        for shot in (shot for shot in missing if shot.index not in cards):
            assert shot.anchors_key is not None  # (a shot an infill fills has its anchors keyed)
            if found := cache.get("anchors", shot.anchors_key, ".npy"):
                anchors[shot.index] = found
        todo = [shot for shot in missing if shot.index not in anchors and shot.index not in cards]
        with self.reporter.stage("anchors", len(todo)) as advance:
            calls = (
                Call("anchors", (*_task_of(plan, shot), _keyframe_bytes(shot, keyframes)[0]), shot.shot.id)
                for shot in todo
            )
            for shot, data in zip(todo, workers.map(calls), strict=True):
                assert shot.anchors_key is not None
                anchors[shot.index] = cache.put(
                    "anchors", shot.anchors_key, ".npy", functools.partial(_write_bytes, data)
                )
                advance(1)
        levels = plan_fill(stride + 1, stride, work.depth).levels
        for depth, level in enumerate(levels):
            needed = []  # (first, last, times) of every segment of this level not yet in the store
            for shot in (shot for shot in missing if shot.index not in cards):
                for first, last in itertools.pairwise(np.load(anchors[shot.index], mmap_mode="r")):
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
        for shot in missing:
            if shot.index in cards:
                yield card_clip(plan, shot.clip, _keyframe_bytes(shot, keyframes)[0])
                continue
            anchor_frames = (np.array(f) for f in np.load(anchors[shot.index], mmap_mode="r"))
            filled = fill_clip(anchor_frames, shot.frames, stride, work.depth, store)
            keyframe, reference = _keyframe_bytes(shot, keyframes)
            yield finish_clip(filled, plan, shot.clip, image_of(keyframe), reference)


class Workers:
    """The executor's workers for one render, started by the first call that needs them: a render with
    everything cached starts none."""

    def __init__(self, executor: Executor, worker: Worker, reporter: Reporter, tasks: int) -> None:
        self.executor, self.worker, self.reporter, self.tasks = executor, worker, reporter, tasks
        self._stack = ExitStack()
        self._pool: Any = None

    def __enter__(self) -> Workers:
        return self

    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        calls = iter(calls)
        first = next(calls, None)
        if first is None:
            return iter(())
        if self._pool is None:
            worker = self.worker
            self._pool = self._stack.enter_context(
                self.executor.pool(worker, worker.resources(), self.tasks, worker.limit(), self.reporter)
            )
        return self._pool.map(itertools.chain([first], calls))

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)
        if self._pool is None:
            self.worker.close()


def encoder(work: RenderPlan) -> Callable[[Iterable[np.ndarray], Path], int]:
    """write_video(frames, path) with the render's encoder settings: the film's segments and the shots'
    own media are encoded alike."""
    settings = work.encoder
    return functools.partial(write_video, fps=work.plan.fps, crf=settings["crf"], preset=settings["preset"])


def _with_memory(plan: StoryPlan, shot: ShotWork, keyframes: list[Path | None]) -> StoryPlan:
    """The plan as the keyframe model sees it for `shot`: each remembered character's reference is the
    keyframe of its first shot."""
    if not shot.memory:
        return plan
    characters = [
        c.model_copy(update={"reference": str(keyframes[shot.memory[c.id]])}) if c.id in shot.memory else c
        for c in plan.characters
    ]
    return plan.model_copy(update={"characters": characters})


def _around(plan: StoryPlan, index: int) -> tuple[StoryPlan, int]:
    """The plan as one shot's task sees it: that shot and its neighbours (whose transitions touch it), and
    the shot's index among them. A task of a feature film then carries kilobytes, not the whole book, to a
    worker that would otherwise unpickle every shot of it for every shot it draws."""
    first = max(0, index - 1)
    return plan.model_copy(update={"shots": plan.shots[first : index + 2]}), index - first


def _task_of(plan: StoryPlan, shot: ShotWork) -> tuple[StoryPlan, ClipJob]:
    """(plan, clip job) of a shot's task, both seen from the shot's neighbourhood (`_around`)."""
    near, index = _around(plan, shot.index)
    return near, dataclasses.replace(shot.clip, index=index)


def _chapter_ends(plan: StoryPlan) -> set[int]:
    """The index of each chapter's (scene's) last shot: the progress counts chapters done there."""
    starts = [first for _, first in plan.chapters()]
    return {end - 1 for end in [*starts[1:], len(plan.shots)]} if starts else set()


def _labels(plan: StoryPlan) -> list[str]:
    """Each shot's progress label: its id, and in a film of chapters, which chapter it is in."""
    scenes = {scene.id: n for n, (scene, _) in enumerate(plan.chapters(), 1)}
    return [f"ch {scenes[s.scene]}/{len(scenes)} {s.id}" if s.scene in scenes else s.id for s in plan.shots]


def _before(work: RenderPlan, shot: ShotWork, keyframes: list[Path]) -> tuple[Any, bytes, bytes | None] | None:
    """What a worker draws the previous shot's tail from, where a transition blends it into `shot`."""
    if not work.plan.overlap_frames(shot.index):
        return None
    previous = work.shots[shot.index - 1]
    return (previous.clip, *_keyframe_bytes(previous, keyframes))


def _keyframe_bytes(shot: ShotWork, keyframes: list[Path]) -> tuple[bytes, bytes | None]:
    """What a clip's worker needs besides its job: its keyframe, and the keyframe whose colours it keeps."""
    source = shot.colour_source
    return keyframes[shot.index].read_bytes(), keyframes[source].read_bytes() if source is not None else None


def _uncounted(done: int) -> None:
    """A progress count nothing shows (a clip made early, for the keyframe of the shot that continues it)."""


def _pinned(image: str, size: tuple[int, int], path: Path) -> None:
    """A pinned first frame at the plan's size (scaled to cover it, centred), as the keyframe's PNG."""
    pinned = read_image(image, "pinned keyframe")
    ImageOps.fit(pinned, size, Image.Resampling.LANCZOS).save(path, format="PNG")


def _counted(frames: Iterable[np.ndarray], advance: Advance) -> Iterator[np.ndarray]:
    for frame in frames:
        advance(1)
        yield frame


def _encode_frames(encode: Callable[[Any, Path], Any], frames: Any, path: Path) -> None:
    encode(frames, path)


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)
