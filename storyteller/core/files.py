"""Small file helpers every floor may use (no model, no pydantic: the CLI imports them at start-up)."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import os
import re
import stat
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from storyteller.core.errors import StorytellerError

if TYPE_CHECKING:
    from PIL import Image

MAX_REFERENCE_BYTES = 50_000_000  # a reference image past this is a mistake
MAX_CLIP_BYTES = 4_000_000_000  # a guide's reference clip
MAX_MUSIC_BYTES = 2_000_000_000  # a music file
MAX_LORA_BYTES = 4_000_000_000  # LoRA weights
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@lru_cache(maxsize=16)
def code_digest(package: str) -> str:
    """sha256 of the Python source of a top-level package and of the core every package stands on: what a
    cached result of its code is keyed by."""
    digest = hashlib.sha256()
    for name in sorted({package, "storyteller.core"}):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        root = Path(spec.origin).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_file(path: str | Path, what: str, limit: int) -> Path:
    """A path a plan names, checked before anything opens it: not a URL (no code path fetches one), a
    regular file (a pipe would hang, a device would never end), at most `limit` bytes."""
    text = str(path)
    if _URL.match(text):
        raise StorytellerError(f"{what} '{text}': only local files are read, not URLs")
    try:
        info = os.stat(text)
    except OSError as error:
        raise StorytellerError(f"{what} '{text}': {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StorytellerError(f"{what} '{text}': not a regular file")
    if info.st_size > limit:
        raise StorytellerError(f"{what} '{text}': {info.st_size:,} bytes; at most {limit:,}")
    return Path(text)


def read_image(path: str | Path, what: str) -> Image.Image:
    """An image a plan names (a reference, a pinned frame), checked as `local_file` checks it and read whole as
    RGB; a file that is not an image is one line."""
    from PIL import Image, UnidentifiedImageError  # (not at start-up: the CLI imports this module)

    checked = local_file(path, what, MAX_REFERENCE_BYTES)
    try:
        with Image.open(checked) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise StorytellerError(f"{what} '{path}' cannot be read as an image ({type(error).__name__})") from None


_TEMPORARIES: set[Path] = set()  # scratch files this process is writing now (see `temporaries`)


@contextlib.contextmanager
def temporaries(*paths: Path) -> Iterator[None]:
    """Scratch files, removed when the block ends, and also when the process does (Ctrl-C and SIGTERM end
    it through Python: a thread still writing them, like the soundtrack's mix, never gets to its finally).
    A kill -9 leaves them to the next run's sweep (their names carry the process id)."""
    _TEMPORARIES.update(paths)
    try:
        yield
    finally:
        for path in paths:
            _TEMPORARIES.discard(path)
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


@atexit.register
def _remove_temporaries() -> None:
    for path in list(_TEMPORARIES):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
