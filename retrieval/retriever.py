"""The `library` retriever: each shot's actions query the clip library; the best clip's motion guides it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.library import Library
from storyteller.core.backend import Retriever
from storyteller.core.models import SPEAK, Action, MotionGuide, Shot, StoryPlan


class LibraryRetriever(Retriever):
    name = "library"

    def __init__(self, model: str | Path = "library", k: int = 5, diversity: float = 0.3, min_score: float = 0.35):
        # "model" is the registry's name for the part after the colon: "library:PATH"
        self.library = Library.open_existing(Path(model))
        self.k, self.diversity, self.min_score = k, diversity, min_score
        self._index_of = self.library.fingerprint()  # part of every shot's cache key: read once

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for a worker) without the library's open database and loaded models: reopened there."""
        state = dict(self.__dict__)
        state["library"] = self.library.root
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.library = Library.open_existing(Path(state["library"]))

    def config(self) -> dict[str, Any]:
        return {
            "library": str(self.library.root.resolve()),
            "index": self._index_of,  # a changed library retrieves anew
            "k": self.k,
            "diversity": self.diversity,
            "min_score": self.min_score,
            "guide": 2,  # 2: guides carry the clip's structure maps
        }

    def query(self, shot: Shot) -> str:
        """What the shot does, in words: its actions first, then its text."""
        labels = {e.id: e.label for e in shot.graph.entities}
        actions = [
            " ".join(w for w in (labels.get(a.agent, a.agent), a.verb, labels.get(a.object or "", "")) if w)
            for a in _moving(shot)
        ]
        return ". ".join([*actions, shot.text])

    def guide(self, shot: Shot, plan: StoryPlan) -> MotionGuide | None:
        if not _moving(shot) and shot.camera == "static":
            return None  # nothing moves: no motion to borrow
        hits = self.library.search(
            self.query(shot),
            k=self.k,
            min_duration=0.25 * shot.duration,
            aspect=plan.width / plan.height,
            diversity=self.diversity,
        )
        if not hits or hits[0].score < self.min_score:
            return None  # a clip about something else would move the sprite the wrong way
        best = hits[0]
        return MotionGuide(
            source=f"{best.path}#t={best.start:.2f}",
            trajectory=best.trajectory,
            camera=best.camera,
            structure=best.structure,
        )


def _moving(shot: Shot) -> list[Action]:
    """The shot's actions but its lines (`speak`, timed by the sound after retrieval): what moves in it."""
    return [a for a in shot.graph.actions if a.verb != SPEAK]
