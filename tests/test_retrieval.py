"""The clip library: indexing real files (and broken ones), search by meaning, motion that guides shots."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from generators.animatic import ShotRenderer
from generators.animatic.glyphs import shared_matcher
from retrieval.demo import CLIPS, build
from retrieval.library import Library, caption_for, read_manifest
from retrieval.reader import probe
from retrieval.retriever import LibraryRetriever
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Action, Entity, MotionGuide, SceneGraph, Shot, StoryPlan
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    build(folder)
    (folder / "a_person_walks_to_the_left.txt").unlink()  # one with no caption: its file name is used
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a video" * 200)
    return folder


@pytest.fixture(scope="module")
def library(clips, tmp_path_factory):
    lib = Library(tmp_path_factory.mktemp("lib"))
    report = lib.index_folder(clips)
    assert (report.added, report.skipped, report.skipped_files) == (len(CLIPS), 1, ["broken.mp4"])
    return lib


def test_a_corrupt_file_is_skipped_by_a_probe_that_cannot_take_the_indexer_down(clips):
    assert probe(clips / "broken.mp4") is None
    info = probe(clips / "a_ball_jumps_up_and_down.mp4")
    assert info is not None and info.frames == 36 and info.width == 192


def test_captions_come_from_sidecars_manifests_or_file_names(tmp_path, clips):
    assert caption_for(clips / "a_ball_jumps_up_and_down.mp4", {}) == "a ball jumps up and down"
    assert caption_for(clips / "a_person_walks_to_the_left.mp4", {}) == "a person walks to the left"
    video = tmp_path / "v1.mp4"
    (tmp_path / "v1.json").write_text('{"caption": "a cat sleeps"}')
    assert caption_for(video, {}) == "a cat sleeps"
    (tmp_path / "manifest.csv").write_text('videoid,name\nv2,"a horse gallops"\n')
    assert caption_for(tmp_path / "v2.mp4", read_manifest(tmp_path / "manifest.csv")) == "a horse gallops"
    (tmp_path / "msr.csv").write_text("video_id,caption\nv3,a man cooks\n")
    assert read_manifest(tmp_path / "msr.csv")["v3"] == "a man cooks"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a puppy sprinting", "a dog runs fast across the field"),
        ("a bouncing ball", "a ball jumps up and down"),
        ("something drops to the floor", "an object falls down to the ground"),
        ("an automobile on the street", "a car drives from left to right on a road"),
    ],
)
def test_a_paraphrase_finds_the_right_clip_first(library, query, expected):
    assert library.search(query, k=3)[0].caption == expected


def test_motion_is_measured_from_the_pixels(library):
    by_caption = {h.caption: h for h in library.search("motion", k=len(CLIPS), diversity=0.0)}
    walk = by_caption["a person walks to the right"].trajectory
    assert walk[-1][0] - walk[0][0] > 0.4  # moves right across most of the frame
    fall = by_caption["an object falls down to the ground"].trajectory
    assert fall[-1][1] - fall[0][1] > 0.3  # and down
    assert by_caption["the camera zooms in slowly"].camera[2] > 0.2  # a zoom, not a move
    assert by_caption["the camera pans to the right over a landscape"].camera[0] > 0.1


def test_reindexing_is_incremental_and_persistent(clips, tmp_path):
    folder = tmp_path / "clips"
    shutil.copytree(clips, folder)
    lib = Library(tmp_path / "lib")
    first = lib.index_folder(folder)
    again = Library(tmp_path / "lib").index_folder(folder)  # reopened from disk
    assert again.added == 0 and again.unchanged == first.added
    (folder / "a_ball_jumps_up_and_down.mp4").unlink()
    shutil.copy(folder / "a_bird_flies_up_into_the_sky.mp4", folder / "a_kite_rises.mp4")
    (folder / "a_kite_rises.txt").write_text("a red kite rises into the wind")
    changed = Library(tmp_path / "lib").index_folder(folder)
    assert (changed.added, changed.removed) == (1, 1)
    reopened = Library(tmp_path / "lib")
    assert len(reopened) == first.clips
    assert reopened.search("a kite in the wind", k=1)[0].caption == "a red kite rises into the wind"
    assert all(h.caption != "a ball jumps up and down" for h in reopened.search("a bouncing ball", k=5))


def test_the_rendered_sprite_follows_the_retrieved_trajectory(library):
    hit = library.search("something going round in circles", k=1)[0]
    guide = MotionGuide(source=hit.path, trajectory=hit.trajectory, camera=None)
    shot = Shot(
        id="s", text="a dog runs", span=(0, 10), duration=3.0, prompt="", camera="static", guide=guide,
        graph=SceneGraph(entities=[Entity(id="dog", label="dog")],
                         actions=[Action(agent="dog", verb="run", start=0, end=3)]),
    )  # fmt: skip
    plan = StoryPlan(title="t", width=192, height=108, fps=8, shots=[shot])
    renderer = ShotRenderer(shot, plan, shared_matcher(), captions=False)
    times = np.linspace(0, 3, 25)
    xs = [np.mean(renderer.screen_box("dog", t)[0::2]) for t in times]
    ys = [np.mean(renderer.screen_box("dog", t)[1::2]) for t in times]
    path = np.array(hit.trajectory)
    where = np.linspace(0, len(path) - 1, len(times))
    gx, gy = np.interp(where, range(len(path)), path[:, 0]), np.interp(where, range(len(path)), path[:, 1])
    assert np.corrcoef(xs, gx)[0, 1] > 0.9 and np.corrcoef(ys, gy)[0, 1] > 0.9


def test_the_retriever_attaches_a_guide_only_when_a_clip_fits(library):
    retriever = LibraryRetriever(library.root)
    moving = Shot(id="s", text="A dog runs across the park.", span=(0, 1), duration=3, prompt="", camera="pan_right",
                  graph=SceneGraph(entities=[Entity(id="dog", label="dog")],
                                   actions=[Action(agent="dog", verb="run", start=0, end=3)]))  # fmt: skip
    plan = StoryPlan(title="t", shots=[moving])
    guide = retriever.guide(moving, plan)
    assert guide is not None and "a_dog_runs" in guide.source
    still = moving.model_copy(update={"camera": "static", "graph": SceneGraph()})
    assert retriever.guide(still, plan) is None


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "storyteller", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)  # fmt: skip


def test_cli_bad_inputs_are_one_clear_line(tmp_path):
    cases = [
        (("index", tmp_path / "nowhere"), "no such folder"),
        (("search", "a dog", "--library", tmp_path / "nolib"), "no clip library"),
    ]
    empty = tmp_path / "empty"
    Library(empty)
    cases.append((("search", "a dog", "--library", empty), "library is empty"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "library.sqlite").write_text("this is not a database")
    cases.append((("search", "a dog", "--library", broken), "not a clip library"))
    for args, words in cases:
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert words in result.stderr


def test_library_demo_then_make_retrieves_and_records_the_guides(tmp_path):
    assert _cli("library", "demo", cwd=tmp_path).returncode == 0
    found = _cli("search", "a dog running", cwd=tmp_path)
    assert found.returncode == 0 and "a dog runs fast" in found.stdout
    story = tmp_path / "dog.txt"
    story.write_text("A dog ran across the park.")
    made = _cli("make", story, "--size", "64x64", "--fps", "8", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    plan = StoryPlan.model_validate_json((tmp_path / "runs" / "dog" / "plan.json").read_text())
    assert plan.shots[0].guide is not None and "a_dog_runs" in plan.shots[0].guide.source


def test_a_rerun_asks_the_library_nothing(library, tmp_path, monkeypatch):
    from storyteller import Storyteller

    story = "A dog ran across the park. A ball bounced up and down."
    first = Storyteller(retriever=LibraryRetriever(library.root), runs_dir=tmp_path).make(
        story, name="guided", width=64, height=64, fps=8
    )
    assert any(s.guide is not None for s in first.plan.shots)
    retriever = LibraryRetriever(library.root)
    monkeypatch.setattr(retriever.library, "search", lambda *a, **k: pytest.fail("searched again"))
    again = Storyteller(retriever=retriever, runs_dir=tmp_path).make(story, name="guided", width=64, height=64, fps=8)
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
    assert [s.guide for s in again.plan.shots] == [s.guide for s in first.plan.shots]


def test_depth_maps_from_a_local_depth_model(clips, tmp_path):
    # a tiny random-weight GLPN, saved and loaded by path as a real one would be
    from transformers import GLPNConfig, GLPNForDepthEstimation, GLPNImageProcessor

    from retrieval.motion import EDGE_SIZE

    config = GLPNConfig(
        depths=[1, 1, 1, 1], sr_ratios=[8, 4, 2, 1], hidden_sizes=[8, 16, 32, 64], num_attention_heads=[1, 1, 1, 1],
        mlp_ratios=[2, 2, 2, 2], decoder_hidden_size=16,
    )  # fmt: skip
    model_dir = tmp_path / "depth"
    GLPNForDepthEstimation(config).save_pretrained(model_dir)
    GLPNImageProcessor().save_pretrained(model_dir)
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("a_ball_jumps_up_and_down", "the_camera_zooms_in_slowly"):
        shutil.copy(clips / f"{name}.mp4", folder)
    lib = Library(tmp_path / "lib", depth_model=str(model_dir))
    assert lib.index_folder(folder).clips == 2
    depths = [row[0] for row in lib.db.execute("select depth from clips")]
    assert all(len(d) == 3 * EDGE_SIZE[0] * EDGE_SIZE[1] for d in depths)
    maps = np.frombuffer(depths[0], np.uint8)
    assert maps.max() == 255 and maps.min() == 0  # normalised per frame
    # a hit carries them, as the plan's guide will: at the clip's first, middle and last frame
    structure = lib.search("a ball jumps", k=1)[0].structure
    assert structure.kind == "depth" and structure.times == [0.0, 0.5, 1.0]
    assert structure.map_at(0.0) in [depths[0][: len(depths[0]) // 3], depths[1][: len(depths[1]) // 3]]
    plain = Library(tmp_path / "plain")  # no depth model: the edge maps stand in, white lines on black
    plain.index_folder(folder)
    edges = plain.search("a ball jumps", k=1)[0].structure
    assert edges.kind == "edges" and set(edges.map_at(0.5)) <= {0, 255}


def test_a_missing_depth_model_is_a_clear_error(clips, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(clips / "a_ball_jumps_up_and_down.mp4", folder)
    with pytest.raises(StorytellerError, match="cannot load the depth model"):
        Library(tmp_path / "lib", depth_model=str(tmp_path / "nowhere")).index_folder(folder)
