"""Diffusion backends on diffusers, as in MicroCinema: a keyframe from any text-to-image pipeline, then
animated by any image-to-video (or text-to-video) pipeline. Heavy imports happen on first use."""

from generators.diffusion.presets import Choice, Preset, best_fit, preset, presets

__all__ = ["Choice", "Preset", "best_fit", "preset", "presets"]
