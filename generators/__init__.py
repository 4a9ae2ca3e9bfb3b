"""Stage 3, generate: keyframe first (text-to-image), then animate it (image-to-video), as in MicroCinema.

Two small protocols, each with a registry keyed by name. Third-party backends register through the
`storyteller.generators` entry-point group with names "keyframe.NAME" or "animator.NAME".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from storyteller.models import MotionGuide, Shot, StoryPlan
from storyteller.registry import Registry


@runtime_checkable
class KeyframeGenerator(Protocol):
    name: str

    def config(self) -> dict[str, Any]:
        """Everything that changes the output: part of the cache key."""
        ...

    def keyframe(self, shot: Shot, plan: StoryPlan) -> Image.Image:
        """The shot's first frame. A backend may also take `progress=callable(done, total)` for its steps,
        hold a `max_workers` limit, and free its models in `close()` once the stage is over."""
        ...


@runtime_checkable
class Animator(Protocol):
    name: str

    def config(self) -> dict[str, Any]: ...

    def animate(
        self, keyframe: Image.Image, shot: Shot, plan: StoryPlan, guide: MotionGuide | None = None
    ) -> Iterator[np.ndarray]:
        """Yield `plan.shot_frames(shot)` RGB frames (H x W x 3, uint8), one at a time."""
        ...


KEYFRAME_GENERATORS: Registry[KeyframeGenerator] = Registry("keyframe backend", "storyteller.generators", "keyframe.")
ANIMATORS: Registry[Animator] = Registry("animator", "storyteller.generators", "animator.")
KEYFRAME_GENERATORS.register("animatic", "generators.animatic:AnimaticKeyframes")
ANIMATORS.register("animatic", "generators.animatic:AnimaticAnimator")
KEYFRAME_GENERATORS.register("diffusers", "generators.diffusion.keyframes:DiffusersKeyframes")
ANIMATORS.register("diffusers", "generators.diffusion.animator:DiffusersAnimator")

__all__ = ["ANIMATORS", "KEYFRAME_GENERATORS", "Animator", "KeyframeGenerator"]
