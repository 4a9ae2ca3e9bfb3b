"""The ambience bed, drawn from the scene, not from recordings: shaped noise for rain, wind and waves, chirps
for a night, a low murmur for a city or a crowd; a loop a whole number of seconds long, seeded by nothing but
its kind, so the same plan sounds the same."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from stitching.sound.levels import RATE
from storyteller.core.models import Shot

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
def bed_loop(kind: str) -> np.ndarray:
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
