"""The soundtrack: speech over a quiet ambience bed and optional music, both ducked under the speech, the
whole normalised to an integrated loudness of -16 LUFS (ITU-R BS.1770, with pyloudnorm's K-weighting) with true
peaks under -1 dBFS, and encoded as AAC; block by block, so memory does not grow with the film.

The ambience is drawn from the scene, not from recordings: shaped noise for rain, wind and waves, chirps
for a night, a low murmur for a city or a crowd; seeded by the plan, so the same plan sounds the same.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
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


# ITU-R BS.1770-4 Annex 2: the 48-tap interpolating filter of the 4x oversampled true-peak meter, as its
# four 12-tap phases (the last two mirror the first two)
_PHASE_0 = (
    0.0017089843750,
    0.0109863281250,
    -0.0196533203125,
    0.0332031250000,
    -0.0594482421875,
    0.1373291015625,
    0.9721679687500,
    -0.1022949218750,
    0.0476074218750,
    -0.0266113281250,
    0.0148925781250,
    -0.0083007812500,
)
_PHASE_1 = (
    -0.0291748046875,
    0.0292968750000,
    -0.0517578125000,
    0.0891113281250,
    -0.1665039062500,
    0.4650878906250,
    0.7797851562500,
    -0.2003173828125,
    0.1015625000000,
    -0.0582275390625,
    0.0330810546875,
    -0.0189208984375,
)
TRUE_PEAK_PHASES = np.array([_PHASE_0, _PHASE_1, _PHASE_1[::-1], _PHASE_0[::-1]], dtype=np.float32)


def oversampled_peaks(audio: np.ndarray) -> np.ndarray:
    """Each sample's largest magnitude among its four interpolated values (BS.1770-4, Annex 2)."""
    peaks = np.abs(audio).astype(np.float32)
    for phase in TRUE_PEAK_PHASES:
        # the filter's centre tap (index 6 of 12) falls on the sample itself: 'same' keeps them aligned
        np.maximum(peaks, np.abs(np.convolve(audio, phase, "same")), out=peaks)
    return peaks


def true_peak(audio: np.ndarray) -> float:
    """The true peak, dBFS: the largest value of the 4x oversampled signal (BS.1770-4, Annex 2)."""
    if not len(audio):
        return float("-inf")
    return float(20 * np.log10(oversampled_peaks(audio).max() + 1e-12))


def limit(audio: np.ndarray, ceiling: float) -> np.ndarray:
    """A look-ahead peak limiter: the gain dips smoothly (5 ms) around every true peak over the ceiling."""
    from scipy import ndimage

    need = np.minimum(1.0, ceiling / np.maximum(oversampled_peaks(audio), 1e-9))
    window = round(0.005 * RATE)
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, 2 * window + 1), window)
    gain = np.minimum(gain, need)  # never over the ceiling where smoothing lifted it
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


# --- the whole soundtrack, shot by shot: memory does not grow with the film -------------------------

MIX_VERSION = 2  # part of every mix's cache key: raise it when the mix sounds different
MARGIN = RATE // 2  # context either side of a stretch, for the ducking's filters (they reach 0.28 s)
BLOCK = 10 * RATE  # samples normalised, limited and encoded at a time


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
        cuts, fade = [], round(0.5 * RATE)
        placed: list[Bed] = []
        for index, (shot, start_frame) in enumerate(zip(plan.shots, plan.shot_starts(), strict=True)):
            first = round(start_frame / plan.fps * RATE)
            cuts.append(first)
            if beds is not None:
                length = round(plan.shot_frames(shot) / plan.fps * RATE) + fade
                placed.append(Bed(first, length, beds[index], plan.seed + index))
        spoken = tuple(sorted((round(at * RATE), math.ceil(seconds * RATE) + 1, key) for at, seconds, key in lines))
        total = round(plan.total_frames / plan.fps * RATE)
        return cls(total, tuple(cuts), spoken, tuple(placed) if beds is not None else None, music)

    def stretches(self) -> list[tuple[int, int]]:
        """(first sample, length) of each shot's stretch of the soundtrack: from its start to the next
        shot's (a crossfade's overlap belongs to the later shot), together the whole film."""
        ends = [*self.cuts[1:], self.total]
        return [(first, max(0, end - first)) for first, end in zip(self.cuts, ends, strict=True)]

    def near(self, first: int, length: int) -> dict[str, Any]:
        """What the mix of samples [first, first + length) is made of, placed relative to `first`: the same
        stretch of sound wherever it falls in the film (a cache key's inputs)."""
        lo, hi = first - MARGIN, first + length + MARGIN
        return {
            "version": MIX_VERSION,
            "length": length,
            "lines": [(at - first, n, key) for at, n, key in self.lines if at < hi and at + n > lo],
            "beds": None
            if self.beds is None
            else [
                (bed.first - first, bed.length, bed.kind, bed.seed)
                for bed in self.beds
                if bed.first < hi and bed.first + bed.length > lo
            ],
            "music": [self.music, first] if self.music is not None else None,  # the music runs on: where matters
        }

    def described(self) -> dict[str, Any]:
        """The whole soundtrack's cache key inputs: the score, and how it is mixed and normalised."""
        return {**asdict(self), "version": MIX_VERSION, "lufs": TARGET_LUFS, "peak": PEAK_CEILING_DB}


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


