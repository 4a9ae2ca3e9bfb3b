"""The soundtrack: speech over a quiet ambience bed and optional music, both ducked under the speech, the
whole normalised to an integrated loudness of -16 LUFS (ITU-R BS.1770, with pyloudnorm's K-weighting) with true
peaks under -1 dBFS, and encoded as AAC; block by block, so memory does not grow with the film.

The ambience is drawn from the scene, not from recordings: shaped noise for rain, wind and waves, chirps
for a night, a low murmur for a city or a crowd; seeded by the plan, so the same plan sounds the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storyteller.core.backend import Speech
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Shot, StoryPlan

RATE = 24_000  # Hz: the film's audio (speech from espeak is 22,050 Hz: more would only cost time)
TARGET_LUFS = -16.0
PEAK_CEILING_DB = -2.0  # true peak, with a dB to spare for the AAC encoder's own overshoot
BED_DB = -30.0  # the ambience bed, before ducking, against full scale
MUSIC_DB = -22.0
DUCK = 0.25  # the bed and music under speech: a quarter of their level

AMBIENCES = ("rain", "wind", "waves", "night", "city", "crowd", "room")
_WORDS = {
    "waves": r"\b(sea|ocean|beach|shore|wave|waves|harbou?r|boat|ship|sail\w*|coast|bay)\b",
    "city": r"\b(city|town|street|village|square|market|traffic|car|cars)\b",
    "crowd": r"\b(crowd|audience|people|cheer\w*|party|festival|arena|ring)\b",
    "wind": r"\b(wind|windy|mountain|hill|cliff|field|snow\w*|storm)\b",
}


def ambience_of(shot: Shot, place: str = "") -> str:
    """The bed a shot gets: its weather first (rain, a storm, snow), then its time and place."""
    weather, words = shot.graph.weather, f"{shot.text} {place} {shot.prompt}".lower()
    if weather in ("rain", "storm"):
        return "rain"
    if weather in ("snow", "wind", "fog"):
        return "wind"
    for kind in ("waves", "crowd", "city", "wind"):
        if re.search(_WORDS[kind], words):
            return kind
    return "night" if shot.graph.time_of_day == "night" else "room"


LOOP_SECONDS = 12.0


@lru_cache(maxsize=len(AMBIENCES))
def _loop(kind: str) -> np.ndarray:
    """One loop of an ambience whose end runs into its start: its two halves crossfaded into each other."""
    sound = _synthesise(kind, 2 * LOOP_SECONDS, seed=AMBIENCES.index(kind) if kind in AMBIENCES else 0)
    half = len(sound) // 2
    fade = np.linspace(0.0, 1.0, half, dtype=np.float32)
    looped = sound[:half] * fade + sound[half:] * (1 - fade)  # its end is the start's past: no click
    looped.flags.writeable = False
    return looped


def _synthesise(kind: str, seconds: float, seed: int) -> np.ndarray:
    from scipy import signal

    n = max(1, round(seconds * RATE))
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n).astype(np.float32)
    t = np.arange(n, dtype=np.float32) / RATE
    if kind == "rain":  # a hiss, with drops
        sos = signal.butter(2, [800, 9000], "bandpass", fs=RATE, output="sos")
        sound = signal.sosfilt(sos, white)
        drops = (rng.random(n) < 40 / RATE).astype(np.float32) * rng.uniform(0.5, 2.0, n).astype(np.float32)
        sound = sound + signal.sosfilt(signal.butter(2, [2000, 6000], "bandpass", fs=RATE, output="sos"), drops) * 3
    elif kind == "wind":  # low noise, swelling slowly
        sound = signal.sosfilt(signal.butter(2, 500, "lowpass", fs=RATE, output="sos"), white)
        sound = sound * (0.6 + 0.4 * np.sin(2 * np.pi * 0.13 * t + rng.uniform(0, 6)))
    elif kind == "waves":  # surf: noise that rises and falls every few seconds
        sound = signal.sosfilt(signal.butter(2, [200, 3000], "bandpass", fs=RATE, output="sos"), white)
        sound = sound * (0.25 + 0.75 * np.clip(np.sin(2 * np.pi * 0.12 * t), 0, 1) ** 2)
    elif kind == "night":  # crickets over a faint hush
        chirp = np.sin(2 * np.pi * 4500 * t) * (np.sin(2 * np.pi * 30 * t) > 0.6) * (np.sin(2 * np.pi * 0.8 * t) > 0.3)
        hush = signal.sosfilt(signal.butter(2, 300, "lowpass", fs=RATE, output="sos"), white)
        sound = 0.3 * chirp + hush
    elif kind in ("city", "crowd"):  # a murmur: voice-band noise, slowly varying
        sound = signal.sosfilt(
            signal.butter(2, [150, 1200] if kind == "crowd" else [40, 600], "bandpass", fs=RATE, output="sos"), white
        )
        sound = sound * (0.7 + 0.3 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6)))
    else:  # room tone
        sound = signal.sosfilt(signal.butter(1, 200, "lowpass", fs=RATE, output="sos"), white)
    sound = np.asarray(sound, dtype=np.float32)
    return (sound / (np.sqrt(np.mean(sound**2)) + 1e-9) * 0.1).astype(np.float32)


def resample(speech: Speech) -> np.ndarray:
    from scipy import signal

    if speech.rate == RATE:
        return speech.samples.astype(np.float32)
    ratio = Fraction(RATE, speech.rate)
    return signal.resample_poly(speech.samples, ratio.numerator, ratio.denominator).astype(np.float32)


def true_peak(audio: np.ndarray) -> float:
    """The true peak, dBFS: the largest sample after 4x oversampling (BS.1770-4, Annex 2)."""
    from scipy import signal

    if not len(audio):
        return float("-inf")
    over = signal.resample_poly(audio, 4, 1)
    return float(20 * np.log10(np.max(np.abs(over)) + 1e-12))


def limit(audio: np.ndarray, ceiling: float) -> np.ndarray:
    """A look-ahead peak limiter: the gain dips smoothly around every peak over the ceiling, the peaks found
    between samples too (4x oversampled, BS.1770's true peak) where a sample comes near the ceiling."""
    from scipy import ndimage, signal

    peaks = np.abs(audio)
    block = RATE // 10
    for first in range(0, len(audio), block):
        if peaks[first : first + block].max(initial=0) > ceiling * 0.5:  # within 6 dB: look between samples
            lo, hi = max(0, first - 64), min(len(audio), first + block + 64)
            over = np.abs(signal.resample_poly(audio[lo:hi], 4, 1)).reshape(-1, 4).max(axis=1)
            span = slice(first - lo, first - lo + min(block, len(audio) - first))
            peaks[first : first + block] = np.maximum(peaks[first : first + block], over[span])
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    window = round(0.005 * RATE)
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, 2 * window + 1), window)
    gain = np.minimum(gain, need * 1.0)  # never over the ceiling where smoothing lifted it
    return (audio * gain).astype(np.float32)


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


