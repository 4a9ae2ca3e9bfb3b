"""The animatic: a procedural previsualisation renderer, offline and fast, and the default backend.

It draws the scene graph directly: a background painted from the location, time of day and weather;
each entity as an OpenMoji glyph (a thing no emoji shows is left out) placed by the graph's
relations and moved by its actions; camera pans and zooms; the shot's text as a caption.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generators.animatic.background import paint_background, setting_of, weather_layer
from generators.animatic.glyphs import GlyphMatcher, glyph_image, match_all, shared_matcher
from generators.animatic.scene import WORLD_MARGIN, Sprite, camera, layout, pose
from generators.animatic.speech import bubble, overlay, speaking
from storyteller.core import lexicon as lx
from storyteller.core.backend import Animator, KeyframeGenerator, Progress
from storyteller.core.configs import Configured
from storyteller.core.executors.local import apart
from storyteller.core.models import MotionGuide, Shot, StoryPlan

GLOW = (255, 236, 140, 110)
MARKER = "storyteller-backend"


class ShotRenderer:
    """Everything fixed for one shot (background, sprite images, caption) built once; frames are cheap."""

    def __init__(
        self,
        shot: Shot,
        plan: StoryPlan,
        matcher: GlyphMatcher,
        backdrop: Image.Image | None = None,
        captions: bool = True,
    ) -> None:
        self.shot, self.plan = shot, plan
        self.size = (plan.width, plan.height)
        self.world = (_even(plan.width * WORLD_MARGIN), _even(plan.height * WORLD_MARGIN))
        location = plan.location(shot.location)
        graph = shot.graph
        if backdrop is None:
            name, description = (location.name, location.description) if location else (None, "")
            self.background = _background(self.world, name, graph.time_of_day, graph.weather, plan.seed, description)
            self.sprites = layout(shot, plan)
        else:  # another backend's keyframe already shows the subjects: move the camera over it
            self.background = backdrop.convert("RGB").resize(self.world, Image.Resampling.BICUBIC)
            self.sprites = []
        self.images = _glyphs_for(self.sprites, matcher, {c.id: c.kind for c in plan.characters})
        self.sprites = [s for s in self.sprites if s.id in self.images]
        self.by_id = {s.id: s for s in self.sprites}
        self.labels = {
            s.id: _label(s.caption, int(self.world[1] * 0.045))
            for s in self.sprites
            if s.caption.lower() != s.label.lower()
        }
        self._posed: dict[tuple, Image.Image] = {}
        self.names = {c.id: c.name[:1].upper() + c.name[1:] for c in plan.characters}
        self.caption = _caption_overlay(shot.said, self.size) if captions and shot.said.strip() else None
        indoors = setting_of(location.name if location else None)[0] in ("indoor", "arena")
        self.weather = "clear" if backdrop is not None or indoors else graph.weather  # no snow in the kitchen

    def screen_box(self, sprite_id: str, t: float) -> tuple[float, float, float, float]:
        """Where a (single) sprite lands in the frame at time t: (left, top, right, bottom) in pixels."""
        sprite = self.by_id[sprite_id]
        p = pose(sprite, t, self.by_id, self.shot, self.shot.guide)
        ww, wh = self.world
        height = max(4, int(sprite.size * p.scale * wh))
        image = self._posed_image(sprite.id, height, p.angle, p.alpha)
        cx, cy = p.x * ww, p.y * wh - height / 2
        corners = [(cx - image.width / 2, cy - image.height / 2), (cx + image.width / 2, cy + image.height / 2)]
        (x0, y0), (x1, y1) = (self._to_screen(x, y, t) for x, y in corners)
        return x0, y0, x1, y1

    def _to_screen(self, x: float, y: float, t: float) -> tuple[float, float]:
        warp = self._warp(t)
        return warp[0, 0] * x + warp[0, 2], warp[1, 1] * y + warp[1, 2]

    def _warp(self, t: float) -> np.ndarray:
        """The affine map from world pixels to frame pixels: the camera at time t."""
        cam = camera(self.shot, t, self.sprites, self.shot.guide)
        ww, wh = self.world
        crop_w, crop_h = ww / cam.zoom, wh / cam.zoom
        left, top = cam.cx * ww - crop_w / 2, cam.cy * wh - crop_h / 2
        sx, sy = self.size[0] / crop_w, self.size[1] / crop_h
        return np.array([[sx, 0, -left * sx], [0, sy, -top * sy]], np.float32)

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame (H x W x 3, uint8) at t seconds into the shot."""
        canvas = self.background.copy()
        draw = ImageDraw.Draw(canvas, "RGBA")
        weather_layer(draw, self.world, self.weather, t, self.plan.seed)
        for sprite in self.sprites:
            self._draw_sprite(canvas, draw, sprite, t)
        # zoom 1 shows the whole world canvas; the crop is scaled to the frame in one affine warp
        frame = cv2.warpAffine(np.asarray(canvas), self._warp(t), self.size, flags=cv2.INTER_LINEAR)
        for sprite in self.sprites:  # over the picture, under the caption: who is speaking, and what
            line = speaking(sprite.lines, t)
            if line is not None and line.line and sprite.copies == 1:
                x0, y0, x1, _ = self.screen_box(sprite.id, t)
                image = bubble(self.names.get(sprite.id, sprite.caption), line.line, sprite.colour, *self.size)
                overlay(frame, image, (x0 + x1) / 2, y0)
        if self.caption is not None:
            _composite(frame, *self.caption)
        return frame

    def _draw_sprite(self, canvas: Image.Image, draw: ImageDraw.ImageDraw, sprite: Sprite, t: float) -> None:
        p = pose(sprite, t, self.by_id, self.shot, self.shot.guide)
        if p.alpha <= 0.01:
            return
        ww, wh = self.world
        height = max(4, int(sprite.size * p.scale * wh))
        image = self._posed_image(sprite.id, height, p.angle, p.alpha)
        for k in range(sprite.copies):
            spread = (k - (sprite.copies - 1) / 2) * (0.3 if sprite.sky else 0.14)
            lift = 0.08 * (k % 2) if sprite.sky else 0.0
            bob = 0.012 * math.sin(t * 6 + k * 1.7) if sprite.copies > 1 else 0.0
            cx, base_y = (p.x + spread) * ww, (p.y + bob - lift) * wh
            if p.speaking and sprite.copies == 1:  # a warm glow behind whoever is speaking
                glow = height * 0.62
                draw.ellipse((cx - glow, base_y - height / 2 - glow, cx + glow, base_y - height / 2 + glow), fill=GLOW)
            if sprite.copies == 1 and not sprite.attached_to and not sprite.sky and p.y > 0.5:
                half = height * 0.4
                shadow = (cx - half, base_y - height * 0.06, cx + half, base_y + height * 0.06)
                draw.ellipse(shadow, fill=(*sprite.colour, 110))
            _paste(canvas, image, int(cx - image.width / 2), int(base_y - height / 2 - image.height / 2))
        if p.burst > 0:
            _burst(draw, p.x * ww, (p.y - sprite.size * p.scale / 2) * wh, p.burst * sprite.size * wh * 1.4)
        label = self.labels.get(sprite.id)
        if label is not None and sprite.copies == 1 and not sprite.attached_to:
            # above the head: below the feet it would sit under the caption band
            _paste(canvas, label, int(p.x * ww - label.width / 2), int(p.y * wh - height - label.height))

    def _posed_image(self, sid: str, height: int, angle: float, alpha: float) -> Image.Image:
        """The sprite at this size, angle and opacity; memoised, since most frames repeat a pose."""
        key = (sid, height, round(angle / 2) * 2, round(alpha * 20))
        image = self._posed.get(key)
        if image is None:
            base = self.images[sid]
            image = base.resize((max(4, int(base.width * height / base.height)), height), Image.Resampling.BILINEAR)
            if key[2]:
                image = image.rotate(key[2], resample=Image.Resampling.BILINEAR, expand=True)
            if key[3] < 20:
                image.putalpha(image.getchannel("A").point(lambda a: int(a * key[3] / 20)))
            if len(self._posed) > 2048:
                self._posed.clear()
            self._posed[key] = image
        return image


