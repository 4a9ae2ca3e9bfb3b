"""Bring a shot from its anchors (rendered at a low frame rate) to the target frame rate, coarse to fine.

The gap between two neighbouring anchors is filled level by level by the schedule (stitching.schedule);
gaps share nothing, so they may run anywhere at once; here a shot's gaps stream one after another inside
the process rendering that shot, and shots run on the render pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from stitching.schedule import plan_fill
from storyteller.core.backend import Infiller
from storyteller.core.cache import Cache
from storyteller.core.errors import StorytellerError


@dataclass(frozen=True)
class FillSettings:
    """How the fill runs: every `stride`-th frame is rendered, `depth` levels fill the rest."""

    infill: Any = "flow"  # a registered name ("diffusers:MODEL" too), or an infill backend object
    # 2 by default: the animatic's fastest moves (a punch) cross ~25 px in two frames, which flow follows;
    # over four frames small fast things ghost. Diffusion animators are worth a longer stride.
    stride: int = 2
    depth: int = 1

    def stride_for(self, fps: int) -> int:
        """The largest stride <= the asked one that divides the frame rate, so anchors fall on whole frames
        of a whole-number anchor rate."""
        return max(s for s in range(1, max(1, self.stride) + 1) if fps % s == 0)

    def config(self) -> dict[str, Any]:
        infill = self.infill
        if not isinstance(infill, str):
            infill = {"name": getattr(infill, "name", type(infill).__name__), "config": infill.config()}
        return {"infill": infill, "stride": self.stride, "depth": self.depth}


AUTO = "auto"  # the default: fill only where it pays (see fill_pays)


def fill_pays(drawn: float | None, made: float | None) -> tuple[bool, str]:
    """Whether NUWA-XL's infill is worth it, and why: when the infill makes a frame for less than the
    animator draws one, by the costs both declare (ms per megapixel; None: unknown, as for a model, taken as
    costly). Declared, never measured: the same story makes the same film on a busy machine or a fast one.
    A model animator always gains from it; the animatic, which draws a frame for an eighth of what flow
    infill costs, never does."""
    if drawn is None:
        return True, "drawing a frame costs a model call: the infill makes the frames between drawn ones"
    if made is None:
        return False, "the infill's cost is unknown (a model): every frame drawn"
    if made < drawn:
        return True, f"infilling a frame ({made:g} ms/MP) costs less than drawing one ({drawn:g} ms/MP)"
    return False, f"drawing a frame ({drawn:g} ms/MP) costs no more than infilling one ({made:g} ms/MP)"


def anchor_count(frames: int, stride: int) -> int:
    """Anchors needed so the last one falls on or after the shot's last frame."""
    return -(-(frames - 1) // stride) + 1


def fill_gap(first: np.ndarray, last: np.ndarray, stride: int, depth: int, infiller: Any) -> list[np.ndarray]:
    """The `stride - 1` frames strictly between two anchors, made coarse to fine."""
    schedule = plan_fill(stride + 1, stride, depth)
    known: dict[int, np.ndarray] = {0: first, stride: last}
    for level in schedule.levels:
        made: dict[int, np.ndarray] = {}
        for segment in level:  # independent: each needs only frames known before this level
            frames = infiller.fill(known[segment.start], known[segment.end], list(segment.times))
            made.update(zip(segment.fill, frames, strict=True))
        known.update(made)
    return [known[i] for i in range(1, stride)]


def fill_clip(
    anchors: Iterable[np.ndarray], count: int, stride: int, depth: int, infiller: Any
) -> Iterator[np.ndarray]:
    """`count` frames at the target rate from anchors every `stride` frames, streamed gap by gap."""
    produced = 0
    previous = None
    for anchor in anchors:
        anchor = np.asarray(anchor)
        if previous is not None:
            for frame in fill_gap(previous, anchor, stride, depth, infiller) if stride > 1 else []:
                if produced == count:
                    return
                produced += 1
                yield frame
        if produced == count:
            return
        produced += 1
        yield anchor
        previous = anchor
    while previous is not None and produced < count:  # fewer anchors than promised: hold the last
        produced += 1
        yield previous


def one_thread_each() -> None:
    """Processes share the cores: OpenCV's own threads would only fight over them."""
    import cv2

    cv2.setNumThreads(1)


class SegmentStore(Infiller):
    """Infill segments kept in the run's cache, keyed by both ends and the times.

    The orchestrator makes each segment of a model-backed infill as a task of its own and keeps it here; as
    an infiller the store only reads, so joining a clip asks no model for anything. A resumed or
    re-rendered shot asks the model only for the segments it has not made yet.
    """

    cheap = True

    def __init__(self, cache_root: Any, infill: Any) -> None:
        self.cache = Cache(cache_root)
        self.name = getattr(infill, "name", type(infill).__name__)
        self.settings = infill.config()

    def key(self, first: np.ndarray, last: np.ndarray, times: Iterable[float]) -> str:
        import hashlib

        ends = [hashlib.sha256(np.ascontiguousarray(f).tobytes()).hexdigest() for f in (first, last)]
        return self.cache.key("segment", self.name, self.settings, {"ends": ends, "times": list(times)})

    def get(self, first: np.ndarray, last: np.ndarray, times: Iterable[float]) -> np.ndarray | None:
        found = self.cache.get("segment", self.key(first, last, times), ".npy")
        return np.load(found) if found is not None else None

    def stored(self, first: np.ndarray, last: np.ndarray, times: Iterable[float]) -> np.ndarray:
        """A segment that must already be made (its level ran before)."""
        frames = self.get(first, last, times)
        if frames is None:
            raise StorytellerError("an infill segment is missing from the cache; run again to make it")
        return frames

    def has(self, first: np.ndarray, last: np.ndarray, times: Iterable[float]) -> bool:
        return self.cache.get("segment", self.key(first, last, times), ".npy") is not None

    def put(self, first: np.ndarray, last: np.ndarray, times: Iterable[float], frames: np.ndarray) -> None:
        def write(path: Any) -> None:
            with open(path, "wb") as out:  # np.save on a path would add its own suffix to the temporary name
                np.save(out, np.asarray(frames))

        self.cache.put("segment", self.key(first, last, times), ".npy", write)

    def known(self, first: np.ndarray, last: np.ndarray, levels: list, stride: int) -> dict[int, np.ndarray]:
        """The frames of one gap known once `levels` are made: its ends and those levels' segments."""
        known = {0: np.asarray(first), stride: np.asarray(last)}
        for level in levels:
            for segment in level:
                frames = self.stored(known[segment.start], known[segment.end], segment.times)
                known.update(zip(segment.fill, frames, strict=True))
        return known

    def config(self) -> dict[str, Any]:
        return self.settings

    def fill(self, first: np.ndarray, last: np.ndarray, times: list[float], guide: Any = None) -> list[np.ndarray]:
        return list(self.stored(first, last, times))
