"""A pool of processes on this machine: `--workers N` shots at once."""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, TypeVar, cast

from storyteller.core.errors import StorytellerError
from storyteller.core.executors import DEFAULT_WORKERS, Call, Relay, Resources, check_workers, perform, windowed
from storyteller.core.executors.serial import SerialExecutor

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
T = TypeVar("T")


class QuietProcess(SpawnProcess):
    """A worker started with Ctrl-C blocked: a Ctrl-C while it boots cannot raise inside multiprocessing's
    bootstrap (33 lines of tracebacks); `_start` then ignores SIGINT and unblocks it."""

    def start(self) -> None:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # the child inherits the mask
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class QuietSpawn(SpawnContext):
    Process = QuietProcess


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self.workers = check_workers(workers)

    @contextmanager
    def pool(self, worker: Any, resources: Resources, tasks: int, limit: int, reporter: Any) -> Iterator[Any]:
        size = min(self.workers, limit, tasks)
        if size <= 1:  # one process would only add its start-up: run here
            with SerialExecutor().pool(worker, resources, tasks, limit, reporter) as serial:
                yield serial
            return
        import threading
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent may hold torch or rich threads that a forked child would inherit locked
        context = QuietSpawn()
        messages = context.Queue()
        relay = Relay(reporter)

        def forward() -> None:
            for message in iter(messages.get, None):
                relay(message)

        forwarder = threading.Thread(target=forward, daemon=True)
        forwarder.start()
        try:
            with ProcessPoolExecutor(size, mp_context=context, initializer=_start, initargs=(worker, messages)) as pool:
                yield LocalPool(pool, relay, window=2 * size)
        finally:
            messages.put(None)
            forwarder.join(5)
            relay.finish()


class LocalPool:
    def __init__(self, pool: Any, relay: Relay, window: int) -> None:
        self.pool, self.relay, self.window = pool, relay, window

    def map(self, calls: Iterable[Call]) -> Iterator[Any]:
        def submit(call: Call) -> Any:
            self.relay.open(call)
            return self.pool.submit(_run, call)

        for call, value in windowed(calls, submit, _result, self.window):
            self.relay.close(call)
            yield value


def _result(future: Any) -> Any:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise StorytellerError("a worker process died (out of memory?); run again to resume") from None


_WORKER: Any = None  # this process's worker: its backends, and their models once loaded
_MESSAGES: Any = None


def _start(worker: Any, messages: Any) -> None:
    global _WORKER, _MESSAGES
    _WORKER, _MESSAGES = worker, messages
    # Ctrl-C reaches the whole process group: the parent answers it in one line and stops the pool, so a
    # worker ignores it (no tracebacks). Whatever kills the parent (SIGKILL, the OOM killer), the kernel
    # then sends the worker SIGTERM: no orphan lives on holding a model.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # (a pending one is dropped: it is ignored)
    die_with_parent()
    worker.one_thread_each()


def run_guarded(target: str, *args: Any) -> None:
    """A spawned helper's entry point: first die with the parent and leave Ctrl-C to it, then load and run
    `target` ("module:function"). The guard comes before the target's imports, so a parent killed while the
    helper still boots leaves no orphan."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    die_with_parent()
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args)


def apart(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a process of its own, its result sent back: whatever it loads (a parser, a
    sentence embedder) goes back to the OS when it returns, instead of staying in this process for the rest of
    a long render. Ctrl-C is this process's to answer: the helper ignores it and is stopped."""
    context = QuietSpawn()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_apart, args=(send, function, args), daemon=True)
    process.start()
    send.close()
    try:
        succeeded, value = receive.recv()
    except EOFError:
        raise StorytellerError("a helper process died (out of memory?); run again") from None
    finally:
        receive.close()
        if process.is_alive():
            process.join(timeout=5)
        if process.is_alive():  # interrupted: stopped, not waited for
            process.terminate()
            process.join()
    if not succeeded:
        raise value
    return cast(T, value)


def _apart(send: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    die_with_parent()
    try:
        result: tuple[bool, Any] = (True, function(*args))
    except Exception as error:  # sent back and raised there, as if it were raised in the caller
        result = (False, error)
    send.send(result)
    send.close()


def die_with_parent() -> None:
    # the parent as it was when this process was spawned: one that died while this one still booted (its
    # imports take seconds) has left it with another parent, and the check below must see that
    spawned_by = multiprocessing.parent_process()
    parent = spawned_by.pid if spawned_by is not None and spawned_by.pid else os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the pool's own shutdown is all there is
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _run(call: Call) -> Any:
    return perform(_WORKER, call, _MESSAGES.put)
