"""Turn a shot's scene graph into sprites on a stage, and move them through time.

Coordinates are fractions of the world canvas (x right, y down); the world is a little larger than
the frame so the camera can pan and zoom inside it. A sprite's (x, y) is the middle of its base.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

from storyteller.core import lexicon as lx
from storyteller.core.models import SPEAK, Action, Entity, MotionGuide, SceneGraph, Shot, StoryPlan

GROUND = 0.8
WORLD_MARGIN = 1.3  # world canvas = frame size x this


@dataclass
class Sprite:
    id: str
    label: str  # the noun matched to a glyph
    caption: str  # drawn under the sprite: a name, or the label of a shape
    x: float
    y: float
    size: float  # height, fraction of world height
    colour: tuple[int, int, int]
    z: int = 0
    attached_to: str | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    copies: int = 1  # a crowd is several glyphs
    actions: list[Action] = field(default_factory=list)
    lines: list[Action] = field(default_factory=list)  # its `speak` actions: when it says what
    sky: bool = False


@dataclass
class Pose:
    x: float
    y: float
    scale: float = 1.0
    angle: float = 0.0
    alpha: float = 1.0
    burst: float = 0.0  # 0..1, particles around the sprite
    speaking: bool = False  # saying a line now: it glows


@dataclass
class Camera:
    cx: float
    cy: float
    zoom: float  # 1.0 shows the whole world canvas


def layout(shot: Shot, plan: StoryPlan) -> list[Sprite]:
    """Place every entity of the graph: relations decide where, then a row fills the ground."""
    graph = shot.graph
    names = {c.id: c.name for c in plan.characters}
    sprites = {entity.id: _sprite(entity, names) for entity in graph.entities}
    for action in graph.actions:  # a line said moves no one and leads no camera: kept apart
        sprite = sprites[action.agent]
        (sprite.lines if action.verb == SPEAK else sprite.actions).append(action)

    for rel in graph.relations:  # attachments first: worn and held things move with their owner
        if rel.predicate in ("wears", "holds") and rel.object in sprites:
            item = sprites[rel.object]
            item.attached_to = rel.subject
            item.size = sprites[rel.subject].size * 0.42
            item.offset = _attachment_offset(item.label, rel.predicate)
            item.z = sprites[rel.subject].z + 1

    free = [s for s in sprites.values() if s.attached_to is None]
    ground = [s for s in free if not s.sky and not _is_group(s)]
    aspect = shot_aspect(plan)
    for sprite, x in zip(ground, _slots([s.size * aspect for s in ground]), strict=True):
        sprite.x = x
    for sprite in free:
        if sprite.sky:
            sprite.y = 0.36
            sprite.x = 0.5 + 0.2 * (_unit(sprite.id) - 0.5)
        if _is_group(sprite):  # crowds stand in the foreground
            sprite.y, sprite.x, sprite.z, sprite.size = 0.85, 0.5, -1, 0.14

    _relate(graph, sprites, {s.id for s in ground})
    for sprite in sprites.values():
        _start_offset(sprite, sprites, shot)
    return sorted(sprites.values(), key=lambda s: (s.z, s.id))


def _sprite(entity: Entity, names: dict[str, str]) -> Sprite:
    """An entity's sprite: its size by what it is (a character, a crowd, something huge or small), its copies."""
    head = lx.singular(entity.label.split()[-1].lower())
    character = entity.id in names
    group = head in lx.GROUP_NOUNS
    sky = head in lx.SKY_THINGS or entity.label.lower() in lx.SKY_THINGS
    size = (0.3 if character else 0.2) * (0.6 if group else 1.0)
    size *= 1.6 if head in lx.HUGE else 1.4 if head in lx.LARGE else 0.8 if head in lx.SMALL else 1.0
    return Sprite(
        id=entity.id,
        label=entity.label,
        caption=names.get(entity.id, entity.label) if character else entity.label,
        x=0.5,
        y=GROUND,
        size=size,
        colour=_colour(entity.id),
        copies=5 if group else 3 if sky and entity.label.lower().endswith("s") else 1,
        sky=sky,
        z=1 if character else 0,
    )


