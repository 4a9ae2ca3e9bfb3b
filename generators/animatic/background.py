"""Backgrounds painted from a shot's location, time of day and weather, plus falling weather.

The painter draws a few flat layers (sky, sun or moon, horizon features, ground) so a viewer can tell
a boxing ring from a snowy path from a city at night at a glance.
"""

from __future__ import annotations

import random
import typing
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from generators.animatic.glyphs import glyph_image, shared_matcher

SKY = {  # (top, horizon)
    "dawn": ((92, 110, 170), (250, 185, 150)),
    "morning": ((130, 185, 240), (245, 225, 195)),
    "day": ((95, 160, 230), (200, 225, 250)),
    "sunset": ((70, 60, 135), (252, 150, 80)),
    "dusk": ((38, 44, 100), (185, 115, 125)),
    "night": ((8, 12, 36), (30, 42, 85)),
}
WATER = {"sea", "ocean", "lake", "river", "pond", "harbor", "harbour", "shore", "beach"}
STREET = {
    "street",
    "avenue",
    "road",
    "city",
    "town",
    "downtown",
    "boulevard",
    "alley",
    "square",
    "plaza",
    "cityscape",
    "village",
    "market",
    "subway",
    "bridge",
}
NATURE = {
    "forest",
    "woods",
    "jungle",
    "park",
    "garden",
    "field",
    "meadow",
    "farm",
    "hill",
    "hills",
    "valley",
    "path",
    "trail",
    "lane",
    "yard",
    "playground",
    "mountain",
    "mountains",
    "island",
}
ARENA = {"ring", "arena", "stadium", "stage"}
INDOOR = {"room", "kitchen", "bedroom", "classroom", "library", "office", "hall", "shop", "store", "cafe", "restaurant"}
BUILDINGS = {
    "house",
    "home",
    "school",
    "castle",
    "church",
    "palace",
    "tower",
    "hospital",
    "hotel",
    "station",
    "factory",
    "tent",
    "hut",
    "lighthouse",
    "library",
}


HARBOUR = {"harbour", "harbor", "port", "quay", "quayside", "dock", "docks", "pier", "wharf", "marina", "jetty"}
MARKET = {"market", "marketplace", "bazaar", "souk", "stalls"}


def setting_of(location: str | None, description: str = "") -> tuple[str, str | None]:
    """(kind of backdrop, building noun or None) for a location: its name's nouns, last first ("the kitchen of
    the lighthouse" is indoors); what the text says of it refines a town or the sea ("the harbour town of
    Vessby" is a harbour, "the square, full of market stalls" a market)."""
    kind, building = _kind_of(location)
    if kind == "plain" and building is None:  # "pass", said of as "the mountain pass"
        kind, building = _kind_of(description)
    said = set(f"{location or ''} {description}".lower().replace("-", " ").replace(",", " ").split())
    if kind in ("street", "water", "nature", "plain") and said & HARBOUR:
        return "harbour", building
    if kind in ("street", "plain") and said & MARKET:
        return "market", building
    return kind, building


def _kind_of(location: str | None) -> tuple[str, str | None]:
    words = (location or "").lower().replace("-", " ").split()
    for word in reversed(words):
        for kind, nouns in (
            ("arena", ARENA),
            ("indoor", INDOOR),
            ("water", WATER),
            ("street", STREET),
            ("nature", NATURE),
            ("desert", {"desert", "dunes"}),
            ("space", {"space", "sky"}),
        ):
            if word in nouns:
                return kind, None
        if word in BUILDINGS:
            return "nature", word
    return "plain", None


