"""The soundtrack: speech over a quiet ambience bed and optional music, both ducked under the speech, the
whole normalised to an integrated loudness of -16 LUFS (ITU-R BS.1770, measured by pyloudnorm) with true
peaks under -1 dBFS, and encoded as AAC.

The ambience is drawn from the scene, not from recordings: shaped noise for rain, wind and waves, chirps
for a night, a low murmur for a city or a crowd; seeded by the plan, so the same plan sounds the same.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

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


def ambience(kind: str, seconds: float, seed: int) -> np.ndarray:
    """`seconds` of one ambience (RMS 0.1): a 12-second loop of it, made once per kind, played from a point
    the seed picks, so neighbouring shots of one kind do not repeat in step."""
    loop = _loop(kind)
    n = max(1, round(seconds * RATE))
    start = int(np.random.default_rng(seed).integers(0, len(loop)))
    return np.resize(np.roll(loop, -start), n)


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


def mix(
    plan: StoryPlan,
    spoken: list[list[Speech]],
    starts: list[list[float]],
    beds: list[str] | None,
    music: np.ndarray | None = None,
) -> np.ndarray:
    """The film's soundtrack, mono at RATE, exactly as long as the film."""
    from scipy import ndimage

    total = round(plan.total_frames / plan.fps * RATE)
    voice = np.zeros(total, np.float32)
    for speech, times in zip(spoken, starts, strict=True):
        for piece, at in zip(speech, times, strict=True):
            samples = resample(piece)
            first = round(at * RATE)
            end = min(total, first + len(samples))
            if end > first:
                voice[first:end] += samples[: end - first]
    background = np.zeros(total, np.float32)
    if beds is not None:
        fade = round(0.5 * RATE)
        for index, (shot, start, kind) in enumerate(zip(plan.shots, plan.shot_starts(), beds, strict=True)):
            first = round(start / plan.fps * RATE)
            length = min(total - first, round(plan.shot_frames(shot) / plan.fps * RATE) + fade)
            bed = ambience(kind, length / RATE, seed=plan.seed + index) * 10 ** (BED_DB / 20) / 0.1
            ramp = np.minimum(1.0, np.minimum(np.arange(length) + 1, length - np.arange(length)) / fade)
            background[first : first + length] += bed[:length] * ramp.astype(np.float32)
    if music is not None and len(music):
        looped = np.resize(music, total).astype(np.float32)
        level = np.sqrt(np.mean(music**2)) + 1e-9
        background += looped / level * 10 ** (MUSIC_DB / 20)
    # duck the bed and the music under the speech: follow the speech's envelope, quick down, slow up
    window = round(0.05 * RATE)
    envelope = np.sqrt(np.maximum(ndimage.uniform_filter1d(voice**2, window), 0))
    speaking = ndimage.maximum_filter1d((envelope > 0.01).astype(np.float32), round(0.3 * RATE))
    gain = 1.0 - (1.0 - DUCK) * ndimage.uniform_filter1d(speaking, round(0.2 * RATE))
    return voice + background * gain.astype(np.float32)


def normalise(audio: np.ndarray) -> np.ndarray:
    """To TARGET_LUFS integrated loudness (BS.1770, gated), true peaks limited under the ceiling."""
    import pyloudnorm

    if not np.any(audio):
        return audio
    meter = pyloudnorm.Meter(RATE)
    for _ in range(2):  # limiting lowers the loudness a little: measure again, once
        loudness = meter.integrated_loudness(audio.astype(np.float64))
        if not np.isfinite(loudness):
            return audio
        audio = audio * np.float32(10 ** ((TARGET_LUFS - loudness) / 20))
        audio = limit(audio, 10 ** (PEAK_CEILING_DB / 20))
    return audio.astype(np.float32)


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


def write_aac(audio: np.ndarray, path: Path) -> None:
    """Encode the soundtrack as AAC in an MP4 (.m4a) container, 96 kb/s mono."""
    import av

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=RATE, layout="mono")
        stream.bit_rate = 96_000
        stream.options = {"aac_coder": "fast"}  # twice as fast as the default search, for speech the same
        block = 1024 * 8
        for first in range(0, len(audio), block):
            chunk = np.ascontiguousarray(audio[first : first + block].reshape(1, -1), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = RATE
            frame.pts = first
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