def _relate(graph: SceneGraph, sprites: dict[str, Sprite], placed: set[str]) -> None:
    """Where the relations put things: on, above, under, in, near or behind what they relate to."""
    for rel in graph.relations:
        a, b = sprites.get(rel.subject), sprites.get(rel.object)
        if a is None or b is None or a.attached_to or b.attached_to or _is_group(a):
            continue
        if rel.predicate == "on":
            a.x, a.y, a.z = b.x, b.y - b.size * 0.75, b.z + 1
        elif rel.predicate in ("above", "facing") and (a.sky or rel.predicate == "above"):
            a.x, a.y = a.x if _is_group(b) else b.x, min(a.y, 0.36)
        elif rel.predicate == "under":
            b.y = min(b.y, a.y - a.size * 1.1)
        elif rel.predicate == "in" and b.id in placed:
            a.x, a.y, a.z, a.size = b.x, b.y, b.z + 1, min(a.size, b.size * 0.6)
        elif rel.predicate in ("near", "behind") and b.id in placed and a.id in placed:
            side = 1 if a.x >= b.x else -1
            a.x = b.x + side * (b.size + a.size) * 0.4
            if rel.predicate == "behind":
                a.z, a.size, a.y = b.z - 1, a.size * 0.85, b.y - 0.04


def _is_group(sprite: Sprite) -> bool:
    return sprite.copies > 1 and not sprite.sky


def shot_aspect(plan: StoryPlan) -> float:
    """World height / world width: turns a sprite's height fraction into a width fraction."""
    return plan.height / plan.width


def _slots(widths: list[float], gap: float = 0.06) -> list[float]:
    """Centres for sprites side by side on the ground, the row centred and kept inside the picture."""
    if not widths:
        return []
    total = sum(widths) + gap * (len(widths) - 1)
    squeeze = min(1.0, 0.7 / total) if total > 0 else 1.0
    left = 0.5 - total * squeeze / 2
    centres = []
    for width in widths:
        centres.append(left + width * squeeze / 2)
        left += (width + gap) * squeeze
    return centres


def _attachment_offset(label: str, predicate: str) -> tuple[float, float]:
    head = lx.singular(label.split()[-1].lower())
    if head in ("hat", "crown", "helmet", "hood", "cap"):
        return (0.0, -0.95)
    if head in ("jacket", "coat", "sweater", "dress", "shirt", "cape", "scarf", "cloak", "armor", "apron"):
        return (-0.28, -0.25)
    return (0.42, -0.4)  # gloves, held things: at the hand


def _start_offset(sprite: Sprite, sprites: dict[str, Sprite], shot: Shot) -> None:
    """Walkers with nowhere in particular to go start behind their mark and cross it mid-shot."""
    for action in sprite.actions:
        if action.object not in sprites:
            sprite.x -= _direction(sprite, action, sprites, shot) * _travel(action.verb) / 2


def _travel(verb: str, sprite: Sprite | None = None, target: Sprite | None = None) -> float:
    distance = {"walk": 0.3, "run": 0.5, "fly": 0.3, "swim": 0.25}.get(verb, 0.0)
    if sprite is not None and target is not None and target is not sprite:
        toward = (target.x - sprite.x) * _direction_sign(sprite, target) > 0
        if toward:  # stop in front of the target rather than walk through it
            distance = min(distance, max(0.0, abs(target.x - sprite.x) - (sprite.size + target.size) * 0.3))
    return distance


def _direction_sign(sprite: Sprite, target: Sprite) -> int:
    return 1 if target.x >= sprite.x else -1


def _direction(sprite: Sprite, action: Action, sprites: dict[str, Sprite], shot: Shot) -> int:
    target = sprites.get(action.object or "")
    away = " away" in f" {shot.text.lower()}" or "fled" in shot.text.lower()
    if target is not None and target is not sprite and target.attached_to != sprite.id:
        toward = 1 if target.x >= sprite.x else -1
        return -toward if away else toward
    if shot.camera == "pan_left":
        return -1
    return 1 if _unit(shot.id + sprite.id) < 0.75 or shot.camera == "pan_right" else -1


