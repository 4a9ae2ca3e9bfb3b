"""A backend's settings as one frozen dataclass, in LeRobot's way: the fields are its arguments, documented
once; its cache key is derived from them, so the two cannot drift apart.

    @dataclass(frozen=True)
    class SpeakerConfig:
        model: str
        device: str = runtime("cpu")   # how fast, never what: out of the cache key

    class MySpeaker(Configured, Speaker):
        Config = SpeakerConfig

    MySpeaker(model="m").config()  # {"code": <digest of its package>, "model": "m"}

A field declared with `runtime(default)` is a setting, but not part of what the backend's work is keyed by: it
changes speed or memory only (a device, offloading), or it names a file whose content the backend keys instead.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, ClassVar

from storyteller.core.backend import Backend
from storyteller.core.errors import StorytellerError
from storyteller.core.files import code_digest

RUNTIME = "runtime"  # field metadata: out of the cache key (it never changes a byte of the output by itself)


def runtime(default: Any = dataclasses.MISSING) -> Any:
    """A field kept out of the cache key: it changes speed or memory, not the output (or names a file whose
    content the backend keys instead). No default: a required setting."""
    return dataclasses.field(default=default, metadata={RUNTIME: True})


def settings_names(config_class: type, keyed_only: bool = False) -> list[str]:
    """The settings a config class holds (only those in the cache key, with `keyed_only`)."""
    fields = dataclasses.fields(config_class)
    return [f.name for f in fields if not (keyed_only and f.metadata.get(RUNTIME))]


def key_of(config: Any) -> dict[str, Any]:
    """The fields of a config dataclass that can change an output: its share of a cache key."""
    return {name: getattr(config, name) for name in settings_names(type(config), keyed_only=True)}


class Configured(Backend):
    """A backend whose settings are one frozen dataclass (`Config`), given whole or as keywords:
    `Backend(Config(model="m", steps=4))` or `Backend(model="m", steps=4)`; the main setting (`model`, unless the
    class says another) may come first on its own: `Backend("m", steps=4)`. Its cache key (`config()`) is the
    settings' keyed fields and a digest of the code of the package it lives in."""

    Config: ClassVar[type]
    main_setting: ClassVar[str] = "model"  # the setting a lone first argument (and a registry's "name:VALUE") gives

    def __init__(self, config: Any = None, /, **options: Any) -> None:
        what = type(self).__name__
        if isinstance(config, self.Config):
            if options:
                raise StorytellerError(f"{what}: give a {self.Config.__name__} or keywords, not both")
            self.settings = config
            return
        if config is not None:  # the main setting alone, first
            main = self.main_setting
            alone = isinstance(config, str | os.PathLike) and main not in options
            if not alone or main not in settings_names(self.Config):
                raise StorytellerError(f"{what} takes a {self.Config.__name__}, not {type(config).__name__}")
            options = {main: os.fspath(config) if isinstance(config, os.PathLike) else config, **options}
        self.settings = make_config(self.Config, options, what)

    def config(self) -> dict[str, Any]:
        package = sys.modules[type(self).__module__].__package__ or type(self).__module__
        return {"code": code_digest(package), **key_of(self.settings)}


def make_config(config_class: type, options: dict[str, Any], what: str) -> Any:
    """`config_class(**options)`, a wrong or missing setting one line naming the settings there are."""
    known = settings_names(config_class)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise StorytellerError(f"{what}: no setting {', '.join(unknown)} (settings: {', '.join(known)})")
    try:
        return config_class(**options)
    except TypeError as error:  # a required setting missing
        raise StorytellerError(f"{what}: {error}") from None