# --- the whole soundtrack, block by block: memory does not grow with the film ----------------------

BLOCK = 10 * RATE  # samples mixed at a time
MARGIN = RATE // 2  # context either side of a block, for the ducking's filters


class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness, fed block by block: pyloudnorm's K-weighting filters run with
    their state carried across blocks, and the gating (400 ms blocks, 75 % overlap, -70 LUFS absolute and
    -10 LU relative gates) is BS.1770's, over 100 ms sums kept as the audio streams past."""

    def __init__(self) -> None:
        import pyloudnorm

        self.filters = [(f.b, f.a) for f in pyloudnorm.Meter(RATE)._filters.values()]
        self.states: list[np.ndarray | None] = [None] * len(self.filters)
        self.step = RATE // 10
        self.pending = np.zeros(0)
        self.sums: list[float] = []  # squared K-weighted samples per 100 ms

    def feed(self, audio: np.ndarray) -> None:
        from scipy import signal

        weighted = audio.astype(np.float64)
        for index, (b, a) in enumerate(self.filters):
            state = self.states[index]
            if state is None:
                state = signal.lfilter_zi(b, a) * 0.0
            weighted, self.states[index] = signal.lfilter(b, a, weighted, zi=state)
        joined = np.concatenate([self.pending, weighted])
        whole = len(joined) // self.step * self.step
        self.sums += list(np.sum(joined[:whole].reshape(-1, self.step) ** 2, axis=1))
        self.pending = joined[whole:]

    def integrated(self) -> float:
        sums = np.asarray(self.sums)
        if len(sums) < 4:
            return float("-inf")
        blocks = np.convolve(sums, np.ones(4), "valid") / (4 * self.step)  # 400 ms, every 100 ms
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness >= -70.0]
        if not len(gated):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(np.mean(gated)) - 10.0
        gated = blocks[(loudness >= -70.0) & (loudness >= relative)]
        return float(-0.691 + 10 * np.log10(np.mean(gated))) if len(gated) else float("-inf")


