"""Every call in this process, one after another: the reference every other executor must match."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from storyteller.core.executors import Call, Relay, Resources, perform


class SerialExecutor:
    name = "serial"

    @contextmanager
    def pool(self, worker: Any, resources: Resources, tasks: int, limit: int, reporter: Any) -> Iterator[SerialPool]:
        pool = SerialPool(worker, Relay(reporter))
        try:
            yield pool
        finally:
            pool.relay.finish()
            worker.close()


class SerialPool:
    def __init__(self, worker: Any, relay: Relay) -> None:
        self.worker, self.relay = worker, relay

    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        for call in calls:
            self.relay.open(call)
            try:
                yield perform(self.worker, call, self.relay)
            finally:
                self.relay.close(call)
