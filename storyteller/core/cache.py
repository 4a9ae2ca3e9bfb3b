"""The content-addressed cache every run on this machine shares, and publishing into run directories.

Every artifact is stored under a key that hashes what produced it: the stage, the backend, its
configuration and the keys of its inputs. An entry counts only once its sidecar record exists and
its bytes still match the digest in it; both are written to a temporary name and renamed, so a run
killed at any moment leaves nothing that a later run would trust.

The store lives in the user cache directory (platformdirs), so any plan rendered anywhere reuses every
shot that is identical. It is size-capped: `prune` removes the least recently used entries (a hit
touches its record) until it fits, never one a running render holds a lease on.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from storyteller.core.errors import StorytellerError
from storyteller.core.files import file_digest, temporaries
from storyteller.core.models import stable_hash
from storyteller.core.progress import note

DEFAULT_CACHE_BYTES = 5 * 2**30  # 5 GiB: a few hundred shots of clips and film at 512x288
LEASES = "leases"  # the store's folder of leases: the entries each running render is using
LEASE_SUFFIX = ".lease"  # a lease: one entry's path (inside the store) a line, appended as the render goes


def user_cache_root() -> Path:
    """storyteller's folder in the user cache directory: the store, and small memos beside it."""
    return Path(user_cache_dir("storyteller"))


def unwritable_user_cache(error: OSError) -> None:
    """One note, once, whatever part of the user cache failed: it costs only speed."""
    reason = error.strerror or error
    note(f"the user cache {user_cache_root()} cannot be written ({reason}); work is not kept there for later runs")


def user_store() -> Path:
    """The store every run on this machine shares (STORYTELLER_CACHE overrides where it is)."""
    return Path(os.environ.get("STORYTELLER_CACHE") or user_cache_root() / "store")


