"""The default planner plans every story of ours exactly as it did: a refactor of the reader changes no plan.

tests/golden_plans.json holds the sha256 of each plan's JSON: the annotated stories (tests/stories/), the
examples, the shot-prose scripts of the tests and a few chapters of our own novel (benchmarks/novel.py).
A deliberate change to how stories are read records new digests (and says so in its commit):

    python tests/test_plans.py --record
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planners.heuristic import HeuristicPlanner  # noqa: E402  (the project root first, when run as a script)
from storyteller.core.models import PlanConfig  # noqa: E402
from tests.test_shot_prose import FERRY, SCRIPT  # noqa: E402

GOLDEN_FILE = Path(__file__).parent / "golden_plans.json"


def _novel() -> str:
    spec = importlib.util.spec_from_file_location("novel_benchmark", ROOT / "benchmarks" / "novel.py")
    assert spec is not None and spec.loader is not None
    novel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(novel)
    return str(novel.write_book(4000))


def stories() -> dict[str, str]:
    found = {f"stories/{p.stem}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests/stories").glob("*.txt"))}
    for path in sorted((ROOT / "examples").iterdir()):
        if path.suffix in (".txt", ".fountain", ".json"):
            found[f"examples/{path.name}"] = path.read_text(encoding="utf-8")
    found["scripts/harbour"], found["scripts/ferry"], found["novel"] = SCRIPT, FERRY, _novel()
    return found


def digest(story: str) -> str:
    plan = HeuristicPlanner().plan(story, PlanConfig(title="golden"))
    return hashlib.sha256(plan.model_dump_json().encode()).hexdigest()


STORIES = stories()


@pytest.mark.parametrize("name", sorted(STORIES))
def test_each_story_is_planned_as_it_always_was(name: str) -> None:
    golden = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))
    assert name in golden, f"{name}: no recorded plan (python tests/test_plans.py --record)"
    assert digest(STORIES[name]) == golden[name], f"{name}: planned differently than recorded"


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    recorded = {name: digest(text) for name, text in sorted(STORIES.items())}
    GOLDEN_FILE.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(recorded)} plans in {GOLDEN_FILE}")
