"""Where a run may write the user's files: never over an input, a directory or a device, and over an
existing file only when asked (-y/--overwrite, as ffmpeg does) or when it is this run's own earlier output.
The film's sidecars (its subtitles) follow the film's rule; a run directory is a run's, or new."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from storyteller.core.errors import StorytellerError
from storyteller.core.files import file_digest

FILM_SUFFIX = ".mp4"  # the film is H.264 and AAC in an MP4
# what a run writes into its directory: a folder holding anything else is not a run, and is not written into
RUN_FILES = {
    "plan.json", "plans", "run.json", "story.srt", "contact_sheet.png", "keyframes", "references",
    "shots", "history", "export", ".cache",
}  # fmt: skip


def safe_name(title: str) -> str:
    """A title as a run's folder name: letters (any script), digits, dot, dash and underscore; never hidden,
    never a path ('..', '/'), never empty."""
    name = re.sub(r"[^\w.-]+", "_", title).strip("._-")[:100]
    return name or "story"


def check_output(
    target: Path, *, inputs: Iterable[Path] = (), overwrite: bool = False, run_dir: Path | None = None
) -> None:
    """Raise a one-line StorytellerError unless `target` may be (re)written.

    Args:
        target: the path the user asked for.
        inputs: files this run reads (the story, the plan): never written over, whatever the flags.
        overwrite: the user said an existing file may be replaced.
        run_dir: the run directory; an existing file that is one of its published outputs may be replaced.
    """
    target = Path(target)
    if _never_replaced(target, inputs):  # something is there
        _replaceable(target, overwrite, run_dir)


def _replaceable(target: Path, overwrite: bool, run_dir: Path | None) -> None:
    """An existing file is replaced only when asked, or when it is what this run wrote before."""
    if overwrite or (run_dir is not None and _one_of_its_outputs(target, run_dir)):
        return
    raise StorytellerError(f"{target}: already exists; add -y/--overwrite to replace it")


def _never_replaced(target: Path, inputs: Iterable[Path]) -> bool:
    """Refuse what no flag may replace: an input of the run, a directory, a device or pipe. Whether
    something is there."""
    for source in inputs:
        if _same_file(target, Path(source)) or _same_path(target, Path(source)):
            raise StorytellerError(f"{target}: is an input of this run; write the output somewhere else")
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StorytellerError(f"{target}: cannot check the output path ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise StorytellerError(f"{target}: is a directory; give the output a file name")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        raise StorytellerError(f"{target}: not a regular file (a device, pipe or socket); it is never replaced")
    return True


def film_sidecars(video: Path) -> list[Path]:
    """The files written beside a film given as -o: its subtitles."""
    return [Path(video).with_suffix(".srt")]


def check_film_output(
    output: Path, *, inputs: Iterable[Path] = (), overwrite: bool = False, run_dir: Path | None = None
) -> None:
    """`check_output` for a film given as -o and every sidecar written beside it."""
    output, inputs = Path(output), list(inputs)
    present = [target for target in (output, *film_sidecars(output)) if _never_replaced(target, inputs)]
    if output.suffix.lower() != FILM_SUFFIX:
        raise StorytellerError(f"{output}: the film is an MP4; name the output something.mp4")
    for target in present:
        _replaceable(target, overwrite, run_dir)


def check_run_dir(run_dir: Path, overwrite: bool = False, store: Path | None = None) -> None:
    """A run writes into a folder of its own: a new or empty one, or a run's (it holds run.json, or only
    what runs write, and the cache `store` if it was put there). Another folder (your documents, '/') is
    refused unless -y says to write there; a name that is not a folder name ('..', '') always is."""
    run_dir = Path(run_dir)
    if run_dir.name != safe_name(run_dir.name) or run_dir.name in ("", ".", ".."):
        raise StorytellerError(f"{run_dir}: not a run folder's name; use letters, digits, '-', '_' or '.'")
    if not run_dir.exists():
        return
    if not run_dir.is_dir() or run_dir.is_symlink():
        raise StorytellerError(f"{run_dir}: not a folder; a run needs a folder of its own")
    if overwrite or (run_dir / "run.json").is_file():
        return
    ours = {*RUN_FILES, run_dir.name + FILM_SUFFIX}
    if store is not None and Path(store).parent.resolve() == run_dir.resolve():  # the cache, put in the run
        ours.add(Path(store).name)
    theirs = sorted(p.name for p in run_dir.iterdir() if p.name not in ours)
    if theirs:
        raise StorytellerError(
            f"{run_dir}: holds files that are not a storyteller run ({', '.join(theirs[:3])}); "
            "give a new folder, or add -y/--overwrite to write there"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _same_path(a: Path, b: Path) -> bool:
    """The same name, whether or not it exists yet (a link to an input counts as the input)."""
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def _published(run_dir: Path) -> dict[str, tuple[Path, str]]:
    """What run.json says this run published last: {"video" | "subtitles": (path, sha256)}; empty if it has
    no record, or a damaged one. A path recorded relative is taken from the run directory."""
    try:
        record = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for what in ("video", "subtitles"):
        path, digest = (record.get(what), record.get(f"{what}_sha256")) if isinstance(record, dict) else (0, 0)
        if isinstance(path, str) and isinstance(digest, str):
            found[what] = (Path(path) if Path(path).is_absolute() else Path(run_dir) / Path(path).name, digest)
    return found


def published_outputs(run_dir: Path) -> dict[Path, str]:
    """The files this run published last (its film and the subtitles beside it) and their sha256."""
    return dict(_published(run_dir).values())


def published_film(run_dir: Path) -> tuple[Path, str] | None:
    """The film this run published last and its sha256, as run.json names them (None: no record, or a
    damaged one)."""
    return _published(run_dir).get("video")


def _one_of_its_outputs(target: Path, run_dir: Path) -> bool:
    """One of the files this run published last, still as it was written."""
    if target.is_symlink() or not target.is_file():
        return False
    return any(
        _same_file(target, path) and file_digest(target) == digest
        for path, digest in published_outputs(run_dir).items()
    )
