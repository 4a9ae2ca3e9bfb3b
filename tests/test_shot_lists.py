"""Shot lists other tools write (issue 26): a StoryMem JSON script and a HoloCine prompt are recognised by
their content and planned shot for shot, never read as prose."""

from __future__ import annotations

import json
import re

import decord
import pytest

from planners import shot_lists
from planners.heuristic import HeuristicPlanner
from storyteller import Storyteller
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig
from tests.conftest import EXAMPLES
from tests.test_cli import TINY, assert_clear_error, run

STORYMEM = EXAMPLES / "lighthouse.storymem.json"
HOLOCINE = EXAMPLES / "harbour.holocine.txt"
CONFIG = PlanConfig(title="list", width=64, height=64, fps=8)


@pytest.fixture(scope="module")
def storymem():
    return HeuristicPlanner().plan(STORYMEM.read_text(), CONFIG)


@pytest.fixture(scope="module")
def holocine():
    return HeuristicPlanner().plan(HOLOCINE.read_text(), CONFIG)


def test_a_storymem_script_is_planned_one_shot_per_prompt_with_its_own_words(storymem):
    script = json.loads(STORYMEM.read_text())
    prompts = [p for scene in script["scenes"] for p in scene["video_prompts"]]
    assert storymem.shots_by == "list" and storymem.title == script["story_name"]
    assert [s.text for s in storymem.shots] == prompts  # the given prompts, as written: no braces, no keys
    assert storymem.shots[0].keyframe_prompt == script["scenes"][0]["first_frame_prompt"]
    assert all(s.keyframe_prompt == "" for s in storymem.shots[1:])
    assert "Realistic, cinematic style" in storymem.shots[0].prompt and "style" not in storymem.shots[0].said


def test_cut_false_continues_the_previous_shot_with_its_place_and_people_and_no_transition(storymem):
    assert [s.continues for s in storymem.shots] == [False, False, False, True, False, True, False]
    for before, shot in zip(storymem.shots, storymem.shots[1:], strict=False):
        assert shot.transition.kind == "cut"  # cut as the list cuts
        if shot.continues:
            assert shot.location == before.location and set(before.characters) <= set(shot.characters)
            assert set(shot.characters) <= {e.id for e in shot.graph.entities}
    # the boat steering home goes on from Mira lighting the lamp: she is still in the picture
    assert "mira" in storymem.shots[5].characters


def test_the_overview_is_the_bible_and_names_no_one_else(storymem):
    assert {c.id: c.kind for c in storymem.characters} == {"mira": "keeper", "pip": "cat"}  # as the overview says
    assert "ginger" in next(c.appearance for c in storymem.characters if c.id == "pip")
    assert storymem.shots[2].characters == ["pip"]  # "Close-up of Pip's ears twitching. The cat jumps down"


def test_a_holocine_prompt_is_planned_shot_for_shot_and_its_characters_are_who_the_caption_says(holocine):
    assert holocine.shots_by == "list" and len(holocine.shots) == 4
    assert not any("[" in s.text or "|" in s.text for s in holocine.shots)
    ids = {c.id for c in holocine.characters}
    assert ids == {"woman", "tomas"}  # "[character1], a young woman …" and "[character2] (Tomas)"; no character1
    woman = next(c for c in holocine.characters if c.id == "woman")
    assert "silver hair" in woman.appearance and "raincoat" in woman.appearance
    assert [s.characters for s in holocine.shots] == [["woman"], ["tomas"], ["woman", "tomas"], ["tomas", "woman"]]
    assert [s.camera for s in holocine.shots] == ["wide", "static", "close_up", "static"]
    assert {s.location for s in holocine.shots} == {"harbour"}  # the global caption's environment
    assert {s.graph.time_of_day for s in holocine.shots} == {"dusk"}


def test_prose_and_screenplays_are_not_shot_lists():
    assert shot_lists.read("Once upon a time a fox met a crow.\n\nThe crow sang.") is None
    assert shot_lists.read("INT. KITCHEN - DAY\n\nMARA\nHello.") is None
    assert shot_lists.read('{"title": "a plan, not a StoryMem script"}') is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s.update(scenes=[]), "scenes"),
        (lambda s: s["scenes"][1].update(video_prompts="one prompt"), "scenes[1].video_prompts"),
        (lambda s: s["scenes"][2]["video_prompts"].__setitem__(0, 7), "scenes[2].video_prompts[0]"),
        (lambda s: s["scenes"][1].update(cut=["True", "maybe"]), "scenes[1].cut"),
        (lambda s: s["scenes"][1].update(cut=[True]), "scenes[1].cut"),
        (lambda s: s["scenes"][0].update(first_frame_prompt=["a", "b"]), "scenes[0].first_frame_prompt"),
        (lambda s: s.update(story_overview=3), "story_overview"),
    ],
)
def test_a_storymem_script_with_a_wrong_field_names_the_field(change, field):
    script = json.loads(STORYMEM.read_text())
    change(script)
    with pytest.raises(StorytellerError, match=re.escape(f"StoryMem script: {field}:")):
        shot_lists.read(json.dumps(script))


def test_the_cli_names_a_wrong_field_in_one_line_and_exits_2(tmp_path):
    script = json.loads(STORYMEM.read_text())
    script["scenes"][1]["cut"] = "sometimes"
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    assert_clear_error(run("make", path, *TINY, "--runs", tmp_path / "runs"), "scenes[1].cut")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.mp4"))


@pytest.mark.parametrize("path", [STORYMEM, HOLOCINE], ids=["storymem", "holocine"])
def test_a_shot_list_renders_end_to_end_one_shot_per_given_shot(tmp_path, tiny, path):
    teller = Storyteller(runs_dir=tmp_path / "runs", executor="serial")
    result = teller.make(path.read_text(), name=path.stem.split(".")[0], **tiny)
    given = shot_lists.read(path.read_text())
    assert given is not None and len(result.plan.shots) == len(given.shots)
    assert [s.continues for s in result.plan.shots] == [s.continues for s in given.shots]
    assert len(decord.VideoReader(str(result.video))) == result.plan.total_frames
    srt = result.subtitles.read_text()
    assert "{" not in srt and "[shot cut]" not in srt and "Wide shot" not in srt  # directions are not read


def test_storyteller_make_takes_a_storymem_script_as_it_is(tmp_path):
    made = run("make", STORYMEM, *TINY, "--runs", tmp_path / "runs", "--quiet", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    plan = json.loads((tmp_path / "runs" / "lighthouse.storymem" / "plan.json").read_text())
    assert plan["shots_by"] == "list" and [s["continues"] for s in plan["shots"]].count(True) == 2