def paint_background(
    size: tuple[int, int], location: str | None, time: str, weather: str, seed: int, description: str = ""
) -> Image.Image:
    """An RGB picture; drawing on it through an "RGBA" ImageDraw blends translucent colours."""
    width, height = size
    rng = random.Random(seed)
    kind, building = setting_of(location, description)
    horizon = int(height * (0.5 if kind in ("water", "harbour") else 0.55))
    top, bottom = SKY.get(time, SKY["day"])
    if weather in ("cloudy", "rain", "storm", "fog"):
        grey = 150 if weather != "storm" else 70
        top, bottom = _mix(top, (grey,) * 3, 0.55), _mix(bottom, (grey + 30,) * 3, 0.55)
    elif weather == "snow":
        top, bottom = _mix(top, (200, 210, 225), 0.45), _mix(bottom, (235, 240, 248), 0.45)
    image = _vertical_gradient(size, top, bottom, horizon)
    draw = ImageDraw.Draw(image, "RGBA")
    night = time in ("night", "dusk")

    if kind == "arena":
        return _arena(image, draw, horizon, night, rng)
    if kind == "indoor":
        return _indoor(image, draw, horizon, night)
    if kind == "space":
        image.paste((6, 8, 24), (0, 0, width, height))
        _stars(draw, width, height, rng, 160)
        return image

    _sky(draw, width, height, horizon, time, weather, rng)
    ground = _ground(kind, weather, night)
    _land(draw, kind, width, height, horizon, rng, weather, night)
    draw.rectangle((0, horizon, width, height), fill=ground)
    _foreground(draw, kind, location or "", ground, width, height, horizon, rng, weather, night)
    if building:
        _building(image, building, width, height, horizon, night)
    return image


def _sky(
    draw: ImageDraw.ImageDraw, width: int, height: int, horizon: int, time: str, weather: str, rng: random.Random
) -> None:
    """The stars and the moon, the setting sun or the day's, and the clouds."""
    night = time in ("night", "dusk")
    if time == "night":
        _stars(draw, width, horizon, rng, 70)
        draw.ellipse(_disc(width * 0.8, height * 0.16, height * 0.07), fill=(240, 240, 215))
    elif time == "sunset":
        draw.ellipse(_disc(width * 0.7, horizon - height * 0.02, height * 0.13), fill=(255, 190, 90))
    elif weather in ("clear", "snow") and time in ("day", "morning", "dawn"):
        draw.ellipse(_disc(width * 0.16, height * 0.15, height * 0.06), fill=(255, 236, 140, 230))
    if weather in ("cloudy", "rain", "storm", "snow", "clear"):
        clouds = {"clear": 2, "snow": 3}.get(weather, 5)
        for _ in range(clouds):
            x, y = rng.uniform(0, width), rng.uniform(height * 0.06, horizon * 0.55)
            shade = (235, 238, 245, 200) if not night else (90, 95, 120, 160)
            for k in range(4):
                r = height * rng.uniform(0.035, 0.06)
                draw.ellipse(_disc(x + k * r * 0.9, y + rng.uniform(-r, r) * 0.3, r), fill=shade)


def _ground(kind: str, weather: str, night: bool) -> tuple[int, int, int]:
    ground = {"water": (40, 90, 150), "harbour": (40, 90, 150), "street": (85, 85, 92), "market": (85, 85, 92),
              "desert": (222, 190, 130)}.get(kind, (95, 150, 80))  # fmt: skip
    if weather == "snow" and kind not in ("water",):
        ground = (232, 238, 246)
    return _mix(ground, (10, 15, 35), 0.55) if night else ground


def _land(
    draw: ImageDraw.ImageDraw,
    kind: str,
    width: int,
    height: int,
    horizon: int,
    rng: random.Random,
    weather: str,
    night: bool,
) -> None:
    """What stands on the horizon: a skyline, hills and trees, or dunes."""
    if kind in ("street", "market", "harbour"):
        _skyline(draw, width, horizon, rng, night)
    elif kind == "nature" or kind == "plain":
        _hills_and_trees(draw, width, horizon, rng, weather == "snow", night)
    elif kind == "desert":
        for k in range(3):
            cx = rng.uniform(0, width)
            draw.ellipse(
                (cx - width * 0.4, horizon - height * 0.05 * (k + 1), cx + width * 0.4, horizon + height * 0.2),
                fill=_mix((210, 170, 110), (0, 0, 0), 0.1 * k),
            )


