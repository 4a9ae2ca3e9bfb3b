"""Where the work runs: one small protocol, three executors.

    serial   everything in this process, one task after another
    local    a pool of processes on this machine (`--workers N`)
    ray      Ray actors: `ray` starts a local instance, `ray:auto` or `ray://HOST:PORT` joins a cluster

The orchestrator hands an executor a `Worker` (the stage backends, pickled once per worker, so models load
once per worker rather than once per task) and a list of `Call`s; the pool runs them and gives the results
back in order, lazily, with at most a small window in flight so memory stays flat however long the film.
Progress from wherever a call runs reaches the driver's reporter as (name, frames done) and denoise steps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from storyteller.core.backend import Resources as Resources  # re-exported for the executors
from storyteller.core.errors import StorytellerError
from storyteller.core.progress import StepBar
from storyteller.core.registry import Registry

# Shots rendered at once on this machine unless told: two keep both halves of a 2-core machine busy
# (one draws while the other encodes); more would only share the same cores.
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Call:
    """One task: `worker.<method>(*args)`; `name` labels its progress bar, `total` its frames (0: no bar)."""

    method: str
    args: tuple[Any, ...]
    name: str = ""
    total: int = 0


class Pool(Protocol):
    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        """Each call's result, in the order of `calls`."""
        ...


class Executor(Protocol):
    name: str

    def pool(
        self, worker: Any, resources: Resources, tasks: int, limit: int, reporter: Any
    ) -> AbstractContextManager[Pool]:
        """Workers for up to `tasks` calls, each holding its own copy of `worker`; at most `limit` of them
        (a backend that holds one model per device says 1), unless each has a device of its own.
        Progress goes to `reporter`; leaving the context frees the workers and their models."""
        ...


EXECUTORS: Registry[Executor] = Registry("executor", "storyteller.executors")  # the entry-point group
EXECUTORS.register("serial", "storyteller.core.executors.serial:SerialExecutor")
EXECUTORS.register("local", "storyteller.core.executors.local:LocalExecutor")
EXECUTORS.register("ray", "storyteller.core.executors.ray:RayExecutor")


def executor(spec: str | Executor = "local", workers: int | None = None) -> Executor:
    """An executor from its name: serial, local, ray, ray:auto or ray://HOST:PORT, with `workers` (default
    DEFAULT_WORKERS); an executor object passes through, and sizes itself."""
    if not isinstance(spec, str):
        if workers is not None:
            raise StorytellerError("workers= sizes a named executor ('local', 'ray'); an executor object sizes itself")
        return spec
    workers = check_workers(DEFAULT_WORKERS if workers is None else workers)
    name, _, address = spec.partition(":")
    if name == "ray":
        address = "ray:" + address if address.startswith("//") else address  # ray://HOST:PORT is Ray Client's
        return EXECUTORS.create("ray", address=address or None, workers=workers)
    if address:
        raise StorytellerError(f"executor '{spec}': only ray takes an address (ray:auto, ray://HOST:PORT)")
    return EXECUTORS.create(name, **({"workers": workers} if name == "local" else {}))


def check_workers(workers: int) -> int:
    if workers < 1:
        raise StorytellerError(f"--workers must be at least 1 (got {workers})")
    return workers


# --- shared by the executors ----------------------------------------------------------------------


class Relay:
    """Progress messages from calls, wherever they run, to the driver's reporter.

    ("frames", name, n) advances a call's bar; ("steps", name, done, total) drives its denoise bar.
    """

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter
        self.bars: dict[str, Any] = {}
        self.steps: dict[str, Any] = {}
        self.lock = threading.Lock()  # messages arrive on a forwarding thread
        self.labels: dict[str, str] = {}
        self.done: set[str] = set()  # messages still in flight for a finished call are dropped

    def open(self, call: Call) -> None:
        with self.lock:
            # a call with a frame bar shows its steps beside it; one without shows them under its own name
            self.labels[call.name] = f"{call.name} denoise" if call.total else call.name
            if call.total and call.name not in self.bars:
                bar = self.reporter.task(call.name, call.total)
                self.bars[call.name] = [bar, bar.__enter__(), 0, call.total]

    def close(self, call: Call) -> None:
        """The call's result is here, so all its frames are done, whatever messages are still on their way."""
        with self.lock:
            self.done.add(call.name)
            if call.name in self.bars:
                bar, advance, done, total = self.bars.pop(call.name)
                advance(max(0, total - done))
                bar.__exit__(None, None, None)
            if call.name in self.steps:
                self.steps.pop(call.name).__exit__(None, None, None)

    def __call__(self, message: tuple[Any, ...]) -> None:
        kind, name, *values = message
        with self.lock:
            if name in self.done:
                return
            if kind == "frames" and name in self.bars:
                entry = self.bars[name]
                n = min(values[0], entry[3] - entry[2])
                entry[1](n)
                entry[2] += n
            elif kind == "steps":
                if name not in self.steps:
                    self.steps[name] = StepBar(self.reporter, self.labels.get(name, name))
                self.steps[name](*values)

    def finish(self) -> None:
        with self.lock:
            for name in list(self.bars):
                self.bars.pop(name)[0].__exit__(None, None, None)
            for name in list(self.steps):
                self.steps.pop(name).__exit__(None, None, None)


def perform(worker: Any, call: Call, send: Callable[[tuple[Any, ...]], None]) -> Any:
    """Run one call on a worker, its progress sent as messages (see Relay)."""
    name = call.name
    return getattr(worker, call.method)(
        *call.args,
        advance=lambda n=1: send(("frames", name, n)),
        steps=lambda done, total: send(("steps", name, done, total)),
    )


def windowed(
    calls: Iterable[Call], submit: Callable[[Call], Any], result: Callable[[Any], Any], window: int
) -> Iterator[tuple[Call, Any]]:
    """Submit calls at most `window` ahead of the one being waited on; yield (call, result) in order.

    Results that finish out of order wait, so the window bounds what is held: a film of any length keeps
    only a few shots' results in memory.
    """
    from collections import deque

    pending: deque[Any] = deque()
    calls = iter(calls)
    for call in calls:
        pending.append((call, submit(call)))
        if len(pending) >= window:
            break
    while pending:
        call, handle = pending.popleft()
        value = result(handle)
        for more in calls:
            pending.append((more, submit(more)))
            break
        yield call, value
