"""Infill: the frames between two known frames. One protocol, interchangeable backends.

`flow` (the default) needs no model: dense optical flow both ways (OpenCV's DIS), each end splatted
forward to the in-between time along its flow, the two blended by time and by how much each end's flow
agrees with the other's (where one end's pixels are hidden in the other frame, the other end wins).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from storyteller.models import MotionGuide
from storyteller.registry import Registry


@runtime_checkable
class Infiller(Protocol):
    name: str

    def config(self) -> dict[str, Any]: ...

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        """RGB frames at each time in (0, 1) between `first` (0) and `last` (1), same size and dtype."""
        ...


INFILLERS: Registry[Infiller] = Registry("infill backend", "storyteller.infill")
INFILLERS.register("flow", "stitching.infill:FlowInfill")
INFILLERS.register("hold", "stitching.infill:HoldInfill")


class HoldInfill:
    """Each frame held until the next: what a low frame rate looks like. The baseline the fill must beat."""

    name = "hold"

    def config(self) -> dict[str, Any]:
        return {}

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        return [first if t < 1 else last for t in times]


class FlowInfill:
    name = "flow"

    def __init__(self, preset: str = "fast", sharpness: float = 0.5) -> None:
        self.preset = preset
        self.sharpness = sharpness  # how fast an end's weight falls with its flows' disagreement, per pixel

    def config(self) -> dict[str, Any]:
        return {"preset": self.preset, "sharpness": self.sharpness, "version": 2}

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        import cv2

        if not times:
            return []
        h, w = first.shape[:2]
        # flow is smooth: on big frames it is found, checked and carried forward at half size (4x cheaper)
        scale = 2 if min(h, w) >= 256 else 1
        small = [cv2.resize(f, (w // scale, h // scale), interpolation=cv2.INTER_AREA) for f in (first, last)]
        forward = flow(small[0], small[1], self.preset)  # where each pixel of `first` goes in `last`
        backward = flow(small[1], small[0], self.preset)
        trust_first = np.exp(-self.sharpness * scale * disagreement(forward, backward))
        trust_last = np.exp(-self.sharpness * scale * disagreement(backward, forward))
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        a, b = first.astype(np.float32), last.astype(np.float32)
        frames = []
        for t in times:
            # each end's flow carried forward to time t says, for each in-between pixel, where it came from
            pulled, weights = [], []
            for image, motion, trust, share in (
                (a, t * forward, trust_first, 1 - t),
                (b, (1 - t) * backward, trust_last, t),
            ):
                back, landed = splat(-motion, motion, trust)
                if scale > 1:
                    back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * scale
                    landed = cv2.resize(landed, (w, h), interpolation=cv2.INTER_LINEAR)
                pulled.append(
                    cv2.remap(
                        image, xs + back[..., 0], ys + back[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
                    )
                )
                weights.append(landed * share)
            total = weights[0] + weights[1]
            hole = total < 1e-3  # nothing landed (uncovered background): the plain crossfade there
            total[hole] = 1.0
            mixed = pulled[0] * (weights[0] / total)[..., None]
            mixed += pulled[1] * (weights[1] / total)[..., None]
            if hole.any():
                mixed[hole] = (1 - t) * a[hole] + t * b[hole]
            frames.append(np.clip(mixed + 0.5, 0, 255).astype(np.uint8))
        return frames


def flow(source: np.ndarray, target: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Dense flow (H x W x 2, pixels) from `source` to `target`: DIS on grey levels."""
    import cv2

    presets = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }
    dis = cv2.DISOpticalFlow_create(presets[preset])
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (source, target)]
    return dis.calc(grey[0], grey[1], None)


def disagreement(there: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Per pixel of the source, how far going there and coming back misses (0 where both flows agree)."""
    import cv2

    h, w = there.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    returned = cv2.remap(
        back, xs + there[..., 0], ys + there[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.linalg.norm(there + returned, axis=2)


def splat(image: np.ndarray, motion: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward-warp: every pixel moved by `motion`, shared bilinearly among the four pixels it lands
    between. Returns the normalised image and the weight that landed on each pixel."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = xs + motion[..., 0], ys + motion[..., 1]
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    colour = np.zeros((h * w, image.shape[2]), np.float64)
    landed = np.zeros(h * w, np.float64)
    flat = image.reshape(-1, image.shape[2])
    for dx, dy, share in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        cx, cy = x0 + dx, y0 + dy
        inside = ((cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)).ravel()
        index = (cy * w + cx).ravel()[inside]
        amount = (share * weight).ravel()[inside]
        landed += np.bincount(index, amount, h * w)
        for channel in range(image.shape[2]):
            colour[:, channel] += np.bincount(index, amount * flat[inside, channel], h * w)
    out = (colour / np.maximum(landed, 1e-9)[:, None]).reshape(image.shape).astype(np.float32)
    return out, landed.reshape(h, w).astype(np.float32)