def write_soundtrack(
    path: Path,
    plan: StoryPlan,
    lines: list[tuple[float, str]],
    load: Callable[[str], Speech],
    beds: list[str] | None,
    music: np.ndarray | None = None,
) -> None:
    """The film's soundtrack as AAC at `path`, made a block at a time in three passes over a scratch file:
    mix (and measure the loudness), normalise and limit (and measure again), correct and encode.

    Args:
        lines: every spoken line, (start second on the timeline, its speech's key for `load`).
        load: a line's speech, by key (from the cache: only the lines near a block are in memory).
        beds: each shot's ambience (None: none).
        music: samples at RATE, looped under the whole film (None: none).
    """
    total = round(plan.total_frames / plan.fps * RATE)
    scratch = path.with_name(path.name + ".mix")
    limited = path.with_name(path.name + ".lim")
    try:
        meter = LoudnessMeter()
        # a line near a block's edge is mixed into two blocks: resampled once, kept while it is near
        resampled = lru_cache(maxsize=16)(lambda key: resample(load(key)))
        with open(scratch, "wb") as out:
            for first in range(0, total, BLOCK):
                block = _mixed(first, min(BLOCK, total - first), plan, lines, resampled, beds, music)
                meter.feed(block)
                out.write(block.astype(np.float32).tobytes())
        loudness = meter.integrated()
        gain = 10 ** ((TARGET_LUFS - loudness) / 20) if np.isfinite(loudness) else 1.0
        ceiling = 10 ** (PEAK_CEILING_DB / 20)
        after = LoudnessMeter()
        with open(limited, "wb") as out:
            for block, before, following in _blocks(scratch, total, 64):
                context = np.concatenate([before, block, following]) * np.float32(gain)
                block = limit(context, ceiling)[len(before) : len(before) + len(block)]
                after.feed(block)
                out.write(block.astype(np.float32).tobytes())
        # limiting took a little loudness off the peaks: give it back, at most half a dB (which the
        # ceiling's spare dB allows)
        settled = after.integrated()
        correction = min(10 ** (0.5 / 20), 10 ** ((TARGET_LUFS - settled) / 20)) if np.isfinite(settled) else 1.0
        write_aac((block * np.float32(correction) for block, _, _ in _blocks(limited, total, 0)), path)
    finally:
        scratch.unlink(missing_ok=True)
        limited.unlink(missing_ok=True)


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
    plan: StoryPlan,
    lines: list[tuple[float, str]],
    load: Callable[[str], np.ndarray],
    beds: list[str] | None,
    music: np.ndarray | None,
) -> np.ndarray:
    """Samples [first, first + length) of the mix: the speech (`load`: a line's samples at RATE, by key)
    over the ducked bed and music."""
    from scipy import ndimage

    lo, hi = first - MARGIN, first + length + MARGIN  # a little either side, for the ducking's filters
    span = hi - lo
    voice = np.zeros(span, np.float32)
    for at, key in lines:
        start = round(at * RATE)
        if start >= hi or start + 60 * RATE < lo:  # (no line lasts a minute: a cheap first test)
            continue
        samples = load(key)
        a, b = max(start, lo), min(start + len(samples), hi)
        if b > a:
            voice[a - lo : b - lo] += samples[a - start : b - start]
    background = np.zeros(span, np.float32)
    if beds is not None:
        fade = round(0.5 * RATE)
        for index, (shot, start_frame, kind) in enumerate(zip(plan.shots, plan.shot_starts(), beds, strict=True)):
            start = round(start_frame / plan.fps * RATE)
            bed_length = round(plan.shot_frames(shot) / plan.fps * RATE) + fade
            a, b = max(start, lo), min(start + bed_length, hi)
            if b <= a:
                continue
            offset = np.arange(a - start, b - start)
            ramp = np.minimum(1.0, np.minimum(offset + 1, bed_length - offset) / fade).astype(np.float32)
            loop = _loop(kind)
            shift = int(np.random.default_rng(plan.seed + index).integers(0, len(loop)))
            background[a - lo : b - lo] += (
                loop[(offset + shift) % len(loop)] * ramp * np.float32(10 ** (BED_DB / 20) / 0.1)
            )
    if music is not None and len(music):
        level = np.sqrt(np.mean(music**2)) + 1e-9
        background += (
            music[np.arange(max(0, lo), max(0, lo) + span) % len(music)] / level * np.float32(10 ** (MUSIC_DB / 20))
        )
    envelope = np.sqrt(np.maximum(ndimage.uniform_filter1d(voice**2, round(0.05 * RATE)), 0))
    speaking = ndimage.maximum_filter1d((envelope > 0.01).astype(np.float32), round(0.3 * RATE))
    gain = 1.0 - (1.0 - DUCK) * ndimage.uniform_filter1d(speaking, round(0.2 * RATE))
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
