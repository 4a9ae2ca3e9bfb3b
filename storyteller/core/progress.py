"""Progress: rich bars on a terminal, a plain log otherwise, nothing with --quiet.

The orchestrator only calls `stage(...)` and `task(...)`; how that is shown is the reporter's business.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, Protocol

Advance = Callable[[int], None]


def still(n: int = 1) -> None:
    """An advance that shows nothing."""


class Reporter(Protocol):
    def stage(self, name: str, total: int) -> AbstractContextManager[Advance]: ...

    def task(self, name: str, total: int) -> AbstractContextManager[Advance]: ...

    def log(self, message: str) -> None: ...


class QuietReporter:
    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Advance]:
        yield still

    @contextmanager
    def task(self, name: str, total: int) -> Iterator[Advance]:
        yield still

    def log(self, message: str) -> None:
        pass


class PlainReporter:
    """One line per finished stage and task: readable in CI logs and pipes."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Advance]:
        start = time.perf_counter()
        yield still
        self.log(f"{name}: done ({total} items, {time.perf_counter() - start:.1f}s)")

    @contextmanager
    def task(self, name: str, total: int) -> Iterator[Advance]:
        start = time.perf_counter()
        yield still
        self.log(f"  {name} ({time.perf_counter() - start:.2f}s)")

    def log(self, message: str) -> None:
        print(message, file=self.stream, flush=True)


class RichReporter:
    """A bar per stage and per running shot, with elapsed time and ETA."""

    def __init__(self, console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Advance]:
        task = self.progress.add_task(f"[bold]{name}", total=total)
        yield self._advancing(task)
        self.progress.update(task, completed=total)

    @contextmanager
    def task(self, name: str, total: int) -> Iterator[Advance]:
        task = self.progress.add_task(f"  {name}", total=total)
        yield self._advancing(task)
        self.progress.remove_task(task)

    def _advancing(self, task: Any) -> Advance:
        def advance(n: int = 1) -> None:
            self.progress.advance(task, n)

        return advance

    def log(self, message: str) -> None:
        self.progress.console.log(message)


class EventReporter:
    """Progress as events, for a page watching a render (the studio): every stage's and task's count as it
    moves, and each log line; `also` (the terminal's reporter) shows the same progress where it started."""

    def __init__(
        self, publish: Callable[[dict[str, Any]], None], also: Reporter | None = None, every: float = 0.1
    ) -> None:
        self.publish, self.also, self.every = publish, also, every  # every: seconds between a stage's events

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Advance]:
        with self._counted("stage", name, total) as advance:
            yield advance

    @contextmanager
    def task(self, name: str, total: int) -> Iterator[Advance]:
        with self._counted("task", name, total) as advance:
            yield advance

    @contextmanager
    def _counted(self, kind: str, name: str, total: int) -> Iterator[Advance]:
        inner = (self.also.stage if kind == "stage" else self.also.task)(name, total) if self.also else None
        shown = inner.__enter__() if inner is not None else still
        done, published = 0, 0.0

        def advance(n: int = 1) -> None:
            nonlocal done, published
            done += n
            shown(n)
            now = time.monotonic()
            if now - published >= self.every or done >= total:  # an encode advances a frame at a time
                published = now
                self.publish({"type": kind, "name": name, "done": done, "total": total})

        self.publish({"type": kind, "name": name, "done": 0, "total": total})
        try:
            yield advance
        finally:
            if inner is not None:
                inner.__exit__(None, None, None)
            self.publish({"type": kind, "name": name, "done": total, "total": total, "finished": True})

    def log(self, message: str) -> None:
        if self.also is not None:
            self.also.log(message)
        self.publish({"type": "log", "message": message})


class StepBar:
    """A bar for one backend call's denoising steps, opened at the first step, when the total is known."""

    def __init__(self, reporter: Reporter, name: str) -> None:
        self.reporter, self.name = reporter, name
        self._bar: Any = None
        self._advance: Any = None
        self._done = 0

    def __enter__(self) -> StepBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = self.reporter.task(self.name, total)
            self._advance = self._bar.__enter__()
        self._advance(done - self._done)
        self._done = done

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


_NOTED: set[str] = set()


def note(message: str) -> None:
    """One line on stderr for something the user should know but that stops nothing; said once per process."""
    if message not in _NOTED:
        _NOTED.add(message)
        print(f"storyteller: {message}", file=sys.stderr)
