"""The ComfyUI backends: a keyframe generator and an animator on the user's server and workflow."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from generators.comfyui.client import ComfyClient, ComfyError, Progress
from generators.comfyui.configs import ComfyConfig
from generators.comfyui.media import decoded, fitted
from generators.comfyui.workflow import Workflow
from generators.prompts import keyframe_prompt, motion_prompt, shot_seed
from storyteller.core.backend import Animator, KeyframeGenerator
from storyteller.core.configs import Configured
from storyteller.core.errors import StorytellerError
from storyteller.core.files import read_image
from storyteller.core.models import MotionGuide, Shot, StoryPlan
from storyteller.core.progress import note


class _Comfy(Configured):
    """What the two ComfyUI backends share: the workflow, read and checked when made; the server, asked only
    when a shot must be drawn."""

    name = "comfyui"
    max_workers = 1  # one server, one queue: a second worker would only wait in it
    Config = ComfyConfig
    settings: ComfyConfig
    main_setting = "workflow"
    stage: ClassVar[str]

    def __init__(self, config: ComfyConfig | str | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self.workflow = Workflow.read(self.settings.workflow, self.stage)
        self.client = ComfyClient(self.settings.url, self.settings.timeout)
        self._checked = False

    def config(self) -> dict[str, Any]:
        return {**super().config(), "workflow_sha256": self.workflow.digest}  # its content, wherever it is

    def runs_at(self, plan: StoryPlan) -> str:
        return f"ComfyUI at {self.client.url}, workflow {self.settings.workflow}"

    def prepare_plan(self, plan: StoryPlan) -> None:
        """Before the first shot is drawn: the workflow against the server's nodes, and every shot has the
        images the workflow asks for."""
        if "last_image" in self.workflow.uses:
            bare = [s.id for s in plan.shots if s.card is None and not s.last_frame]
            if bare:
                raise StorytellerError(
                    f"ComfyUI workflow {self.settings.workflow} uses {{{{last_image}}}}: shot {bare[0]} pins no "
                    'last frame ("last_frame" in plan.json)'
                )
        self._check()

    def close(self) -> None:
        self.client.close()

    def _check(self) -> None:
        if not self._checked:
            self.workflow.check_against(self.client.node_info())
            self._checked = True

    def _run(self, shot: Shot, values: dict[str, Any], progress: Progress | None) -> list[np.ndarray]:
        """The shot's job: the filled workflow queued and waited for; every frame its output nodes saved."""
        try:
            self._check()
            saved = self.client.run(self.workflow.filled(values), progress)
            frames = [f for s in saved for f in decoded(s.filename, self.client.fetch(s))]
        except ComfyError as error:
            raise StorytellerError(f"ComfyUI, {shot.id}: {error}") from None
        if not frames:
            raise StorytellerError(f"ComfyUI, {shot.id}: the workflow's output nodes saved nothing")
        return frames

    def _values(self, shot: Shot, plan: StoryPlan, prompt: str, stage: str) -> dict[str, Any]:
        """The placeholders' values for a shot (images are added by the stage)."""
        return {
            "prompt": prompt,
            "negative_prompt": shot.negative_prompt,
            "seed": shot_seed(stage, plan, shot),
            "width": plan.width,
            "height": plan.height,
            "frames": plan.shot_frames(shot),
            "fps": plan.fps,
        }

    def _images(self, shot: Shot, plan: StoryPlan, keyframe: Image.Image | None) -> dict[str, str]:
        """The images the workflow asks for, uploaded: the keyframe, the pinned last frame, a reference."""
        images: dict[str, str] = {}
        uses = self.workflow.uses
        if "image" in uses and keyframe is not None:
            images["image"] = self._upload(keyframe)
        if "last_image" in uses and shot.last_frame:
            images["last_image"] = self._upload(read_image(shot.last_frame, "last frame"))
        if "reference" in uses:
            images["reference"] = self._upload(self._reference(shot, plan, keyframe))
        return images

    def _reference(self, shot: Shot, plan: StoryPlan, keyframe: Image.Image | None) -> Image.Image:
        """The first character present with a reference image; else the keyframe, else a neutral grey."""
        for cid in shot.characters:
            character = plan.character(cid)
            if character is not None and character.reference:
                return read_image(character.reference, "reference image")
        if keyframe is not None:
            return keyframe
        note(f"shot {shot.id}: no character in it has a reference image; {{{{reference}}}} gets a grey image")
        return Image.new("RGB", (64, 64), (128, 128, 128))

    def _upload(self, image: Image.Image) -> str:
        """An image into the server's input folder, named by its content (the same image: the same name)."""
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
        png = buffer.getvalue()
        try:
            return self.client.upload(png, f"storyteller-{hashlib.sha256(png).hexdigest()[:24]}.png")
        except ComfyError as error:
            raise StorytellerError(f"ComfyUI: {error}") from None


class ComfyKeyframes(_Comfy, KeyframeGenerator):
    """Keyframes from a ComfyUI workflow (`--keyframe comfyui:WORKFLOW.json`); it must have `{{prompt}}`.

    Args:
        config: its settings (`ComfyConfig`), or the workflow file first: `ComfyKeyframes("flux.json")`.
    """

    stage = "keyframe"

    def keyframe(self, shot: Shot, plan: StoryPlan, progress: Progress | None = None) -> Image.Image:
        values = self._values(shot, plan, keyframe_prompt(shot, plan), "keyframe")
        values["frames"] = 1
        values.update(self._images(shot, plan, None))
        frame = fitted(self._run(shot, values, progress), 1, (plan.width, plan.height))[0]
        return Image.fromarray(frame)


class ComfyAnimator(_Comfy, Animator):
    """Clips from a ComfyUI image-to-video workflow (`--animator comfyui:WORKFLOW.json`); it must have
    `{{image}}`, the shot's keyframe. Whatever it saves (a video, an animated image, a sequence of images) is
    spread over the shot's frames at the plan's size.

    Args:
        config: its settings (`ComfyConfig`), or the workflow file first: `ComfyAnimator("wan-i2v.json")`.
    """

    stage = "animator"
    continues_from_last_frame = True  # an image-to-video model: a continuing shot starts from the last frame

    def animate(
        self,
        keyframe: Image.Image,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        progress: Progress | None = None,
    ) -> Iterator[np.ndarray]:
        motion = motion_prompt(shot, plan, guide)  # the diffusers animator's: what moves, the camera, the guide
        values = {**self._values(shot, plan, motion, "animate"), **self._images(shot, plan, keyframe)}
        frames = self._run(shot, values, progress)
        yield from fitted(frames, plan.shot_frames(shot), (plan.width, plan.height))
