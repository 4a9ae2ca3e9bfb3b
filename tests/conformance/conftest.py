"""The tiny models the conformance suite builds its model-backed backends on, once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.demo import build
from retrieval.library import Library
from tests import tiny_diffusion
from tests.comfy_server import Running
from tests.tiny_voices import tiny_vits_voice


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("conformance-models")
    library = Library(root / "library")
    build(root / "clips")
    library.index_folder(root / "clips")
    comfyui = Running(root / "comfyui")  # a local server speaking ComfyUI's protocol, for the comfyui backends
    yield {
        "sd": str(tiny_diffusion.stable_diffusion(root / "sd")),
        "ltx": str(tiny_diffusion.ltx_condition(root / "ltx")),
        "vits": str(tiny_vits_voice(root / "vits")),
        "library": str(library.root),
        "comfyui": comfyui.url,
    }
    comfyui.stop()
