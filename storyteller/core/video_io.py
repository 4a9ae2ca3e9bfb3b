"""Reading and writing video, one frame at a time, with PyAV (FFmpeg).

Frames are RGB arrays (H x W x 3) or, between clips and the film, I420 arrays (H*3/2 x W: the Y, U and
V planes stacked), so joining shots needs no colour conversion. Shot clips are stored lossless (x264,
qp 0, yuv420p): the one RGB -> YUV 4:2:0 conversion the film needs anyway is the only loss before the
film's own encode, which is H.264 yuv420p, the format every player opens.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from storyteller.core.errors import StorytellerError

X264_THREADS = 2
_M_PERTURB = -6  # glibc's mallopt parameter (malloc.h)
_heap_lock = threading.Lock()
_heap_users = 0  # encoders running now, in any thread (see _defined_heap)


def write_video(
    frames: Iterable[np.ndarray],
    path: Path,
    fps: int,
    *,
    lossless: bool = False,
    crf: int = 20,
    preset: str = "veryfast",
) -> int:
    """Encode frames to `path` as they arrive; returns the frame count. Writes to a temporary file first
    and renames, so a killed run never leaves a truncated video under the final name."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    count = 0
    try:
        with (
            _defined_heap(),
            av.open(str(tmp), mode="w", format="matroska" if path.suffix == ".mkv" else "mp4") as container,
        ):
            stream = None
            for frame in frames:
                layout = "rgb24" if frame.ndim == 3 else "yuv420p"
                if stream is None:
                    height, width = frame.shape[:2] if layout == "rgb24" else (frame.shape[0] * 2 // 3, frame.shape[1])
                    stream = container.add_stream("libx264", rate=Fraction(fps))
                    stream.width, stream.height = width, height
                    stream.pix_fmt = "yuv420p"
                    # x264 cuts its work by its thread count, and the bitstream follows the cut: a fixed count
                    # (the one two cores pick) makes the same film on any machine, however many cores it has
                    settings = {"qp": "0", "preset": "ultrafast"} if lossless else {"crf": str(crf), "preset": preset}
                    stream.options = {**settings, "threads": str(X264_THREADS)}
                    stream.codec_context.time_base = Fraction(1, fps)
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=layout)
                video_frame.pts, video_frame.time_base = count, Fraction(1, fps)
                container.mux(stream.encode(video_frame))
                count += 1
            if stream is not None:
                container.mux(stream.encode(None))
        if count == 0:
            raise StorytellerError(f"no frames to write to {path}")
        os.replace(tmp, path)
    except OSError as error:
        raise StorytellerError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


@contextmanager
def _defined_heap() -> Iterator[None]:
    """Hand out zeroed heap memory while encoding.

    The libx264 inside PyAV's wheels reads some memory it never wrote: the film changed from run to run
    once spaCy's pipeline had churned the heap (found with MALLOC_PERTURB_, which made it stable). glibc's
    M_PERTURB fills each new block with the complement of its value, so 0xFF gives zeros: what a fresh
    page from the kernel holds, so every run encodes as a fresh process would. The setting is the whole
    process's: it is on while any thread encodes (counted), so one encoder finishing never turns it off
    under another. Without glibc: nothing."""
    global _heap_users
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        yield
        return
    with _heap_lock:
        if _heap_users == 0:
            mallopt(_M_PERTURB, 0xFF)  # new blocks are filled with 0xFF ^ 0xFF: zeros, as fresh kernel pages are
        _heap_users += 1
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                mallopt(_M_PERTURB, 0)


def to_planes(frame: np.ndarray) -> np.ndarray:
    """An RGB frame as I420 planes (H*3/2 x W), BT.601 as players read H.264: the one conversion every frame
    of the film goes through, whichever way it is made (OpenCV's fixed-point conversion: seven times
    faster than FFmpeg's scaler, and the same on every machine)."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)


def blend(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """`a` and `b` mixed, `weight` of `b`: a crossfade's frame, or a frame between two (RGB or I420)."""
    mixed = a.astype(np.float32) * (1 - weight) + b.astype(np.float32) * weight
    return mixed.round().astype(np.uint8)


