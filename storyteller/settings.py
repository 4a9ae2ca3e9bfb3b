"""How a film is rendered beyond its backends: one frozen value that the CLI builds from its flags, the Python
API takes (`Storyteller(settings=RenderSettings(deflicker=True))`) and the studio's renders share. Its
defaults are the defaults, here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stitching.fill import AUTO, FillSettings
from stitching.sound import NARRATION_MODES
from storyteller.core.cache import DEFAULT_CACHE_BYTES
from storyteller.core.configs import runtime, settings_names
from storyteller.core.errors import StorytellerError
from storyteller.core.files import MAX_MUSIC_BYTES, local_file

# The film's encoder, by `quality`. x264's veryfast preset encodes the animatic's flat frames about twice as
# fast as its default (medium) at the same CRF, for files within a few percent of the size; "small" spends
# longer for smaller files, which suits detailed diffusion frames.
ENCODERS = {
    "fast": {"codec": "libx264", "pix_fmt": "yuv420p", "crf": 20, "preset": "veryfast"},
    "small": {"codec": "libx264", "pix_fmt": "yuv420p", "crf": 20, "preset": "slow"},
}
DEFAULT_QUALITY = "fast"


@dataclass(frozen=True, kw_only=True)
class RenderSettings:
    """Everything about a render but its backends and its plan.

    Attributes:
        fill: NUWA-XL coarse-to-fine infill: "auto" (flow infill of every 2nd frame, where the infill makes a
            frame faster than the animator draws one: for model animators, not for the animatic), a
            `FillSettings` to force one, or None to draw every frame.
        colour_match: shots of a place keep the colours of its first keyframe.
        deflicker: ease frame-to-frame brightness jitter.
        character_memory: a character's first keyframe becomes its reference image, which its later
            keyframes are held to (IP-Adapter), where the keyframe model takes one and the character has no
            reference of its own; False: every keyframe drawn from its prompt alone.
        quality: the film's encoder: "fast" (x264 veryfast, CRF 20) or "small" (x264 slow, CRF 20: smaller
            files, slower encoding).
        narration: "story" (the narrator reads each shot's text and the characters speak their quoted lines),
            "dialogue" (only the lines), or "none" (no speech; the ambience and music stay).
        ambience: a quiet bed of the scene's sound (rain, waves, a night ...) under the speech.
        music: an audio file (anything PyAV reads) played under the film, ducked under the speech.
        language: the story's language for speech (an espeak code: en, de, pl ...); None: the plan's.
        workers: shots rendered at once by a named executor; None: up to 2, by the CPUs. How fast, never what.
        cache_size: the shared store's cap in bytes: after each render the least recently used entries go
            until it fits, never one a running render uses. How much is kept, never what is drawn.
    """

    fill: FillSettings | str | None = AUTO
    colour_match: bool = False
    deflicker: bool = False
    character_memory: bool = True
    quality: str = DEFAULT_QUALITY
    narration: str = "story"
    ambience: bool = True
    music: Path | None = None
    language: str | None = None
    workers: int | None = runtime(None)
    cache_size: int = runtime(DEFAULT_CACHE_BYTES)

    def __post_init__(self) -> None:
        if isinstance(self.fill, str) and self.fill != AUTO:
            raise StorytellerError(f"fill '{self.fill}': give '{AUTO}', a FillSettings, or None")
        if self.quality not in ENCODERS:
            raise StorytellerError(f"quality '{self.quality}': give one of {', '.join(ENCODERS)}")
        if self.narration not in NARRATION_MODES:
            raise StorytellerError(f"narration '{self.narration}': give one of {', '.join(NARRATION_MODES)}")
        if self.cache_size < 0:
            raise StorytellerError(f"the cache size must not be negative (got {self.cache_size})")
        if self.music is not None:  # a file that cannot be the music is said now, not after the drawing
            object.__setattr__(self, "music", local_file(str(self.music), "music file", MAX_MUSIC_BYTES))

    @property
    def auto_fill(self) -> bool:
        """The fill is used only where it pays: where the infill declares a frame cheaper than drawing it."""
        return self.fill == AUTO

    @property
    def fill_settings(self) -> FillSettings | None:
        """The fill asked for (auto: the default fill, where it pays); None: every frame drawn."""
        return FillSettings() if isinstance(self.fill, str) else self.fill  # (a string is AUTO: checked)

    @property
    def encoder(self) -> dict[str, Any]:
        """The film segments' encoder settings."""
        return ENCODERS[self.quality]

    def but(self, **changes: Any) -> RenderSettings:
        """These settings with `changes` (RenderSettings' fields; a wrong name is one line naming it)."""
        unknown = sorted(set(changes) - set(settings_names(RenderSettings)))
        if unknown:
            known = ", ".join(settings_names(RenderSettings))
            raise StorytellerError(f"no render setting {', '.join(unknown)} (settings: {known})")
        return dataclasses.replace(self, **changes) if changes else self
