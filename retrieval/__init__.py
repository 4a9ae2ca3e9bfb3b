"""Stage 2, retrieve: reference clips whose motion guides each shot (Animate-A-Story).

A retriever is any object with `guide(shot, plan) -> MotionGuide | None`. With none configured (the
default) shots render unguided; a guide pinned in plan.json by hand is always used.
"""

from __future__ import annotations

from storyteller.core.backend import Retriever
from storyteller.core.registry import Registry

RETRIEVERS: Registry[Retriever] = Registry("retriever", "storyteller.retrievers")
RETRIEVERS.register("library", "retrieval.retriever:LibraryRetriever")  # "library:PATH"

__all__ = ["RETRIEVERS", "Retriever"]