def pose(sprite: Sprite, t: float, sprites: dict[str, Sprite], shot: Shot, guide: MotionGuide | None) -> Pose:
    """Where the sprite is and how it looks at time t (seconds into the shot)."""
    p = Pose(sprite.x, sprite.y)
    for action in [*sprite.actions, *sprite.lines]:
        _apply(p, sprite, action, t, sprites, shot)
    if guide is not None and guide.trajectory and sprite.actions and sprite is _lead(sprites):
        gx, gy = _sample(guide.trajectory, t / shot.duration)
        p.x, p.y = gx, min(GROUND, gy + sprite.size / 2)
    if sprite.attached_to and sprite.attached_to in sprites:
        owner = sprites[sprite.attached_to]
        o = pose(owner, t, sprites, shot, guide)
        punching = any(a.verb == "punch" and a.start <= t <= a.end for a in owner.actions)
        jab = owner.size * 0.35 * max(0.0, math.sin(2 * math.pi * 2.5 * t)) if punching else 0.0
        radians = math.radians(o.angle)
        dx, dy = sprite.offset[0] * owner.size * o.scale, sprite.offset[1] * owner.size * o.scale
        rx = dx * math.cos(radians) + dy * math.sin(radians)
        ry = -dx * math.sin(radians) + dy * math.cos(radians)
        p.x, p.y = o.x + rx + jab, o.y + ry + sprite.size * 0.5
        p.angle, p.scale, p.alpha = o.angle + p.angle, o.scale * p.scale, o.alpha
    if sprite.label.lower() in ("fire", "flame", "flames", "campfire"):  # fire flickers whatever it does
        p.scale *= 1 + 0.08 * math.sin(2 * math.pi * 5 * t) + 0.04 * math.sin(2 * math.pi * 11 * t)
    return p


def _lead(sprites: dict[str, Sprite]) -> Sprite | None:
    movers = [s for s in sprites.values() if s.actions and not s.attached_to]
    return movers[0] if movers else None


def _apply(p: Pose, sprite: Sprite, action: Action, t: float, sprites: dict[str, Sprite], shot: Shot) -> None:
    if t < action.start:
        if action.verb == "appear":
            p.alpha = 0.0
        return
    if action.verb == SPEAK:  # only while the line is heard: a quick bob and a swell, at a syllable's pace
        if t <= action.end:
            local = t - action.start
            p.y -= 0.012 * abs(math.sin(2 * math.pi * 2.5 * local))
            p.scale *= 1 + 0.05 * abs(math.sin(2 * math.pi * 4 * local))
            p.speaking = True
        return
    span = max(1e-3, action.end - action.start)
    u = min(1.0, (t - action.start) / span)  # progress through the action
    local = min(t, action.end) - action.start  # seconds into it
    verb = action.verb
    direction = _direction(sprite, action, sprites, shot)
    if verb in ("walk", "run", "swim", "fly"):
        _travel_pose(p, sprite, action, u, local, direction, sprites)
    else:
        _pose_in_place(p, sprite, action, u, local, sprites)


def _travel_pose(
    p: Pose, sprite: Sprite, action: Action, u: float, local: float, direction: int, sprites: dict[str, Sprite]
) -> None:
    """Walking, running, swimming, flying: across the frame (toward whom it goes), with the gait's bob."""
    verb = action.verb
    target = sprites.get(action.object or "")
    toward = target is not None and direction == _direction_sign(sprite, target)
    p.x += direction * _travel(verb, sprite, target if toward else None) * u
    hz, height = {"walk": (2.0, 0.018), "run": (3.5, 0.035), "swim": (1.0, 0.02), "fly": (0.8, 0.03)}[verb]
    p.y -= abs(math.sin(math.pi * hz * local)) * height
    if verb == "run":
        p.angle -= direction * 8
    if verb == "fly":
        p.y -= 0.3 * u


