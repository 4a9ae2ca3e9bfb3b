"""How the conformance suite builds each registered backend: by its name alone, or, for a backend that needs a
model, on a tiny one of the real kind built here (no hub). A name in a registry with no entry in `TINY` is
built by name alone; one that cannot be is a failing test that says to add a tiny builder here.

Also run as a script (`python -m tests.conformance.builders MODELS_JSON`) to print every backend's config
from a fresh process: a cache key must not depend on the process that computed it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generators import ANIMATORS, KEYFRAME_GENERATORS
from planners import PLANNERS
from planners.heuristic import HeuristicPlanner
from planners.llm import LLMPlanner
from retrieval import RETRIEVERS
from stitching.sound import SPEAKERS
from storyteller.core.backend import Backend
from storyteller.core.models import PlanConfig
from storyteller.core.registry import INFILLERS, Registry

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRIES: dict[str, Registry[Any]] = {
    "planner": PLANNERS,
    "keyframe": KEYFRAME_GENERATORS,
    "animator": ANIMATORS,
    "infill": INFILLERS,
    "speaker": SPEAKERS,
    "retriever": RETRIEVERS,
}
STORY = "Mia walked to the old lighthouse. The keeper waved at her from the door, and she ran up the steps."
CONFIG = PlanConfig(title="conformance", width=64, height=64, fps=8, minutes=0.1)


def _llm_planner(models: dict[str, str]) -> Backend:
    """The LLM planner on a scripted chat model answering what a good model would (benchmarks/llm_planner.py
    derives the answers from the heuristic plan of the same story)."""
    path = ROOT / "benchmarks" / "llm_planner.py"
    spec = importlib.util.spec_from_file_location("llm_planner_benchmark", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    answers = bench.scripted_answers(HeuristicPlanner().plan(STORY, CONFIG), CONFIG.minutes * 60)
    return LLMPlanner(FakeListChatModel(responses=answers))


# (registry kind, name) -> a builder taking the tiny models' folders ({"sd", "ltx", "vits", "library"}) and the
# test ComfyUI server's address ("comfyui")
TINY: dict[tuple[str, str], Callable[[dict[str, str]], Any]] = {
    ("planner", "llm"): _llm_planner,
    ("keyframe", "diffusers"): lambda m: KEYFRAME_GENERATORS.create(
        f"diffusers:{m['sd']}", steps=2, guidance=0.0, width=64, height=64
    ),
    ("animator", "diffusers"): lambda m: ANIMATORS.create(
        f"diffusers:{m['ltx']}", steps=2, width=64, height=64, frames=9, fps=8
    ),
    ("infill", "diffusers"): lambda m: INFILLERS.create(f"diffusers:{m['ltx']}", steps=2, width=64, height=64),
    ("speaker", "transformers"): lambda m: SPEAKERS.create(f"transformers:{m['vits']}"),
    ("retriever", "library"): lambda m: RETRIEVERS.create(f"library:{m['library']}"),
    ("keyframe", "comfyui"): lambda m: KEYFRAME_GENERATORS.create(
        f"comfyui:{ROOT / 'examples' / 'comfyui' / 'txt2img.json'}", url=m["comfyui"]
    ),
    ("animator", "comfyui"): lambda m: ANIMATORS.create(
        f"comfyui:{ROOT / 'tests' / 'comfyui' / 'img2video.json'}", url=m["comfyui"]
    ),
}


def cases() -> list[tuple[str, str]]:
    """Every registered name of every registry, entry points included."""
    return [(kind, name) for kind, registry in REGISTRIES.items() for name in registry.names()]


def build(kind: str, name: str, models: dict[str, str]) -> Any:
    builder = TINY.get((kind, name))
    return builder(models) if builder is not None else REGISTRIES[kind].create(name)


def config_json(backend: Any) -> str:
    return json.dumps(backend.config(), sort_keys=True)


if __name__ == "__main__":
    folders = json.loads(sys.argv[1])
    print(json.dumps({f"{k}/{n}": config_json(build(k, n, folders)) for k, n in cases()}))
