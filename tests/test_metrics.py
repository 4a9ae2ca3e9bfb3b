"""The eval metrics rank constructed films the way a viewer would."""

from __future__ import annotations

import json

import numpy as np

from stitching import write_video
from stitching.metrics import evaluate
from storyteller.cli import main
from storyteller.core.models import StoryPlan
from tests.test_cli import assert_clear_error, run
from tests.test_fill import textured_square


def static() -> list[np.ndarray]:
    return [textured_square(60)] * 24


def smooth() -> list[np.ndarray]:
    return [textured_square(20 + 4 * i) for i in range(24)]


def flickering() -> list[np.ndarray]:
    brightness = np.random.default_rng(1).uniform(0.6, 1.4, 24)
    return [np.clip(textured_square(60) * b, 0, 255).astype(np.uint8) for b in brightness]


def repeated() -> list[np.ndarray]:
    """The smooth motion at a quarter of the frame rate, each frame held four times: judder."""
    return [textured_square(20 + 4 * (i - i % 4)) for i in range(24)]


def test_scores_rank_static_smooth_and_flickering_films():
    still, moving, flicker, held = (evaluate(f()) for f in (static, smooth, flickering, repeated))
    assert still.flicker == still.smoothness == 1.0 and still.colour_stability > 1 - 1e-9
    assert still.flicker > moving.flicker > flicker.flicker
    assert moving.smoothness > 0.995  # the flow rebuilds a translation almost exactly
    assert moving.smoothness > held.smoothness > flicker.smoothness
    assert moving.colour_stability > flicker.colour_stability
    assert still.continuity is None and still.frames == 24


def two_shots(first: str, second: str) -> StoryPlan:
    """Two 1.5 s shots at 8 fps, 256x144, joined by a cut."""
    shots = [
        {"id": f"s{i}", "text": prompt, "span": [i, i + 1], "duration": 1.5, "prompt": prompt}
        for i, prompt in enumerate((first, second), start=1)
    ]
    return StoryPlan.model_validate({"title": "t", "width": 256, "height": 144, "fps": 8, "shots": shots})


def test_a_cut_counts_as_continuity_not_as_flicker():
    plan = two_shots("a", "b")
    frames = static()[:12] + [255 - f for f in static()[:12]]
    with_plan, without = evaluate(frames, plan), evaluate(frames)
    assert with_plan.flicker == 1.0 and with_plan.smoothness == 1.0  # the cut is not inside a shot
    assert len(with_plan.boundaries) == 1 and with_plan.continuity < 0.6
    assert without.flicker < with_plan.flicker


def test_eval_command_prints_a_table_or_json_and_refuses_bad_input(tmp_path):
    video = tmp_path / "smooth.mp4"
    write_video(iter(smooth()), video, 8)
    table = run("eval", video)
    assert table.returncode == 0, table.stderr
    assert "motion smoothness" in table.stdout and "temporal flickering" in table.stdout
    assert main(["eval", str(video)]) == 0  # the command's own status, as a script calling main() sees it
    scores = json.loads(run("eval", video, "--json").stdout)
    assert scores["frames"] == 24 and scores["smoothness"] > 0.98 and scores["continuity"] is None
    assert_clear_error(run("eval", tmp_path / "missing.mp4"), "no video")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    assert_clear_error(run("eval", broken), "broken.mp4")


def test_clip_alignment_with_a_local_model_scores_each_shot_against_its_prompt(tmp_path):
    from stitching.metrics import evaluate_video
    from tests import tiny_diffusion

    model = tiny_diffusion.clip_model(tmp_path / "clip")
    plan = two_shots("a red square", "a blue sky")
    video = tmp_path / "film.mp4"
    write_video(iter(static()[:12] + smooth()[:12]), video, 8)
    scores = evaluate_video(video, plan, clip_model=str(model))
    assert scores.clip is not None and -1.0 <= scores.clip <= 1.0
    again = evaluate_video(video, plan, clip_model=str(model))
    assert again.clip == scores.clip
    (tmp_path / "film_plan.json").write_text(plan.model_dump_json())
    shown = json.loads(run("eval", video, "--plan", tmp_path / "film_plan.json", "--clip", model, "--json").stdout)
    assert abs(shown["clip"] - scores.clip) < 1e-6
    assert_clear_error(run("eval", video, "--plan", tmp_path / "film_plan.json", "--clip", tmp_path / "nope"), "CLIP")
