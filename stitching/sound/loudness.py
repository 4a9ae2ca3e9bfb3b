"""Loudness and peaks: moving averages and extremes (for ducking and limiting), the BS.1770-4 true-peak meter,
a limiter, and the streaming integrated-loudness meter (ITU-R BS.1770 gating over pyloudnorm's K-weighting)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from stitching.sound.levels import RATE


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