def _unkept(index: int, mix: Callable[[], np.ndarray]) -> np.ndarray:
    return mix()


def write_soundtrack(
    path: Path,
    score: Score,
    load: Callable[[str], Speech],
    music: np.ndarray | None = None,
    premixed: Callable[[int, Callable[[], np.ndarray]], np.ndarray] = _unkept,
) -> None:
    """The film's soundtrack as AAC at `path`, in three passes over a scratch file: mix each shot's stretch
    (and measure the loudness), normalise and limit ten seconds at a time (and measure again), correct and
    encode.

    Args:
        score: where every line, bed and the music sit.
        load: a line's speech, by key (from the cache: only the lines near a stretch are in memory).
        music: samples at RATE, looped under the whole film (None: none).
        premixed: shot `index`'s stretch of the mix, given how to make it: where the caller keeps stretches
            (the pipeline caches them by `Score.near`, so an edit mixes only the shots it touched).
    """
    scratch = path.with_name(path.name + ".mix")
    limited = path.with_name(path.name + ".lim")
    try:
        meter = LoudnessMeter()
        # a line near a stretch's edge is mixed into two: resampled once, kept while it is near
        resampled = lru_cache(maxsize=16)(lambda key: resample(load(key)))
        with open(scratch, "wb") as out:
            for index, (first, length) in enumerate(score.stretches()):
                stretch = premixed(index, functools.partial(_mixed, first, length, score, resampled, music))
                meter.feed(stretch)
                out.write(stretch.astype(np.float32).tobytes())
        loudness = meter.integrated()
        gain = 10 ** ((TARGET_LUFS - loudness) / 20) if np.isfinite(loudness) else 1.0
        ceiling = 10 ** (PEAK_CEILING_DB / 20)
        after = LoudnessMeter()
        with open(limited, "wb") as out:
            for block, before, following in _blocks(scratch, score.total, 64):
                context = np.concatenate([before, block, following]) * np.float32(gain)
                block = limit(context, ceiling)[len(before) : len(before) + len(block)]
                after.feed(block)
                out.write(block.astype(np.float32).tobytes())
        # limiting took a little loudness off the peaks: give it back, at most half a dB (which the
        # ceiling's spare dB allows)
        settled = after.integrated()
        correction = min(10 ** (0.5 / 20), 10 ** ((TARGET_LUFS - settled) / 20)) if np.isfinite(settled) else 1.0
        write_aac((block * np.float32(correction) for block, _, _ in _blocks(limited, score.total, 0)), path)
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
    score: Score,
    load: Callable[[str], np.ndarray],
    music: np.ndarray | None,
) -> np.ndarray:
    """Samples [first, first + length) of the mix: the speech (`load`: a line's samples at RATE, by key)
    over the ducked bed and music. It reads only what `score.near(first, length)` names."""
    from scipy import ndimage

    lo, hi = first - MARGIN, first + length + MARGIN  # a little either side, for the ducking's filters
    span = hi - lo
    voice = np.zeros(span, np.float32)
    for start, n, key in score.lines:
        if start >= hi or start + n <= lo:
            continue
        samples = load(key)
        a, b = max(start, lo), min(start + len(samples), hi)
        if b > a:
            voice[a - lo : b - lo] += samples[a - start : b - start]
    background = np.zeros(span, np.float32)
    fade = round(0.5 * RATE)
    for bed in score.beds or ():
        a, b = max(bed.first, lo), min(bed.first + bed.length, hi)
        if b <= a:
            continue
        offset = np.arange(a - bed.first, b - bed.first)
        ramp = np.minimum(1.0, np.minimum(offset + 1, bed.length - offset) / fade).astype(np.float32)
        loop = _loop(bed.kind)
        shift = int(np.random.default_rng(bed.seed).integers(0, len(loop)))
        background[a - lo : b - lo] += loop[(offset + shift) % len(loop)] * ramp * np.float32(10 ** (BED_DB / 20) / 0.1)
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