def read_video(path: Path, layout: str = "rgb24") -> Iterator[np.ndarray]:
    """Decode frames one at a time, as RGB ("rgb24") or as I420 planes ("yuv420p", no conversion)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format=layout)
    except av.error.FFmpegError as error:
        raise StorytellerError(f"cannot read video {path}: {error}") from None


def last_frame(path: Path) -> np.ndarray:
    """A video's last frame, as RGB (decoded through, one frame held at a time)."""
    frame = None
    for decoded in read_video(path):
        frame = decoded
    if frame is None:
        raise StorytellerError(f"cannot read video {path}: it has no frames")
    return frame


def concat_videos(
    parts: list[Path],
    path: Path,
    fps: int,
    audio: Path | None = None,
    chapters: Sequence[tuple[int, int, str]] = (),
) -> int:
    """Join videos encoded alike (closed GOPs, the same codec settings) into one MP4 by copying their packets,
    each part's timestamps moved on by the frames before it, and lay `audio`'s stream under them; returns
    the frame count. Nothing is re-encoded. `chapters` are (first frame, end frame, title): the MP4's chapter
    markers, which players, PyAV and ffprobe list."""
    import av

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    count = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container, ExitStack() as stack:
            if chapters:  # before the header: the muxer makes room for them when it writes it
                container.set_chapters([_chapter(n, mark, fps) for n, mark in enumerate(chapters)])
            # every stream is added before the first packet: the header is written with the first mux
            with av.open(str(parts[0])) as first:
                stream = container.add_stream_from_template(first.streams.video[0])
            sound_source = stack.enter_context(av.open(str(audio))) if audio is not None else None
            sound = container.add_stream_from_template(sound_source.streams.audio[0]) if sound_source else None
            for part in parts:
                with av.open(str(part)) as source:
                    video = source.streams.video[0]
                    assert video.time_base is not None  # a demuxed stream has one
                    ticks = Fraction(1, fps) / video.time_base  # one frame, in the part's time base
                    offset = round(count * ticks)
                    for packet in source.demux(video):
                        if packet.dts is None or packet.pts is None:  # the demuxer's end-of-stream marker
                            continue
                        packet.pts += offset
                        packet.dts += offset
                        packet.stream = stream
                        container.mux(packet)
                    count += video.frames
            if sound_source is not None and sound is not None:
                for heard in sound_source.demux(sound_source.streams.audio[0]):
                    if heard.dts is None:
                        continue
                    heard.stream = sound
                    container.mux(heard)
        os.replace(tmp, path)
    except (OSError, av.error.FFmpegError) as error:
        raise StorytellerError(f"cannot join the film's segments into {path}: {error}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def _chapter(n: int, mark: tuple[int, int, str], fps: int) -> Any:
    first, end, title = mark
    ms = Fraction(1, 1000)
    return {"id": n + 1, "start": round(first * 1000 / fps), "end": round(end * 1000 / fps), "time_base": ms,
            "metadata": {"title": title}}  # fmt: skip


def chapters_of(path: Path) -> list[tuple[float, float, str]]:
    """A video's chapter markers: (start seconds, end seconds, title)."""
    import av

    with av.open(str(path)) as container:
        return [
            (float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]), c["metadata"].get("title", ""))
            for c in container.chapters()
            if c["time_base"] is not None
        ]


def frame_count(path: Path) -> int:
    """The frame count a video's header states (0 if it states none)."""
    import av

    try:
        with av.open(str(path)) as container:
            return container.streams.video[0].frames or 0
    except (av.error.FFmpegError, IndexError):
        raise StorytellerError(f"cannot read video {path}") from None


def prefetch(frames: Iterable[np.ndarray], depth: int = 4) -> Iterator[np.ndarray]:
    """Produce frames on a background thread while the caller encodes them.

    FFmpeg releases the GIL while it decodes and encodes, so drawing or decoding the next frames
    overlaps with encoding this one. At most `depth` frames wait in between: memory stays flat.
    """
    import queue
    import threading

    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                if stop.is_set():
                    return
                slots.put(frame)
            slots.put(done)
        except BaseException as error:  # handed to the consumer, raised there
            slots.put(error)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(0.01)
