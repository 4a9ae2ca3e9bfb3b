"""Shot prose (issue 26): a script written for a video model, one paragraph a shot with its camera, style
and mood sentences, is planned a shot a paragraph; direction names no one and sets the camera."""

from __future__ import annotations

import pytest

from planners.heuristic import HeuristicPlanner
from planners.shot_prose import camera_of, is_direction, masked
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig

SCRIPT = """The Harbour Keeper

Wide establishing shot of a fishing harbour at dawn, boats rocking in grey water. Ana, an old harbour keeper in a \
yellow oilskin, walks along the pier carrying a coil of rope. Cinematic, realistic style.

She kneels at the edge of the pier and ties the rope to a rusty ring. Close-up of her weathered hands pulling the \
knot tight. The mood is calm and patient.

Medium shot of a small boy running down the pier toward her, waving a red flag. Tracking shot following him past \
the stacked crates. Bright morning light.

Ana stands up and takes the flag from the boy. Low-angle shot, the lighthouse behind them. The atmosphere is warm \
and hopeful.
"""
CONFIG = PlanConfig(title="harbour", width=64, height=64, fps=8)


@pytest.fixture(scope="module")
def plan():
    return HeuristicPlanner().plan(SCRIPT, CONFIG)


def test_each_written_paragraph_is_one_shot_and_the_plan_says_how_it_was_cut(plan):
    assert plan.shots_by == "paragraph" and len(plan.shots) == 4


def test_direction_names_no_one_and_the_protagonist_is_followed_through_she(plan):
    names = {c.name.lower() for c in plan.characters}
    assert not names & {"wide", "close", "medium", "tracking", "low", "mood", "atmosphere", "cinematic", "style"}
    ana = next(c.id for c in plan.characters if c.name == "Ana")
    boy = next(c.id for c in plan.characters if c.kind == "boy")
    assert [ana in s.characters for s in plan.shots] == [True, True, True, True]
    assert [boy in s.characters for s in plan.shots] == [False, False, True, True]


def test_the_camera_comes_from_the_script_and_the_look_joins_the_prompt_not_the_narration(plan):
    assert [s.camera for s in plan.shots] == ["wide", "close_up", "static", "tilt_up"]
    first = plan.shots[0]
    assert "Cinematic, realistic style" in first.prompt and "style" not in first.said  # planned, not read aloud
    assert first.text.startswith("Wide establishing shot") and first.text.endswith("realistic style.")  # as written
    assert "The mood is calm" not in plan.shots[1].said and "calm and patient" in plan.shots[1].prompt


def test_narrative_prose_keeps_its_sentence_reading_and_the_mode_can_be_forced():
    story = "Mia walked to the lighthouse. The keeper waved at her. Then the rain began to fall on the sea."
    assert HeuristicPlanner().plan(story, CONFIG).shots_by == "sentence"
    assert HeuristicPlanner(shots="sentence").plan(SCRIPT, CONFIG).shots_by == "sentence"
    assert len(HeuristicPlanner(shots="sentence").plan(SCRIPT, CONFIG).shots) > 4
    with pytest.raises(StorytellerError, match="shots 'chapters'"):
        HeuristicPlanner(shots="chapters")


@pytest.mark.parametrize(
    ("sentence", "direction"),
    [
        ("Cinematic, realistic style.", True),
        ("The mood is patient and quiet.", True),
        ("Medium shot, soft focus on the background.", True),
        ("Wide establishing shot of the harbour at dawn.", True),
        ("Close-up of her hands on the rope.", False),  # it shows someone: read, its framing blanked
        ("She lights a candle.", False),
        ("The wide river flows past the mill.", False),
    ],
)
def test_a_sentence_of_direction_alone_is_told_from_one_that_shows_something(sentence, direction):
    assert is_direction(sentence) is direction
    assert len(masked(sentence)) == len(sentence)  # offsets hold


def test_a_wide_river_is_no_camera_but_a_wide_shot_is():
    assert camera_of(["The wide river flows past the mill."]) is None
    assert camera_of(["Slow push-in on the kettle."]) == "zoom_in"
    assert camera_of(["Wide shot of the valley."]) == "wide"


ORCHARD = """The Last Pear

Wide establishing shot of an orchard outside Porto at dawn, mist between the rows of pear trees. Grandmother \
Inês Duarte, a small woman in a black shawl, walks between the trees carrying a wicker basket. Soft, painterly style.

Close-up of her hands testing a pear for ripeness. Morning light filters through the leaves. The mood is patient \
and warm.

Her grandson Rui, a lanky boy of twelve in a red football shirt, runs up the slope waving a phone. Tracking shot \
following him past a parked Vespa.

Medium two-shot under the oldest tree. The two of them laugh as a goat tries to eat the basket. Gentle comic timing.

A drone shot rises above the valley, the Douro glittering under the Sun. Nothing moves but the river. Epic and calm \
atmosphere.

Inside the farmhouse kitchen, Rui and Inês slice the pears while a grey cat watches from the windowsill. Warm \
tungsten light, handheld camera.
"""


