"""Where a run may write the user's files: never over an input, a directory or a device, and over an
existing file only when asked (-y/--overwrite, as ffmpeg does) or when it is this run's own earlier film."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from storyteller.core.errors import StorytellerError
from storyteller.core.files import file_digest


def check_output(
    target: Path, *, inputs: Iterable[Path] = (), overwrite: bool = False, run_dir: Path | None = None
) -> None:
    """Raise a one-line StorytellerError unless `target` may be (re)written.

    Args:
        target: the path the user asked for.
        inputs: files this run reads (the story, the plan): never written over, whatever the flags.
        overwrite: the user said an existing file may be replaced.
        run_dir: the run directory; an existing file that is one of its films may be replaced.
    """
    target = Path(target)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as error:
        raise StorytellerError(f"{target}: cannot check the output path ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise StorytellerError(f"{target}: is a directory; give the output a file name")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        raise StorytellerError(f"{target}: not a regular file (a device, pipe or socket); it is never replaced")
    for source in inputs:
        if _same_file(target, Path(source)):
            raise StorytellerError(f"{target}: is an input of this run; write the output somewhere else")
    if overwrite or (run_dir is not None and _one_of_its_films(target, run_dir)):
        return
    raise StorytellerError(f"{target}: already exists; add -y/--overwrite to replace it")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def published_film(run_dir: Path) -> tuple[Path, str] | None:
    """The film this run published last and its sha256, as run.json names them (None: no record, or a
    damaged one)."""
    try:
        record = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
        return Path(record["video"]), str(record["video_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _one_of_its_films(target: Path, run_dir: Path) -> bool:
    """The film this run published last, still as it was written."""
    if target.is_symlink() or not target.is_file():
        return False
    published = published_film(run_dir)
    return published is not None and _same_file(target, published[0]) and file_digest(target) == published[1]