@dataclass(frozen=True)
class AnimaticConfig:
    """The animatic's settings.

    Attributes:
        captions: what is said in the shot, written along the bottom of its frames.
    """

    captions: bool = True


class _Animatic(Configured):
    name = "animatic"
    Config = AnimaticConfig
    settings: AnimaticConfig

    def prepare_plan(self, plan: StoryPlan) -> None:
        """Match every noun of the plan no memo or index knows, once, in a helper process that remembers the
        matches in the user cache: no worker then loads the sentence embedder (half a gigabyte each)."""
        nouns = {e.label for shot in plan.shots for e in shot.graph.entities} | {c.kind for c in plan.characters}
        matcher = GlyphMatcher()
        unknown = sorted(n for n in nouns if matcher.needs_embedder(n))
        if unknown and matcher.can_remember():  # (else each worker matches its own, and notes the cache once)
            apart(match_all, unknown)


class AnimaticKeyframes(_Animatic, KeyframeGenerator):
    """Keyframe = the animatic's first frame; its PNG says which backend drew it."""

    consistent = True  # each character is its own glyph and name tag in every shot: nothing to remember

    def keyframe(self, shot: Shot, plan: StoryPlan, progress: Progress | None = None) -> Image.Image:
        image = Image.fromarray(ShotRenderer(shot, plan, shared_matcher(), captions=self.settings.captions).frame(0.0))
        image.info[MARKER] = self.name
        return image


