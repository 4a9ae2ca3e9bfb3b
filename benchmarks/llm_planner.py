"""The LLM planner's own cost, with scripted answers (no model, no network).

    python benchmarks/llm_planner.py

For each example, the answers a model would give are derived from the heuristic planner's plan of the
same story (one event per shot), then the LLM planner runs its three steps on them. The table gives
model calls per shot and the planner's overhead per call: everything it does outside the model
(prompting, parsing, validating, caching, assembling), which should stay under 5 ms.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))  # for run.py beside; last, so its names shadow no package

from langchain_core.language_models.fake_chat_models import FakeListChatModel  # noqa: E402
from run import print_table  # noqa: E402  # benchmarks/run.py, beside this script

from planners.heuristic import HeuristicPlanner  # noqa: E402
from planners.llm import LLMPlanner  # noqa: E402
from planners.llm.planner import WORDS_PER_SECOND  # noqa: E402
from storyteller.core.models import PlanConfig, StoryPlan  # noqa: E402


def scripted_answers(plan: StoryPlan, target: float) -> list[str]:
    """The three answers a good model would give for `plan`, durations scaled to `target` seconds (the
    planner's: plan with `PlanConfig(minutes=target / 60)`). Title cards are the planner's, not the model's."""
    shown = [s for s in plan.shots if not s.card]
    scale = target / sum(s.duration for s in shown)
    events, graphs, details = [], [], []
    letter = "s" if plan.shots_by == "list" else "e"  # a shot list's events are its shots: s1, s2 ...
    for n, shot in enumerate(shown, 1):
        duration = shot.duration * scale
        first = shot.graph.actions[0] if shot.graph.actions else None
        events.append(
            {"id": f"{letter}{n}", "text": shot.text, "agent": first.agent if first else "scene",
             "action": first.verb if first else "appear", "characters": shot.characters,
             "location": shot.location, "duration": duration}
        )  # fmt: skip
        graphs.append(
            {"event_id": f"{letter}{n}", "camera": shot.camera,
             "entities": [e.model_dump() for e in shot.graph.entities],
             "relations": [r.model_dump() for r in shot.graph.relations],
             "actions": [{**a.model_dump(), "start": a.start * scale, "end": a.end * scale}
                         for a in shot.graph.actions]}
        )  # fmt: skip
        details.append(
            {"event_id": f"{letter}{n}", "time_of_day": shot.graph.time_of_day, "weather": shot.graph.weather,
             "keyframe_prompt": shot.prompt, "motion_prompt": "the camera follows the action"}
        )  # fmt: skip
    outline = {
        "title": plan.title,
        "style": plan.style,
        "summary": plan.shots[0].text,
        "characters": [c.model_dump() for c in plan.characters],
        "locations": [loc.model_dump() for loc in plan.locations],
        "events": events,
    }
    return [json.dumps(outline), json.dumps({"shots": graphs}), json.dumps({"shots": details})]


def main() -> None:
    rows = []
    for path in sorted((ROOT / "examples").glob("*.txt")):
        story = path.read_text()
        config = PlanConfig(title=path.stem, minutes=max(3.0, len(story.split()) / WORDS_PER_SECOND) / 60)
        answers = scripted_answers(HeuristicPlanner().plan(story, config), config.minutes * 60)
        for cached in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                run_config = config.model_copy(update={"cache_dir": Path(tmp)})
                if cached:  # a first run fills the call cache; the measured one reads it
                    LLMPlanner(FakeListChatModel(responses=answers), chunk_chars=10**6).plan(story, run_config)
                planner = LLMPlanner(FakeListChatModel(responses=answers), chunk_chars=10**6)
                start = time.perf_counter()
                plan = planner.plan(story, run_config)
                wall = time.perf_counter() - start
            stats = planner.stats
            answered = stats.calls + stats.cache_hits
            rows.append(
                (
                    path.stem + (" (cached)" if cached else ""),
                    len(plan.shots),
                    f"{stats.calls / len(plan.shots):.2f}",
                    f"{stats.cache_hits}",
                    f"{stats.overhead_per_call() * 1000:.2f}",
                    f"{wall / answered * 1000:.2f}",
                )
            )
    header = ("example", "shots", "model calls / shot", "cache hits", "overhead ms / call", "wall ms / call")
    print_table(header, rows)


if __name__ == "__main__":
    main()
