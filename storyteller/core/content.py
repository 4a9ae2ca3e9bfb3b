"""Digests of what a film is made of, taken before any lossy encoder: the frames handed to x264 and the
samples handed to AAC. The encoders' bytes change with their versions; these change only with what the
project draws and mixes, so run.json can say "the same film" across machines and installs, and the
golden-film test can tell a change to the drawing from a change to the encoder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np


class ContentDigest:
    """A running sha256 of what passes through it, and how many things passed."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def frames(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """The frames, unchanged, each hashed as it goes by (its bytes, as the encoder is given them)."""
        for frame in frames:
            self._hash.update(np.ascontiguousarray(frame).tobytes())
            self.count += 1
            yield frame

    def samples(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Sound blocks (floats in [-1, 1]), unchanged, each hashed as 16-bit PCM: what a WAV of it would
        hold, so a difference far below hearing (a float's last bit) is not a different soundtrack."""
        for block in blocks:
            pcm = np.clip(np.round(np.asarray(block, dtype=np.float64) * 32767), -32768, 32767).astype("<i2")
            self._hash.update(pcm.tobytes())
            self.count += len(pcm)
            yield block

    def facts(self, what: str) -> dict[str, Any]:
        """{what: count, what_sha256: digest}, e.g. {"frames": 96, "frames_sha256": "..."}."""
        return {what: self.count, f"{what}_sha256": self._hash.hexdigest()}


def combined(digests: Iterable[str]) -> str:
    """One digest of several, in order (the film's frames: its segments' digests, in timeline order)."""
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()
