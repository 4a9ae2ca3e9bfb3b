"""Animate a keyframe with any diffusers video pipeline: image-to-video (Stable Video Diffusion, LTX-Video,
Wan, CogVideoX, I2VGen-XL) or, for text-to-video models, from the shot's prompt alone.

The pipeline's call signature says what it takes (an image, a prompt, a frame rate, a motion bucket,
LTX conditions), so one backend serves them all. A shot longer than the model's native clip continues
from its last frame, chunk by chunk; the clip is then resampled from the model's frame rate to the plan's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image

from generators.diffusion import runtime
from generators.diffusion.configs import AnimatorConfig
from generators.diffusion.keyframes import structure_image
from generators.prompts import motion_prompt
from storyteller.core.backend import Animator
from storyteller.core.errors import StorytellerError
from storyteller.core.files import MAX_CLIP_BYTES, local_file, read_image
from storyteller.core.models import MotionGuide, Shot, StoryPlan
from storyteller.core.video_io import blend


class DiffusersAnimator(runtime.PipelineBackend, Animator):
    """Shots animated by any diffusers image-to-video (or text-to-video) pipeline (`--animator diffusers:MODEL`).

    Args:
        config: its settings (`AnimatorConfig`: the model, steps, guidance, size, frames a call, the model's
            frame rate, how strongly a retrieved clip guides the motion ...), or give them as keywords:
            `DiffusersAnimator("Lightricks/LTX-Video", frames=97)`.
    """

    what = "video model"
    continues_from_last_frame = True  # a shot that goes on without a cut starts where the last clip ended
    Config = AnimatorConfig
    settings: AnimatorConfig

    def check(self, pipe: Any) -> None:
        if not runtime.accepts(pipe.__call__, "num_frames"):
            raise StorytellerError(
                f"{self.model} is a {type(pipe).__name__}, not a video pipeline: "
                f"use it with --keyframe diffusers:{self.model}"
            )

    def clip_frames(self) -> int:
        """Frames per call: given, else the model's own clip length, else 16."""
        return max(2, self.settings.frames or self.native().frames or 16)

    def model_fps(self, plan: StoryPlan) -> int:
        """The rate the model's clips play at: given, else the model's own, else the plan's."""
        return self.settings.fps or self.native().fps or plan.fps

    def frame_size(self, plan: StoryPlan) -> tuple[int, int]:
        """The size clips are generated at: the plan's aspect ratio at the model's pixel count."""
        return self.fitted(plan.width, plan.height, self.native().video_multiple)

    def runs_at(self, plan: StoryPlan) -> str:
        width, height = self.frame_size(plan)
        return f"{self.model} at {width}x{height}, {self.clip_frames()} frames a call at {self.model_fps(plan)} fps"

    # --- animate ---------------------------------------------------------------------------------

    def animate(
        self,
        keyframe: Image.Image,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        progress: runtime.Progress | None = None,
    ) -> Iterator[np.ndarray]:
        """The shot's frames at the plan's rate, generated chunk by chunk from the keyframe onwards."""
        fps = self.model_fps(plan)
        count = plan.shot_frames(shot)
        step = fps / plan.fps  # model frames per plan frame
        chunks = self.chunk_lengths(math.ceil((count - 1) * step) + 1)
        made: list[np.ndarray] = []  # at the model's rate, kept only until the resampler has passed them
        position = 0.0  # next output frame, in model frames
        emitted = 0
        first: Image.Image = keyframe
        last = _pinned_last(shot)  # the final chunk ends on it, where the pipeline takes a last frame
        offset = 0
        total_steps = self.settings.steps * len(chunks)
        for index, length in enumerate(chunks):
            chunk_progress = None
            if progress is not None:
                base = index * self.settings.steps
                chunk_progress = lambda done, _total, base=base: progress(base + done, total_steps)  # noqa: E731
            end = last if index == len(chunks) - 1 else None
            frames = self.generate(first, end, length, shot, plan, guide, index, chunk_progress)
            if index > 0:  # the first frame repeats the one it was conditioned on
                frames = frames[1:]
            made.extend(frames)
            first = Image.fromarray(made[-1])
            generated_until = offset + len(made)  # model frames known so far
            while emitted < count and (position <= generated_until - 1 or index == len(chunks) - 1):
                yield _blend(made, position - offset)
                emitted += 1
                position = emitted * step
            done = max(0, int(position) - offset)  # frames behind the resampler are not needed again
            made, offset = made[done:], offset + done

    def chunk_lengths(self, needed: int) -> list[int]:
        """Native-length chunks covering `needed` frames, each after the first sharing one frame."""
        native = self.clip_frames()
        chunks = [native]
        covered = native
        while covered < needed:
            chunks.append(native)
            covered += native - 1
        return chunks

    def generate(
        self,
        first: Image.Image | None,
        last: Image.Image | None,
        count: int,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        chunk: int = 0,
        progress: runtime.Progress | None = None,
    ) -> list[np.ndarray]:
        """`count` RGB frames at the model's size from one call: starting at `first` and, where the pipeline
        takes conditions at any frame (LTX), ending at `last`. Text-to-video models ignore both images."""
        pipe = self.load()
        self.adapters(pipe, shot, plan)
        call = pipe.__call__
        width, height = self.frame_size(plan)
        frames = runtime.valid_frames(pipe, count)
        fps = self.model_fps(plan)
        kwargs: dict[str, Any] = {
            "num_inference_steps": self.settings.steps,
            "generator": runtime.generator("animate", plan.seed, shot.text, shot.duration, chunk),
            "width": width,
            "height": height,
            "num_frames": frames,
            "output_type": "np",
        }
        kwargs.update(self._taken(call, shot, plan, guide, fps))
        ends = ((first, 0), (last, frames - 1))
        images = [(im.convert("RGB").resize((width, height), Image.Resampling.LANCZOS), at) for im, at in ends if im]
        if images and runtime.accepts(call, "conditions"):  # LTX: a condition pins any frame
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            kwargs["conditions"] = [LTXVideoCondition(image=im, frame_index=at) for im, at in images]
            reference = self._reference(pipe, guide, chunk, frames, fps, (width, height)) if last is None else None
            if reference:  # the retrieved clip's motion, after the first frame the keyframe pins
                ratio, video = reference
                kwargs["conditions"].append(
                    LTXVideoCondition(video=video, frame_index=ratio, strength=self.settings.guide_strength)
                )
        elif images and runtime.accepts(call, "image"):
            kwargs["image"] = images[0][0]
            if last is not None and runtime.accepts(call, "last_image"):  # Wan first-last-frame models
                kwargs["last_image"] = images[1][0]
        kwargs.update(self._structure(call, guide, shot, plan, chunk, frames, (width, height)))
        kwargs.update(runtime.step_callback(call, progress, self.settings.steps))
        video = runtime.run(pipe, f"video model {self.model}", **kwargs).frames[0]
        out = [runtime.to_uint8(frame) for frame in video[:count]]
        while len(out) < count:  # a model that rounded the length down: hold the last frame
            out.append(out[-1])
        return out

    def _taken(self, call: Any, shot: Shot, plan: StoryPlan, guide: MotionGuide | None, fps: float) -> dict[str, Any]:
        """The arguments this pipeline takes of those a video model may: guidance (SVD ramps it over the clip),
        the prompts, the frame rate under each of its names, motion, decoding and text length."""
        kwargs: dict[str, Any] = {}
        if runtime.accepts(call, "guidance_scale"):
            kwargs["guidance_scale"] = self.settings.guidance
        elif runtime.accepts(call, "max_guidance_scale"):
            kwargs["max_guidance_scale"] = self.settings.guidance
            kwargs["min_guidance_scale"] = min(1.0, self.settings.guidance)
        if runtime.accepts(call, "prompt"):
            kwargs["prompt"] = motion_prompt(shot, plan, guide)
            if shot.negative_prompt and runtime.accepts(call, "negative_prompt"):
                kwargs["negative_prompt"] = shot.negative_prompt
        for name in ("fps", "frame_rate", "target_fps"):
            if runtime.accepts(call, name):
                kwargs[name] = fps
        if runtime.accepts(call, "motion_bucket_id"):
            kwargs["motion_bucket_id"] = motion_bucket(guide)
        if self.settings.decode_chunk and runtime.accepts(call, "decode_chunk_size"):
            kwargs["decode_chunk_size"] = self.settings.decode_chunk
        if runtime.accepts(call, "max_sequence_length"):
            kwargs["max_sequence_length"] = 128
        return kwargs

    def _structure(
        self,
        call: Any,
        guide: MotionGuide | None,
        shot: Shot,
        plan: StoryPlan,
        chunk: int,
        frames: int,
        size: tuple[int, int],
    ) -> dict[str, Any]:
        """The retrieved clip's structure maps that fall in this chunk, as sparse control frames at the
        chunk's frames they stand for (Animate-A-Story's structure guidance, through SparseCtrl)."""
        structure = guide.structure if guide is not None else None
        takes = runtime.accepts(call, "conditioning_frames") and runtime.accepts(call, "controlnet_frame_indices")
        if not takes:
            return {}
        # SparseCtrl wants a control frame even when there is nothing to follow: a blank one, weighing nothing
        unguided = {
            "conditioning_frames": [Image.new("RGB", size)],
            "controlnet_frame_indices": [0],
            "controlnet_conditioning_scale": 0.0,
        }
        if structure is None or self.settings.guide_structure <= 0:
            return unguided
        total = math.ceil((plan.shot_frames(shot) - 1) * self.model_fps(plan) / plan.fps) + 1  # the shot's
        start = chunk * (self.clip_frames() - 1)  # this chunk's first frame among them
        placed = {}
        for time in structure.times:
            at = round(time * (total - 1)) - start
            if 0 <= at < frames:
                placed[at] = structure_image(structure, time, size)
        if not placed:
            return unguided
        return {
            "conditioning_frames": [placed[at] for at in sorted(placed)],
            "controlnet_frame_indices": sorted(placed),
            "controlnet_conditioning_scale": self.settings.guide_structure,
        }

    def _reference(
        self, pipe: Any, guide: MotionGuide | None, chunk: int, frames: int, fps: float, size: tuple[int, int]
    ) -> tuple[int, list[Image.Image]] | None:
        """Frames of the guide's reference clip for this chunk, as an LTX video condition from the second
        latent frame on: (frame index, images). None without a guide, a strength, or a readable clip."""
        ratio = getattr(pipe, "vae_temporal_compression_ratio", 1)
        if guide is None or self.settings.guide_strength <= 0 or frames <= ratio:
            return None
        path, _, start = guide.source.partition("#t=")
        first = chunk * (self.clip_frames() - 1) + ratio  # model frames since the start of the shot
        times = [float(start or 0) + (first + i) / fps for i in range(frames - ratio)]
        video = _clip_frames(path, times, size)
        return (ratio, video) if video else None


