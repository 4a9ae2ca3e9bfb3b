"""What every diffusers backend shares: device and dtype, loading a pipeline with a clear error, memory
savers, quiet libraries, seeds, and a step callback that drives the progress display."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from generators.diffusion.configs import PipelineConfig
from storyteller.core.backend import Resources
from storyteller.core.configs import Configured
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.files import MAX_LORA_BYTES, file_digest, local_file
from storyteller.core.models import Shot, StoryPlan, stable_hash
from storyteller.core.progress import note

Progress = Callable[[int, int], None]  # (steps done, steps in all)

# set before transformers is first imported: its import-time notes would tear through the progress display
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise StorytellerError(f"--device {device}: this torch has no CUDA device (torch {torch.__version__})")
        if device == "mps" and not torch.backends.mps.is_available():
            raise StorytellerError("--device mps: Metal is not available on this machine")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(dtype: str, device: str) -> Any:
    """Half precision on accelerators (the preset may ask for bfloat16), full precision on the CPU."""
    import torch

    if dtype == "auto":
        dtype = "float32" if device == "cpu" else "float16"
    elif device == "cpu" and dtype == "float16":
        dtype = "float32"  # half-precision kernels are missing or slow on most CPUs
    elif device == "mps" and dtype == "bfloat16":
        dtype = "float16"
    value = getattr(torch, dtype, None)
    if not isinstance(value, torch.dtype):
        raise StorytellerError(f"unknown dtype '{dtype}' (use float32, float16 or bfloat16)")
    return value


def quiet_libraries() -> None:
    """The libraries' own tqdm bars and load chatter would tear through the rich display."""
    import diffusers
    import huggingface_hub
    import transformers

    huggingface_hub.utils.logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1 or Path(model).exists()


def load_component(name: str, spec: list[str], dtype: Any) -> Any:
    """One component of a pipeline from a checkpoint of its own: [class name, id or folder, subfolder]."""
    import diffusers
    import transformers

    if not 2 <= len(spec) <= 3 or not all(isinstance(part, str) for part in spec):
        raise StorytellerError(f"component {name}: give [class name, model id or folder, subfolder (optional)]")
    class_name, source, *subfolder = spec
    cls = getattr(diffusers, class_name, None) or getattr(transformers, class_name, None)
    if not isinstance(cls, type) or not hasattr(cls, "from_pretrained"):
        raise StorytellerError(f"component {name}: no diffusers or transformers class '{class_name}'")
    kwargs: dict[str, Any] = {"subfolder": subfolder[0]} if subfolder else {}
    if "Processor" not in class_name and "Tokenizer" not in class_name:
        kwargs["torch_dtype"] = dtype
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls.from_pretrained(str(Path(source).expanduser()) if looks_like_path(source) else source, **kwargs)
    except (OSError, ValueError) as error:
        raise StorytellerError(
            f"component {name} ({class_name} from {source}) cannot be loaded offline ({first_line(error)}); "
            f"download it with `huggingface-cli download {source}` or give a local folder"
        ) from None


def load_pipeline(
    loader: Any,
    model: str,
    dtype: Any,
    variant: str | None = None,
    what: str = "model",
    components: dict[str, list[str]] | None = None,
) -> Any:
    """`loader.from_pretrained(model)`, with any `components` loaded from checkpoints of their own (a pipeline
    assembled from several, as FramePack's is); a missing or wrong model turned into one line."""
    quiet_libraries()
    if looks_like_path(model):
        folder = Path(model).expanduser()
        if not (folder / "model_index.json").is_file():
            reason = "does not exist" if not folder.exists() else "has no model_index.json (not a diffusers pipeline)"
            raise StorytellerError(f"{what} folder {model} {reason}: save one with pipe.save_pretrained(FOLDER)")
        model = str(folder)
    kwargs: dict[str, Any] = {"torch_dtype": dtype}
    if variant:
        kwargs["variant"] = variant
    for name, spec in (components or {}).items():
        kwargs[name] = load_component(name, spec, dtype)
    try:
        with warnings.catch_warnings():  # deprecation notes about the checkpoint are not the user's to fix
            warnings.simplefilter("ignore")
            return loader.from_pretrained(model, **kwargs)
    except ImportError as error:
        raise StorytellerError(f"{what} {model} needs a package that is missing: {first_line(error)}") from None
    except (OSError, ValueError) as error:
        if variant and "variant" in str(error):  # a checkpoint without fp16 files: take the full ones
            return load_pipeline(loader, model, dtype, None, what, components)
        if "AutoPipeline" in str(error):  # it exists, but is not the kind of pipeline this stage needs
            import re

            found = re.search(r"linked to (\w+)", str(error))
            kind = found.group(1) if found else "pipeline of another kind"
            raise StorytellerError(
                f"{model} is a {kind}, not a text-to-image pipeline: use it with --animator diffusers:{model}"
            ) from None
        if looks_like_path(model):
            raise StorytellerError(f"{what} folder {model} cannot be loaded: {first_line(error)}") from None
        raise StorytellerError(
            f"{what} '{model}' is not available offline and could not be fetched ({first_line(error)}); "
            f"download it on a connected machine with `huggingface-cli download {model}`, "
            "or pass a local folder instead of the id"
        ) from None


