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
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storyteller.core.backend import Speech
from storyteller.core.content import ContentDigest
from storyteller.core.errors import StorytellerError
from storyteller.core.files import temporaries
from storyteller.core.models import Shot, StoryPlan

RATE = 24_000  # Hz: the film's audio (speech from espeak is 22,050 Hz: more would only cost time)
TARGET_LUFS = -16.0
LIMIT_PASSES = 3  # at most: one, unless limiting took more than half a dB off (then the gain is raised)
PEAK_CEILING_DB = -2.0  # true peak, with a dB to spare for the AAC encoder's own overshoot
SPEECH_DB = -20.0  # every line's voiced RMS in the mix (levelled), before the whole is normalised
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


LOOP_SECONDS = 16  # every slow swell below repeats a whole number of times in one loop


@lru_cache(maxsize=len(AMBIENCES))
def _loop(kind: str) -> np.ndarray:
    """One loop of an ambience, made in the frequency domain: white noise shaped by a filter's magnitude
    and turned back into samples, which makes it periodic, so its end runs into its start without a click.
    Swells and chirps repeat a whole number of times in a loop for the same reason."""
    n = LOOP_SECONDS * RATE
    rng = np.random.default_rng(AMBIENCES.index(kind) if kind in AMBIENCES else 0)
    f = np.fft.rfftfreq(n, 1 / RATE)
    t = np.arange(n, dtype=np.float32) / RATE

    def noise(low: float, high: float | None = None, order: int = 2, source: np.ndarray | None = None) -> np.ndarray:
        """Noise (or `source`) through a Butterworth-shaped band: high-pass at `low` (0: none), low-pass
        at `high`."""
        spectrum = np.fft.rfft(rng.standard_normal(n) if source is None else source)
        gain = np.ones_like(f)
        if low:
            gain /= np.sqrt(1 + (low / np.maximum(f, 1e-3)) ** (2 * order))
        if high:
            gain /= np.sqrt(1 + (f / high) ** (2 * order))
        return np.fft.irfft(spectrum * gain, n).astype(np.float32)

    def swell(cycles: int) -> np.ndarray:
        return np.sin(2 * np.pi * cycles / LOOP_SECONDS * t + rng.uniform(0, 2 * np.pi)).astype(np.float32)

    if kind == "rain":  # a hiss, with drops
        drops = (rng.random(n) < 40 / RATE) * rng.uniform(0.5, 2.0, n)
        sound = noise(800, 9000) + 3 * noise(2000, 6000, source=drops)
    elif kind == "wind":  # low noise, swelling slowly
        sound = noise(0, 500) * (0.6 + 0.4 * swell(2))
    elif kind == "waves":  # surf: noise that rises and falls every eight seconds
        sound = noise(200, 3000) * (0.25 + 0.75 * np.clip(swell(2), 0, 1) ** 2)
    elif kind == "night":  # crickets over a faint hush
        chirp = np.sin(2 * np.pi * 4500 * t) * (np.sin(2 * np.pi * 30 * t) > 0.6) * (swell(12) > 0.3)
        sound = 0.3 * chirp + noise(0, 300)
    elif kind in ("city", "crowd"):  # a murmur: voice-band noise, slowly varying
        sound = noise(*((150, 1200) if kind == "crowd" else (40, 600))) * (0.7 + 0.3 * swell(8))
    else:  # room tone
        sound = noise(0, 200, order=1)
    looped = (sound / (np.sqrt(np.mean(sound**2)) + 1e-9) * 0.1).astype(np.float32)
    looped.flags.writeable = False
    return looped


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


def moving_average(x: np.ndarray, n: int) -> np.ndarray:
    """The mean of each sample's centred window of `n` (the ends held)."""
    half = n // 2
    padded = np.pad(x.astype(np.float64), (half + 1, n - half - 1), mode="edge")
    sums = np.cumsum(padded)
    return ((sums[n:] - sums[:-n]) / n).astype(np.float32)