def _clip_frames(path: str, times: list[float], size: tuple[int, int]) -> list[Image.Image]:
    """The frames of a video at the given seconds (the last one held past its end), cropped to fill `size`."""
    import av

    try:
        clip = local_file(path, "guide clip", MAX_CLIP_BYTES)  # a URL is an error; no network is touched
    except StorytellerError as error:
        if "URL" in str(error):
            raise
        return []  # the library moved or the clip is gone: animate unguided rather than fail the shot
    try:
        container = av.open(str(clip))
    except (OSError, av.error.FFmpegError):
        return []  # the library moved or the clip is gone: animate unguided rather than fail the shot
    picked: list[Image.Image] = []
    with container:
        last = None
        for frame in container.decode(video=0):
            at = float(frame.time or 0.0)
            while len(picked) < len(times) and times[len(picked)] <= at:
                picked.append(_cover(frame.to_image(), size))
            last = frame
            if len(picked) == len(times):
                break
        while last is not None and len(picked) < len(times):
            picked.append(_cover(last.to_image(), size))
    return picked


def _pinned_last(shot: Shot) -> Image.Image | None:
    """The shot's pinned last frame, if it pins one."""
    return read_image(shot.last_frame, "pinned last frame") if shot.last_frame else None


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    from PIL import ImageOps

    return ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)


def motion_bucket(guide: MotionGuide | None) -> int:
    """SVD's motion bucket (1-255, 127 by default) from how far the reference clip's subject and camera move."""
    if guide is None:
        return 127
    path = np.asarray(guide.trajectory or [(0.5, 0.5)], dtype=float)
    travel = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum()) if len(path) > 1 else 0.0
    if guide.camera is not None:
        dx, dy, zoom = guide.camera
        travel += math.hypot(dx, dy) + abs(zoom)
    return int(np.clip(round(40 + 260 * travel), 1, 255))


def _blend(frames: list[np.ndarray], at: float) -> np.ndarray:
    """The frame at fractional index `at`, linearly between its neighbours (the fill stage refines this)."""
    at = min(max(at, 0.0), len(frames) - 1)
    low = int(at)
    weight = at - low
    if weight < 1e-3 or low + 1 >= len(frames):
        return frames[low]
    return blend(frames[low], frames[low + 1], weight)