def place(pipe: Any, device: str, low_memory: bool) -> Any:
    """Put a pipeline on its device; with `low_memory`, trade speed for memory wherever the pipeline can."""
    pipe.set_progress_bar_config(disable=True)
    if not low_memory:
        return pipe.to(device)
    if device == "cpu":
        note("--low-memory: model offload needs a GPU; using VAE tiling and attention slicing only")
        pipe.to(device)
    else:
        try:
            import accelerate  # noqa: F401
        except ImportError:
            raise StorytellerError("--low-memory offloads models with accelerate: pip install accelerate") from None
        pipe.enable_model_cpu_offload(device=device)
    vae = getattr(pipe, "vae", None)
    for saver in ("enable_tiling", "enable_slicing"):
        if vae is not None and hasattr(vae, saver):
            with contextlib.suppress(NotImplementedError):  # some VAEs have no tiled path
                getattr(vae, saver)()
    if hasattr(pipe, "enable_attention_slicing"):
        pipe.enable_attention_slicing()
    return pipe


def run(pipe: Any, what: str, **kwargs: Any) -> Any:
    """Call a pipeline; what it refuses (sizes, lengths) or runs out of becomes one line."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return pipe(**kwargs)
    except torch.OutOfMemoryError:
        raise StorytellerError(
            f"{what} ran out of GPU memory: add --low-memory, or render smaller with --size"
        ) from None
    except (ValueError, TypeError) as error:
        raise StorytellerError(f"{what} ({type(pipe).__name__}) refused the call: {first_line(error)}") from None


def free(pipe: Any) -> None:
    """Drop a pipeline and give its memory back before the next stage loads its own."""
    import torch

    on_gpu = getattr(getattr(pipe, "device", None), "type", "cpu") != "cpu"
    del pipe
    if on_gpu and torch.cuda.is_available():  # the CPU gets its memory back as references drop
        gc.collect()  # a full collection costs a quarter second: only worth it for the GPU allocator
        torch.cuda.empty_cache()


def generator(*parts: object) -> Any:
    """A torch generator seeded from the parts (plan seed, character, location...): same parts, same noise."""
    import torch

    seed = int(stable_hash(list(parts))[:15], 16)
    # CPU generators are reproducible across machines, and every pipeline accepts one
    return torch.Generator("cpu").manual_seed(seed)


def step_callback(pipe_call: Any, progress: Progress | None, steps: int) -> dict[str, Any]:
    """The `callback_on_step_end` keyword for a pipeline call, when the pipeline takes one."""
    if progress is None or not accepts(pipe_call, "callback_on_step_end"):
        return {}

    def on_step_end(pipe: Any, step: int, timestep: Any, tensors: dict) -> dict:
        progress(step + 1, steps)
        return tensors

    return {"callback_on_step_end": on_step_end}


def valid_frames(pipe: Any, count: int) -> int:
    """The smallest length >= count the pipeline accepts: k * (temporal compression) + 1."""
    for name in ("vae_temporal_compression_ratio", "vae_scale_factor_temporal"):
        ratio = getattr(pipe, name, None)
        if isinstance(ratio, int) and ratio > 1:
            return math.ceil((count - 1) / ratio) * ratio + 1
    return count


def to_uint8(frame: Any) -> np.ndarray:
    """A pipeline's output frame (floats in 0..1 or bytes, channels first or last) as H x W x 3 bytes."""
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[0] in (1, 3) and frame.shape[-1] not in (1, 3):
        frame = frame.transpose(1, 2, 0)  # channels first ("pt"-style output)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0, 1) * 255).round().astype(np.uint8)
    return np.ascontiguousarray(frame[..., :3])


def accepts(call: Any, name: str) -> bool:
    import inspect

    return name in inspect.signature(call).parameters


def fit(width: int, height: int, area: int, multiple: int) -> tuple[int, int]:
    """The plan's aspect ratio at the model's native pixel count, in sizes the model can take."""
    scale = math.sqrt(area / (width * height))
    return (
        max(multiple, round(width * scale / multiple) * multiple),
        max(multiple, round(height * scale / multiple) * multiple),
    )


