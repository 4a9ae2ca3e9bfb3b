"""The soundtrack: speech over a quiet ambience bed and optional music, both ducked under the speech, the
whole normalised to an integrated loudness of -16 LUFS (ITU-R BS.1770, with pyloudnorm's K-weighting) with true
peaks under -1 dBFS, and encoded as AAC; block by block, so memory does not grow with the film.

The ambience (stitching/sound/ambience.py) is drawn from the scene; the meters and the limiter are in
stitching/sound/loudness.py, the rate and the levels in stitching/sound/levels.py.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from stitching.sound.ambience import bed_loop
from stitching.sound.levels import BED_DB, DUCK, LIMIT_PASSES, MUSIC_DB, PEAK_CEILING_DB, RATE, SPEECH_DB, TARGET_LUFS
from stitching.sound.loudness import LoudnessMeter, limit, moving_average, moving_extreme
from storyteller.core.backend import Speech
from storyteller.core.content import ContentDigest
from storyteller.core.errors import StorytellerError
from storyteller.core.files import code_digest, temporaries
from storyteller.core.models import StoryPlan


def resample(speech: Speech) -> np.ndarray:
    """A line's speech at RATE, resampled through its spectrum (band-limited; a line starts and ends in
    silence, so treating it as periodic costs nothing)."""
    samples = np.asarray(speech.samples, dtype=np.float32)
    if speech.rate == RATE or not len(samples):
        return samples
    return stretched(samples, round(len(samples) * RATE / speech.rate))


def stretched(samples: np.ndarray, length: int) -> np.ndarray:
    """`samples` as `length` samples through their spectrum: resampled, or played faster or slower (every
    frequency moving with it). numpy's FFT: it runs on the voice's threads, which must import nothing."""
    if length == len(samples) or not len(samples):
        return samples
    length = max(1, length)
    return (np.fft.irfft(np.fft.rfft(samples), length) * (length / len(samples))).astype(np.float32)


def levelled(samples: np.ndarray) -> np.ndarray:
    """A line at the mix's speech level (SPEECH_DB, the RMS of its voiced 20 ms frames), whatever backend or
    pitch spoke it: the bed and the music then sit as far under every voice (a neural voice speaks some 5 dB
    quieter than eSpeak, and a crowd's murmur under it blurred its words)."""
    frame = RATE // 50
    usable = len(samples) // frame * frame
    if usable == 0:
        return samples
    energy = np.mean(samples[:usable].reshape(-1, frame).astype(np.float64) ** 2, axis=1)
    voiced = energy[energy > energy.max() * 10 ** (-40 / 10)]
    rms = float(np.sqrt(np.mean(voiced))) if len(voiced) else 0.0
    if rms <= 1e-6:
        return samples
    gain = min(10 ** (24 / 20), max(10 ** (-24 / 20), 10 ** (SPEECH_DB / 20) / rms))
    return (samples * np.float32(gain)).astype(np.float32)


def read_music(path: Path) -> np.ndarray:
    """Any file PyAV reads, as mono samples at RATE."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise StorytellerError(f"{path}: has no audio to use as music")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            chunks = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise StorytellerError(f"{path}: cannot read it as audio ({error})") from None
    if not chunks:
        raise StorytellerError(f"{path}: holds no audio samples")
    return np.concatenate(chunks).astype(np.float32)


# --- the whole soundtrack, shot by shot: memory does not grow with the film -------------------------

MARGIN = RATE // 2  # context either side of a stretch, for the ducking's filters (they reach 0.28 s)
BLOCK = 10 * RATE  # samples normalised, limited and encoded at a time
BED_FADE = RATE // 2  # a bed fades in over its shot's first half second and out over the next shot's


@dataclass(frozen=True)
class Bed:
    """One shot's ambience on the timeline."""

    first: int  # its first sample
    length: int  # samples, with its half-second fade into the next shot
    kind: str  # one of AMBIENCES
    seed: int  # where in its loop it starts


@dataclass(frozen=True)
class Score:
    """Where everything in the soundtrack sits, in samples at RATE on the film's timeline: the one
    description the mix, its per-shot stretches and their cache keys all read."""

    total: int  # the film's length
    cuts: tuple[int, ...]  # where each shot's stretch of the soundtrack starts; the last runs to `total`
    lines: tuple[tuple[int, int, str], ...]  # each spoken line: (first sample, its length, speech key)
    beds: tuple[Bed, ...] | None  # each shot's ambience (None: no ambience)
    music: str | None  # the music's digest (its samples are given to the mix; None: no music)

    @classmethod
    def of(
        cls,
        plan: StoryPlan,
        lines: Iterable[tuple[float, float, str]],
        beds: list[str] | None,
        music: str | None = None,
    ) -> Score:
        """The score of `plan`, its `lines` given as (start second, seconds long, speech key) and `beds` as
        each shot's ambience kind."""
        cuts: list[int] = []
        placed: list[Bed] = []
        for index, (shot, start_frame) in enumerate(zip(plan.shots, plan.shot_starts(), strict=True)):
            first = round(start_frame / plan.fps * RATE)
            cuts.append(first)
            if beds is not None:
                length = round(plan.shot_frames(shot) / plan.fps * RATE) + BED_FADE
                placed.append(Bed(first, length, beds[index], plan.seed + index))
        spoken = tuple(sorted((round(at * RATE), math.ceil(seconds * RATE) + 1, key) for at, seconds, key in lines))
        total = round(plan.total_frames / plan.fps * RATE)
        return cls(total, tuple(cuts), spoken, tuple(placed) if beds is not None else None, music)

    def stretches(self) -> list[tuple[int, int]]:
        """(first sample, length) of each shot's stretch of the soundtrack: from its start to the next
        shot's (a crossfade's overlap belongs to the later shot), together the whole film."""
        ends = [*self.cuts[1:], self.total]
        return [(first, max(0, end - first)) for first, end in zip(self.cuts, ends, strict=True)]

    def heard(self, first: int, length: int) -> tuple[list[tuple[int, int, str]], list[Bed]]:
        """The lines and beds that sound in samples [first, first + length) of the mix, with the margin
        either side its ducking reads: all the mix of that stretch is made of, besides the music."""
        lo, hi = first - MARGIN, first + length + MARGIN
        lines = [(at, n, key) for at, n, key in self.lines if at < hi and at + n > lo]
        beds = [bed for bed in self.beds or () if bed.first < hi and bed.first + bed.length > lo]
        return lines, beds

    def near(self, first: int, length: int) -> dict[str, Any]:
        """What the mix of samples [first, first + length) is made of, placed relative to `first`: the same
        stretch of sound wherever it falls in the film (a cache key's inputs)."""
        lines, beds = self.heard(first, length)
        return {
            "code": code_digest("stitching.sound"),  # how it is mixed
            "length": length,
            "lines": [(at - first, n, key) for at, n, key in lines],
            "beds": None if self.beds is None else [(b.first - first, b.length, b.kind, b.seed) for b in beds],
            "music": [self.music, first] if self.music is not None else None,  # the music runs on: where matters
        }

    def described(self) -> dict[str, Any]:
        """The whole soundtrack's cache key inputs: the score, and how it is mixed and normalised."""
        return {**asdict(self), "code": code_digest("stitching.sound"), "lufs": TARGET_LUFS, "peak": PEAK_CEILING_DB}


def _mixed_now(index: int, mix: Callable[[], np.ndarray]) -> np.ndarray:
    return mix()


def write_soundtrack(
    path: Path,
    score: Score,
    load: Callable[[str], Speech],
    music: np.ndarray | None = None,
    premixed: Callable[[int, Callable[[], np.ndarray]], np.ndarray] = _mixed_now,
) -> dict[str, Any]:
    """The film's soundtrack as AAC at `path`, in three passes over a scratch file: mix each shot's stretch
    (and measure the loudness), normalise and limit ten seconds at a time (and measure again), correct and
    encode. Returns what the encoder was given: {"samples": count, "samples_sha256": digest} (ContentDigest).

    Args:
        score: where every line, bed and the music sit.
        load: a line's speech, by key (from the cache: only the lines near a stretch are in memory).
        music: samples at RATE, looped under the whole film (None: none).
        premixed: shot `index`'s stretch of the mix, given how to make it: where the caller keeps stretches
            (the pipeline caches them by `Score.near`, so an edit mixes only the shots it touched).
    """
    scratch = path.with_name(path.name + ".mix")
    limited = path.with_name(path.name + ".lim")
    with temporaries(scratch, limited):  # ~6 MB a minute of film each: removed even if the run is stopped
        if music is not None and len(music):  # at its level in the mix, once for the whole film
            music = music / np.float32(np.sqrt(np.mean(music**2)) + 1e-9) * np.float32(10 ** (MUSIC_DB / 20))
        meter = LoudnessMeter()
        # a line near a stretch's edge is mixed into two: resampled once, kept while it is near
        resampled = lru_cache(maxsize=16)(lambda key: levelled(resample(load(key))))
        with open(scratch, "wb") as out:
            for index, (first, length) in enumerate(score.stretches()):
                stretch = premixed(index, functools.partial(_mixed, first, length, score, resampled, music))
                meter.feed(stretch)
                out.write(stretch.astype(np.float32).tobytes())
        loudness = meter.integrated()
        gain = 10 ** ((TARGET_LUFS - loudness) / 20) if np.isfinite(loudness) else 1.0
        for _ in range(LIMIT_PASSES):
            settled = _limited(scratch, limited, score.total, gain)
            if not np.isfinite(settled) or settled > TARGET_LUFS - 0.5:
                break
            # limiting took more than half a dB off (a voice whose peaks stand high over its loudness, as
            # a neural voice's do): limit again from a gain that much higher
            gain *= 10 ** ((TARGET_LUFS - settled) / 20)
        # what is left, at most half a dB, given back (which the ceiling's spare dB allows)
        correction = min(10 ** (0.5 / 20), 10 ** ((TARGET_LUFS - settled) / 20)) if np.isfinite(settled) else 1.0
        given = ContentDigest()
        write_aac(
            given.samples(block * np.float32(correction) for block, _, _ in _blocks(limited, score.total, 0)), path
        )
        return given.facts("samples")


def _limited(scratch: Path, limited: Path, total: int, gain: float) -> float:
    """The mix in `scratch` at `gain`, limited under the ceiling into `limited`; its loudness, LUFS."""
    ceiling, after = 10 ** (PEAK_CEILING_DB / 20), LoudnessMeter()
    with open(limited, "wb") as out:
        for block, before, following in _blocks(scratch, total, 64):
            context = np.concatenate([before, block, following]) * np.float32(gain)
            block = limit(context, ceiling)[len(before) : len(before) + len(block)]
            after.feed(block)
            out.write(block.astype(np.float32).tobytes())
    return after.integrated()


def _blocks(path: Path, total: int, context: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The scratch file's blocks, each with `context` samples before and after it (read, not mapped: only
    a block is ever in memory)."""

    def read(handle: Any, start: int, end: int) -> np.ndarray:
        handle.seek(start * 4)
        return np.fromfile(handle, dtype=np.float32, count=max(0, end - start))

    with open(path, "rb") as handle:
        for first in range(0, total, BLOCK):
            end = min(total, first + BLOCK)
            yield (
                read(handle, first, end),
                read(handle, max(0, first - context), first),
                read(handle, end, min(total, end + context)),
            )


def _mixed(
    first: int,
    length: int,
    score: Score,
    load: Callable[[str], np.ndarray],
    music: np.ndarray | None,
) -> np.ndarray:
    """Samples [first, first + length) of the mix: the speech (`load`: a line's samples at RATE, by key)
    over the ducked bed and `music` (at its level in the mix). It reads only what `score.heard` names, which
    is what the stretch's cache key (`score.near`) is made of."""
    lo, hi = first - MARGIN, first + length + MARGIN  # a little either side, for the ducking's filters
    span = hi - lo
    lines, beds = score.heard(first, length)
    voice = np.zeros(span, np.float32)
    for start, _, key in lines:
        samples = load(key)
        a, b = max(start, lo), min(start + len(samples), hi)
        if b > a:
            voice[a - lo : b - lo] += samples[a - start : b - start]
    background = np.zeros(span, np.float32)
    for bed in beds:
        a, b = max(bed.first, lo), min(bed.first + bed.length, hi)
        offset = np.arange(a - bed.first, b - bed.first)
        ramp = np.minimum(1.0, np.minimum(offset + 1, bed.length - offset) / BED_FADE).astype(np.float32)
        loop = bed_loop(bed.kind)
        shift = int(np.random.default_rng(bed.seed).integers(0, len(loop)))
        background[a - lo : b - lo] += loop[(offset + shift) % len(loop)] * ramp * np.float32(10 ** (BED_DB / 20) / 0.1)
    if music is not None and len(music):
        background += music[np.arange(max(0, lo), max(0, lo) + span) % len(music)]
    envelope = np.sqrt(np.maximum(moving_average(voice**2, round(0.05 * RATE)), 0))
    speaking = moving_extreme((envelope > 0.01).astype(np.float32), round(0.3 * RATE), largest=True)
    gain = 1.0 - (1.0 - DUCK) * moving_average(speaking, round(0.2 * RATE))
    mixed = voice + background * gain.astype(np.float32)
    return mixed[first - lo : first - lo + length]


def write_aac(audio: np.ndarray | Iterable[np.ndarray], path: Path) -> None:
    """Encode the soundtrack (an array, or its blocks in order) as AAC in an MP4 (.m4a) container."""
    import av

    blocks = [audio] if isinstance(audio, np.ndarray) else audio
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=RATE, layout="mono")
        stream.bit_rate = 96_000
        stream.options = {"aac_coder": "fast"}  # twice as fast as the default search, for speech the same
        pts = 0
        for block in blocks:
            for first in range(0, len(block), 8192):
                chunk = np.ascontiguousarray(block[first : first + 8192].reshape(1, -1), dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate = RATE
                frame.pts = pts
                pts += chunk.shape[1]
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
