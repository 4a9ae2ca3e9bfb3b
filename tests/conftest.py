"""Shared fixtures: offline, tiny frames, one emoji cache per test session."""

from __future__ import annotations

import os
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
