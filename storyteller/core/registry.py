"""Registries of interchangeable backends, keyed by name.

Built-ins are registered as "module:attribute" strings so nothing heavy is imported until a backend is
asked for by name; third-party packages add theirs through entry points.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from storyteller.core.backend import Infiller
from storyteller.core.errors import StorytellerError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str, prefix: str = "") -> None:
        self.kind = kind
        self.group = group
        self.prefix = prefix  # entry-point names in a shared group: "keyframe.NAME"
        self._factories: dict[str, Callable[..., T] | str] = {}

    def register(self, name: str, factory: Callable[..., T] | str) -> None:
        """Add a backend: a class or factory, or a lazy "module:attribute" path to one."""
        self._factories[name] = factory

    def names(self) -> list[str]:
        names = set(self._factories)
        names.update(self._entry_points())
        return sorted(names)

    def _entry_points(self) -> dict[str, Any]:
        found = {}
        for ep in entry_points(group=self.group):
            if ep.name.startswith(self.prefix):
                found[ep.name[len(self.prefix) :]] = ep
        return found

    def create(self, spec: str, **config: Any) -> T:
        """Build the backend `spec` names: "name" or "name:argument" (a model id or path, say)."""
        name, _, argument = spec.partition(":")
        factory = self._factory(name)
        if argument:  # the backend's main setting: a model's id, a workflow's file
            config[getattr(factory, "main_setting", "model")] = argument
        try:
            inspect.signature(factory).bind(**config)
            if hasattr(factory, "Config"):  # a Configured backend takes its settings as keywords: check them too
                parts = getattr(factory, "parts", ())  # (the objects it is made of are not settings)
                inspect.signature(factory.Config).bind(**{k: v for k, v in config.items() if k not in parts})
        except TypeError as error:  # "diffusers:" with nothing after it, an option the backend does not take
            hint = f" (give it as {name}:MODEL)" if "'model'" in str(error) and not argument else ""
            raise StorytellerError(f"{self.kind} '{spec}': {error}{hint}") from None
        except ValueError:
            pass  # a builtin or C factory without a signature: let it check its own arguments
        return factory(**config)

    def _factory(self, name: str) -> Callable[..., T]:
        factory = self._factories.get(name)
        if factory is None:
            ep = self._entry_points().get(name)
            if ep is None:
                known = ", ".join(self.names())
                raise StorytellerError(f"unknown {self.kind} '{name}' (known: {known})")
            factory = ep.load()
        if isinstance(factory, str):
            module, _, attribute = factory.partition(":")
            factory = getattr(import_module(module), attribute)
            self._factories[name] = factory
        return factory


# Infill backends come from two stages: stitching's own (flow, hold: stitching.infill) and the generators'
# model-backed one (diffusers: generators). Their registry lives here, below both, and each stage registers
# its backends where they live; the orchestrator imports both stages, so it sees every one.
INFILLERS: Registry[Infiller] = Registry("infill backend", "storyteller.infill")
