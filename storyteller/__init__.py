"""storyteller: a story in a text file becomes a long, coherent, multi-shot video.

from storyteller import Storyteller
result = Storyteller().make(open("story.txt").read(), name="story")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from storyteller.models import PlanConfig, StoryPlan
    from storyteller.pipeline import RunResult, Storyteller

__all__ = ["PlanConfig", "RunResult", "StoryPlan", "Storyteller", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use so `storyteller --help` stays instant.
    if name in ("Storyteller", "RunResult"):
        from storyteller import pipeline

        return getattr(pipeline, name)
    if name in ("StoryPlan", "PlanConfig"):
        from storyteller import models

        return getattr(models, name)
    raise AttributeError(f"module 'storyteller' has no attribute {name!r}")
