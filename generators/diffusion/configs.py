"""The settings of the diffusers backends: one frozen dataclass they share, extended by each stage's own.

A preset's [NAME.keyframe] and [NAME.animator] tables are these fields; a backend's cache key is derived
from them (`storyteller.core.configs`), the device and memory savers left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyteller.core.configs import runtime


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """What every diffusers backend is given.

    Attributes:
        model: a Hugging Face model id, or a local folder saved with `save_pretrained`.
        pipeline: the diffusers pipeline class to load it with, by name (e.g. "StableDiffusionXLPipeline");
            None: whatever the stage's auto pipeline picks from the model.
        steps: denoising steps per call.
        guidance: classifier-free guidance scale (1.0 or less: none).
        width, height: the size the model was trained at; its pixel count is what counts: the plan's aspect
            ratio is fitted to it. None: read from the model (its denoiser's sample size times its VAE's
            scale factor, else its pipeline's documented default).
        dtype: "auto" (half precision on a GPU, float32 on the CPU), or a torch dtype's name.
        variant: the weights' variant to load ("fp16"); a checkpoint without it loads its full weights.
        components: components loaded from checkpoints of their own, by the pipeline's name for them:
            {"transformer": [class name, id or folder, subfolder]}; for a pipeline assembled from several
            checkpoints (FramePack).
        device: "auto" (CUDA, else MPS, else CPU), "cuda", "cuda:1", "mps" or "cpu". Not in the cache key: it
            changes the speed, not the picture.
        low_memory: offload models to the CPU between steps, tile the VAE, slice attention. Not in the cache
            key either.
        style_lora: LoRA weights (a .safetensors file) for the whole film's look, active in every shot beside
            the characters' own; its content keys the work, not its path.
        style_lora_scale: how strongly the style LoRA acts (1: as trained).
    """

    model: str
    pipeline: str | None = None
    steps: int = 30
    guidance: float = 7.0
    width: int | None = None
    height: int | None = None
    dtype: str = "auto"
    variant: str | None = None
    components: dict[str, list[str]] | None = None
    device: str = runtime("auto")
    low_memory: bool = runtime(False)
    style_lora: str | None = runtime(None)
    style_lora_scale: float = 1.0

    @property
    def size(self) -> tuple[int, int] | None:
        """The model's size as given (both or neither), None: read it from the model."""
        return (self.width, self.height) if self.width and self.height else None


@dataclass(frozen=True, kw_only=True)
class KeyframeConfig(PipelineConfig):
    """A text-to-image model's settings (`DiffusersKeyframes`).

    Attributes:
        ip_adapter: an IP-Adapter as [repository, subfolder, weight file]: characters with a reference image
            are held to it.
        ip_adapter_scale: how strongly the reference image steers the keyframe (0 to 1).
        controlnet: a ControlNet (hub id or folder) matching the model and the library's maps (a depth
            ControlNet for depth maps): a shot whose retrieved clip has structure maps is drawn following the
            clip's structure at its start (Animate-A-Story).
        guide_structure: how strongly that structure steers the keyframe (the ControlNet's conditioning
            scale; 0: not at all).
    """

    ip_adapter: list[str] | None = None
    ip_adapter_scale: float = 0.6
    controlnet: str | None = None
    guide_structure: float = 0.5


@dataclass(frozen=True, kw_only=True)
class AnimatorConfig(PipelineConfig):
    """An image-to-video (or text-to-video) model's settings (`DiffusersAnimator`).

    Attributes:
        frames: frames per call, the model's native clip length (at least 2); longer shots are made chunk by
            chunk, each from the last frame of the one before. None: the model's (its pipeline's default
            `num_frames`, or its denoiser's config), else 16.
        fps: the frame rate the model's clips play at; they are resampled to the plan's. None: the model's
            (its pipeline's default `frame_rate`, or diffusers' documented rate), else the plan's.
        decode_chunk: frames the VAE decodes at once (SVD): lower uses less memory.
        guide_strength: how strongly the retrieved clip's frames steer the motion, where the pipeline takes
            conditioning frames (LTX); 0: not at all.
        guide_structure: how strongly the retrieved clip's structure maps (depth, else edges, at its first,
            middle and last frame) steer the motion, where the pipeline takes sparse control frames
            (AnimateDiff SparseCtrl); 0: not at all.
    """

    steps: int = 25
    guidance: float = 3.0
    frames: int | None = None
    fps: int | None = None
    decode_chunk: int | None = None
    guide_strength: float = 0.0
    guide_structure: float = 0.0


@dataclass(frozen=True, kw_only=True)
class InfillConfig(PipelineConfig):
    """A first-and-last-frame model's settings (`DiffusersInfill`).

    Attributes:
        prompt: the text every infill segment is generated with (default: none).
    """

    guidance: float = 3.0
    prompt: str = ""
