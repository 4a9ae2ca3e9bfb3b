"""The work an executor runs: a shot's keyframe, its clip (or its anchors), one infill segment.

A `Worker` holds the stage backends. It is pickled once per worker process or Ray actor and keeps its
backends (and their models, once loaded) between calls. Calls take plain values and return bytes or
arrays, never paths: only the driver writes the run directory, so workers need no shared disk, and a
worker killed mid-call leaves nothing behind that a later run could trust.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import itertools
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from stitching.fill import anchor_count, fill_clip, one_thread_each
from stitching.smooth import colour_match, deflicker
from stitching.timeline import segment as timeline_segment
from storyteller.core.backend import UNLIMITED, Animator, Backend, Infiller, KeyframeGenerator, Progress, Resources
from storyteller.core.cards import card_frames, title_card
from storyteller.core.content import ContentDigest
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MotionGuide, Shot, StoryPlan
from storyteller.core.progress import Advance, still
from storyteller.core.video_io import prefetch, to_planes, write_video


@dataclass(frozen=True, kw_only=True)
class ClipJob:
    """One shot's clip, as the worker makes it: everything but the keyframe's (and colour reference's)
    bytes, which travel beside it. Built once, in the render plan; never changed after."""

    index: int
    shot: Shot
    guide: MotionGuide | None
    key: str  # the cache key that names the clip
    stride: int = 1  # 1: the animator renders every frame; n: every n-th (anchors), the infill the rest
    depth: int = 1  # levels of coarse-to-fine infill between anchors
    deflicker: bool = False


class Worker:
    """The backends of the render stages, loaded where the worker runs."""

    def __init__(self, keyframer: KeyframeGenerator, animator: Animator, infill: Infiller | None = None) -> None:
        self.keyframer, self.animator, self.infill = keyframer, animator, infill
        self._stage: str | None = None

    # --- what the executor asks before starting workers ---------------------------------------

    def backends(self) -> list[Backend]:
        return [b for b in (self.keyframer, self.animator, self.infill) if b is not None]

    def resources(self) -> Resources:
        needs = Resources()
        for backend in self.backends():
            needs = needs | backend.resources()
        return needs

    def limit(self) -> int:
        """How many of these may run on one machine: a backend holding one model per device says 1."""
        return min((b.max_workers for b in self.backends()), default=UNLIMITED)

    def one_thread_each(self) -> None:
        one_thread_each()

    def _enter(self, stage: str) -> None:
        """Free the models of the stage that is over before this one loads its own (one GPU holds one)."""
        if stage == self._stage:
            return
        users: dict[str, list[Any]] = {
            "keyframe": [self.keyframer], "clip": [self.animator, self.infill], "segment": [self.infill],
        }  # fmt: skip
        keep = {id(b) for b in users[stage]}
        for backend in {id(b): b for b in self.backends()}.values():
            if id(backend) not in keep:
                backend.close()
        self._stage = stage

    def close(self) -> None:
        for backend in self.backends():
            backend.close()

    # --- the calls ---------------------------------------------------------------------------

    def keyframe(self, shot: Shot, plan: StoryPlan, advance: Advance = still, steps: Progress | None = None) -> bytes:
        """The shot's keyframe as PNG bytes at the plan's size."""
        if shot.card is not None:  # a title card looks the same whoever draws the pictures
            image = title_card(shot.card, plan.width, plan.height)
        else:
            self._enter("keyframe")
            image = self.keyframer.keyframe(shot, plan, progress=steps)
        if image.size != (plan.width, plan.height):
            image = image.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
        # text entries (which backend drew it, say) survive the round trip through the cache
        text = PngImagePlugin.PngInfo()
        for name, value in image.info.items():
            if isinstance(name, str) and isinstance(value, str):
                text.add_text(name, value)
        out = io.BytesIO()
        image.save(out, format="PNG", pnginfo=text, compress_level=1)  # a feature has thousands: fast, 10 % larger
        return out.getvalue()

    def clip(
        self,
        plan: StoryPlan,
        job: ClipJob,
        keyframe: bytes,
        reference: bytes | None,
        advance: Advance = still,
        steps: Progress | None = None,
    ) -> bytes:
        """The shot animated, filled and smoothed, as a lossless clip's bytes."""
        if job.shot.card is not None:
            return card_clip(plan, job, keyframe, advance)
        image = image_of(keyframe)
        self._enter("clip")
        if job.stride == 1:
            frames = self.animator.animate(image, job.shot, plan, job.guide, progress=steps)
        else:
            anchors = self._anchor_frames(plan, job, image, steps)
            frames = fill_clip(anchors, plan.shot_frames(job.shot), job.stride, job.depth, self.infill)
        return finish_clip(frames, plan, job, image, reference, advance)

    def film_segment(
        self,
        plan: StoryPlan,
        job: ClipJob,
        keyframe: bytes,
        reference: bytes | None,
        before: tuple[ClipJob, bytes, bytes | None] | None,
        encoder: dict[str, Any],
        advance: Advance = still,
        steps: Progress | None = None,
    ) -> tuple[bytes, dict[str, Any]]:
        """The shot's stretch of the film, H.264, straight from its frames (an animator whose clips are not
        kept): the transition into it blended with the previous shot's tail, drawn again here from `before`
        (its job, keyframe and colour reference). Returns the segment's bytes and the digest of the frames
        the encoder was given, which are those the kept-clip path gives it."""
        overlap = plan.overlap_frames(job.index)
        tail = []
        if before is not None and overlap:
            previous, previous_keyframe, previous_reference = before
            first = plan.shot_frames(previous.shot) - overlap
            tail = [to_planes(f) for f in self._frames(plan, previous, previous_keyframe, previous_reference, first)]
        planes = map(to_planes, self._frames(plan, job, keyframe, reference, 0, advance))
        given = ContentDigest()
        frames = given.frames(timeline_segment(plan, job.index, planes, tail, []))
        data = _encoded(prefetch(frames), ".mp4", plan.fps, crf=encoder["crf"], preset=encoder["preset"])
        return data, given.facts("frames")

    def _frames(
        self,
        plan: StoryPlan,
        job: ClipJob,
        keyframe: bytes,
        reference: bytes | None,
        first: int,
        advance: Advance = still,
    ) -> Iterator[np.ndarray]:
        """The shot's frames from `first` on, as its clip holds them (held to the plan, colours kept)."""
        image, count = image_of(keyframe), plan.shot_frames(job.shot)
        if job.shot.card is not None:
            frames: Iterable[np.ndarray] = itertools.islice(card_frames(image, count, plan.fps), first, None)
        else:
            self._enter("clip")
            frames = self.animator.frames_from(image, job.shot, plan, job.guide, first)
        return _exact_and_matched(frames, plan, count - first, image, reference, advance)

    def anchors(
        self, plan: StoryPlan, job: ClipJob, keyframe: bytes, advance: Advance = still, steps: Progress | None = None
    ) -> bytes:
        """Only the shot's anchor frames, as .npy bytes: a model-backed infill makes the rest elsewhere."""
        self._enter("clip")
        out = io.BytesIO()
        np.save(out, np.stack(list(self._anchor_frames(plan, job, image_of(keyframe), steps))))
        return out.getvalue()

    def segment(
        self,
        first: np.ndarray,
        last: np.ndarray,
        times: list[float],
        advance: Advance = still,
        steps: Progress | None = None,
    ) -> np.ndarray:
        """One infill segment: the frames at `times` (0..1) between two known frames."""
        self._enter("segment")
        assert self.infill is not None, "an infill segment asked of a worker with no infill backend"
        return np.stack(self.infill.fill(first, last, times))

    def _anchor_frames(
        self, plan: StoryPlan, job: ClipJob, image: Image.Image, steps: Progress | None
    ) -> Iterator[np.ndarray]:
        """The shot rendered at 1/stride of the frame rate (NUWA-XL's global pass).

        The animator sees the same shot at the anchor rate, lengthened to the anchor on or after the last
        frame, so every anchor falls on a frame of the film and actions keep their times.
        """
        stride = job.stride
        count = anchor_count(plan.shot_frames(job.shot), stride)
        rate = plan.fps // stride
        slow = plan.model_copy(update={"fps": rate})
        shot = job.shot.model_copy(update={"duration": count / rate})
        frames = self.animator.animate(image, shot, slow, job.guide, progress=steps)
        return exactly(frames, count, (plan.height, plan.width, 3))


def finish_clip(
    frames: Iterable[np.ndarray],
    plan: StoryPlan,
    job: ClipJob,
    keyframe: Image.Image,
    reference: bytes | None,
    advance: Advance = still,
) -> bytes:
    """Hold the frames to the plan, keep the place's colours, ease flicker, encode losslessly: the bytes."""
    frames = _exact_and_matched(frames, plan, plan.shot_frames(job.shot), keyframe, reference, advance)
    if job.deflicker:
        frames = deflicker(frames)
    checked = prefetch(map(to_planes, frames))  # stored as the film is made: I420, converted as it converts
    return _encoded(checked, ".mkv", plan.fps, lossless=True)


def _encoded(frames: Iterable[np.ndarray], suffix: str, fps: int, **settings: Any) -> bytes:
    """The frames encoded (write_video's `settings`) through a temporary file: the video's bytes. Only the
    driver writes the run directory, so a worker hands back bytes, never a path."""
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="storyteller-")
    os.close(handle)
    try:
        write_video(frames, Path(name), fps, **settings)
        data = Path(name).read_bytes()
    finally:
        Path(name).unlink(missing_ok=True)
    return_frames_to_the_os()
    return data