def _foreground(
    draw: ImageDraw.ImageDraw,
    kind: str,
    location: str,
    ground: tuple[int, int, int],
    width: int,
    height: int,
    horizon: int,
    rng: random.Random,
    weather: str,
    night: bool,
) -> None:
    """What lies before the horizon: a beach and waves, a harbour, a market, a street, or a path."""
    if kind == "water":
        sand = (226, 205, 160) if not night else (90, 85, 80)
        draw.rectangle((0, int(height * 0.8), width, height), fill=sand)
        for k in range(14):
            y = horizon + (k + 1) * (height * 0.3) / 15
            for x in range(int(rng.uniform(-40, 0)), width, 46):
                draw.arc((x, y - 5, x + 30, y + 5), 200, 340, fill=(200, 225, 245, 150), width=2)
    elif kind == "harbour":
        _harbour(draw, width, height, horizon, rng, night)
    elif kind == "market":
        _market(draw, width, height, horizon, rng, night)
    elif kind == "street":
        draw.rectangle((0, horizon, width, horizon + height * 0.06), fill=_mix(ground, (160, 160, 160), 0.4))
        lane = horizon + (height - horizon) * 0.55
        for x in range(0, width, 70):
            draw.rectangle((x, lane - 3, x + 38, lane + 3), fill=(235, 220, 120, 220))
    elif "path" in location or "trail" in location or "road" in location:
        path = (190, 165, 120) if weather != "snow" else (205, 210, 220)
        draw.polygon(
            [(width * 0.42, horizon), (width * 0.58, horizon), (width * 0.95, height), (width * 0.05, height)],
            fill=_mix(path, (10, 15, 35), 0.5) if night else path,
        )


def weather_layer(draw: ImageDraw.ImageDraw, size: tuple[int, int], weather: str, t: float, seed: int) -> None:
    """Draw this instant's snow, rain or lightning over a frame."""
    width, height = size
    if weather not in ("snow", "rain", "storm"):
        return
    x0, y0, speed = _particles(seed, 90 if weather == "snow" else 120)
    if weather == "snow":
        ys = (y0 * height + t * height * 0.18 * speed) % height
        xs = (x0 * width + np.sin(t * 1.3 + y0 * height) * 8) % width
        radii = 1.2 + speed * 1.3
        for x, y, r in zip(xs.tolist(), ys.tolist(), radii.tolist(), strict=True):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 220))
    else:
        ys = (y0 * height + t * height * 1.6 * speed) % height
        for x, y in zip((x0 * width).tolist(), ys.tolist(), strict=True):
            draw.line((x, y, x - 3, y + 12), fill=(190, 205, 235, 170), width=1)
    if weather == "storm" and int(t * 4) % 13 == 0:
        draw.rectangle((0, 0, width, height), fill=(255, 255, 255, 70))


