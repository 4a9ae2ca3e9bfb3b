import json

import pytest

from planners.heuristic import HeuristicPlanner
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig, StoryPlan, read_plan
from tests.conftest import HAMSTER, ZOSIA


def _late_action(data: dict) -> dict:
    return {"agent": data["shots"][0]["graph"]["entities"][0]["id"], "verb": "walk", "start": 0, "end": 999}


def _plan() -> StoryPlan:
    return HeuristicPlanner().plan(ZOSIA + "\n\n" + HAMSTER, PlanConfig(title="t"))


def test_json_round_trip_is_exact():
    plan = _plan()
    text = plan.model_dump_json(indent=2)
    again = StoryPlan.model_validate_json(text)
    assert again == plan
    assert again.model_dump_json(indent=2) == text


def test_schema_names_every_part_of_the_plan():
    schema = json.dumps(StoryPlan.model_json_schema())
    for name in ("Character", "Location", "Shot", "SceneGraph", "Entity", "Relation", "Action", "schema_version"):
        assert name in schema


def test_timeline_accounts_for_crossfades():
    plan = _plan()
    starts = plan.shot_starts()
    assert starts[0] == 0
    for i in range(1, len(plan.shots)):
        assert starts[i] == starts[i - 1] + plan.shot_frames(plan.shots[i - 1]) - plan.overlap_frames(i)
    assert plan.total_frames == starts[-1] + plan.shot_frames(plan.shots[-1])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["shots"][0].update(duration=-1), "shots.0.duration"),
        (lambda d: d["shots"][0].update(characters=["nobody"]), "character 'nobody'"),
        (lambda d: d.update(width=63), "even"),
        (lambda d: d["shots"][0]["graph"]["actions"].append(_late_action(d)), "after the shot"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.pop("shots"), "shots"),
    ],
)
def test_bad_plans_name_the_field_and_the_reason(tmp_path, mutate, message):
    data = json.loads(_plan().model_dump_json())
    mutate(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(StorytellerError) as error:
        read_plan(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_malformed_json_is_one_clear_line(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"title": "x", "shots": [')
    with pytest.raises(StorytellerError) as error:
        read_plan(path)
    assert str(error.value).startswith(f"{path}:")
    assert "\n" not in str(error.value)


def test_first_line_is_safe_for_an_empty_message_and_drops_colour_codes():
    from storyteller.core.errors import first_line

    assert first_line(OSError()) == "OSError"
    assert first_line(ValueError("  \n ")) == "ValueError"
    assert first_line(RuntimeError("\x1b[31mboom\x1b[0m\ntraceback")) == "boom"


def test_a_library_failing_with_an_empty_message_is_one_line_not_an_index_error(monkeypatch):
    import sentence_transformers

    from retrieval.library import load_embedder

    def fails(*args, **kwargs):
        raise OSError()  # no message at all

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", fails)
    with pytest.raises(StorytellerError, match=r"cannot load the embedder 'some/model': OSError"):
        load_embedder("some/model")
