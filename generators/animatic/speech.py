"""Who speaks is seen: a speaking character bobs and glows, and its line shows in a speech bubble over it,
with its name, for exactly as long as the line is heard (the scene graph's `speak` actions, which the sound
stage times to the speech)."""

from __future__ import annotations

import textwrap
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from storyteller.core.models import SPEAK, Action

MAX_LINES = 3  # a longer line is cut with an ellipsis: the subtitle has all of it
INK, PAPER = (25, 25, 35), (255, 255, 250)


def speaking(actions: list[Action], t: float) -> Action | None:
    """The line being said at t (seconds into the shot), if any."""
    return next((a for a in actions if a.verb == SPEAK and a.start <= t <= a.end), None)


@lru_cache(maxsize=64)
def bubble(name: str, line: str, colour: tuple[int, int, int], frame_width: int, frame_height: int) -> Image.Image:
    """The speech bubble: the speaker's name in its own colour over its words, on a rounded white card
    with a tail at the bottom middle (pointing at the speaker)."""
    size = max(8, frame_height // 22)
    face, bold = _font(size), _font(size)
    width_chars = max(10, int(frame_width * 0.55 / (size * 0.55)))
    rows = textwrap.wrap(f"“{line}”", width_chars) or [""]
    if len(rows) > MAX_LINES:
        rows = rows[:MAX_LINES]
        rows[-1] = rows[-1][: width_chars - 1].rstrip() + "…"
    rows = [name, *rows]
    pad, leading, tail = max(3, size // 3), int(size * 1.25), max(4, size // 2)
    width = int(max(face.getlength(r) for r in rows)) + 2 * pad
    height = leading * len(rows) + 2 * pad
    image = Image.new("RGBA", (width + 2, height + tail + 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((1, 1, width, height), radius=pad * 2, fill=(*PAPER, 235), outline=(*INK, 255), width=1)
    middle = width // 2
    draw.polygon(
        [(middle - tail, height - 1), (middle + tail, height - 1), (middle, height + tail)], fill=(*PAPER, 235)
    )
    draw.line([(middle - tail, height), (middle, height + tail), (middle + tail, height)], fill=(*INK, 255), width=1)
    draw.text((pad + 1, pad), name, font=bold, fill=(*_darker(colour), 255))
    for k, row in enumerate(rows[1:], start=1):
        draw.text((pad + 1, pad + k * leading), row, font=face, fill=(*INK, 255))
    return image


def overlay(frame: np.ndarray, image: Image.Image, centre_x: float, bottom: float) -> None:
    """`image` over the frame (in place), its tail's tip at (centre_x, bottom), kept inside the frame."""
    height, width = frame.shape[:2]
    left = round(min(max(0, centre_x - image.width / 2), max(0, width - image.width)))
    top = round(min(max(0, bottom - image.height), max(0, height - image.height)))
    rgba = np.asarray(image)[: height - top, : width - left]
    alpha = rgba[..., 3:4].astype(np.uint16)
    region = frame[top : top + rgba.shape[0], left : left + rgba.shape[1]].astype(np.uint16)
    mixed = (region * (255 - alpha) + rgba[..., :3].astype(np.uint16) * alpha) // 255
    frame[top : top + rgba.shape[0], left : left + rgba.shape[1]] = mixed.astype(np.uint8)


def _darker(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """The speaker's colour, dark enough to read on white."""
    scale = min(1.0, 150 / max(1, max(colour)))
    return (int(colour[0] * scale), int(colour[1] * scale), int(colour[2] * scale))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
