"""Ray actors: one per free device (or CPU), each holding the stage backends, so models load once per actor.

    --executor ray                 a local Ray instance with --workers CPUs
    --executor ray:auto            join the cluster this machine belongs to (`ray start --head` / `--address`)
    --executor ray://HOST:PORT     join a cluster through Ray Client

The cluster's workers need storyteller installed (or a `runtime_env`); artifacts come back to the driver,
which alone writes the run directory, so workers need no shared disk.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.executors import DEFAULT_WORKERS, Call, Relay, Resources, check_workers, perform, windowed

FLUSH_SECONDS = 0.1  # frame counts are sent in batches: one message per frame would cost more than the frame


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, workers: int = DEFAULT_WORKERS) -> None:
        self.address, self.workers = address, check_workers(workers)

    def _connect(self) -> tuple[Any, bool]:
        try:
            import ray
        except ImportError:
            raise StorytellerError("the ray executor needs Ray: pip install 'storyteller[ray]'") from None
        if ray.is_initialized():
            return ray, False
        import logging
        import warnings

        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            with warnings.catch_warnings():  # an unreachable cluster is our one line, not Ray's warning too
                warnings.simplefilter("ignore")
                self._init(ray, quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = self.address or "a local instance"
            raise StorytellerError(f"cannot start Ray ({where}): {first_line(error)}") from None
        return ray, True

    def _init(self, ray: Any, quiet: dict[str, Any]) -> None:
        if self.address is None:
            ray.init(num_cpus=self.workers, include_dashboard=False, **quiet)
        else:
            ray.init(address=self.address, **quiet)

    @contextmanager
    def pool(self, worker: Any, resources: Resources, tasks: int, limit: int, reporter: Any) -> Iterator[RayPool]:
        ray, started = self._connect()
        actors: list[Any] = []
        stop = threading.Event()
        try:
            from ray.util.queue import Queue

            cluster = ray.cluster_resources()
            # a GPU backend on a cluster without GPUs runs where its device setting sends it (auto: the CPU)
            gpus = resources.gpus if cluster.get("GPU", 0) else 0
            size = min(tasks, math.floor(cluster.get("CPU", 1) / resources.cpus) or 1)
            size = min(size, math.floor(cluster["GPU"] / gpus)) if gpus else min(size, limit)
            messages = Queue(actor_options={"num_cpus": 0})
            remote = ray.remote(RemoteWorker).options(num_cpus=resources.cpus, num_gpus=gpus)
            actors = [remote.remote(worker, messages) for _ in range(max(1, size))]
            relay = Relay(reporter)
            forwarder = threading.Thread(target=_forward, args=(messages, relay, stop), daemon=True)
            forwarder.start()
            try:
                yield RayPool(ray, actors, relay, window=2 * len(actors))
            finally:
                stop.set()
                forwarder.join(5)
                relay.finish()
        finally:
            for actor in actors:  # their models leave the devices now, not when the driver exits
                ray.kill(actor)
            if started:
                ray.shutdown()


class RayPool:
    def __init__(self, ray: Any, actors: list[Any], relay: Relay, window: int) -> None:
        from ray.util import ActorPool

        self.ray, self.relay, self.window = ray, relay, window
        self.actors = ActorPool(actors)

    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        def submit(call: Call) -> None:
            self.relay.open(call)
            self.actors.submit(lambda actor, c: actor.run.remote(c), call)

        for call, value in windowed(calls, submit, lambda _: self._next(), self.window):
            self.relay.close(call)
            yield value

    def _next(self) -> Any:
        """The next result in submission order (ActorPool keeps the order); a task's own error as itself."""
        from ray.exceptions import RayActorError, RayTaskError

        try:
            return self.actors.get_next()
        except RayTaskError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, StorytellerError):
                raise cause from None
            raise StorytellerError(f"a Ray task failed: {first_line(cause or error)}") from None
        except RayActorError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, RayTaskError):  # it never started: usually a backend the workers cannot import
                why = first_line(getattr(cause, "cause", None) or cause)
                raise StorytellerError(
                    f"a Ray worker could not start ({why}): are storyteller and your backends installed on it?"
                ) from None
            raise StorytellerError(f"a Ray worker died ({first_line(error)}); run again to resume") from None


class RemoteWorker:
    """The actor: a worker's backends live here between calls."""

    def __init__(self, worker: Any, messages: Any) -> None:
        self.worker, self.messages = worker, messages
        self.frames: dict[str, int] = {}
        self.sent = time.monotonic()
        worker.one_thread_each()

    def run(self, call: Call) -> Any:
        try:
            return perform(self.worker, call, self._send)
        finally:
            self._flush()

    def _send(self, message: tuple[Any, ...]) -> None:
        if message[0] == "frames":
            self.frames[message[1]] = self.frames.get(message[1], 0) + message[2]
            if time.monotonic() - self.sent < FLUSH_SECONDS:
                return
        else:
            self.messages.put(message)
        self._flush()

    def _flush(self) -> None:
        for name, n in self.frames.items():
            self.messages.put(("frames", name, n))
        self.frames.clear()
        self.sent = time.monotonic()


def _forward(messages: Any, relay: Relay, stop: threading.Event) -> None:
    while True:
        for message in messages.get_nowait_batch(messages.qsize()):
            relay(message)
        if stop.is_set():
            return
        stop.wait(FLUSH_SECONDS)