@pytest.fixture(scope="module")
def orchard():
    return HeuristicPlanner().plan(ORCHARD, CONFIG)


def test_who_is_in_each_written_shot_follows_the_script(orchard):
    assert len(orchard.shots) == 6 and orchard.shots_by == "paragraph"
    cast = {c.id for c in orchard.characters}
    assert cast == {"ines", "rui", "goat", "cat"}
    present = [set(s.characters) for s in orchard.shots]
    assert present[:2] == [{"ines"}, {"ines"}]  # named, then "her hands"
    assert present[3] == {"ines", "rui", "goat"}  # "the two of them" are the two people met
    assert present[4] == set()  # the valley from the air: no one
    assert present[5] == {"ines", "rui", "cat"}


def test_no_place_brand_river_celestial_body_mood_or_camera_word_becomes_a_character_or_entity(orchard):
    names = {c.name for c in orchard.characters} | {c.id for c in orchard.characters}
    for word in ("Porto", "Vespa", "Douro", "Sun", "Grandmother", "mood", "atmosphere", "style", "camera"):
        assert word not in names and word.lower() not in names
    entities = {e.id for s in orchard.shots for e in s.graph.entities}
    assert not entities & {"camera", "atmosphere", "mood", "timing", "filter", "sun"}
    assert "leaf" in entities  # "Morning light filters through the leaves": leaves, no 'filter'


def test_the_bible_gathers_what_the_script_says_a_character_wears_and_holds(orchard):
    looks = {c.id: c.appearance for c in orchard.characters}
    assert looks["ines"].startswith("Inês Duarte") and "black shawl" in looks["ines"]
    assert "wicker basket" in looks["ines"]
    assert "red football shirt" in looks["rui"] and "lanky" in looks["rui"]
    name = next(c for c in orchard.characters if c.id == "ines")
    assert name.name == "Inês Duarte" and "Inês" in name.aliases


def test_the_narration_of_shot_prose_leaves_the_directions_out(orchard):
    said = " ".join(s.said for s in orchard.shots)
    for direction in ("Wide establishing shot", "Tracking shot", "style", "atmosphere", "handheld camera"):
        assert direction not in said
    assert "Inside the farmhouse kitchen, Rui and Inês slice the pears" in said
    assert orchard.shots[0].text.startswith("Wide establishing shot")  # the text stays as written


FERRY = """The Last Ferry

Wide shot of a ferry terminal at night, rain on the glass. Inside, a sleepy clerk in a green vest sorts coins \
behind the window. Neo-noir style.

A tall porter in a wool hat leans on his trolley. Close-up on his tired eyes. The mood is quiet.

The door bangs open and a man in a grey scarf hurries in out of the storm. Both the porter and the clerk look up. \
Slow-motion wide shot.

The stranger sets a brass key on the counter. Low-angle shot across the counter. Tense atmosphere.

A text message from Ines lights up on the counter: "Do not sell him a ticket." Close-up of the screen.

Over-the-shoulder shot from behind the clerk as the scarfed figure steps back. The clerk shakes her head. Tense \
and quiet.

The porter lifts the man's bag onto his trolley and follows him out. Tracking shot.

Through the rain-streaked window, two silhouettes walk toward the ferry. Wide shot from behind the glass, \
melancholy mood.
"""


def test_who_is_pointed_at_without_a_name_is_someone_already_met():
    """'the stranger' is the newcomer, 'the scarfed figure' the one in the scarf, 'two silhouettes' the two
    who just left; a worn thing before a verb is no subject; someone who only sends words is not there."""
    plan = HeuristicPlanner().plan(FERRY, CONFIG)
    kinds = {c.id: c.kind for c in plan.characters}
    assert sorted(kinds.values()) == ["clerk", "man", "porter"]  # no stranger, figure or silhouettes
    cast = [sorted(kinds[cid] for cid in s.characters) for s in plan.shots]
    assert cast == [
        ["clerk"], ["porter"], ["clerk", "man", "porter"], ["man"], [], ["clerk", "man"], ["man", "porter"],
        ["man", "porter"],
    ]  # fmt: skip
    looks = {c.kind: c.appearance for c in plan.characters}
    assert "wool hat" in looks["porter"] and "grey scarf" in looks["man"] and "green vest" in looks["clerk"]
    assert [s.camera for s in plan.shots][:3] == ["wide", "close_up", "wide"]
