"""A book is a film of chapters: headings become scenes (a title card, an establishing shot, a place and a
time of day carried), the MP4 carries a chapter marker per scene, the contact sheets and the OTIO export
follow the chapters; the animatic never writes a word on a card; and the animatic's segments, drawn and
encoded in the workers, are the frames the kept-clip path makes."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from PIL import Image

from generators.animatic import AnimaticAnimator, AnimaticKeyframes, ShotRenderer
from generators.animatic.background import setting_of
from generators.animatic.glyphs import shared_matcher
from planners.fountain import FountainPlanner
from planners.heuristic import HeuristicPlanner
from storyteller.core.backend import KeyframeGenerator
from storyteller.core.cards import title_card
from storyteller.core.models import Character, Entity, Location, PlanConfig, SceneGraph, Shot, StoryPlan
from storyteller.core.video_io import chapters_of
from storyteller.pipeline import Storyteller
from storyteller.work import Worker

BOOK = """The Salt Road

# Chapter 1: The Wrong Tide

Captain Amara Diallo walked along the quay of the harbour at dawn. Her dog Pepper ran ahead.

"We sail tonight," said Amara.

## Chapter 2: The Salt Market

In the market, a merchant named Greta sold rope. Amara bought a coil of it.

***

That night a storm rolled in over the sea. The captain watched the waves.

PART TWO

