"""A small captioned library of procedural motion clips, so retrieval works on a fresh machine.

storyteller library demo      # writes the clips, then indexes them
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from storyteller.core.video_io import write_video

SIZE, FPS, SECONDS = (192, 108), 12, 3.0

# caption -> subject position (x, y in frame fractions) and camera (dx, dy, zoom) at time u in [0, 1]
Path_ = Callable[[float], tuple[float, float, float, float, float]]
CLIPS: dict[str, Path_] = {
    "a person walks to the left": lambda u: (0.85 - 0.7 * u, 0.7 + 0.02 * abs(math.sin(u * 12)), 0, 0, 1),
    "a person walks to the right": lambda u: (0.15 + 0.7 * u, 0.7 + 0.02 * abs(math.sin(u * 12)), 0, 0, 1),
    "a dog runs fast across the field": lambda u: (0.05 + 0.9 * u, 0.72, 0, 0, 1),
    "a ball jumps up and down": lambda u: (0.5, 0.75 - 0.5 * abs(math.sin(u * 3 * math.pi)), 0, 0, 1),
    "something moves around in a circle": lambda u: (
        0.5 + 0.3 * math.cos(2 * math.pi * u), 0.5 + 0.3 * math.sin(2 * math.pi * u), 0, 0, 1),
    "an object falls down to the ground": lambda u: (0.5, 0.15 + 0.65 * u * u, 0, 0, 1),
    "a bird flies up into the sky": lambda u: (0.2 + 0.6 * u, 0.8 - 0.6 * u, 0, 0, 1),
    "the camera zooms in slowly": lambda u: (0.5, 0.5, 0, 0, 1 + 0.6 * u),
    "the camera pans to the right over a landscape": lambda u: (0.5, 0.6, 0.5 * u, 0, 1),
    "a car drives from left to right on a road": lambda u: (0.1 + 0.8 * u, 0.78, 0, 0, 1),
}  # fmt: skip


def texture(seed: int = 7) -> np.ndarray:
    """A landscape with enough detail for optical flow to see the camera move."""
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn

    rng = np.random.default_rng(seed)
    w, h = SIZE[0] * 2, SIZE[1] * 2
    image = np.zeros((h, w, 3), np.uint8)
    image[: h // 2] = (150, 190, 235)
    image[h // 2 :] = (90, 150, 80)
    for _ in range(260):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(2, 7))
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.circle(image, (x, y), r, colour, -1)
    return image


def clip_frames(path_of: Path_) -> list[np.ndarray]:
    import cv2  # 0.15 s to import: loaded only when clips are read or drawn

    background = texture()
    w, h = SIZE
    frames = []
    count = int(SECONDS * FPS)
    for n in range(count):
        x, y, dx, dy, zoom = path_of(n / (count - 1))
        cw, ch = w / zoom, h / zoom  # the view, in background pixels (the background is twice the frame)
        cx, cy = w * (0.75 + dx), h * (1.0 + dy)
        x0, y0 = cx - cw / 2, cy - ch / 2
        warp = np.array([[w / cw, 0, -x0 * w / cw], [0, h / ch, -y0 * h / ch]], dtype=np.float32)
        frame = cv2.warpAffine(background, warp, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        cv2.circle(frame, (int(x * w), int(y * h)), 9, (230, 60, 40), -1)
        frames.append(frame)
    return frames


def build(folder: Path) -> list[Path]:
    """Write every demo clip with its caption beside it; returns the video paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for caption, path_of in CLIPS.items():
        video = folder / (caption.replace(" ", "_") + ".mp4")
        if not video.exists():
            write_video(iter(clip_frames(path_of)), video, FPS, crf=18)
        video.with_suffix(".txt").write_text(caption + "\n", encoding="utf-8")
        paths.append(video)
    return paths
