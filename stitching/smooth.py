"""Smoothing across shots: one look per place, and no flicker.

- `colour_match`: each shot's colours moved to its place's reference (the first shot keyframe at the
  same location, time of day and weather), by matching the mean and spread of each Lab channel
  (Reinhard et al., 2001). Diffusion models drift in colour from shot to shot; a place should not.
- `deflicker`: each frame's brightness eased toward its running average, within a bound, so the
  frame-to-frame brightness jitter of generated video goes while real changes (a sunset) stay.

Both stream: one frame in, one frame out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np


def lab_stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    lab = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    return lab.mean(axis=0), lab.std(axis=0) + 1e-3


def colour_match(
    reference: np.ndarray, keyframe: np.ndarray, strength: float = 1.0
) -> Callable[[np.ndarray], np.ndarray]:
    """A transform taking frames that look like `keyframe` to the colours of `reference`."""
    import cv2

    mean_ref, std_ref = lab_stats(reference)
    mean_key, std_key = lab_stats(keyframe)
    scale = 1 + strength * (np.clip(std_ref / std_key, 0.5, 2.0) - 1)
    shift = strength * mean_ref + (1 - strength) * mean_key

    def apply(frame: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2LAB).astype(np.float32)
        lab = (lab - mean_key) * scale + shift
        return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)

    return apply


def deflicker(frames: Iterable[np.ndarray], memory: float = 0.8, bound: float = 0.1) -> Iterator[np.ndarray]:
    """Ease each frame's mean brightness toward an exponential running mean (weight `memory` on the past),
    changing no frame's gain by more than `bound`."""
    running = None
    for frame in frames:
        level = float(frame.mean()) + 1e-3
        running = level if running is None else memory * running + (1 - memory) * level
        gain = float(np.clip(running / level, 1 - bound, 1 + bound))
        if abs(gain - 1) < 1e-3:
            yield frame
        else:
            yield np.clip(frame.astype(np.float32) * gain + 0.5, 0, 255).astype(np.uint8)