class AnimaticAnimator(_Animatic, Animator):
    """Moves the graph's sprites by its timed actions; any other backend's keyframe gets camera moves."""

    # declared, ms per megapixel on the reference machine (benchmarks/fill.py measures 5 to 12 on a busy
    # frame from 256x144 to 1024x576, and the flow infill 3 to 10 times that at every size): drawing beats
    # infilling, so --fill auto draws every frame
    frame_cost = 5.0
    keeps_clips = False  # drawing a frame again costs less than storing it losslessly and decoding it

    def animate(
        self,
        keyframe: Image.Image,
        shot: Shot,
        plan: StoryPlan,
        guide: MotionGuide | None = None,
        progress: Progress | None = None,
    ) -> Iterator[np.ndarray]:
        return self.frames_from(keyframe, shot, plan, guide, 0)

    def frames_from(
        self, keyframe: Image.Image, shot: Shot, plan: StoryPlan, guide: MotionGuide | None, first: int
    ) -> Iterator[np.ndarray]:
        """Any frame is drawn from its time alone: a tail starts where it starts."""
        if guide is not None and shot.guide is None:
            shot = shot.model_copy(update={"guide": guide})
        backdrop = None if keyframe.info.get(MARKER) == "animatic" else keyframe
        renderer = ShotRenderer(shot, plan, shared_matcher(), backdrop=backdrop, captions=self.settings.captions)
        for k in range(first, plan.shot_frames(shot)):
            yield renderer.frame(k / plan.fps)


