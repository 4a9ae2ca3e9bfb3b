"""The frame-reader seam in front of decord.

decord is fast, but aborts the whole process on some corrupt files and leaks memory on long seeks.
So an untrusted file is first probed in a child process (a crash there costs one file, not the
indexer), frames are read in short sequential batches, and PyAV takes over where decord cannot read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROBE_SECONDS = 60

_PROBE = """
import json, sys
path = sys.argv[1]
try:
    import decord
    reader = decord.VideoReader(path, num_threads=1)
    count, fps = len(reader), float(reader.get_avg_fps())
    frame = reader[count // 2].asnumpy()
    height, width = frame.shape[:2]
    print(json.dumps({"reader": "decord", "frames": count, "fps": fps, "height": height, "width": width}))
except Exception:
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 0) or 24.0
        count = 0
        for frame in container.decode(stream):
            count += 1
            width, height = frame.width, frame.height
    if not count:
        raise SystemExit(3)
    print(json.dumps({"reader": "av", "frames": count, "fps": fps, "height": height, "width": width}))
"""


@dataclass
class VideoInfo:
    reader: str  # "decord" or "av": whichever could read the file
    frames: int
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


def probe(path: Path) -> VideoInfo | None:
    """What the file holds, learnt in a child process; None if it cannot be read (or kills its reader)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=PROBE_SECONDS
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    try:
        return VideoInfo(**json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError, TypeError):
        return None


def read_frames(path: Path, info: VideoInfo, step: int = 1, width: int = 160) -> Iterator[np.ndarray]:
    """Every `step`-th frame as RGB, scaled to `width` pixels wide, read front to back."""
    height = max(2, round(info.height * width / info.width / 2) * 2)
    if info.reader == "decord":
        import decord

        reader = decord.VideoReader(str(path), width=width, height=height, num_threads=1)
        indices = list(range(0, len(reader), step))
        for start in range(0, len(indices), 32):  # short sequential batches: no long seeks
            yield from reader.get_batch(indices[start : start + 32]).asnumpy()
        del reader
        return
    import av
    from PIL import Image

    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(container.streams.video[0])):
            if n % step == 0:
                yield np.asarray(frame.to_image().resize((width, height), Image.Resampling.BILINEAR))
