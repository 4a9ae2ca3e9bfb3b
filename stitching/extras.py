"""The film's companions: subtitles and a contact sheet of every shot's keyframe."""

from __future__ import annotations

import math
import os
import re
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from storyteller.core.cache import atomic_write_text
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Shot, StoryPlan

# a terminal's escapes, bells, and the marks that reverse or embed the direction of text (U+202A to U+202E,
# U+2066 to U+2069): a story's text is shown by players, never obeyed by them
_UNSHOWN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """`text` as a subtitle shows it: without control characters or direction overrides."""
    return _UNSHOWN.sub("", text)


def srt(plan: StoryPlan, cues: list[tuple[float, float, str]] | None = None) -> str:
    """One subtitle per spoken line, timed to the speech (`cues`: start, end, text); without speech, one
    per shot, timed on the stitched timeline."""
    blocks = []
    if cues:
        for n, (start, end, text) in enumerate(cues, 1):
            wrapped = "\n".join(textwrap.wrap(shown(text), 60)) or "…"
            blocks.append(f"{n}\n{_timestamp(start)} --> {_timestamp(end)}\n{wrapped}\n")
        return "\n".join(blocks)
    for n, (shot, start) in enumerate(zip(plan.shots, plan.shot_starts(), strict=True), 1):
        end = start + plan.shot_frames(shot)
        text = "\n".join(textwrap.wrap(shown(shot.said), 60)) or "…"
        blocks.append(f"{n}\n{_timestamp(start / plan.fps)} --> {_timestamp(end / plan.fps)}\n{text}\n")
    return "\n".join(blocks)


def read_cues(path: Path) -> list[tuple[float, float]]:
    """The (start, end) seconds of every subtitle in an SRT file."""
    return [(start, end) for start, end, _ in read_subtitles(path)]


def read_subtitles(path: Path) -> list[tuple[float, float, str]]:
    """Every subtitle in an SRT file: (start, end, its text on one line)."""

    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.strip().replace(",", ".").split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    cues: list[tuple[float, float, str]] = []
    for block in path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").split("\n\n"):
        rows = block.strip().splitlines()
        timed = next((k for k, row in enumerate(rows) if " --> " in row), None)
        if timed is None:
            continue
        try:
            start, end = (seconds(part) for part in rows[timed].split(" --> ")[:2])
        except ValueError:
            continue
        cues.append((start, end, " ".join(rows[timed + 1 :])))
    return cues


def write_srt(plan: StoryPlan, path: Path, cues: list[tuple[float, float, str]] | None = None) -> None:
    atomic_write_text(path, srt(plan, cues))


MAX_SHEET_PIXELS = 2_000_000  # a feature film's sheet must not cost more memory than a short's frames


def contact_sheet(
    plan: StoryPlan,
    keyframes: list[Path],
    path: Path,
    columns: int = 4,
    thumb_width: int = 320,
    scene: str | None = None,
) -> None:
    """A grid of keyframes, each with its shot number, duration and camera move. Long films get more,
    smaller thumbnails, so the sheet's size (and memory) stays bounded. With `scene`, only that scene's
    shots, under its title (a feature's sheet per chapter)."""
    numbered = [(n, shot, kf) for n, (shot, kf) in enumerate(zip(plan.shots, keyframes, strict=True))]
    if scene is not None:
        numbered = [(n, shot, kf) for n, shot, kf in numbered if shot.scene == scene]
    title = next((s.title or s.id for s in plan.scenes if s.id == scene), None)
    _draw_sheet(plan, numbered, path, columns, thumb_width, title)


def _draw_sheet(
    plan: StoryPlan,
    numbered: list[tuple[int, Shot, Path]],
    path: Path,
    columns: int,
    thumb_width: int,
    title: str | None,
) -> None:
    keyframes = [kf for _, _, kf in numbered]
    aspect = plan.height / plan.width
    fit = math.sqrt(MAX_SHEET_PIXELS / (len(keyframes) * aspect))
    thumb_width = max(96, min(thumb_width, int(fit)))
    columns = max(columns, round(columns * 320 / thumb_width))
    thumb_height = round(thumb_width * aspect)
    columns = min(columns, len(keyframes))
    rows = math.ceil(len(keyframes) / columns)
    label_height, pad = 22, 8
    top = 34 if title else 0
    sheet = Image.new(
        "RGB",
        (columns * (thumb_width + pad) + pad, top + rows * (thumb_height + label_height + pad) + pad),
        (24, 24, 28),
    )
    draw = ImageDraw.Draw(sheet)
    face = ImageFont.load_default(size=13)
    if title:
        draw.text((pad, 8), title, font=ImageFont.load_default(size=20), fill=(240, 232, 214))
    for k, (n, shot, keyframe) in enumerate(numbered):
        x = pad + (k % columns) * (thumb_width + pad)
        y = top + pad + (k // columns) * (thumb_height + label_height + pad)
        with Image.open(keyframe) as image:
            thumb = image.convert("RGB").resize((thumb_width, thumb_height), Image.Resampling.LANCZOS, reducing_gap=2.0)
            sheet.paste(thumb, (x, y + label_height))
        draw.text(
            (x, y + 3),
            f"{n + 1}. {shot.duration:.1f}s  {shot.camera.replace('_', ' ')}",
            font=face,
            fill=(230, 230, 235),
        )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")  # two runs at once never share a temporary
    try:
        sheet.save(tmp, compress_level=1)  # a sheet is looked at, not archived: a fast PNG, 5 % larger
        tmp.replace(path)
    except OSError as error:  # the user's path in the message, and no temporary left behind
        raise StorytellerError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"
