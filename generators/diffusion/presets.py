"""Named pairs of diffusion pipelines, read from presets.toml (the one place their settings live).

Users keep their own in a TOML file of the same layout: `--preset my.toml` (its only preset) or
`--preset my.toml:NAME`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generators.comfyui.configs import ComfyConfig
from generators.diffusion.configs import AnimatorConfig, KeyframeConfig
from storyteller.core.configs import settings_names
from storyteller.core.errors import StorytellerError

PRESETS_FILE = Path(__file__).with_name("presets.toml")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    memory_gb: tuple[float, float]  # GPU memory without and with --low-memory
    keyframe: dict[str, Any]
    animator: dict[str, Any]
    rank: int = 0  # how good its films are against the others': --preset auto takes the best that fits


MAX_PRESET_BYTES = 1_000_000
# What each setting may be; anything outside is one line when the file is read, not a crash in a render.
RANGES: dict[str, tuple[float, float]] = {
    "steps": (1, 1000), "guidance": (0, 100), "width": (16, 4096), "height": (16, 4096), "frames": (1, 1024),
    "fps": (1, 120), "decode_chunk": (1, 1024), "guide_strength": (0, 1), "ip_adapter_scale": (0, 5),
    "guide_structure": (0, 2), "style_lora_scale": (-4, 4),
}  # fmt: skip
CONFIGS: dict[str, dict[str, type]] = {
    "diffusers": {"keyframe": KeyframeConfig, "animator": AnimatorConfig},
    "comfyui": {"keyframe": ComfyConfig, "animator": ComfyConfig},
}
FILES = ("workflow", "style_lora")  # settings naming a file (keyed by its content): found from the preset's folder
_PIPELINE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")  # a class name in diffusers, never a dotted path


@cache
def presets(path: Path = PRESETS_FILE) -> dict[str, Preset]:
    path = Path(path)
    if path.stat().st_size > MAX_PRESET_BYTES:
        raise StorytellerError(f"preset file {path}: larger than {MAX_PRESET_BYTES:,} bytes")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        found = {
            name: Preset(
                name=name,
                description=entry.get("description", ""),
                memory_gb=tuple(entry.get("memory_gb", (0, 0))),
                keyframe=dict(entry["keyframe"]),
                animator=dict(entry["animator"]),
                rank=int(entry.get("rank", 0)),
            )
            for name, entry in data.items()
        }
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise StorytellerError(f"preset file {path} is not valid TOML: {error}") from None
    except RecursionError:  # tomllib recurses into nested arrays: a 200,000-deep one is an attack, not a preset
        raise StorytellerError(f"preset file {path} is nested too deeply to be a preset") from None
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise StorytellerError(
            f"preset file {path}: every preset needs [NAME.keyframe] and [NAME.animator] ({error})"
        ) from None
    for entry in found.values():
        _check_keys(path, entry)
        _check_values(path, entry)
        for stage in (entry.keyframe, entry.animator):  # a file a preset names is found from where the preset is
            for name in FILES:
                if isinstance(stage.get(name), str):
                    stage[name] = str(path.parent / Path(stage[name]).expanduser())
    return found


def _config_class(path: Path, entry: Preset, stage: str, settings: dict[str, Any]) -> type:
    """The settings class a preset's stage is read as: its `backend`'s (diffusers, the default, or comfyui)."""
    backend = settings.get("backend", "diffusers")
    if backend not in CONFIGS:
        known = ", ".join(CONFIGS)
        raise StorytellerError(f"preset file {path}, [{entry.name}.{stage}] backend: '{backend}' (known: {known})")
    return CONFIGS[backend][stage]


def _check_values(path: Path, entry: Preset) -> None:
    """Each value of the type the backend takes, and in range: steps=1e12 or model=42 is one line here."""
    from typing import get_type_hints

    from pydantic import TypeAdapter, ValidationError

    for stage, settings in (("keyframe", entry.keyframe), ("animator", entry.animator)):
        hints = get_type_hints(_config_class(path, entry, stage, settings))
        for key, value in settings.items():
            if key == "backend":
                continue
            where = f"preset file {path}, [{entry.name}.{stage}] {key}"
            try:
                value = TypeAdapter(hints[key]).validate_python(value, strict=hints[key] is str)
            except ValidationError as error:
                raise StorytellerError(f"{where}: {error.errors()[0]['msg']} (got {value!r})") from None
            low, high = RANGES.get(key, (None, None))
            if low is not None and value is not None and not low <= value <= high:
                raise StorytellerError(f"{where}: {value} is out of range ({low} to {high})")
            if key == "pipeline" and value is not None and not _PIPELINE_NAME.match(value):
                raise StorytellerError(f"{where}: '{value}' is not a diffusers pipeline class name")


def _check_keys(path: Path, entry: Preset) -> None:
    """A misspelt key would otherwise surface as a TypeError deep inside a render."""
    for stage, settings in (("keyframe", entry.keyframe), ("animator", entry.animator)):
        config_class = _config_class(path, entry, stage, settings)
        main = "workflow" if config_class is ComfyConfig else "model"
        # a preset says what draws; the machine's settings (a device, a server's address) are the command line's
        known = {
            *settings_names(config_class, keyed_only=True),
            main,
            "backend",
            *(set(FILES) & set(settings_names(config_class))),
        }
        unknown = sorted(set(settings) - known)
        if unknown or main not in settings:
            problem = f"unknown key {', '.join(unknown)}" if unknown else f"no {main}"
            raise StorytellerError(
                f"preset file {path}, [{entry.name}.{stage}]: {problem} (keys: {', '.join(sorted(known))})"
            )


@dataclass(frozen=True)
class Choice:
    """What --preset auto chose, and why."""

    preset: Preset | None  # None: no preset fits (or there is no GPU): the animatic draws
    low_memory: bool
    reason: str


def best_fit(memory_gb: float | None, choices: dict[str, Preset] | None = None) -> Choice:
    """The best preset (highest rank) that fits `memory_gb` of GPU memory, as it is or else with --low-memory
    (as it is, between two of the same rank); none on no GPU."""
    choices = presets() if choices is None else choices
    if memory_gb is None:
        return Choice(None, False, "no GPU: the animatic draws on the CPU")
    fitting = [
        (candidate, low_memory)
        for candidate in choices.values()
        for low_memory in (False, True)
        if 0 < candidate.memory_gb[1 if low_memory else 0] <= memory_gb
    ]
    if not fitting:
        return Choice(None, False, f"{memory_gb:.0f} GB GPU: no preset fits, the animatic draws")
    best, low_memory = min(fitting, key=lambda c: (-c[0].rank, c[1], c[0].memory_gb[c[1]], c[0].name))
    how = " with --low-memory" if low_memory else ""
    need = best.memory_gb[1 if low_memory else 0]
    return Choice(best, low_memory, f"{memory_gb:.0f} GB GPU: {best.name}{how} (needs {need:g} GB)")


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
    known = presets().get(spec)
    if known is None:
        raise StorytellerError(f"unknown preset '{spec}' (known: {', '.join(presets())}); see `storyteller presets`")
    return known
