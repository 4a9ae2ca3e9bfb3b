"""Bad input, fuzzed: any story plans or is refused with a StorytellerError; any mutation of a plan.json
loads or is refused the same way; the CLI answers adversarial stories with a film or one line, exit 2."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planners.heuristic import HeuristicPlanner
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig, read_plan
from storyteller.pipeline import check_story
from tests.conftest import HAMSTER, ZOSIA
from tests.test_cli import TINY, run

ADVERSARIAL = {
    "empty": "",
    "blank": " \n\t ",
    "one word": "hamster",
    "control characters": "\x00\x01\x02 a cat\x07 sat.\x1b[31m",
    "right to left": "\u202eשלום עולם. הילדה הלכה הביתה.",
    "emoji only": "🐹🥊🔥🌊🦖",
    "one huge sentence": "and the cat ran " * 3000 + ".",
    "100 k words": " ".join(((ZOSIA + " " + HAMSTER + " ") * 2000).split()[:100_000]),
}
CONFIG = PlanConfig(title="t", width=64, height=64, fps=8)


def plan_or_refuse(story: str) -> None:
    try:
        check_story(story)
        plan = HeuristicPlanner().plan(story, CONFIG)
    except StorytellerError:
        return
    assert plan.shots and plan.total_frames > 0


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=600))
def test_any_text_plans_or_is_refused_clearly(story):
    plan_or_refuse(story)


@pytest.mark.parametrize("story", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_stories_plan_or_are_refused_clearly(story):
    plan_or_refuse(story)


BASE = json.loads(HeuristicPlanner().plan(HAMSTER + " The crowd cheered.", CONFIG).model_dump_json())


def _paths(node, prefix=()):
    if prefix:
        yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        yield from _paths(child, (*prefix, key))


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(list(_paths(BASE))), VALUES, st.booleans())
def test_mutated_plans_load_or_are_refused_clearly(tmp_path_factory, path, value, delete):
    plan = copy.deepcopy(BASE)
    node = plan
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    file = tmp_path_factory.mktemp("plan") / "plan.json"
    file.write_text(json.dumps(plan))
    try:
        loaded = read_plan(file)
    except StorytellerError as error:
        assert "\n" not in str(error).strip()
        return
    assert loaded.total_frames == sum(loaded.shot_frames(s) for s in loaded.shots) - sum(
        loaded.overlap_frames(i) for i in range(len(loaded.shots))
    )


@pytest.mark.parametrize("name", ["empty", "control characters", "emoji only"])
def test_the_cli_renders_or_exits_2_with_one_line(tmp_path, name):
    story = tmp_path / "story.txt"
    story.write_text(ADVERSARIAL[name], encoding="utf-8")
    result = run("make", story, *TINY, "--no-library", cwd=tmp_path)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1
    else:
        assert (tmp_path / "runs" / "story" / "story.mp4").is_file()


def test_an_error_quoting_the_users_text_stays_one_line(tmp_path):
    plan = copy.deepcopy(BASE)
    plan["shots"][0]["characters"] = ["\n\x1b[2J"]  # found by the fuzzer: a newline in a character id
    file = tmp_path / "plan.json"
    file.write_text(json.dumps(plan))
    with pytest.raises(StorytellerError) as caught:
        read_plan(file)
    assert "\n" not in str(caught.value) and "\\n" in str(caught.value) and "\x1b" not in str(caught.value)
