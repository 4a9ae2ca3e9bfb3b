"""Screenplays in the Fountain format: headings -> locations, action -> actions, dialogue -> captions."""

from planners import PLANNERS
from planners.fountain import FountainPlanner, parse
from storyteller.core.models import PlanConfig
from tests.conftest import EXAMPLES

SCRIPT = (EXAMPLES / "snow_day.fountain").read_text()


def test_the_screenplay_is_read_into_its_elements():
    elements, title = parse(SCRIPT)
    assert title == "Snow Day"
    kinds = [e.kind for e in elements]
    assert kinds.count("heading") == 2 and kinds.count("dialogue") == 3
    dialogue = next(e for e in elements if e.kind == "dialogue")
    assert dialogue.speaker == "Zosia" and dialogue.text == "It's snowing! Everyone, come and see!"
    assert SCRIPT[dialogue.start : dialogue.end].startswith("ZOSIA\n(shouting)")


def test_headings_become_locations_and_times_and_dialogue_becomes_captions():
    plan = FountainPlanner().plan(SCRIPT, PlanConfig(title="x"))
    assert plan.title == "Snow Day"
    assert [loc.id for loc in plan.locations] == ["yard", "kitchen"]
    assert {s.graph.time_of_day for s in plan.shots if s.location == "kitchen"} == {"night"}
    assert {c.id: c.kind for c in plan.characters} == {"max": "person", "zosia": "girl", "dog": "dog"}
    lines = [s for s in plan.shots if ": " in s.text]
    assert [s.text for s in lines] == [
        "Zosia: It's snowing! Everyone, come and see!",
        "Max: Wait for me, Zosia!",
        "Zosia: Best day ever.",
    ]
    assert all(s.characters and s.graph.actions[0].verb == "talk" for s in lines)
    # action lines keep their actions; every span points into the screenplay
    assert ("dog", "jump") in {(a.agent, a.verb) for s in plan.shots for a in s.graph.actions}
    assert ("max", "fall") in {(a.agent, a.verb) for s in plan.shots for a in s.graph.actions}
    for shot in plan.shots:
        assert 0 <= shot.span[0] < shot.span[1] <= len(SCRIPT)


def test_the_fountain_planner_is_registered():
    assert isinstance(PLANNERS.create("fountain"), FountainPlanner)
