"""The ComfyUI backends' settings (light: the command line and the presets read them without the backends)."""

from __future__ import annotations

from dataclasses import dataclass

from generators.comfyui.client import DEFAULT_URL
from storyteller.core.configs import runtime


@dataclass(frozen=True)
class ComfyConfig:
    """A ComfyUI backend's settings.

    Attributes:
        workflow: the workflow file, in ComfyUI's API format (Workflow > Export (API)), with placeholders where
            storyteller's values go. Its content keys the work, not its path.
        url: the ComfyUI server (`--comfyui-url`); nothing else is contacted.
        timeout: the longest one shot's job may run, in seconds.
    """

    workflow: str = runtime()
    url: str = runtime(DEFAULT_URL)
    timeout: float = runtime(3600.0)
