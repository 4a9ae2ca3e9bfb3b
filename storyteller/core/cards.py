"""Title cards: a chapter's heading shown large on a plain ground, the same under every backend.

A card is drawn here, not by the shot's generator: a diffusion model asked for "Chapter 3: The Salt Market"
paints a market with letters in it, and a film's chapter card should read the same whichever model drew
its pictures.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GROUND = (14, 14, 20)  # near black, a touch of blue: the ground every card is drawn on
INK = (236, 230, 214)  # warm white
FADE_SECONDS = 0.5  # the card rises from black and sinks back into it


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=max(8, size))
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow's own font at a size is a FreeType one
    return font


def title_card(text: str, width: int, height: int) -> Image.Image:
    """The card: `text` centred on the ground; a heading with a subtitle ("Chapter 3: The Salt Market")
    puts its number small above its name."""
    image = Image.new("RGB", (width, height), GROUND)
    draw = ImageDraw.Draw(image)
    head, _, name = text.partition(":")
    lines: list[tuple[str, ImageFont.FreeTypeFont]] = []
    large = _font(max(10, height // 9))
    if name.strip() and len(head.split()) <= 3:
        lines.append((head.strip(), _font(max(8, height // 16))))
        text = name.strip()
    per_line = max(8, int(width * 0.85 / (large.size * 0.55)))
    lines += [(line, large) for line in textwrap.wrap(text.strip(), per_line)[:3]]
    heights = [int(face.size * 1.35) for _, face in lines]
    y = (height - sum(heights)) / 2
    for (line, face), line_height in zip(lines, heights, strict=True):
        draw.text(((width - face.getlength(line)) / 2, y), line, font=face, fill=INK)
        y += line_height
    rule = y + height * 0.03
    draw.line((width * 0.42, rule, width * 0.58, rule), fill=INK, width=max(1, height // 200))
    return image


def card_frames(card: Image.Image, count: int, fps: int) -> Iterator[np.ndarray]:
    """`count` frames of the card, faded in from black and out to it (RGB, H x W x 3, uint8)."""
    still = np.asarray(card.convert("RGB"))
    fade = max(1, min(round(FADE_SECONDS * fps), count // 3))
    for k in range(count):
        level = min(1.0, (k + 1) / fade, (count - k) / fade)
        yield still if level >= 1.0 else (still.astype(np.float32) * level).round().astype(np.uint8)
