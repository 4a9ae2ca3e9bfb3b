"""Infill: the frames between two known frames. One protocol, interchangeable backends.

`flow` (the default) needs no model: dense optical flow both ways (OpenCV's DIS); each end's flow,
scaled to the in-between time, is inverted (for every in-between pixel: where did it come from?) and
the end's pixels pulled from there; the two are blended by time and by how well each end's flow agrees
with the other's at the pulled pixel (a pixel hidden in the other frame loses to the other end).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from storyteller.core.backend import Infiller
from storyteller.core.configs import Configured
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MotionGuide
from storyteller.core.registry import INFILLERS as INFILLERS  # re-exported: importing it registers flow, hold

INFILLERS.register("flow", "stitching.infill:FlowInfill")
INFILLERS.register("hold", "stitching.infill:HoldInfill")  # (and generators registers "diffusers")


class HoldInfill(Infiller):
    """Each frame held until the next: what a low frame rate looks like. The baseline the fill must beat."""

    name = "hold"
    cheap = True  # remaking a segment costs less than storing it
    frame_cost = 0.0

    def config(self) -> dict[str, Any]:
        return {}

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        return [first if t < 1 else last for t in times]


@dataclass(frozen=True)
class FlowConfig:
    """The flow infill's settings.

    Attributes:
        preset: OpenCV's DIS optical flow preset: "ultrafast", "fast" or "medium" (finer, slower).
        sharpness: how fast an end's weight falls with its two flows' disagreement, per pixel: where the
            forward and backward flows disagree (an occlusion), the end that saw the pixel wins.
    """

    preset: str = "fast"
    sharpness: float = 0.5

    def __post_init__(self) -> None:
        if self.preset not in FLOW_PRESETS:
            raise StorytellerError(f"flow preset '{self.preset}': give one of {', '.join(FLOW_PRESETS)}")


class FlowInfill(Configured, Infiller):
    """Frames between two known frames, each end's pixels carried along the optical flow between them and
    blended by how far along the frame is and how much each end's flow is trusted."""

    name = "flow"
    Config = FlowConfig
    settings: FlowConfig
    cheap = True  # ~6 ms a frame at 512x288: remaking a segment costs less than storing and hashing it
    # declared, ms per megapixel on the reference machine (benchmarks/fill.py measures 34 to 53 from 512x288
    # to 1024x576, more on tiny frames): several times what the animatic takes to draw a frame
    frame_cost = 40.0

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
        forward = flow(small[0], small[1], self.settings.preset)  # where each pixel of `first` goes in `last`
        backward = flow(small[1], small[0], self.settings.preset)
        trust_first = np.exp(-self.settings.sharpness * scale * disagreement(forward, backward))
        trust_last = np.exp(-self.settings.sharpness * scale * disagreement(backward, forward))
        full, grid = _grid(h, w), _grid(h // scale, w // scale)
        frames = []
        for t in times:
            # each end's flow carried forward to time t says, for each in-between pixel, where it came from
            pulled, weights = [], []
            for image, motion, trust, share in (
                (first, t * forward, trust_first, 1 - t),
                (last, (1 - t) * backward, trust_last, t),
            ):
                back = invert(motion, grid)
                # how much to believe this end here: its flow's agreement at the pixel it is pulled from
                landed = _pull(trust, back, grid)
                if scale > 1:
                    back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * scale
                    landed = cv2.resize(landed, (w, h), interpolation=cv2.INTER_LINEAR)
                pulled.append(_pull(np.ascontiguousarray(image), back, full))
                # a trace of the plain crossfade, so a pixel neither end vouches for is still filled
                weights.append(landed * share + 1e-4 * share)
            frames.append(cv2.blendLinear(pulled[0], pulled[1], weights[0], weights[1]))
        return frames


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> np.ndarray:
    grid = np.mgrid[0:h, 0:w].astype(np.float32)[::-1]  # x, y
    grid.flags.writeable = False
    return grid


def _pull(image: np.ndarray, back: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """image sampled at each pixel's position plus `back` (bilinear, edges repeated)."""
    import cv2

    return cv2.remap(
        image, grid[0] + back[..., 0], grid[1] + back[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


FLOW_PRESETS = ("ultrafast", "fast", "medium")


def flow(source: np.ndarray, target: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Dense flow (H x W x 2, pixels) from `source` to `target`: DIS on grey levels."""
    import cv2

    presets = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }
    dis = cv2.DISOpticalFlow_create(presets[preset])  # type: ignore[attr-defined]  # (missing from its stubs)
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (source, target)]
    return dis.calc(grey[0], grey[1], None)


def invert(motion: np.ndarray, grid: np.ndarray, rounds: int = 4) -> np.ndarray:
    """For each pixel of the in-between frame, the displacement back to the pixel that moved there.

    Solves back(x) = -motion(x + back(x)) by fixed-point iteration, starting from -motion(x): where a
    moving thing meets a still one the iteration may settle on the wrong side, and that pixel's source is
    then one whose flow the other end contradicts, which `trust` weighs down.
    """
    back = -motion
    for _ in range(rounds):
        back = -_pull(motion, back, grid)
    return back


def disagreement(there: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Per pixel of the source, how far going there and coming back misses (0 where both flows agree)."""
    import cv2

    miss = there + _pull(back, there, _grid(*there.shape[:2]))
    return cv2.magnitude(miss[..., 0], miss[..., 1])
