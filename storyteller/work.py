"""The work an executor runs: a shot's keyframe, its clip (or its anchors), one infill segment.

A `Worker` holds the stage backends. It is pickled once per worker process or Ray actor and keeps its
backends (and their models, once loaded) between calls. Calls take plain values and return bytes or
arrays, never paths: only the driver writes the run directory, so workers need no shared disk, and a
worker killed mid-call leaves nothing behind that a later run could trust.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from storyteller.errors import StorytellerError
from storyteller.executors import Resources, resources_of
from storyteller.models import Shot, StoryPlan


@dataclass
class ClipJob:
    """One shot's clip: what goes into it and the cache key that names it."""

    index: int
    shot: Shot
    keyframe: Path
    guide: Any
    key: str
    cached: Path | None
    fill: Any = None  # FillSettings when the animator renders anchors and the infill makes the rest
    colour_reference: Path | None = None  # the keyframe whose colours this shot's place keeps
    deflicker: bool = False


class Worker:
    """The backends of the render stages, loaded where the worker runs."""

    def __init__(self, keyframer: Any, animator: Any, infill: Any = None) -> None:
        self.keyframer, self.animator, self.infill = keyframer, animator, infill
        self._stage: str | None = None

    # --- what the executor asks before starting workers ---------------------------------------

    def backends(self) -> list[Any]:
        return [b for b in (self.keyframer, self.animator, self.infill) if b is not None]

    def resources(self) -> Resources:
        needs = Resources()
        for backend in self.backends():
            needs = needs | resources_of(backend)
        return needs

    def limit(self) -> int:
        """How many of these may run on one machine: a backend holding one model per device says 1."""
        return min(getattr(b, "max_workers", 1 << 16) for b in self.backends())

    def one_thread_each(self) -> None:
        from stitching.fill import one_thread_each

        one_thread_each()

    def _enter(self, stage: str) -> None:
        """Free the models of the stage that is over before this one loads its own (one GPU holds one)."""
        if stage == self._stage:
            return
        users = {"keyframe": [self.keyframer], "clip": [self.animator, self.infill], "segment": [self.infill]}
        keep = {id(b) for b in users[stage]}
        for backend in {id(b): b for b in self.backends()}.values():
            if id(backend) not in keep:
                close(backend)
        self._stage = stage

    def close(self) -> None:
        for backend in self.backends():
            close(backend)

    # --- the calls ---------------------------------------------------------------------------

    def keyframe(self, shot: Shot, plan: StoryPlan, advance: Any = None, steps: Any = None) -> bytes:
        """The shot's keyframe as PNG bytes at the plan's size."""
        self._enter("keyframe")
        backend = self.keyframer
        image = backend.keyframe(shot, plan, **progress_kwarg(backend.keyframe, steps))
        if image.size != (plan.width, plan.height):
            image = image.resize((plan.width, plan.height), Image.LANCZOS)
        # text entries (which backend drew it, say) survive the round trip through the cache
        text = PngImagePlugin.PngInfo()
        for name, value in image.info.items():
            if isinstance(value, str):
                text.add_text(name, value)
        out = io.BytesIO()
        image.save(out, format="PNG", pnginfo=text)
        return out.getvalue()

    def clip(
        self,
        plan: StoryPlan,
        job: ClipJob,
        keyframe: bytes,
        reference: bytes | None,
        advance: Any = None,
        steps: Any = None,
    ) -> bytes:
        """The shot animated, filled and smoothed, as a lossless clip's bytes."""
        self._enter("clip")
        image = image_of(keyframe)
        if job.fill is None:
            animate = self.animator.animate
            frames = animate(image, job.shot, plan, job.guide, **progress_kwarg(animate, steps))
        else:
            from stitching.fill import fill_clip

            anchors = self._anchor_frames(plan, job, image, steps)
            stride = job.fill.stride_for(plan.fps)
            frames = fill_clip(anchors, plan.shot_frames(job.shot), stride, job.fill.depth, self.infill)
        return finish_clip(frames, plan, job, image, reference, advance)

    def anchors(self, plan: StoryPlan, job: ClipJob, keyframe: bytes, advance: Any = None, steps: Any = None) -> bytes:
        """Only the shot's anchor frames, as .npy bytes: a model-backed infill makes the rest elsewhere."""
        self._enter("clip")
        out = io.BytesIO()
        np.save(out, np.stack(list(self._anchor_frames(plan, job, image_of(keyframe), steps))))
        return out.getvalue()

    def segment(
        self, first: np.ndarray, last: np.ndarray, times: list[float], advance: Any = None, steps: Any = None
    ) -> np.ndarray:
        """One infill segment: the frames at `times` (0..1) between two known frames."""
        self._enter("segment")
        return np.stack(self.infill.fill(first, last, times))

    def _anchor_frames(self, plan: StoryPlan, job: ClipJob, image: Image.Image, steps: Any) -> Iterator[np.ndarray]:
        """The shot rendered at 1/stride of the frame rate (NUWA-XL's global pass).

        The animator sees the same shot at the anchor rate, lengthened to the anchor on or after the last
        frame, so every anchor falls on a frame of the film and actions keep their times.
        """
        from stitching.fill import anchor_count

        stride = job.fill.stride_for(plan.fps)
        count = anchor_count(plan.shot_frames(job.shot), stride)
        rate = plan.fps // stride
        slow = plan.model_copy(update={"fps": rate})
        shot = job.shot.model_copy(update={"duration": count / rate})
        animate = self.animator.animate
        frames = animate(image, shot, slow, job.guide, **progress_kwarg(animate, steps))
        return exactly(frames, count, (plan.height, plan.width, 3))


def finish_clip(
    frames: Iterable[np.ndarray],
    plan: StoryPlan,
    job: ClipJob,
    keyframe: Image.Image,
    reference: bytes | None,
    advance: Any = None,
) -> bytes:
    """Hold the frames to the plan, keep the place's colours, ease flicker, encode losslessly: the bytes."""
    from stitching import prefetch, write_video

    frames = exactly(frames, plan.shot_frames(job.shot), (plan.height, plan.width, 3), advance)
    if reference is not None:
        from stitching.smooth import colour_match

        match = colour_match(np.asarray(image_of(reference)), np.asarray(keyframe.convert("RGB")))
        frames = map(match, frames)
    if job.deflicker:
        from stitching.smooth import deflicker

        frames = deflicker(frames)
    checked = prefetch(frames)
    handle, name = tempfile.mkstemp(suffix=".mkv", prefix="storyteller-clip-")
    os.close(handle)
    try:
        write_video(checked, Path(name), plan.fps, lossless=True)
        data = Path(name).read_bytes()
    finally:
        Path(name).unlink(missing_ok=True)
    return_frames_to_the_os()
    return data


def exactly(
    frames: Iterable[np.ndarray], count: int, shape: tuple[int, int, int], advance: Any = None
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
        if advance is not None:
            advance(1)
        yield frame
    if last is None:
        raise StorytellerError("the animator produced no frames")
    for _ in range(count - produced):
        if advance is not None:
            advance(1)
        yield last


def image_of(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.convert("RGB") if image.mode != "RGB" else image.copy()


def progress_kwarg(method: Any, progress: Any) -> dict[str, Any]:
    """Backends that count steps take `progress=`; the protocol does not require it."""
    import inspect

    if progress is None:
        return {}
    try:
        return {"progress": progress} if "progress" in inspect.signature(method).parameters else {}
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return {}


def close(backend: Any) -> None:
    method = getattr(backend, "close", None)
    if callable(method):
        method()


def return_frames_to_the_os() -> None:
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
