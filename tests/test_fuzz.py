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


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SHOT_KEYS = ["text", "duration", "camera", "characters", "graph", "transition", "prompt", "span", "location"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(["/api/shots/0", "/api/shots/add", "/api/shots/0/move", "/api/characters/x", "/api/plan"]),
    body=JSON | st.dictionaries(st.sampled_from([*SHOT_KEYS, "after", "to", "reference", "seed"]), JSON, max_size=3),
)
def test_fuzzed_studio_bodies_are_answered_never_a_server_error(studio_client, endpoint, body):
    client, run_dir = studio_client
    method = client.put if endpoint == "/api/plan" else client.post
    answer = method(endpoint, json=body)
    assert answer.status_code in (200, 400, 404), answer.text
    if answer.status_code == 400:
        assert "\n" not in answer.json()["error"]
    read_plan(run_dir / "plan.json")  # whatever was taken is a plan


@pytest.fixture(scope="module")
def studio_client(tmp_path_factory):
    from starlette.testclient import TestClient

    from storyteller import Storyteller
    from storyteller.studio.server import TOKEN_HEADER, create_app

    tmp_path = tmp_path_factory.mktemp("studio")

    def teller(reporter):
        return Storyteller(runs_dir=tmp_path, reporter=reporter, executor="serial", speaker=None, cache_dir=tmp_path)

    first = teller(None).make(HAMSTER + " The crowd cheered.", name="h", width=64, height=64, fps=8)
    with TestClient(create_app(first.run_dir, teller, token="t"), base_url="http://127.0.0.1") as client:
        client.headers[TOKEN_HEADER] = "t"
        yield client, first.run_dir


SHOT_PATHS = [p for p in _paths(BASE) if p[:1] == ("shots",) or p[:1] == ("characters",)]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SHOT_PATHS), VALUES)
def test_mutated_plans_that_load_also_render_or_are_refused_clearly(tmp_path_factory, path, value):
    """What passes validation must draw: a shot or a scene graph the checks let through renders, or the
    render refuses it in one line (an entity labelled '' once crashed the animatic)."""
    from storyteller import Storyteller

    plan = copy.deepcopy(BASE)
    node = plan
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    folder = tmp_path_factory.mktemp("render")
    file = folder / "plan.json"
    file.write_text(json.dumps(plan))
    try:
        loaded = read_plan(file)
        Storyteller(runs_dir=folder, executor="serial", speaker=None, cache_dir=folder / "store").render(
            loaded, folder / "run"
        )
    except StorytellerError as error:
        assert "\n" not in str(error).strip()
