"""Keyframes from any diffusers text-to-image pipeline (SD-Turbo, SDXL, FLUX ...), by hub id or local folder.

Consistency across shots comes from the plan: every prompt carries the character bible verbatim, and the
noise is seeded by the shot's lead character and location, so the same hero in the same place starts
from the same noise. Characters with a reference image are held to it with an IP-Adapter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from generators.diffusion import runtime
from generators.diffusion.configs import KeyframeConfig
from generators.prompts import keyframe_prompt, lead
from storyteller.core.backend import KeyframeGenerator
from storyteller.core.errors import StorytellerError
from storyteller.core.files import read_image
from storyteller.core.models import Shot, StoryPlan, Structure
from storyteller.core.progress import note


class DiffusersKeyframes(runtime.PipelineBackend, KeyframeGenerator):
    """Keyframes from any diffusers text-to-image pipeline (`--keyframe diffusers:MODEL`, or a preset).

    Args:
        config: its settings (`KeyframeConfig`: the model, steps, guidance, size, an IP-Adapter, a
            ControlNet ...), or give them as keywords: `DiffusersKeyframes("stabilityai/sd-turbo", steps=1)`.
    """

    what = "keyframe model"
    Config = KeyframeConfig
    settings: KeyframeConfig

    def __init__(self, config: KeyframeConfig | str | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._adapter_loaded = False
        self._adapter_usable = bool(self.settings.ip_adapter)  # false once the pipeline turns out to take none
        self._controlled: Any = None  # the same pipeline with the ControlNet, made on first use

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_adapter_loaded": False, "_controlled": None}

    def close(self) -> None:
        self._controlled = None
        super().close()
        self._adapter_loaded = False  # it went with the pipeline: the next one loads it again if needed

    @property
    def takes_structure(self) -> bool:  # type: ignore[override]
        """With a ControlNet, the retrieved clip's structure steers the keyframe."""
        return bool(self.settings.controlnet) and self.settings.guide_structure > 0

    def _with_controlnet(self, pipe: Any) -> Any:
        """The pipeline with the ControlNet beside it (the same components: no second copy of the model)."""
        if self._controlled is None:
            import diffusers

            spec = ["ControlNetModel", self.settings.controlnet or ""]
            controlnet = runtime.load_component("controlnet", spec, pipe.unet.dtype)
            controlled = diffusers.AutoPipelineForText2Image.from_pipe(pipe, controlnet=controlnet.to(pipe.device))
            controlled.set_progress_bar_config(disable=True)
            self._controlled = controlled
        return self._controlled

    @property
    def takes_references(self) -> bool:  # type: ignore[override]
        """With an IP-Adapter, a character's reference image steers its keyframes (character memory)."""
        return self._adapter_usable

    def keyframe(self, shot: Shot, plan: StoryPlan, progress: runtime.Progress | None = None) -> Image.Image:
        pipe, settings = self.load(), self.settings
        self.adapters(pipe, shot, plan)  # the LoRAs of who is in the shot, the rest off
        structure = shot.guide.structure if shot.guide is not None and self.takes_structure else None
        if structure is not None:  # the retrieved clip's structure at the shot's start steers the picture
            pipe = self._with_controlnet(pipe)
        call = pipe.__call__
        kwargs: dict[str, Any] = {
            "prompt": keyframe_prompt(shot, plan),
            "num_inference_steps": settings.steps,
            "guidance_scale": settings.guidance,
            "generator": runtime.generator("keyframe", plan.seed, lead(shot), shot.location),
        }
        kwargs["width"], kwargs["height"] = self.frame_size(plan)
        if structure is not None:
            kwargs["image"] = structure_image(structure, 0.0, (kwargs["width"], kwargs["height"]))
            kwargs["controlnet_conditioning_scale"] = settings.guide_structure
        if shot.negative_prompt and settings.guidance > 1 and runtime.accepts(call, "negative_prompt"):
            kwargs["negative_prompt"] = shot.negative_prompt
        kwargs.update(self._reference(pipe, shot, plan))
        kwargs.update(runtime.step_callback(call, progress, settings.steps))
        what = f"keyframe model {self.model}"
        if runtime.accepts(call, "num_frames"):  # a video model (wan-1.3b): its keyframe is a one-frame clip
            frames = runtime.run(pipe, what, **kwargs, num_frames=1, output_type="np").frames[0]
            return Image.fromarray((np.clip(frames[0], 0, 1) * 255).round().astype(np.uint8))
        return runtime.run(pipe, what, **kwargs).images[0].convert("RGB")

    def default_loader(self, diffusers: Any) -> Any:
        return diffusers.AutoPipelineForText2Image

    def frame_size(self, plan: StoryPlan) -> tuple[int, int]:
        """The size keyframes are drawn at: the plan's aspect ratio at the model's pixel count."""
        return self.fitted(plan.width, plan.height, self.native().image_multiple)

    def runs_at(self, plan: StoryPlan) -> str:
        width, height = self.frame_size(plan)
        return f"{self.model} at {width}x{height}"

    def _reference(self, pipe: Any, shot: Shot, plan: StoryPlan) -> dict[str, Any]:
        """IP-Adapter inputs for the shot's characters with reference images, when the pipeline takes them."""
        references = [c.reference for c in (plan.character(cid) for cid in shot.characters) if c and c.reference]
        if not self._adapter_loaded and any(c.reference for c in plan.characters):
            if not self.settings.ip_adapter or not hasattr(pipe, "load_ip_adapter"):
                note(f"{self.model} takes no IP-Adapter here: character reference images are not used")
                self._adapter_usable = False
            else:
                repo, subfolder, weights = self.settings.ip_adapter
                try:
                    pipe.load_ip_adapter(repo, subfolder=subfolder, weight_name=weights)
                except (OSError, ValueError) as error:
                    raise StorytellerError(
                        f"IP-Adapter {repo}/{subfolder}/{weights} is not available offline "
                        f"({runtime.first_line(error)}); download it with `huggingface-cli download {repo}`"
                    ) from None
            self._adapter_loaded = True
        if not self._adapter_loaded or not self._adapter_usable:
            return {}
        if not references:  # the adapter is loaded for the whole run; this shot has nothing to hold to
            pipe.set_ip_adapter_scale(0.0)
            return {"ip_adapter_image": Image.new("RGB", (224, 224))}
        pipe.set_ip_adapter_scale(self.settings.ip_adapter_scale)
        return {"ip_adapter_image": read_image(references[0], "reference image")}  # the lead's: one per prompt


def structure_image(structure: Structure, time: float, size: tuple[int, int]) -> Image.Image:
    """The structure map at `time` (a fraction of the shot) as a ControlNet's image at `size`: grey levels
    (depth: near is bright; edges: white lines), smoothly enlarged from the library's small maps."""
    grey = np.frombuffer(structure.map_at(time), np.uint8).reshape(structure.height, structure.width)
    return Image.fromarray(grey).resize(size, Image.Resampling.BICUBIC).convert("RGB")
