"""Named pairs of diffusion pipelines, read from presets.toml (the one place their settings live)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from storyteller.errors import StorytellerError

PRESETS_FILE = Path(__file__).with_name("presets.toml")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    memory_gb: tuple[float, float]  # GPU memory without and with --low-memory
    keyframe: dict[str, Any]
    animator: dict[str, Any]


@cache
def presets() -> dict[str, Preset]:
    data = tomllib.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    return {
        name: Preset(
            name=name,
            description=entry.get("description", ""),
            memory_gb=tuple(entry.get("memory_gb", (0, 0))),
            keyframe=dict(entry["keyframe"]),
            animator=dict(entry["animator"]),
        )
        for name, entry in data.items()
    }


def preset(name: str) -> Preset:
    found = presets().get(name)
    if found is None:
        raise StorytellerError(f"unknown preset '{name}' (known: {', '.join(presets())}); see `storyteller presets`")
    return found
