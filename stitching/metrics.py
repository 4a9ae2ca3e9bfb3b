"""Model-free quality metrics of a film, in the spirit of VBench; each score is in [0, 1], higher is better.

- temporal flickering: 1 - mean absolute difference of consecutive frames / 255 (within shots)
- motion smoothness: 1 - error of each frame rebuilt by the flow infill from its two neighbours / 255
  (VBench rebuilds with a frame-interpolation model; the flow infill plays that part here)
- shot-boundary continuity: 1 - mean absolute difference across each shot boundary / 255 (needs the plan)
- colour stability: 1 - how far each shot's mean colour wanders over time (standard deviation / 64)
- CLIP text alignment: cosine similarity of a shot's middle frame and its prompt, with a local CLIP model

Frames stream through: memory holds three frames whatever the film's length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from stitching.infill import FlowInfill
from stitching.sound.levels import RATE
from stitching.sound.loudness import true_peak
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.models import StoryPlan
from storyteller.core.video_io import read_video


@dataclass
class Scores:
    frames: int
    flicker: float
    smoothness: float
    colour_stability: float
    continuity: float | None = None  # with a plan only
    clip: float | None = None  # with a CLIP model only
    boundaries: list[float] = field(default_factory=list)  # continuity at each cut, in timeline order

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(
    frames: Iterable[np.ndarray],
    plan: StoryPlan | None = None,
    smoothness_every: int = 1,
    clip_model: str | None = None,
) -> Scores:
    """Score a film's frames; with its plan, differences across shot boundaries count as continuity,
    not as flicker. `smoothness_every` > 1 rebuilds only every n-th frame (flow is the costly part)."""
    starts = set(plan.shot_starts()[1:]) if plan else set()
    shot_of = _shot_index(plan) if plan else None
    infill = FlowInfill()
    middles: dict[int, np.ndarray] = {}
    wanted_middles = _middle_frames(plan) if (plan and clip_model) else {}
    consecutive, rebuilt, boundaries = [], [], []
    colour: dict[int, list[np.ndarray]] = {}
    before = previous = None
    count = 0
    for index, frame in enumerate(frames):
        count += 1
        frame = np.asarray(frame)
        shot = shot_of(index) if shot_of else 0
        colour.setdefault(shot, []).append(frame.reshape(-1, 3).mean(axis=0))
        if index in wanted_middles:
            middles[wanted_middles[index]] = frame
        if previous is not None:
            difference = float(np.abs(frame.astype(np.int16) - previous).mean())
            if index in starts:
                boundaries.append(1 - difference / 255)
            else:
                consecutive.append(difference)
                if before is not None and index % smoothness_every == 0:
                    (guess,) = infill.fill(before, frame, [0.5])
                    rebuilt.append(float(np.abs(guess.astype(np.int16) - previous).mean()))
        # a frame is rebuilt from its neighbours only when no cut falls between them
        before, previous = (previous if index not in starts else None), frame
    if count == 0:
        raise ValueError("the video has no frames")
    wander = [float(np.linalg.norm(np.std(np.stack(means), axis=0))) for means in colour.values() if len(means) > 1]
    return Scores(
        frames=count,
        flicker=1 - (float(np.mean(consecutive)) / 255 if consecutive else 0.0),
        smoothness=1 - (float(np.mean(rebuilt)) / 255 if rebuilt else 0.0),
        colour_stability=1 - min(1.0, float(np.mean(wander)) / 64 if wander else 0.0),
        continuity=float(np.mean(boundaries)) if boundaries else (1.0 if plan else None),
        clip=_clip_alignment(clip_model, plan, middles) if (plan and clip_model) else None,
        boundaries=boundaries,
    )


@dataclass
class SoundScores:
    loudness: float  # integrated, LUFS (ITU-R BS.1770, gated)
    true_peak: float  # dBFS, 4x oversampled
    speech_share: float | None  # mean over the spoken lines: the share of each line's window that holds speech
    speech_share_min: float | None  # the least of them
    av_difference: float  # seconds: audio length minus video length

    def as_dict(self) -> dict:
        return asdict(self)


SPEECH_FLOOR_DB = -35.0  # a 20 ms window of the speech band louder than this holds speech


def evaluate_sound(path: Path, cues: list[tuple[float, float]] | None = None) -> SoundScores | None:
    """The film's soundtrack scored: loudness, true peak, speech in each line's window (`cues`: start and end
    seconds, from the subtitles), and how far the audio's length is from the video's. None: no audio."""
    import av
    import pyloudnorm
    from scipy import signal

    try:
        with av.open(str(path)) as film:
            if not film.streams.audio:
                return None
            audio, video = film.streams.audio[0], film.streams.video[0]
            lengths = [float(s.duration * s.time_base) if s.duration and s.time_base else 0.0 for s in (audio, video)]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            chunks = [out.to_ndarray().reshape(-1) for f in film.decode(audio=0) for out in resampler.resample(f)]
    except av.error.FFmpegError as error:
        raise StorytellerError(f"cannot read the sound of {path}: {error}") from None
    samples = np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(RATE)
    loudness = float(pyloudnorm.Meter(RATE).integrated_loudness(samples))
    shares = []
    if cues:
        band = signal.sosfilt(signal.butter(4, [300, 3400], "bandpass", fs=RATE, output="sos"), samples)
        window = RATE // 50
        frames = band[: len(band) // window * window].reshape(-1, window)
        level = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-12)
        for start, end in cues:
            inside = level[int(start * 50) : max(int(start * 50) + 1, int(end * 50))]
            shares.append(float(np.mean(inside > SPEECH_FLOOR_DB)) if len(inside) else 0.0)
    return SoundScores(
        loudness=loudness,
        true_peak=true_peak(samples.astype(np.float32)),
        speech_share=float(np.mean(shares)) if shares else None,
        speech_share_min=min(shares) if shares else None,
        av_difference=lengths[0] - lengths[1],
    )


def evaluate_video(path: Path, plan: StoryPlan | None = None, **options) -> Scores:
    return evaluate(read_video(path), plan, **options)


def _shot_index(plan: StoryPlan):
    """Frame index -> the shot it belongs to (a crossfade's frames belong to the shot coming in)."""
    starts = plan.shot_starts()

    def shot_of(index: int) -> int:
        return max(i for i, start in enumerate(starts) if start <= index) if index >= 0 else 0

    return shot_of


def _middle_frames(plan: StoryPlan) -> dict[int, int]:
    return {
        start + plan.shot_frames(s) // 2: i
        for i, (s, start) in enumerate(zip(plan.shots, plan.shot_starts(), strict=True))
    }


def _clip_alignment(model: str, plan: StoryPlan, middles: dict[int, np.ndarray]) -> float:
    """Mean cosine similarity between each shot's middle frame and its prompt, with a local CLIP model."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    try:
        clip = CLIPModel.from_pretrained(model).eval()
        processor = CLIPProcessor.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise StorytellerError(
            f"CLIP model {model} cannot be loaded ({first_line(error)}): pass a local folder"
        ) from None
    shots = sorted(middles)
    prompts = [plan.shots[i].prompt for i in shots]
    with torch.no_grad():
        inputs = processor(
            text=prompts, images=[middles[i] for i in shots], return_tensors="pt", padding=True, truncation=True
        )
        out = clip(**inputs)
        image = torch.nn.functional.normalize(out.image_embeds, dim=-1)
        text = torch.nn.functional.normalize(out.text_embeds, dim=-1)
    return float((image * text).sum(dim=-1).mean())


def median_pitch(samples: np.ndarray, rate: int) -> float | None:
    """The median fundamental frequency of the voiced parts of speech, Hz (None: nothing voiced).

    Autocorrelation per 40 ms frame (10 ms apart), normalised by the frame's energy at each lag: a frame is
    voiced where its best lag between 60 and 500 Hz repeats it at 0.5 or better, and its pitch is the first
    lag nearly as good (85 %: a period, never two), refined by a parabola through its neighbours."""
    size, hop = int(0.04 * rate), int(0.01 * rate)
    shortest, longest = int(rate / 500), int(rate / 60)
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < size + longest:
        return None
    loud = np.sqrt(np.mean(x**2)) * 0.5
    found = []
    for start in range(0, len(x) - size - longest, hop):
        frame = x[start : start + size + longest]
        if np.sqrt(np.mean(frame[:size] ** 2)) < loud:
            continue
        spectrum = np.fft.rfft(frame[:size], 2 * (size + longest))
        whole = np.fft.rfft(frame, 2 * (size + longest))
        correlation = np.fft.irfft(np.conj(spectrum) * whole)[: longest + 1]
        energy = np.sqrt(np.sum(frame[:size] ** 2) * np.convolve(frame**2, np.ones(size), "valid")[: longest + 1])
        normalised = correlation / np.maximum(energy, 1e-12)
        best = float(np.max(normalised[shortest:longest]))
        if best < 0.5:
            continue
        # the first lag that repeats the frame nearly as well as the best: a period, not two (octave errors)
        n = normalised
        peaks = [k for k in range(shortest, longest) if n[k] >= 0.85 * best and n[k] >= max(n[k - 1], n[k + 1])]
        lag = peaks[0] if peaks else shortest + int(np.argmax(normalised[shortest:longest]))
        a, b, c = normalised[lag - 1], normalised[lag], normalised[lag + 1]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        found.append(rate / (lag + float(np.clip(shift, -0.5, 0.5))))
    return float(np.median(found)) if found else None
