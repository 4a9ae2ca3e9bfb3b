"""Named pairs of diffusion pipelines, read from presets.toml (the one place their settings live).

Users keep their own in a TOML file of the same layout: `--preset my.toml` (its only preset) or
`--preset my.toml:NAME`.
"""

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
def presets(path: Path = PRESETS_FILE) -> dict[str, Preset]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        found = {
            name: Preset(
                name=name,
                description=entry.get("description", ""),
                memory_gb=tuple(entry.get("memory_gb", (0, 0))),
                keyframe=dict(entry["keyframe"]),
                animator=dict(entry["animator"]),
            )
            for name, entry in data.items()
        }
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StorytellerError(f"preset file {path} is not valid TOML: {error}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise StorytellerError(
            f"preset file {path}: every preset needs [NAME.keyframe] and [NAME.animator] ({error})"
        ) from None
    for entry in found.values():
        _check_keys(path, entry)
    return found


def _check_keys(path: Path, entry: Preset) -> None:
    """A misspelt key would otherwise surface as a TypeError deep inside a render."""
    import inspect

    from generators.diffusion.animator import DiffusersAnimator
    from generators.diffusion.keyframes import DiffusersKeyframes

    for stage, backend, settings in (
        ("keyframe", DiffusersKeyframes, entry.keyframe),
        ("animator", DiffusersAnimator, entry.animator),
    ):
        known = set(inspect.signature(backend).parameters) - {"device", "low_memory"}
        unknown = sorted(set(settings) - known)
        if unknown or "model" not in settings:
            problem = f"unknown key {', '.join(unknown)}" if unknown else "no model"
            raise StorytellerError(
                f"preset file {path}, [{entry.name}.{stage}]: {problem} (keys: {', '.join(sorted(known))})"
            )


def preset(spec: str) -> Preset:
    """A built-in preset by name, or one from a user's file: `FILE.toml` or `FILE.toml:NAME`."""
    file, _, name = spec.partition(".toml")
    if _ or spec.endswith(".toml"):
        path = Path(file + ".toml")
        if not path.is_file():
            raise StorytellerError(f"preset file {path} does not exist")
        found = presets(path)
        name = name.removeprefix(":")
        if not name and len(found) == 1:
            return next(iter(found.values()))
        if name in found:
            return found[name]
        raise StorytellerError(f"preset file {path} has {', '.join(found) or 'no presets'}: pick one with {path}:NAME")
    found = presets().get(spec)
    if found is None:
        raise StorytellerError(f"unknown preset '{spec}' (known: {', '.join(presets())}); see `storyteller presets`")
    return found
