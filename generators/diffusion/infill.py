"""Infill with a first-and-last-frame video pipeline: LTX-Video's condition pipeline (a condition at both
ends) or Wan image-to-video with `last_image`. The NUWA-XL local model, for when a GPU is at hand."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from generators.diffusion import runtime
from generators.diffusion.configs import InfillConfig
from storyteller.core.backend import Infiller
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MotionGuide


class DiffusersInfill(runtime.PipelineBackend, Infiller):
    """NUWA-XL's local pass by a first-and-last-frame video pipeline (`--fill diffusers:MODEL`): each infill
    segment is generated between its two known frames.

    Args:
        config: its settings (`InfillConfig`: the model, steps, guidance, size, the prompt every segment is
            generated with ...), or give them as keywords: `DiffusersInfill("Lightricks/LTX-Video-0.9.5")`.
    """

    what = "infill model"
    Config = InfillConfig
    settings: InfillConfig

    def check(self, pipe: Any) -> None:
        if not (runtime.accepts(pipe.__call__, "conditions") or runtime.accepts(pipe.__call__, "last_image")):
            raise StorytellerError(
                f"{self.model} is a {type(pipe).__name__}: infill needs a first-and-last-frame pipeline "
                "(LTXConditionPipeline, or Wan image-to-video with last_image)"
            )

    def fill(
        self, first: np.ndarray, last: np.ndarray, times: list[float], guide: MotionGuide | None = None
    ) -> list[np.ndarray]:
        if not times:
            return []
        pipe = self.load()
        call = pipe.__call__
        h, w = first.shape[:2]
        width, height = self.fitted(w, h, self.native().video_multiple)
        count = runtime.valid_frames(pipe, len(times) + 2)
        ends = [
            Image.fromarray(f).convert("RGB").resize((width, height), Image.Resampling.LANCZOS) for f in (first, last)
        ]
        kwargs: dict[str, Any] = {
            "prompt": self.settings.prompt,
            "num_inference_steps": self.settings.steps,
            "guidance_scale": self.settings.guidance,
            # the same two ends always give the same frames, whichever process fills them
            "generator": runtime.generator("infill", _digest(first), _digest(last)),
            "width": width,
            "height": height,
            "num_frames": count,
            "output_type": "np",
        }
        if runtime.accepts(call, "conditions"):
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            kwargs["conditions"] = [
                LTXVideoCondition(image=ends[0], frame_index=0),
                LTXVideoCondition(image=ends[1], frame_index=count - 1),
            ]
        else:
            kwargs["image"], kwargs["last_image"] = ends
        video = runtime.run(pipe, f"infill model {self.model}", **kwargs).frames[0]
        frames = [runtime.to_uint8(f) for f in video]
        picked = [frames[min(len(frames) - 1, round(t * (count - 1)))] for t in times]
        return [np.asarray(Image.fromarray(f).resize((w, h), Image.Resampling.LANCZOS)) for f in picked]


def _digest(frame: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(frame).tobytes()).hexdigest()
