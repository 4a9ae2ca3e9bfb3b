"""The test ComfyUI's nodes: ComfyUI's own names and inputs (CheckpointLoaderSimple, CLIPTextEncode, KSampler,
SaveImage, LoadImage, SaveAnimatedWEBP, VHS_VideoCombine ...) on tiny numpy pictures, validated as ComfyUI's
validate_inputs does, and a `StoryVideo` image-to-video node. The sampler reports each step as `progress`."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

CHECKPOINTS = ["v1-5-pruned-emaonly.safetensors"]
MAX_PIXELS = 1024 * 1024  # past this the sampler "runs out of GPU memory"


class NodeFailure(Exception):
    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message, self.kind = message, kind


Run = Callable[[dict[str, Any], Any, str, Any], Awaitable[tuple[tuple[Any, ...], dict[str, Any] | None]]]


@dataclass
class Node:
    run: Run
    required: dict[str, Any]
    optional: dict[str, Any] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    output_node: bool = False

    def info(self, name: str, state: Any) -> dict[str, Any]:
        def shown(kind: Any) -> list[Any]:
            return [kind(state) if callable(kind) else kind]

        return {
            "input": {
                "required": {k: shown(v) for k, v in self.required.items()},
                "optional": {k: shown(v) for k, v in self.optional.items()},
            },
            "output": list(self.outputs),
            "output_node": self.output_node,
            "name": name,
            "display_name": name,
            "category": "test",
        }

    def reasons(self, inputs: dict[str, Any], prompt: dict[str, Any], state: Any) -> list[dict[str, Any]]:
        """What validate_inputs would say of these inputs (an empty list: valid)."""
        reasons = []
        for name, kind in {**self.required, **{k: v for k, v in self.optional.items() if k in inputs}}.items():
            if name not in inputs:
                reasons.append(_reason("required_input_missing", "Required input is missing", name, name))
                continue
            value = inputs[name]
            if isinstance(value, list):
                if len(value) != 2 or str(value[0]) not in prompt:
                    message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
                    reasons.append(_reason("bad_linked_input", message, name, name))
                continue
            choices = kind(state) if callable(kind) else kind
            if isinstance(choices, list) and value not in choices:
                details = (
                    f"{name}: '{value}' not in {choices if len(choices) <= 20 else f'(list of length {len(choices)})'}"
                )
                reasons.append(_reason("value_not_in_list", "Value not in list", details, name))
            elif kind in ("INT", "FLOAT"):
                try:
                    int(value) if kind == "INT" else float(value)
                except (TypeError, ValueError) as error:
                    message = f"Failed to convert an input value to a {kind} value"
                    reasons.append(_reason("invalid_input_type", message, f"{name}, {value}, {error}", name))
        return reasons


def _reason(kind: str, message: str, details: str, name: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {"input_name": name}}


def _inputs(state: Any) -> list[str]:
    return sorted(os.listdir(state.folder("input")))


async def checkpoint(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    return ("MODEL", "CLIP", "VAE"), None


async def encode(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    return (str(inputs["text"]),), None


async def empty_latent(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    return ({"width": int(inputs["width"]), "height": int(inputs["height"]), "n": int(inputs["batch_size"])},), None


async def sampler(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    latent, steps = inputs["latent_image"], int(inputs["steps"])
    width, height = latent["width"], latent["height"]
    if width * height > MAX_PIXELS:
        message = f"CUDA out of memory. Tried to allocate {width * height * 3 / 2**20:.2f} MiB"
        raise NodeFailure(message, "torch.OutOfMemoryError")
    for step in range(steps):
        await _maybe_die(state, say, node, step, steps)
        await say("progress", {"value": step + 1, "max": steps, "node": node})
        if state.faults.step_seconds:
            await asyncio.sleep(state.faults.step_seconds)
    return (_picture(width, height, latent["n"], inputs["seed"], inputs["positive"]),), None


async def _maybe_die(state: Any, say: Any, node: str, step: int, steps: int) -> None:
    """The server's death in the middle of a job, once it has finished `die_after` of them."""
    die_after = state.faults.die_after
    if die_after is not None and state.finished >= die_after and step == steps // 2:
        await say("progress", {"value": step, "max": steps, "node": node})
        os._exit(1)  # (only ever in a server process of its own: tests.comfy_server's main)