def _glyphs_for(sprites: list[Sprite], matcher: GlyphMatcher, kinds: dict[str, str]) -> dict[str, Image.Image]:
    """Each sprite's glyph. A character no emoji shows is drawn as what it is a kind of (an animal, a machine,
    a person); a thing no emoji shows is left out of the frame, with whatever it carries: never a word on a card."""
    images: dict[str, Image.Image] = {}
    for sprite in sprites:
        char = matcher.match(sprite.label)
        if char is None and sprite.id in kinds:
            char = matcher.match(_kind_of(kinds[sprite.id]))
        if char is not None:
            images[sprite.id] = glyph_image(char)
    kept = {sprite.id for sprite in sprites if sprite.id in images}
    for sprite in sprites:  # held by something left out: left out with it
        owner = sprite.attached_to
        while owner is not None and owner in kept:
            owner = next((s.attached_to for s in sprites if s.id == owner), None)
        if sprite.attached_to is not None and owner is not None:
            images.pop(sprite.id, None)
    return images


def _kind_of(kind: str) -> str:
    """The glyph a character stands for when its own noun has none."""
    head = lx.singular(kind.lower().split()[-1]) if kind.strip() else ""
    if head in lx.ANIMALS:
        return "paw prints"
    if head in lx.MACHINES:
        return "robot"
    return "person"


# --- drawing helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _background(
    size: tuple[int, int], location: str | None, time: str, weather: str, seed: int, description: str
) -> Image.Image:
    """The painted place, once per place and light in a process: a scene's shots share it (never drawn on:
    every frame copies it)."""
    return paint_background(size, location, time, weather, seed, description)


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    face = ImageFont.load_default(size=max(8, size))
    assert isinstance(face, ImageFont.FreeTypeFont)  # Pillow's own font at a size is a FreeType one
    return face


def _caption_overlay(text: str, size: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """(first row, premultiplied colour, alpha) of the caption band, ready for `_composite`."""
    width, height = size
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    face = font(max(9, height // 17))
    chars_per_line = max(12, int(width / (face.size * 0.52)))
    lines = textwrap.wrap(text, chars_per_line)
    if len(lines) > 2:
        lines = lines[:2]
        lines[1] = lines[1][: chars_per_line - 1].rstrip() + "…"
    line_height = int(face.size * 1.25)
    band = int(line_height * len(lines) + face.size // 2)
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 150))
    for k, line in enumerate(lines):
        x = (width - face.getlength(line)) / 2
        draw.text((x, height - band + face.size // 4 + k * line_height), line, font=face, fill=(255, 255, 255, 255))
    rgba = np.asarray(overlay)[height - band :].astype(np.uint16)
    alpha = rgba[..., 3:4]
    return height - band, rgba[..., :3] * alpha, alpha


def _composite(frame: np.ndarray, top: int, colour: np.ndarray, alpha: np.ndarray) -> None:
    band = frame[top:].astype(np.uint16)
    frame[top:] = ((band * (255 - alpha) + colour) // 255).astype(np.uint8)


def _label(text: str, size: int) -> Image.Image:
    """A name tag: white text with a dark outline, on a transparent image."""
    face = font(size)
    image = Image.new("RGBA", (int(face.getlength(text)) + 8, int(size * 1.4) + 4), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((4, 2), text, font=face, fill=(255, 255, 255), stroke_width=2, stroke_fill=(20, 20, 30))
    return image


def _burst(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float) -> None:
    colours = [(255, 90, 90), (255, 220, 80), (120, 200, 255), (190, 120, 255), (120, 255, 160)]
    for k in range(14):
        angle = 2 * math.pi * k / 14
        px, py = x + math.cos(angle) * radius, y + math.sin(angle) * radius
        r = max(1.5, radius * 0.06)
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(*colours[k % len(colours)], 230))


def _paste(canvas: Image.Image, image: Image.Image, left: int, top: int) -> None:
    """Paste an RGBA sprite over the RGB canvas, tolerating sprites that hang over its edge."""
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(canvas.width, left + image.width), min(canvas.height, top + image.height)
    if x1 <= x0 or y1 <= y0:
        return
    crop = image.crop((x0 - left, y0 - top, x1 - left, y1 - top))
    canvas.paste(crop, (x0, y0), crop)


def _even(value: float) -> int:
    return int(round(value / 2) * 2)