def _pose_in_place(p: Pose, sprite: Sprite, action: Action, u: float, local: float, sprites: dict[str, Sprite]) -> None:
    """Every other action: where the sprite stands, `u` of the way through it, `local` seconds in."""
    verb = action.verb
    if verb == "jump":
        p.y -= 0.2 * abs(math.sin(math.pi * 1.5 * local))
    elif verb == "climb":
        p.y -= 0.25 * u
    elif verb == "fall":
        p.y += 0.25 * u * u
        p.angle -= 90 * u
    elif verb == "punch":
        target = sprites.get(action.object or "")
        side = 1.0 if target is None or target.x >= sprite.x else -1.0
        p.x += side * 0.03 * max(0.0, math.sin(2 * math.pi * 2.5 * local))
        p.angle -= side * 6 * math.sin(2 * math.pi * 2.5 * local)
    elif verb == "spin":
        p.angle += 360 * 1.5 * u
    elif verb == "grow":
        p.scale *= 1 + 0.6 * u
    elif verb == "shrink":
        p.scale *= 1 - 0.5 * u
    elif verb == "explode":
        phase = (local * 1.2) % 1.0
        p.scale *= 0.7 + 0.6 * phase
        p.burst = max(p.burst, phase)
    elif verb == "roar":
        p.x += 0.006 * math.sin(2 * math.pi * 12 * local)
        p.scale *= 1 + 0.1 * abs(math.sin(2 * math.pi * 1.2 * local))
    elif verb == "raise":
        p.y -= 0.05 * min(1.0, 3 * u)
    elif verb == "burn":
        p.scale *= 1 + 0.1 * math.sin(2 * math.pi * 4 * local)
    elif verb == "dance":
        p.angle += 15 * math.sin(2 * math.pi * 1.5 * local)
        p.y -= 0.02 * abs(math.sin(2 * math.pi * 1.5 * local))
    elif verb == "talk":
        p.scale *= 1 + 0.04 * abs(math.sin(2 * math.pi * 3 * local))
        p.angle += 3 * math.sin(2 * math.pi * 1.5 * local)
    elif verb == "wave":
        p.angle += 12 * math.sin(2 * math.pi * 2 * local)
    elif verb == "shake":
        p.x += 0.01 * math.sin(2 * math.pi * 10 * local)
    elif verb == "sit":
        p.y += 0.03 * min(1.0, 4 * u)
    elif verb == "appear":
        p.alpha = min(p.alpha, min(1.0, 3 * u))
    elif verb == "vanish":
        p.alpha = min(p.alpha, 1 - u)


def camera(shot: Shot, t: float, sprites: list[Sprite], guide: MotionGuide | None) -> Camera:
    u = min(1.0, max(0.0, t / shot.duration))
    ease = u * u * (3 - 2 * u)
    focus = next((s for s in sprites if s.actions and not s.attached_to), None) or next(iter(sprites), None)
    fx = focus.x if focus else 0.5
    fy = (focus.y - focus.size / 2) if focus else 0.5
    move = shot.camera
    if move == "pan_left":
        cam = Camera(0.62 - 0.24 * ease, 0.5, 1.25)
    elif move == "pan_right":
        cam = Camera(0.38 + 0.24 * ease, 0.5, 1.25)
    elif move == "tilt_up":
        cam = Camera(0.5, 0.62 - 0.24 * ease, 1.25)
    elif move == "tilt_down":
        cam = Camera(0.5, 0.38 + 0.24 * ease, 1.25)
    elif move == "zoom_in":
        cam = Camera(0.5 + (fx - 0.5) * ease * 0.6, 0.5 + (fy - 0.5) * ease * 0.6, 1.0 + 0.45 * ease)
    elif move == "zoom_out":
        cam = Camera(0.5 + (fx - 0.5) * (1 - ease) * 0.6, 0.5 + (fy - 0.5) * (1 - ease) * 0.6, 1.45 - 0.45 * ease)
    elif move == "close_up":
        cam = Camera(0.5 + (fx - 0.5) * 0.7, 0.5 + (fy - 0.5) * 0.7, 1.55)
    elif move == "wide":
        cam = Camera(0.5, 0.5, 1.0)
    else:
        cam = Camera(0.5, 0.5, 1.15)
    if guide is not None and guide.camera:
        dx, dy, dz = guide.camera
        cam = Camera(cam.cx + dx * ease, cam.cy + dy * ease, max(1.0, cam.zoom * (1 + dz * ease)))
    half_w, half_h = 0.5 / cam.zoom, 0.5 / cam.zoom
    return Camera(min(1 - half_w, max(half_w, cam.cx)), min(1 - half_h, max(half_h, cam.cy)), cam.zoom)


def _sample(points: list[tuple[float, float]], u: float) -> tuple[float, float]:
    u = min(1.0, max(0.0, u)) * (len(points) - 1)
    k = min(int(u), len(points) - 2) if len(points) > 1 else 0
    if len(points) == 1:
        return points[0]
    f = u - k
    (x0, y0), (x1, y1) = points[k], points[k + 1]
    return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f


def _unit(text: str) -> float:
    return (zlib.crc32(text.encode()) % 10_000) / 10_000


def _colour(text: str) -> tuple[int, int, int]:
    hue = _unit(text)
    k = lambda n: (n + hue * 6) % 6  # noqa: E731
    channel = lambda n: int(255 * (0.85 - 0.55 * max(0.0, min(k(n), 4 - k(n), 1))))  # noqa: E731
    return channel(5), channel(3), channel(1)