def moving_extreme(x: np.ndarray, n: int, largest: bool) -> np.ndarray:
    """The largest (or smallest) value in each sample's centred window of `n`, in three passes whatever
    `n` is (van Herk and Gil-Werman: running extremes within blocks of `n`, forwards and backwards)."""
    op, fill = (np.maximum, -np.inf) if largest else (np.minimum, np.inf)
    half = n // 2
    length = -(-(len(x) + n - 1) // n) * n  # room for every window, in whole blocks
    padded = np.full(length, fill, dtype=np.float32)
    padded[half : half + len(x)] = x
    blocks = padded.reshape(-1, n)
    forwards = op.accumulate(blocks, axis=1).ravel()
    backwards = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    # the window starting at i spans at most two blocks: the end of one (backwards), the start of the next
    return op(backwards[: len(x)], forwards[n - 1 : n - 1 + len(x)])


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
    need = np.minimum(1.0, ceiling / np.maximum(oversampled_peaks(audio), 1e-9))
    window = round(0.005 * RATE)
    gain = moving_average(moving_extreme(need, 2 * window + 1, largest=False), window)
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

MIX_VERSION = 5  # part of every mix's cache key: raise it when the mix sounds different
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
            "version": MIX_VERSION,
            "length": length,
            "lines": [(at - first, n, key) for at, n, key in lines],
            "beds": None if self.beds is None else [(b.first - first, b.length, b.kind, b.seed) for b in beds],
            "music": [self.music, first] if self.music is not None else None,  # the music runs on: where matters
        }

    def described(self) -> dict[str, Any]:
        """The whole soundtrack's cache key inputs: the score, and how it is mixed and normalised."""
        return {**asdict(self), "version": MIX_VERSION, "lufs": TARGET_LUFS, "peak": PEAK_CEILING_DB}


def k_weighting(rate: int = RATE) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770's K-weighting as pyloudnorm designs it for any rate: RBJ cookbook biquads, a +4 dB high shelf
    at 1500 Hz (Q 1/sqrt 2) and a high-pass at 38 Hz (Q 0.5); (b, a) of each (tested against pyloudnorm)."""
    stages = []
    for kind, gain_db, q, fc in (("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        a_ = 10 ** (gain_db / 40)
        w0 = 2 * np.pi * fc / rate
        alpha, cos = np.sin(w0) / (2 * q), np.cos(w0)
        if kind == "high_shelf":
            root = 2 * np.sqrt(a_) * alpha
            b = [a_ * ((a_ + 1) + (a_ - 1) * cos + root), -2 * a_ * ((a_ - 1) + (a_ + 1) * cos)]
            b.append(a_ * ((a_ + 1) + (a_ - 1) * cos - root))
            a = [(a_ + 1) - (a_ - 1) * cos + root, 2 * ((a_ - 1) - (a_ + 1) * cos), (a_ + 1) - (a_ - 1) * cos - root]
        else:
            b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
            a = [1 + alpha, -2 * cos, 1 - alpha]
        stages.append((np.array(b) / a[0], np.array(a) / a[0]))
    return stages


K_TAPS = 8192  # the K-weighting's impulse response is under 1e-12 of its peak by here (its poles: r < 0.991)
_FFT = 1 << 17


@lru_cache(maxsize=1)
def _k_weighting_spectrum() -> np.ndarray:
    """The K-weighting filters' impulse response (both biquads run on an impulse), as a spectrum for the
    FFT convolution: the filters applied with numpy alone, in blocks, their state the convolution's tail."""
    response = np.zeros(K_TAPS)
    response[0] = 1.0
    for b, a in k_weighting():
        out, x1, x2, y1, y2 = np.zeros(K_TAPS), 0.0, 0.0, 0.0, 0.0
        for i, x in enumerate(response.tolist()):
            y = b[0] * x + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            out[i], x2, x1, y2, y1 = y, x1, x, y1, y
        response = out
    return np.fft.rfft(response, _FFT)


class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness, fed block by block: pyloudnorm's K-weighting filters (applied as
    an FFT convolution, carried across blocks), and BS.1770's gating (400 ms blocks, 75 % overlap, -70 LUFS
    absolute and -10 LU relative gates) over 100 ms sums kept as the audio streams past."""

    def __init__(self) -> None:
        self.spectrum = _k_weighting_spectrum()
        self.tail = np.zeros(K_TAPS - 1)  # the filters' ringing from samples already fed
        self.step = RATE // 10
        self.pending = np.zeros(0)
        self.sums: list[float] = []  # squared K-weighted samples per 100 ms

    def feed(self, audio: np.ndarray) -> None:
        room = _FFT - K_TAPS + 1  # samples convolved at a time, their tails within the FFT
        for first in range(0, len(audio), room):
            chunk = audio[first : first + room].astype(np.float64)
            weighted = np.fft.irfft(np.fft.rfft(chunk, _FFT) * self.spectrum, _FFT)[: len(chunk) + K_TAPS - 1]
            weighted[: K_TAPS - 1] += self.tail
            self.tail = weighted[len(chunk) :]
            self._sum(weighted[: len(chunk)])

    def _sum(self, weighted: np.ndarray) -> None:
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
        loop = _loop(bed.kind)
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
