"""Shared fixtures: offline, tiny frames, one emoji cache per test session, one shared store per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HAMSTER = "A cute golden hamster throwing punches wearing a pair of boxing gloves in a boxing ring."
ZOSIA = (
    "Disney animation style, One frosty day, when snow blanketed everything like a white quilt, a little girl "
    "named Zosia was coming home from school. With gloves keeping her hands warm and a cozy jacket, she walked "
    "along the path."
)


@pytest.fixture(scope="session", autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Emoji-name embeddings and matches are cached per user; tests get their own, shared by the session.
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def tiny() -> dict:
    """Plan settings small enough for fast tests."""
    return {"width": 64, "height": 64, "fps": 8}


def store() -> Path:
    """This test's shared store."""
    return Path(os.environ["STORYTELLER_CACHE"])


@pytest.fixture(autouse=True)
def _store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cache every run shares, one per test: a test starts cold, as each run directory did before the
    store was shared (subprocesses inherit it through the environment). Set by hand, not by monkeypatch:
    a test's own monkeypatch.undo() must not take it away."""
    store = tmp_path_factory.mktemp("store")
    before = os.environ.get("STORYTELLER_CACHE")
    os.environ["STORYTELLER_CACHE"] = str(store)
    yield store
    if before is None:
        os.environ.pop("STORYTELLER_CACHE", None)
    else:
        os.environ["STORYTELLER_CACHE"] = before