# What a pipeline class documents where neither its call nor its model's config says (diffusers' docs)
DOCUMENTED: dict[str, dict[str, Any]] = {
    "FluxPipeline": {"size": (1024, 1024)},
    "WanPipeline": {"fps": 16},
    "WanImageToVideoPipeline": {"fps": 16},
    "WanVACEPipeline": {"fps": 16},
    "HunyuanVideoFramepackPipeline": {"fps": 30},
}


@dataclass(frozen=True)
class Native:
    """What a model was made for, read from its configuration files (no weights loaded): the frame size
    (its pixel count is what counts), and for a video model its clip length and frame rate (None: unknown)."""

    size: tuple[int, int] | None
    frames: int | None = None
    fps: int | None = None
    pipeline: str = ""  # the pipeline class
    scale: int = 8  # the VAE's spatial downsampling

    @property
    def image_multiple(self) -> int:
        """What an image pipeline's width and height must be multiples of."""
        return 16 * max(1, self.scale // 8)

    @property
    def video_multiple(self) -> int:
        """What a video pipeline's width and height must be multiples of: LTX refuses all but 32, whatever
        its VAE; transformers patchify latents 2x2 more (Wan, CogVideoX): twice the VAE factor fits them."""
        if self.pipeline.startswith("LTX"):
            return 32
        return self.scale * 2 if self.scale < 32 else self.scale


def native_of(model: str, pipeline: str | None = None) -> Native:
    """A model's native size, frames and frame rate: its denoiser's sample size times its VAE's scale factor,
    else the defaults of its pipeline class's call, else what diffusers documents for the class. From the
    model's config files (offline: the folder, or the hub cache), so every process reads the same."""
    import diffusers

    quiet_libraries()
    source = str(Path(model).expanduser()) if looks_like_path(model) else model
    try:
        index = diffusers.DiffusionPipeline.load_config(source)
    except (OSError, ValueError):
        return Native(size=None, pipeline=pipeline or "")  # not here: loading the pipeline will say so
    name = pipeline or index.get("_class_name", "")
    cls = getattr(diffusers, name, None)
    call = cls.__call__ if isinstance(cls, type) else None
    defaults = {}
    if call is not None:
        import inspect

        parameters = inspect.signature(call).parameters
        defaults = {k: p.default for k, p in parameters.items() if isinstance(p.default, int) and p.default > 0}

    def component(folder: str) -> dict[str, Any]:
        if folder not in index:
            return {}
        try:
            # any model class reads a config.json: it does not matter which
            return dict(diffusers.AutoencoderKL.load_config(source, subfolder=folder))
        except (OSError, ValueError):
            return {}

    denoiser = component("unet") or component("transformer")
    vae = component("vae")
    levels = vae.get("block_out_channels") or vae.get("dim_mult")  # AutoencoderKL's, or Wan's VAE's
    given = vae.get("scale_factor_spatial") or vae.get("spatial_compression_ratio")  # Wan 2.2's is 16
    scale = int(given) if given else 2 ** (len(levels) - 1) if levels else 8
    size = None
    sample = denoiser.get("sample_size")
    if sample and "unet" in index:  # a UNet's latents are the VAE's downsampling of the image
        height, width = (sample, sample) if isinstance(sample, int) else tuple(sample)[:2]
        size = (int(width) * scale, int(height) * scale)
    elif "width" in defaults and "height" in defaults:
        size = (defaults["width"], defaults["height"])
    elif sample:
        side = sample if isinstance(sample, int) else sample[0]
        size = (int(side) * scale, int(side) * scale)
    documented = DOCUMENTED.get(name, {})
    size = size or documented.get("size")
    frames = defaults.get("num_frames") or denoiser.get("num_frames")
    fps = defaults.get("frame_rate") or defaults.get("fps") or documented.get("fps")
    return Native(
        size=size, frames=int(frames) if frames else None, fps=int(fps) if fps else None, pipeline=name, scale=scale
    )


GPU_MEMORY_VARIABLE = "STORYTELLER_GPU_MEMORY_GB"  # overrides what is detected (a shared GPU, a test)


def gpu_memory_gb() -> float | None:
    """The GPU's memory in GB (STORYTELLER_GPU_MEMORY_GB, else the first CUDA device's), None: no GPU."""
    given = os.environ.get(GPU_MEMORY_VARIABLE, "").strip()
    if given:
        try:
            return max(0.0, float(given))
        except ValueError:
            raise StorytellerError(f"{GPU_MEMORY_VARIABLE}={given}: give the GPU's memory in GB, e.g. 24") from None
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / 1e9


class PipelineBackend(Configured):
    """What the diffusion backends share: one pipeline, loaded on first use and freed by `close()`; settings
    in a `PipelineConfig` (each backend's `Config` extends it), given whole, or as keywords with the model
    first: `DiffusersKeyframes("stabilityai/sd-turbo", steps=1)`."""

    name = "diffusers"
    max_workers = 1  # one pipeline per device: shots queue on it rather than load it twice
    what = "model"
    Config: ClassVar[type[PipelineConfig]] = PipelineConfig
    settings: PipelineConfig

    def __init__(self, config: PipelineConfig | str | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._pipe: Any = None
        self._native: Native | None = None
        self._loras: dict[str, str] = {}  # adapter name -> the weights loaded under it

    def config(self) -> dict[str, Any]:
        style = self.settings.style_lora
        lora = {"style_lora_sha256": file_digest(local_file(style, "style LoRA", MAX_LORA_BYTES))} if style else {}
        return {**super().config(), **lora}  # the style LoRA's content, wherever it is

    @property
    def model(self) -> str:
        return self.settings.model

    def native(self) -> Native:
        """The model's own size (and clip length, frame rate), where the preset or the user gave none."""
        if self._native is None:
            self._native = native_of(self.model, self.settings.pipeline)
        return self._native

    def size(self) -> tuple[int, int]:
        """The pixel size whose count the plan's aspect ratio is fitted to: given, else the model's own."""
        size = self.settings.size or self.native().size
        if size is None:
            note(f"{self.model}: its native size is not in its config; 512x512 is used (give width and height)")
            return (512, 512)
        return size

    def fitted(self, width: int, height: int, multiple: int) -> tuple[int, int]:
        """A `width`:`height` frame at the model's pixel count, in multiples of `multiple`."""
        native = self.size()
        return fit(width, height, native[0] * native[1], multiple)

    def resources(self) -> Resources:
        """One GPU per worker unless told to use the CPU: Ray then places one worker per GPU."""
        return Resources(cpus=1, gpus=0 if self.settings.device == "cpu" else 1)

    def __getstate__(self) -> dict[str, Any]:  # a worker process loads its own pipeline (and its adapters)
        return {**self.__dict__, "_pipe": None, "_loras": {}}

    def adapters(self, pipe: Any, shot: Shot, plan: StoryPlan) -> None:
        """The LoRAs of the shot's characters and the film's style LoRA active at their scales, all others
        off: each loaded once (diffusers' load_lora_weights), then chosen per shot (set_adapters)."""
        wanted = {f"character_{c.id}": c.lora for c in plan.characters if c.lora and c.id in shot.characters}
        weights = {name: lora.scale for name, lora in wanted.items()}
        paths = {name: lora.path for name, lora in wanted.items()}
        if self.settings.style_lora:
            paths["style"], weights["style"] = self.settings.style_lora, self.settings.style_lora_scale
        if not paths and not self._loras:
            return
        if not hasattr(pipe, "load_lora_weights"):
            raise StorytellerError(f"{self.model} ({type(pipe).__name__}) takes no LoRA weights")
        for name, path in paths.items():
            if self._loras.get(name) != path:
                self._load_lora(pipe, name, path)
        if paths:
            pipe.enable_lora()
            pipe.set_adapters(list(paths), adapter_weights=[weights[name] for name in paths])
        else:
            pipe.disable_lora()  # a shot without them: the model as it is

    def _load_lora(self, pipe: Any, name: str, path: str) -> None:
        weights = local_file(path, "LoRA weights", MAX_LORA_BYTES)
        if name in self._loras:
            pipe.delete_adapters(name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipe.load_lora_weights(str(weights), adapter_name=name)
        except ImportError:
            raise StorytellerError("LoRA weights are loaded with peft: pip install 'storyteller[gpu]'") from None
        except (ValueError, KeyError, OSError, RuntimeError) as error:
            raise StorytellerError(f"LoRA {path} does not fit {self.model}: {first_line(error)}") from None
        self._loras[name] = path

    def default_loader(self, diffusers: Any) -> Any:
        return diffusers.DiffusionPipeline

    def check(self, pipe: Any) -> None:
        """Refuse a pipeline of the wrong kind for this stage, with a line that says which to use."""

    def load(self) -> Any:
        if self._pipe is None:
            import diffusers

            settings = self.settings
            device = pick_device(settings.device)
            loader = getattr(diffusers, settings.pipeline) if settings.pipeline else self.default_loader(diffusers)
            dtype = pick_dtype(settings.dtype, device)
            pipe = load_pipeline(loader, settings.model, dtype, settings.variant, self.what, settings.components)
            self.check(pipe)
            self._pipe = place(pipe, device, settings.low_memory)
        return self._pipe

    def close(self) -> None:
        self._loras = {}  # they go with the pipeline
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            free(pipe)
