"""NUWA-XL's coarse-to-fine schedule as a pure function: which frames the global pass makes, and which
independent segments each local level fills between neighbouring known frames.

    fill = plan_fill(length=97, stride=8, depth=2)
    fill.anchors           # (0, 8, 16, ..., 96): rendered by the animator at a low frame rate
    fill.levels[0]         # segments (0 -> 8 fills 4), (8 -> 16 fills 12) ...: all independent
    fill.levels[1]         # (0 -> 4 fills 1, 2, 3), (4 -> 8 fills 5, 6, 7) ...

Every frame is an anchor or filled by exactly one segment, and a segment only needs frames known before
its level, so all segments of a level can run at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    level: int  # 1 is the first local level
    start: int  # the known frame before the gap
    end: int  # the known frame after it
    fill: tuple[int, ...]  # the frames this segment makes, strictly between start and end

    @property
    def times(self) -> tuple[float, ...]:
        """Where the filled frames sit between the ends, as fractions in (0, 1)."""
        return tuple((index - self.start) / (self.end - self.start) for index in self.fill)


@dataclass(frozen=True)
class FillPlan:
    length: int
    anchors: tuple[int, ...]
    levels: tuple[tuple[Segment, ...], ...]

    def segments(self) -> list[Segment]:
        return [segment for level in self.levels for segment in level]


def plan_fill(length: int, stride: int, depth: int = 1) -> FillPlan:
    """Anchors every `stride` frames (and the last frame), then `depth` levels of infill.

    Each level splits every gap between known neighbours into about the same number of parts
    (gap ** (1 / levels left)), so the work is spread evenly over the levels; the last level fills
    whatever is left.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, not {length}")
    if stride < 1 or depth < 1:
        raise ValueError(f"stride and depth must be at least 1, not {stride} and {depth}")
    anchors = sorted({*range(0, length, stride), length - 1})
    known = list(anchors)
    levels: list[tuple[Segment, ...]] = []
    for level in range(1, depth + 1):
        left = depth - level + 1
        segments = []
        for start, end in itertools.pairwise(known):
            gap = end - start
            if gap < 2:
                continue
            if left == 1:
                fill = tuple(range(start + 1, end))
            else:
                parts = max(2, round(gap ** (1 / left)))
                fill = tuple(sorted({start + round(k * gap / parts) for k in range(1, parts)} - {start, end}))
            if fill:
                segments.append(Segment(level, start, end, fill))
        levels.append(tuple(segments))
        known = sorted({*known, *(index for segment in segments for index in segment.fill)})
    return FillPlan(length, tuple(anchors), tuple(levels))