@lru_cache(maxsize=8)
def _particles(seed: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random(count), rng.random(count), rng.uniform(0.6, 1.4, count)


def _arena(image: Image.Image, draw: ImageDraw.ImageDraw, horizon: int, night: bool, rng: random.Random) -> Image.Image:
    width, height = image.size
    draw.rectangle((0, 0, width, height), fill=(22, 20, 30, 255))
    for k in range(4):  # spotlights
        x = width * (0.2 + 0.2 * k)
        draw.polygon(
            [(x - 8, 0), (x + 8, 0), (x + width * 0.12, horizon), (x - width * 0.12, horizon)], fill=(255, 250, 220, 26)
        )
    for _ in range(180):  # the crowd in the dark
        x, y = rng.uniform(0, width), rng.uniform(horizon * 0.55, horizon)
        draw.ellipse(_disc(x, y, height * 0.012), fill=(*(60 + rng.randint(0, 40),) * 3, 255))
    floor_top = int(height * 0.62)
    draw.polygon(
        [(width * 0.08, floor_top), (width * 0.92, floor_top), (width, height), (0, height)], fill=(40, 90, 170)
    )
    for k, y in enumerate((0.44, 0.5, 0.56)):  # ropes
        draw.line((0, height * y, width, height * y), fill=(220, 40, 40) if k != 1 else (240, 240, 240), width=3)
    for x in (width * 0.05, width * 0.95):
        draw.rectangle((x - 5, height * 0.40, x + 5, height * 0.70), fill=(200, 200, 210))
    return image


def _indoor(image: Image.Image, draw: ImageDraw.ImageDraw, horizon: int, night: bool) -> Image.Image:
    width, height = image.size
    wall = (222, 205, 175) if not night else (90, 80, 70)
    draw.rectangle((0, 0, width, height), fill=wall)
    window = (width * 0.62, height * 0.12, width * 0.86, height * 0.42)
    draw.rectangle(window, fill=(150, 200, 240) if not night else (20, 30, 70), outline=(120, 90, 60), width=5)
    draw.rectangle((0, int(height * 0.66), width, height), fill=(150, 105, 70) if not night else (70, 50, 35))
    return image


def _skyline(draw: ImageDraw.ImageDraw, width: int, horizon: int, rng: random.Random, night: bool) -> None:
    x = 0.0
    while x < width:
        w = rng.uniform(width * 0.05, width * 0.11)
        h = rng.uniform(horizon * 0.25, horizon * 0.7)
        shade = rng.randint(60, 110) if not night else rng.randint(20, 40)
        draw.rectangle((x, horizon - h, x + w, horizon), fill=(shade, shade, shade + 15))
        for wy in range(int(horizon - h + 6), int(horizon - 6), 12):
            for wx in range(int(x + 5), int(x + w - 6), 10):
                lit = rng.random() < (0.55 if night else 0.25)
                colour = (255, 220, 120, 230) if lit and night else (200, 220, 240, 120) if lit else (40, 45, 60, 90)
                draw.rectangle((wx, wy, wx + 4, wy + 6), fill=colour)
        x += w + rng.uniform(0, width * 0.01)


def _hills_and_trees(
    draw: ImageDraw.ImageDraw, width: int, horizon: int, rng: random.Random, snow: bool, night: bool
) -> None:
    hill = (120, 170, 110) if not snow else (215, 225, 238)
    if night:
        hill = _mix(hill, (10, 15, 35), 0.6)
    for k in range(3):
        cx = rng.uniform(0, width)
        draw.ellipse(
            (cx - width * 0.45, horizon - horizon * 0.18, cx + width * 0.45, horizon + horizon * 0.5),
            fill=_mix(hill, (0, 0, 0), 0.06 * k),
        )
    for _ in range(9):
        x = rng.uniform(0, width)
        h = rng.uniform(horizon * 0.18, horizon * 0.32)
        trunk = (100, 70, 45) if not night else (40, 30, 25)
        green = (50, 110, 60) if not night else (20, 45, 35)
        draw.rectangle((x - 3, horizon - h * 0.3, x + 3, horizon + 4), fill=trunk)
        draw.polygon(
            [(x, horizon - h), (x - h * 0.35, horizon - h * 0.2), (x + h * 0.35, horizon - h * 0.2)], fill=green
        )
        if snow:
            draw.polygon(
                [(x, horizon - h), (x - h * 0.14, horizon - h * 0.68), (x + h * 0.14, horizon - h * 0.68)],
                fill=(245, 248, 252),
            )


def _harbour(draw: ImageDraw.ImageDraw, width: int, height: int, horizon: int, rng: random.Random, night: bool) -> None:
    """Water with boats moored on it, and the stone quay in front."""
    for k in range(14):
        y = horizon + (k + 1) * (height * 0.25) / 15
        for ripple in range(int(rng.uniform(-40, 0)), width, 46):
            draw.arc((ripple, y - 5, ripple + 30, y + 5), 200, 340, fill=(200, 225, 245, 150), width=2)
    dim = 0.55 if night else 0.0
    for k in range(3):
        x, y = width * (0.18 + 0.3 * k + rng.uniform(-0.05, 0.05)), horizon + height * rng.uniform(0.08, 0.16)
        size = height * rng.uniform(0.07, 0.1)
        hull = _mix(rng.choice([(170, 60, 50), (240, 240, 235), (50, 80, 130), (60, 120, 90)]), (10, 15, 35), dim)
        draw.polygon([(x - size * 1.4, y), (x + size * 1.4, y), (x + size, y + size * 0.5), (x - size, y + size * 0.5)],
                     fill=hull)  # fmt: skip
        draw.line((x, y, x, y - size * 2.2), fill=_mix((90, 70, 50), (10, 15, 35), dim), width=max(1, height // 150))
        draw.polygon([(x + 2, y - size * 2.1), (x + size * 1.1, y - size * 0.3), (x + 2, y - size * 0.3)],
                     fill=_mix((245, 240, 225), (10, 15, 35), dim))  # fmt: skip
    quay = _mix((150, 140, 125), (10, 15, 35), dim)
    top = int(height * 0.78)
    draw.rectangle((0, top, width, height), fill=quay)
    for stone in range(0, width, max(8, width // 16)):  # the stones of the quay's edge
        draw.rectangle((stone, top, stone + width // 18, top + height * 0.03), fill=_mix(quay, (255, 255, 255), 0.12))
    for x in (width * 0.1, width * 0.55, width * 0.9):  # bollards
        draw.rectangle((x - 4, top - height * 0.03, x + 4, top + 2), fill=_mix((60, 60, 66), (10, 15, 35), dim))


def _market(draw: ImageDraw.ImageDraw, width: int, height: int, horizon: int, rng: random.Random, night: bool) -> None:
    """A square with a row of stalls under striped awnings."""
    draw.rectangle((0, horizon, width, height), fill=_mix((170, 150, 120), (10, 15, 35), 0.55 if night else 0.0))
    stall_w = width / 4
    for k in range(4):
        left, top = k * stall_w + stall_w * 0.08, horizon - height * 0.02
        colour = rng.choice([(200, 60, 60), (60, 120, 190), (230, 170, 40), (60, 150, 90)])
        if night:
            colour = _mix(colour, (10, 15, 35), 0.5)
        for s in range(5):  # the awning's stripes
            x0 = left + s * stall_w * 0.84 / 5
            fill = colour if s % 2 == 0 else _mix(colour, (255, 255, 255), 0.7)
            draw.rectangle((x0, top, x0 + stall_w * 0.84 / 5, top + height * 0.06), fill=fill)
        draw.rectangle((left, top + height * 0.06, left + stall_w * 0.84, top + height * 0.16),
                       fill=_mix((140, 100, 60), (10, 15, 35), 0.5 if night else 0.0))  # fmt: skip


def _building(image: Image.Image, noun: str, width: int, height: int, horizon: int, night: bool) -> None:
    char = shared_matcher().match(noun)
    if char is None:
        return
    glyph = glyph_image(char)
    size = int(height * 0.45)
    glyph = glyph.resize((size, int(size * glyph.height / glyph.width)), Image.Resampling.LANCZOS)
    if night:
        glyph = Image.fromarray((np.asarray(glyph) * np.array([0.45, 0.45, 0.55, 1.0])).astype(np.uint8))
    glyph = glyph.filter(ImageFilter.GaussianBlur(0.6))
    image.paste(glyph, (int(width * 0.7), horizon - glyph.height + 8), glyph)


def _stars(draw: ImageDraw.ImageDraw, width: int, height: int, rng: random.Random, count: int) -> None:
    for _ in range(count):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.5, 1.6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 230, rng.randint(120, 255)))


def _vertical_gradient(size: tuple[int, int], top: tuple, bottom: tuple, horizon: int) -> Image.Image:
    width, height = size
    t = np.clip(np.arange(height, dtype=np.float32) / max(1, horizon), 0, 1)[:, None]
    rows = (np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(np.repeat(rows[:, None, :], width, axis=1)), "RGB")


def _mix(a: tuple[int, ...], b: tuple[int, ...], amount: float) -> tuple[int, int, int]:
    """Two colours mixed, channel by channel (RGB)."""
    return typing.cast(
        tuple[int, int, int], tuple(int(x * (1 - amount) + y * amount) for x, y in zip(a, b, strict=False))
    )


def _disc(x: float, y: float, r: float) -> tuple[float, float, float, float]:
    return (x - r, y - r, x + r, y + r)