The desert stretched to the mountains. Amara and Pepper walked on.
"""


def plan_of(story: str) -> StoryPlan:
    return HeuristicPlanner().plan(story, PlanConfig(title="book"))


def test_headings_become_scenes_with_a_card_and_an_establishing_shot_never_narrated_nor_characters():
    plan = plan_of(BOOK)
    assert [s.title for s in plan.scenes] == ["Chapter 1: The Wrong Tide", "Chapter 2: The Salt Market", "", "PART TWO"]
    cards = [s for s in plan.shots if s.card is not None]
    assert [c.card for c in cards] == ["Chapter 1: The Wrong Tide", "Chapter 2: The Salt Market", "PART TWO"]
    assert all(c.said == "" and not c.characters and not c.graph.entities for c in cards)
    names = {c.name for c in plan.characters} | {a for c in plan.characters for a in c.aliases}
    assert not names & {"Wrong", "Tide", "Salt", "Market", "Part", "PART", "TWO", "Chapter"}
    assert {c.name for c in plan.characters} >= {"Amara Diallo", "Pepper", "Greta"}
    for scene, first in plan.chapters():  # each scene opens on its card (if titled), then its place, seen empty
        opening = plan.shots[first : first + 2] if scene.title else plan.shots[first : first + 1]
        established = opening[-1]
        assert established.location == scene.location is not None and not established.characters
        assert established.said == "" and established.camera == "wide"
        later = [s for s in plan.shots if s.scene == scene.id and s.card is None]
        assert later[1].location == scene.location  # carried into the scene's first shot of the story
    assert plan.scenes[0].time_of_day == "dawn" and plan.scenes[2].time_of_day == "night"
    assert all(s.scene is not None for s in plan.shots)
    assert all(plan.shots[first].transition.kind == "crossfade" for _, first in plan.chapters()[1:])


def test_a_story_without_headings_has_no_scenes():
    plan = plan_of("A fox ran across the field. It jumped over a log.")
    assert plan.scenes == [] and all(s.scene is None and s.card is None for s in plan.shots)


def test_a_screenplays_scene_headings_are_scenes_established_but_without_cards():
    script = "INT. KITCHEN - NIGHT\n\nZOSIA sits by the fire.\n\nEXT. SCHOOL YARD - DAY\n\nSnow falls on the yard.\n"
    plan = FountainPlanner().plan(script, PlanConfig(title="t"))
    assert [s.title for s in plan.scenes] == ["INT. KITCHEN - NIGHT", "EXT. SCHOOL YARD - DAY"]
    assert [s.time_of_day for s in plan.scenes] == ["night", "day"]
    assert not any(s.card for s in plan.shots)
    firsts = [plan.shots[first] for _, first in plan.chapters()]
    assert all(s.text == "" and s.camera == "wide" and s.location for s in firsts)


class Refusing(KeyframeGenerator):
    name = "refusing"

    def keyframe(self, shot, plan, progress=None):
        raise AssertionError("a title card is never the keyframe model's to draw")


def test_a_title_card_is_drawn_the_same_whatever_draws_the_pictures():
    plan = plan_of(BOOK).model_copy(update={"width": 192, "height": 108})
    card = next(s for s in plan.shots if s.card)
    png = Worker(Refusing(), AnimaticAnimator()).keyframe(card, plan)
    drawn = np.asarray(Image.open(__import__("io").BytesIO(png)).convert("RGB"))
    assert np.array_equal(drawn, np.asarray(title_card(card.card, 192, 108)))
    assert drawn.std() > 5 and drawn.mean() < 60  # light letters on a dark ground


def test_the_animatic_never_writes_a_word_on_a_card():
    labels = {"kit": "quartermaster", "gap": "gap", "time": "time", "rope": "rope"}
    entities = [Entity(id=eid, label=label) for eid, label in labels.items()]
    shot = Shot(id="s1", text="t", span=(0, 1), duration=1.0, prompt="t", location="loc", characters=["kit"],
                graph=SceneGraph(entities=entities))  # fmt: skip
    plan = StoryPlan(title="t", width=192, height=108, fps=4, locations=[Location(id="loc", name="quay")],
                     characters=[Character(id="kit", name="Kit", kind="quartermaster", appearance="a sailor")],
                     shots=[shot])  # fmt: skip
    renderer = ShotRenderer(shot, plan, shared_matcher())
    assert {s.id for s in renderer.sprites} == {"kit", "rope"}  # the gap and the time are left out
    assert "kit" in renderer.images  # a character no emoji shows is drawn as a person


@pytest.mark.parametrize(
    ("name", "description", "kind"),
    [("town of Vessby", "The harbour town of Vessby", "harbour"), ("quay", "the quay", "harbour"),
     ("square", "the square, full of market stalls", "market"), ("kitchen", "the kitchen by the sea", "indoor"),
     ("pass", "the mountain pass", "nature"), ("desert", "", "desert")],
)  # fmt: skip
def test_the_background_is_chosen_from_what_the_text_says_of_the_place(name, description, kind):
    assert setting_of(name, description)[0] == kind


class KeptAnimatic(AnimaticAnimator):
    name = "kept-animatic"
    keeps_clips = True


def test_segments_drawn_in_the_workers_are_the_frames_of_the_kept_clip_path(tmp_path):
    plan = plan_of(BOOK).model_copy(update={"width": 96, "height": 54, "fps": 6})
    films = {}
    for name, animator in (("direct", AnimaticAnimator()), ("kept", KeptAnimatic())):
        teller = Storyteller(keyframe=AnimaticKeyframes(), animator=animator, speaker=None, fill=None,
                             executor="serial", cache_dir=tmp_path / name)  # fmt: skip
        result = teller.render(plan, tmp_path / name / "run")
        films[name] = result.content["frames_sha256"]
        assert (result.rendered["clips"] == 0) == (name == "direct")
    assert films["direct"] == films["kept"]


def test_the_film_carries_a_chapter_marker_per_scene_and_a_contact_sheet_per_chapter(tmp_path):
    from tests.test_cli import run

    story = tmp_path / "book.txt"
    story.write_text(BOOK)
    made = run("make", story, "--size", "96x54", "--fps", "6", "--runs", tmp_path / "runs", "-q", "--no-audio")
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "runs" / "book"
    plan = StoryPlan.model_validate_json((folder / "plan.json").read_text())
    marks = chapters_of(folder / "book.mp4")
    assert [title for *_, title in marks] == ["Chapter 1: The Wrong Tide", "Chapter 2: The Salt Market", "Scene 3",
                                              "PART TWO"]  # fmt: skip
    starts = plan.shot_starts()
    assert [round(start * plan.fps) for start, *_ in marks] == [starts[first] for _, first in plan.chapters()]
    assert abs(marks[-1][1] - plan.duration) < 0.01
    assert sorted(p.name for p in (folder / "contact_sheets").iterdir()) == [f"{s.id}.png" for s in plan.scenes]
    record = json.loads((folder / "run.json").read_text())
    assert record["rendered"]["clips"] == 0 and record["rendered"]["segments"] == len(plan.shots)
    # an editor sees the chapters too: each scene a marker on the track, as long as its shots
    exported = run("export", folder, "--otio", tmp_path / "book.otio", "-q")
    assert exported.returncode == 0, exported.stderr
    track = json.loads((tmp_path / "book.otio").read_text())["tracks"]["children"][0]
    markers = [(m["name"], m["marked_range"]["start_time"]["value"]) for m in track["markers"]]
    assert [name for name, _ in markers] == [title for *_, title in marks]
    assert markers[0][1] == 0 and all(a[1] < b[1] for a, b in itertools.pairwise(markers))
