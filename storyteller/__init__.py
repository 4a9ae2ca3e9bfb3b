"""storyteller: a story in a text file becomes a long, coherent, multi-shot video.

from storyteller import Storyteller
result = Storyteller().make(open("story.txt").read(), name="story")

The package holds two floors: `storyteller.core` (the ground every stage stands on) and the orchestrator
(`storyteller.pipeline`, `.cli`) on top of the stages. So this file imports neither: a stage importing
`storyteller.core` runs it first, and must not pull the orchestrator (and through it, the stage itself)
in. The API's names load on first use instead, the way diffusers' own package does.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from storyteller.core.models import PlanConfig, StoryPlan
    from storyteller.pipeline import RunResult, Storyteller

_LAZY = {
    "Storyteller": "storyteller.pipeline",
    "RunResult": "storyteller.pipeline",
    "StoryPlan": "storyteller.core.models",
    "PlanConfig": "storyteller.core.models",
}
__all__ = ["PlanConfig", "RunResult", "StoryPlan", "Storyteller", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'storyteller' has no attribute {name!r}")
