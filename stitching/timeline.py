"""Join shot clips into one stream of frames with the plan's transitions.

Transitions: a cut, a crossfade, or a morph (a crossfade along optical flow). Only the frames a
transition needs are held back (at most half a shot), so memory stays flat however
long the film is. Coarse-to-fine infill (NUWA-XL) plugs in per shot before this join.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from stitching.infill import FlowInfill
from storyteller.core.models import StoryPlan
from storyteller.core.video_io import blend, read_video


def read_planes(path: Path) -> Iterator[np.ndarray]:
    return read_video(path, layout="yuv420p")


def stitch(
    plan: StoryPlan, clips: Iterable[Path], reader: Callable[[Path], Iterator[np.ndarray]] = read_planes
) -> Iterator[np.ndarray]:
    """Yield the frames of the whole film, `plan.total_frames` of them, in the layout `reader` gives
    (I420 by default: a crossfade blends the planes, which is the same as blending the pixels).
    `clips` may be a generator that renders each clip just before it is needed."""
    tail: list[np.ndarray] = []
    for index, clip in enumerate(clips):
        kept: list[np.ndarray] = []
        yield from segment(plan, index, reader(clip), tail, kept)
        tail = kept


def segment(
    plan: StoryPlan,
    index: int,
    clip: Iterable[np.ndarray],
    previous_tail: list[np.ndarray],
    keep_tail: list[np.ndarray],
) -> Iterator[np.ndarray]:
    """Shot `index`'s part of the film: from its first frame on the timeline up to where the next shot
    starts. Its head is blended with `previous_tail` (the previous shot's last frames) across a
    transition; its own last frames, which the next shot's transition blends, go to `keep_tail` instead.
    So each shot's segment owns the transition into it, and is made from its clip and its neighbour's."""
    overlap = plan.overlap_frames(index)
    next_overlap = plan.overlap_frames(index + 1) if index + 1 < len(plan.shots) else 0
    expected = plan.shot_frames(plan.shots[index])
    for k, frame in enumerate(clip):
        if k >= expected:
            break
        if k < overlap:  # crossfade: blend the previous shot's tail into this head
            weight = (k + 1) / (overlap + 1)
            if plan.shots[index].transition.kind == "morph":
                frame = _morph(previous_tail[k], frame, weight)
            else:
                frame = blend(previous_tail[k], frame, weight)
        if k >= expected - next_overlap:
            keep_tail.append(frame)
        else:
            yield frame


def tail(plan: StoryPlan, index: int, clip: Iterable[np.ndarray]) -> list[np.ndarray]:
    """The frames of shot `index` that the next shot's transition blends (none for a cut)."""
    # (a transition takes at most half of each shot, so the head's blend never reaches the tail)
    next_overlap = plan.overlap_frames(index + 1) if index + 1 < len(plan.shots) else 0
    expected = plan.shot_frames(plan.shots[index])
    return [frame for k, frame in zip(range(expected), clip, strict=False) if k >= expected - next_overlap]


def _morph(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """A crossfade along optical flow: what the two shots share slides into place instead of ghosting;
    where their flows disagree (different things), the flow infill falls back to the plain blend."""
    import cv2

    planes = a.ndim == 2  # I420 planes (H * 3/2 x W), as the clips are read
    rgb = [cv2.cvtColor(x, cv2.COLOR_YUV2RGB_I420) for x in (a, b)] if planes else [a, b]
    (mixed,) = FlowInfill().fill(rgb[0], rgb[1], [weight])
    return cv2.cvtColor(mixed, cv2.COLOR_RGB2YUV_I420) if planes else mixed
