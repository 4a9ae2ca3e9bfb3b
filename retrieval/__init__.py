"""Stage 2, retrieve: reference clips whose motion guides each shot (Animate-A-Story).

A retriever is any object with `guide(shot, plan) -> MotionGuide | None`. With none configured (the
default) shots render unguided; a guide pinned in plan.json by hand is always used.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from storyteller.models import MotionGuide, Shot, StoryPlan
from storyteller.registry import Registry


@runtime_checkable
class Retriever(Protocol):
    def guide(self, shot: Shot, plan: StoryPlan) -> MotionGuide | None: ...


RETRIEVERS: Registry[Retriever] = Registry("retriever", "storyteller.retrievers")
RETRIEVERS.register("library", "retrieval.retriever:LibraryRetriever")  # "library:PATH"

__all__ = ["RETRIEVERS", "Retriever"]
