"""Reading and writing video, one frame at a time, with PyAV (FFmpeg).

Shot clips are stored lossless (x264 in RGB, qp 0) so a re-encode never compounds compression;
the final film is H.264 yuv420p, which every player opens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from storyteller.errors import StorytellerError


def write_video(frames: Iterable[np.ndarray], path: Path, fps: int, *, lossless: bool = False, crf: int = 20) -> int:
    """Encode frames to `path` as they arrive; returns the frame count. Writes to a temporary file first
    and renames, so a killed run never leaves a truncated video under the final name."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    count = 0
    try:
        with av.open(str(tmp), mode="w", format="matroska" if path.suffix == ".mkv" else "mp4") as container:
            stream = None
            for frame in frames:
                if stream is None:
                    height, width = frame.shape[:2]
                    codec = "libx264rgb" if lossless else "libx264"
                    stream = container.add_stream(codec, rate=Fraction(fps))
                    stream.width, stream.height = width, height
                    stream.pix_fmt = "rgb24" if lossless else "yuv420p"
                    stream.options = (
                        {"qp": "0", "preset": "ultrafast"} if lossless else {"crf": str(crf), "preset": "veryfast"}
                    )
                    stream.codec_context.time_base = Fraction(1, fps)
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
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


def read_video(path: Path) -> Iterator[np.ndarray]:
    """Decode RGB frames one at a time."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as error:
        raise StorytellerError(f"cannot read video {path}: {error}") from None


def prefetch(frames: Iterable[np.ndarray], depth: int = 16) -> Iterator[np.ndarray]:
    """Produce frames on a background thread while the caller encodes them.

    FFmpeg releases the GIL while it decodes and encodes, so drawing or decoding the next frames
    overlaps with encoding this one. At most `depth` frames wait in between: memory stays flat.
    """
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
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
