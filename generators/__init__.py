"""Stage 3, generate: keyframe first (text-to-image), then animate it (image-to-video), as in MicroCinema.

Two small protocols, each with a registry keyed by name. Third-party backends register through the
`storyteller.generators` entry-point group with names "keyframe.NAME" or "animator.NAME".
"""

from __future__ import annotations

from storyteller.core.backend import Animator, KeyframeGenerator
from storyteller.core.registry import INFILLERS, Registry

KEYFRAME_GENERATORS: Registry[KeyframeGenerator] = Registry("keyframe backend", "storyteller.generators", "keyframe.")
ANIMATORS: Registry[Animator] = Registry("animator", "storyteller.generators", "animator.")
KEYFRAME_GENERATORS.register("animatic", "generators.animatic:AnimaticKeyframes")
ANIMATORS.register("animatic", "generators.animatic:AnimaticAnimator")
KEYFRAME_GENERATORS.register("diffusers", "generators.diffusion.keyframes:DiffusersKeyframes")
ANIMATORS.register("diffusers", "generators.diffusion.animator:DiffusersAnimator")
KEYFRAME_GENERATORS.register("comfyui", "generators.comfyui.backends:ComfyKeyframes")  # comfyui:WORKFLOW.json
ANIMATORS.register("comfyui", "generators.comfyui.backends:ComfyAnimator")
# NUWA-XL's infill with a video diffusion model: a generator, in the infill registry the core keeps
INFILLERS.register("diffusers", "generators.diffusion.infill:DiffusersInfill")

__all__ = ["ANIMATORS", "KEYFRAME_GENERATORS", "Animator", "KeyframeGenerator"]
