"""Join shot clips into one stream of frames with the plan's transitions.

Only the frames a crossfade needs are held back (at most half a shot), so memory stays flat however
long the film is. Coarse-to-fine infill (NUWA-XL) plugs in per shot before this join.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from stitching.video_io import read_video
from storyteller.models import StoryPlan


def read_planes(path: Path) -> Iterator[np.ndarray]:
    return read_video(path, layout="yuv420p")


def stitch(
    plan: StoryPlan, clips: Iterable[Path], reader: Callable[[Path], Iterator[np.ndarray]] = read_planes
) -> Iterator[np.ndarray]:
    """Yield the frames of the whole film, `plan.total_frames` of them, in the layout `reader` gives
    (I420 by default: a crossfade blends the planes, which is the same as blending the pixels).
    `clips` may be a generator that renders each clip just before it is needed."""
    held: deque[np.ndarray] = deque()
    for index, clip in enumerate(clips):
        overlap = plan.overlap_frames(index)
        next_overlap = plan.overlap_frames(index + 1) if index + 1 < len(plan.shots) else 0
        expected = plan.shot_frames(plan.shots[index])
        frames = reader(clip)
        for k, frame in enumerate(frames):
            if k >= expected:
                break
            if k < overlap:  # crossfade: blend the previous shot's tail into this head
                weight = (k + 1) / (overlap + 1)
                frame = _blend(held.popleft(), frame, weight)
            if k >= expected - next_overlap:
                held.append(frame)
            else:
                yield frame


def _blend(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    mixed = a.astype(np.float32) * (1 - weight) + b.astype(np.float32) * weight
    return mixed.round().astype(np.uint8)
