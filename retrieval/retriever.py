"""The `library` retriever: each shot's actions query the clip library; the best clip's motion guides it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.library import Library
from storyteller.core.backend import Retriever
from storyteller.core.configs import Configured
from storyteller.core.models import SPEAK, Action, MotionGuide, Shot, StoryPlan


@dataclass(frozen=True)
class LibraryConfig:
    """The library retriever's settings.

    Attributes:
        model: the clip library's folder (`storyteller index`), kept absolute; "model" is the registry's name
            for the part after the colon: `--library PATH` is "library:PATH".
        k: candidate clips a shot's query fetches before the choice among them.
        diversity: how much a clip already used by an earlier shot weighs against it (0: not at all).
        min_score: the least similarity a clip must have to guide a shot; below it the shot goes unguided.
    """

    model: str = "library"
    k: int = 5
    diversity: float = 0.3
    min_score: float = 0.35

    def __post_init__(self) -> None:  # the same library, however it was named: one key
        object.__setattr__(self, "model", str(Path(self.model).expanduser().resolve()))


class LibraryRetriever(Configured, Retriever):
    """Each shot's actions query the clip library; the best clip's motion and structure guide it."""

    name = "library"
    Config = LibraryConfig
    settings: LibraryConfig

    def __init__(self, config: LibraryConfig | str | Path | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self.library = Library.open_existing(Path(self.settings.model))
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
        return {**super().config(), "index": self._index_of}  # a changed library retrieves anew

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
            k=self.settings.k,
            min_duration=0.25 * shot.duration,
            aspect=plan.width / plan.height,
            diversity=self.settings.diversity,
        )
        if not hits or hits[0].score < self.settings.min_score:
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
