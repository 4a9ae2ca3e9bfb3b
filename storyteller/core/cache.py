"""The run directory and its content-addressed cache.

Every artifact is stored under a key that hashes what produced it: the stage, the backend, its
configuration and the hashes of its inputs. An entry counts only once its sidecar record exists and
its bytes still match the digest in it; both are written to a temporary name and renamed, so a run
killed at any moment leaves nothing that a later run would trust.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyteller.core.errors import StorytellerError
from storyteller.core.files import file_digest
from storyteller.core.models import stable_hash


@dataclass
class CacheStats:
    hits: dict[str, int] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def count(self, stage: str, hit: bool) -> None:
        table = self.hits if hit else self.misses
        table[stage] = table.get(stage, 0) + 1


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.stats = CacheStats()

    @staticmethod
    def key(stage: str, backend: str, config: dict[str, Any], inputs: Any) -> str:
        return stable_hash({"stage": stage, "backend": backend, "config": config, "inputs": inputs})

    def path(self, stage: str, key: str, suffix: str) -> Path:
        return self.root / stage / key[:2] / f"{key}{suffix}"

    def get(self, stage: str, key: str, suffix: str) -> Path | None:
        """The artifact's path if a complete, intact entry exists; a damaged one is removed."""
        path = self.path(stage, key, suffix)
        record = _record_path(path)
        if not (path.exists() and record.exists()):
            self.stats.count(stage, hit=False)
            return None
        if record.is_symlink() or not self._intact(path):  # damaged, or a link: never followed out
            path.unlink(missing_ok=True)
            record.unlink(missing_ok=True)
            self.stats.count(stage, hit=False)
            return None
        self.stats.count(stage, hit=True)
        return path

    @staticmethod
    def _intact(path: Path) -> bool:
        record = _record_path(path)
        if path.is_symlink() or not (path.is_file() and record.is_file()):
            return False
        try:
            return json.loads(record.read_text())["sha256"] == file_digest(path)
        except (OSError, ValueError, KeyError):
            return False

    def has(self, stage: str, key: str, suffix: str) -> bool:
        """Whether a sealed entry is there, without reading it: enough to size work, not to trust it."""
        path = self.path(stage, key, suffix)
        return path.exists() and _record_path(path).exists()

    def sweep(self) -> int:
        """Remove the temporaries of runs that were killed (their process is gone); returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.glob("*/*/.*"):
            removed += _sweep_one(path)
        return removed

    def digest(self, stage: str, key: str, suffix: str) -> str:
        return json.loads(_record_path(self.path(stage, key, suffix)).read_text())["sha256"]

    def put(self, stage: str, key: str, suffix: str, write: Callable[[Path], Any]) -> Path:
        """Run `write(tmp_path)`, then move the result into place and seal it with its digest."""
        path = self.path(stage, key, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{suffix}")
        try:
            write(tmp)
            digest = file_digest(tmp)
            with _shard_lock(path.parent):  # two runs of one story at once: the first sealed entry stands
                if not self._intact(path):
                    os.replace(tmp, path)
                    atomic_write_text(_record_path(path), json.dumps({"sha256": digest, "stage": stage}))
        except OSError as error:
            raise StorytellerError(
                f"cannot write to the run directory {self.root}: {error.strerror or error}"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
        return path


@contextmanager
def _shard_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on a cache folder while an entry and its record are put in place together
    (flock on the folder itself: nothing is left behind; without fcntl, no lock)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


_TEMPORARY = re.compile(r"\.(\d+)\.(tmp|part)")  # every temporary name carries its writer's PID


def _sweep_one(path: Path) -> int:
    """Remove `path` if it is a temporary whose writer is gone; 1 if it was removed."""
    match = _TEMPORARY.search(path.name)
    if match is None or _alive(int(match.group(1))):
        return 0
    path.unlink(missing_ok=True)
    return 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary and rename: a reader never sees half a file. A failure names `path`
    (never the temporary) and leaves no temporary behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        raise StorytellerError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        tmp.unlink(missing_ok=True)


def publish(source: Path, target: Path) -> None:
    """Put a cached artifact at a user-facing path: a hard link where possible, else a copy; atomically."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):  # a killed run's, next to the output
        _sweep_one(stale)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        tmp.unlink(missing_ok=True)  # already the same file: rename() did nothing and left the link
    except OSError as error:  # the user's path in the message, never the temporary's
        tmp.unlink(missing_ok=True)
        raise StorytellerError(f"cannot write {target}: {error.strerror or error}") from None