def _picture(width: int, height: int, n: int, seed: Any, prompt: Any) -> np.ndarray:
    """A picture made of the seed and the prompt: a colour, a gradient and a square where the seed says."""
    digest = hashlib.sha256(f"{seed}|{prompt}".encode()).digest()
    y, x = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        image[..., c] = digest[c] * 0.6 + 0.4 * 255 * (x / max(1, width - 1) if c == 0 else y / max(1, height - 1))
    left, top = digest[3] % max(1, width // 2), digest[4] % max(1, height // 2)
    image[top : top + height // 4, left : left + width // 4] = (
        255 - image[top : top + height // 4, left : left + width // 4]
    )
    return np.repeat(image.clip(0, 255).astype(np.uint8)[None], n, axis=0)


async def decode(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    return (inputs["samples"],), None


async def load_image(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    with Image.open(state.folder("input") / inputs["image"]) as image:
        return (np.asarray(image.convert("RGB"))[None], "MASK"), None


async def story_video(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
    """Image to video: the image drifts right and brightens; with a last image, it turns into that one."""
    first = inputs["image"][0].astype(np.float32)
    frames, steps = int(inputs["frames"]), 20
    for step in range(steps):
        await _maybe_die(state, say, node, step, steps)
        await say("progress", {"value": step + 1, "max": steps, "node": node})
        if state.faults.step_seconds:
            await asyncio.sleep(state.faults.step_seconds)
    last = inputs.get("last_image")
    end = None if last is None else np.asarray(Image.fromarray(last[0]).resize(first.shape[1::-1])).astype(np.float32)
    out = []
    for i in range(frames):
        t = i / max(1, frames - 1)
        frame = np.roll(first, int(t * first.shape[1] / 4), axis=1) * (1 - 0.2 * t) + 0.2 * t * 255
        if end is not None:
            frame = frame * (1 - t) + end * t
        out.append(frame.clip(0, 255).astype(np.uint8))
    return (np.stack(out),), None


def _saver(kind: str, write: Callable[[np.ndarray, dict[str, Any]], tuple[bytes, str]], key: str) -> Run:
    async def save(inputs: dict[str, Any], state: Any, node: str, say: Any) -> Any:
        prefix = os.path.basename(str(inputs.get("filename_prefix", "ComfyUI")))
        folder = state.folder(kind)
        count = len(os.listdir(folder))
        saved = []
        for i, batch in enumerate(write(inputs["images"], inputs)):
            data, suffix = batch
            name = f"{prefix}_{count + i:05}_{suffix}"
            (folder / name).write_bytes(data)
            saved.append({"filename": name, "subfolder": "", "type": kind})
        shown: dict[str, Any] = {key: saved}
        if key == "images" and inputs.get("fps") is not None:
            shown["animated"] = [True]
        return (), shown

    return save


def _pngs(images: np.ndarray, inputs: dict[str, Any]) -> list[tuple[bytes, str]]:
    return [(_encoded(Image.fromarray(image), "PNG"), ".png") for image in images]


def _webp(images: np.ndarray, inputs: dict[str, Any]) -> list[tuple[bytes, str]]:
    pictures = [Image.fromarray(image) for image in images]
    buffer = io.BytesIO()
    duration = int(1000 / float(inputs.get("fps", 8)))
    pictures[0].save(buffer, format="WEBP", save_all=True, append_images=pictures[1:], duration=duration, lossless=True)
    return [(buffer.getvalue(), ".webp")]


def _video(images: np.ndarray, inputs: dict[str, Any]) -> list[tuple[bytes, str]]:
    """VideoHelperSuite's combine: an MP4, or a GIF where the format asks for one."""
    if inputs.get("format") == "image/gif":
        pictures = [Image.fromarray(image) for image in images]
        buffer = io.BytesIO()
        duration = int(1000 / float(inputs.get("frame_rate", 8)))
        pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0)
        return [(buffer.getvalue(), ".gif")]
    return _mp4(images, inputs)


def _mp4(images: np.ndarray, inputs: dict[str, Any]) -> list[tuple[bytes, str]]:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        # FFmpeg's own MPEG-4 encoder on one thread: libx264 inside the test process (the conformance suite's)
        # made other bytes from the same frames now and then, cause not found; a test server must repeat itself
        stream = container.add_stream("mpeg4", rate=int(float(inputs.get("frame_rate", 8))))
        stream.codec_context.thread_count = 1
        stream.codec_context.qscale = 2  # type: ignore[attr-defined]
        stream.width, stream.height, stream.pix_fmt = images.shape[2], images.shape[1], "yuv420p"
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return [(buffer.getvalue(), ".mp4")]


def _encoded(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


NODES: dict[str, Node] = {
    "CheckpointLoaderSimple": Node(checkpoint, {"ckpt_name": CHECKPOINTS}, outputs=("MODEL", "CLIP", "VAE")),
    "CLIPTextEncode": Node(encode, {"text": "STRING", "clip": "CLIP"}, outputs=("CONDITIONING",)),
    "EmptyLatentImage": Node(empty_latent, {"width": "INT", "height": "INT", "batch_size": "INT"}, outputs=("LATENT",)),
    "KSampler": Node(
        sampler,
        {
            "model": "MODEL",
            "seed": "INT",
            "steps": "INT",
            "cfg": "FLOAT",
            "sampler_name": ["euler", "dpmpp_2m"],
            "scheduler": ["normal", "karras"],
            "positive": "CONDITIONING",
            "negative": "CONDITIONING",
            "latent_image": "LATENT",
            "denoise": "FLOAT",
        },
        outputs=("LATENT",),
    ),
    "VAEDecode": Node(decode, {"samples": "LATENT", "vae": "VAE"}, outputs=("IMAGE",)),
    "LoadImage": Node(load_image, {"image": _inputs}, outputs=("IMAGE", "MASK")),
    "StoryVideo": Node(
        story_video,
        {"image": "IMAGE", "frames": "INT", "fps": "INT", "seed": "INT", "text": "STRING"},
        optional={"last_image": "IMAGE"},
        outputs=("IMAGE",),
    ),
    "SaveImage": Node(
        _saver("output", _pngs, "images"), {"images": "IMAGE", "filename_prefix": "STRING"}, output_node=True
    ),
    "PreviewImage": Node(_saver("temp", _pngs, "images"), {"images": "IMAGE"}, output_node=True),
    "SaveAnimatedWEBP": Node(
        _saver("output", _webp, "images"),
        {"images": "IMAGE", "filename_prefix": "STRING", "fps": "FLOAT"},
        output_node=True,
    ),
    "VHS_VideoCombine": Node(
        _saver("output", _video, "gifs"),
        {
            "images": "IMAGE",
            "frame_rate": "FLOAT",
            "filename_prefix": "STRING",
            "format": ["video/h264-mp4", "image/gif"],
        },
        output_node=True,
    ),
}
