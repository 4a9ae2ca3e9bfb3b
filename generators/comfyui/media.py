"""What a workflow's output nodes saved, as frames: still images, animated WebP, GIF or PNG, and videos (MP4,
WebM ...), at the plan's size and the shot's length."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import numpy as np
from PIL import Image, ImageSequence

from storyteller.core.errors import StorytellerError

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def decoded(filename: str, data: bytes) -> list[np.ndarray]:
    """Every frame of one saved file, as RGB (a still image is one frame)."""
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return _video_frames(filename, data)
    if suffix not in IMAGE_SUFFIXES:
        raise StorytellerError(f"ComfyUI saved {filename}: not an image or a video storyteller reads")
    try:
        with Image.open(io.BytesIO(data)) as image:
            return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]
    except (OSError, ValueError) as error:
        raise StorytellerError(f"ComfyUI saved {filename}, which cannot be read: {error}") from None


def _video_frames(filename: str, data: bytes) -> list[np.ndarray]:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    except (av.error.FFmpegError, IndexError) as error:
        raise StorytellerError(f"ComfyUI saved {filename}, which cannot be read: {error}") from None


def fitted(frames: list[np.ndarray], count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """`count` frames spread evenly over `frames` (the first and last kept), each resized to `size`."""
    if not frames:
        raise StorytellerError("the workflow saved no frames")
    step = (len(frames) - 1) / max(1, count - 1)
    picked = [frames[round(i * step)] for i in range(max(1, count))]
    return [_resized(frame, size) for frame in picked]


def _resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return np.ascontiguousarray(frame)
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))