def _exact_and_matched(
    frames: Iterable[np.ndarray],
    plan: StoryPlan,
    count: int,
    keyframe: Image.Image,
    reference: bytes | None,
    advance: Advance = still,
) -> Iterator[np.ndarray]:
    """Exactly `count` frames of the plan's size, in the colours of `reference` (a keyframe) where given."""
    held = exactly(frames, count, (plan.height, plan.width, 3), advance)
    if reference is None:
        return held
    match = colour_match(np.asarray(image_of(reference)), np.asarray(keyframe.convert("RGB")))
    return map(match, held)


def card_clip(plan: StoryPlan, job: ClipJob, keyframe: bytes, advance: Advance = still) -> bytes:
    """A title card's clip: its keyframe (the card), faded in and out; no backend needed."""
    image = image_of(keyframe)
    return finish_clip(card_frames(image, plan.shot_frames(job.shot), plan.fps), plan, job, image, None, advance)


def exactly(
    frames: Iterable[np.ndarray], count: int, shape: tuple[int, int, int], advance: Advance = still
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


def image_of(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.convert("RGB") if image.mode != "RGB" else image.copy()


def return_frames_to_the_os() -> None:
    """Hand the heap's free frame buffers back to the OS once a shot is done.

    glibc serves frame-sized buffers from its heap once it has seen a few freed, and keeps what is freed;
    without a trim, resident memory creeps up with the length of the film.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)