@dataclass(frozen=True)
class Entry:
    path: Path
    stage: str
    size: int  # bytes, the record included
    used: float  # when last made or found (the record's modification time)


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
        """The artifact's path if a complete, intact entry exists; a damaged one is removed. Within a lease
        the entry is held before it is looked at, so a prune elsewhere cannot take it from under the render."""
        path = self.path(stage, key, suffix)
        record = _record_path(path)
        if not (path.exists() and record.exists()):
            self.stats.count(stage, hit=False)
            return None
        _hold(self.root, path)
        with _shard_lock(path.parent):  # not while a prune decides about it
            intact = not record.is_symlink() and self._intact(path)  # damaged, or a link: never followed out
            if not intact:
                path.unlink(missing_ok=True)
                record.unlink(missing_ok=True)
        if not intact:
            self.stats.count(stage, hit=False)
            return None
        self.stats.count(stage, hit=True)
        with contextlib.suppress(OSError):  # used now: the last to go when the store is pruned
            os.utime(record)
        return path

    @staticmethod
    def _intact(path: Path) -> bool:
        record = _record_path(path)
        if path.is_symlink() or not (path.is_file() and record.is_file()):
            return False
        try:
            sealed = json.loads(record.read_text())
            return isinstance(sealed, dict) and sealed.get("sha256") == file_digest(path)
        except (OSError, ValueError):  # unreadable, or not JSON
            return False

    def get_with_facts(self, stage: str, key: str, suffix: str) -> Path | None:
        """`get`, for an entry that must have been sealed with facts (one sealed before they were kept is
        made again)."""
        path = self.get(stage, key, suffix)
        return path if path is not None and self.facts(stage, key, suffix) else None

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

    # --- the store as a whole: what is in it, and keeping it under its cap ---------------------------

    def entries(self) -> Iterator[Entry]:
        """Every sealed entry (an artifact with its record)."""
        if not self.root.is_dir():
            return
        for record in self.root.glob("*/*/*.json"):
            path = record.with_name(record.name[: -len(".json")])
            try:
                info, size = record.stat(), path.stat().st_size
            except OSError:  # an unsealed artifact, or one pruned meanwhile
                continue
            yield Entry(path, record.parent.parent.name, size + info.st_size, info.st_mtime)

    @contextmanager
    def lease(self, paths: Iterable[Path] = ()) -> Iterator[None]:
        """Hold these entries, and every entry this process gets or puts in this store until the lease
        ends, while a render uses them: `prune`, in this process or any other, skips them. An entry is held
        before it is read or made, so no prune can take it in between."""
        folder = self.root / LEASES
        lease = folder / f"{os.getpid()}.{uuid.uuid4().hex[:8]}{LEASE_SUFFIX}"
        folder.mkdir(parents=True, exist_ok=True)
        lease.touch()
        mine = _Lease(lease)
        _LEASES.setdefault(self.root, []).append(mine)  # renders at once in one process: each has its own
        try:
            self.hold(paths)
            yield
        finally:
            _LEASES[self.root].remove(mine)
            lease.unlink(missing_ok=True)

    def hold(self, paths: Iterable[Path]) -> None:
        """Add entries to this process's lease on the store (nothing without one)."""
        for path in paths:
            _hold(self.root, Path(path))

    def leased(self) -> set[Path]:
        """The entries running renders hold; a lease whose process is gone is removed. Anything in a lease
        file that is not a path inside the store is ignored."""
        held: set[Path] = set()
        folder = self.root / LEASES
        if not folder.is_dir():
            return held
        for lease in folder.iterdir():
            pid = lease.name.split(".")[0]
            if pid.isdigit() and not _running(int(pid)):
                lease.unlink(missing_ok=True)
                continue
            held |= _read_lease(self.root, lease)
        return held

    def prune(self, limit: int) -> tuple[int, int]:
        """Remove the least recently used entries until the store holds at most `limit` bytes, skipping
        those a running render holds; returns (entries removed, bytes freed). Each entry's lease is checked
        again under its folder's lock, just before it goes: a render holds an entry before it reads one."""
        entries = sorted(self.entries(), key=lambda e: e.used)
        total = sum(e.size for e in entries)
        removed = freed = 0
        for entry in entries:
            if total - freed <= limit:
                break
            with _shard_lock(entry.path.parent):  # not while a run seals or reads the same entry
                if entry.path in self.leased():
                    continue
                _record_path(entry.path).unlink(missing_ok=True)  # unsealed first: never half an entry
                entry.path.unlink(missing_ok=True)
            removed, freed = removed + 1, freed + entry.size
        return removed, freed

    def digest(self, stage: str, key: str, suffix: str) -> str:
        return str(json.loads(_record_path(self.path(stage, key, suffix)).read_text())["sha256"])

    def facts(self, stage: str, key: str, suffix: str) -> dict[str, Any]:
        """What was sealed with the entry about its content (see `put`); empty if nothing was."""
        try:
            facts = json.loads(_record_path(self.path(stage, key, suffix)).read_text()).get("facts")
        except (OSError, ValueError, AttributeError):
            return {}
        return facts if isinstance(facts, dict) else {}

    def put(
        self,
        stage: str,
        key: str,
        suffix: str,
        write: Callable[[Path], Any],
        facts: Callable[[], dict[str, Any]] | None = None,
    ) -> Path:
        """Run `write(tmp_path)`, then move the result into place and seal it with its digest, and with
        `facts()` (asked once `write` is done: what the content is, e.g. a digest of the frames an encoder
        was given), which `facts` reads back."""
        path = self.path(stage, key, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{suffix}")
        _hold(self.root, path)  # held before it exists: a prune elsewhere never takes a new entry
        try:
            with temporaries(tmp):  # removed however this ends, the process's end included
                write(tmp)
                record = {"sha256": file_digest(tmp), "stage": stage, **({"facts": facts()} if facts else {})}
                with _shard_lock(path.parent):  # two runs of one story at once: the first sealed entry stands
                    if not self._intact(path) or (facts and not self.facts(stage, key, suffix)):
                        os.replace(tmp, path)
                        atomic_write_text(_record_path(path), json.dumps(record))
        except OSError as error:
            raise StorytellerError(f"cannot write to the cache {self.root}: {error.strerror or error}") from None
        return path


@dataclass
class _Lease:
    """This process's lease on one store: its file, and the entries already written into it."""

    file: Path
    held: set[Path] = field(default_factory=set)


_LEASES: dict[Path, list[_Lease]] = {}  # store root -> the leases renders in this process hold on it
_READ: dict[Path, tuple[tuple[int, int], set[Path]]] = {}  # lease file -> (its size and mtime, its entries)


def _hold(root: Path, path: Path) -> None:
    """Write `path` into every lease this process holds on `root` (a line appended: a reader sees whole
    lines, and ignores a last one cut short)."""
    for lease in list(_LEASES.get(root, ())):  # (a render on another thread may end meanwhile)
        if path in lease.held:
            continue
        lease.held.add(path)
        with contextlib.suppress(OSError), open(lease.file, "a", encoding="utf-8") as out:
            out.write(str(path.relative_to(root)) + "\n")


def _read_lease(root: Path, lease: Path) -> set[Path]:
    """The entries a lease file names (read again only when it has grown or changed)."""
    try:
        info = lease.stat()
        stamp = (info.st_size, info.st_mtime_ns)
        if lease in _READ and _READ[lease][0] == stamp:
            return _READ[lease][1]
        text = lease.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    if lease.suffix == ".json":  # a lease written by an earlier version: a JSON list of paths
        try:
            listed = json.loads(text)
        except ValueError:
            listed = []
        names = [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
    else:
        names = text.split("\n")[:-1]  # the last piece has no newline yet: not a whole line
    inside = {root / name for name in names if name and not Path(name).is_absolute() and ".." not in Path(name).parts}
    _READ[lease] = (stamp, inside)
    return inside


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
    if match is None or _running(int(match.group(1))):
        return 0
    path.unlink(missing_ok=True)
    return 1


def _running(pid: int) -> bool:
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
        with contextlib.suppress(OSError):  # (its folder may be what failed)
            tmp.unlink(missing_ok=True)


def publish(source: Path, target: Path) -> None:
    """Put a cached artifact at a user-facing path, atomically, as a file of its own: a copy (a reflink,
    where the filesystem shares blocks until one side changes), never a hard link, so editing an output in
    place changes neither the cache nor another run's. A link at `target` is replaced, never written through."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):  # a killed run's, next to the output
        _sweep_one(stale)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        _copy(source, tmp)
        os.replace(tmp, target)
    except OSError as error:  # the user's path in the message, never the temporary's
        tmp.unlink(missing_ok=True)
        raise StorytellerError(f"cannot write {target}: {error.strerror or error}") from None


_FICLONE = 0x40049409  # linux/fs.h: share the source's blocks (btrfs, XFS); copy on write


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            import fcntl

            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
            return
        except (ImportError, OSError):  # no reflinks here (ext4, tmpfs, another system): copy the bytes
            pass
        shutil.copyfileobj(src, dst, 1 << 20)
