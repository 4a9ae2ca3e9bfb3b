"""The coarse-to-fine fill: its schedule, and the flow infill on motion whose truth is known."""

from __future__ import annotations

import itertools
import json

import cv2
import numpy as np
import pytest

from stitching.fill import FillSettings, fill_clip
from stitching.infill import INFILLERS, FlowInfill
from stitching.schedule import plan_fill


@pytest.mark.parametrize(
    ("length", "stride", "depth"), [(97, 8, 2), (100, 8, 3), (24, 4, 1), (1, 8, 2), (9, 8, 3), (50, 7, 2), (13, 1, 2)]
)
def test_every_frame_is_made_exactly_once_and_segments_of_a_level_are_independent(length, stride, depth):
    fill = plan_fill(length, stride, depth)
    made = list(fill.anchors) + [index for segment in fill.segments() for index in segment.fill]
    assert sorted(made) == list(range(length))  # covered, and no frame twice
    assert fill.anchors[0] == 0 and fill.anchors[-1] == length - 1
    known = set(fill.anchors)
    for level in fill.levels:
        spans = sorted((s.start, s.end) for s in level)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start  # no two segments of a level overlap
        for segment in level:
            assert segment.start in known and segment.end in known  # needs only frames made before its level
            assert all(segment.start < i < segment.end for i in segment.fill)
            assert not known & set(range(segment.start + 1, segment.end))  # nothing known inside its gap
        known |= {i for s in level for i in s.fill}


def test_levels_split_the_stride_coarse_to_fine():
    fill = plan_fill(17, 8, 3)
    assert fill.anchors == (0, 8, 16)
    assert [s.fill for s in fill.levels[0]] == [(4,), (12,)]
    assert [s.fill for s in fill.levels[1]] == [(2,), (6,), (10,), (14,)]
    assert len(fill.levels[2]) == 8 and all(len(s.fill) == 1 for s in fill.levels[2])
    assert fill.levels[0][0].times == (0.5,)


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError):
        plan_fill(0, 8)
    with pytest.raises(ValueError):
        plan_fill(10, 0)


def textured_square(x: float, size: int = 32) -> np.ndarray:
    """A 256x144 frame: a textured square at column x (sub-pixel positions by resampling) on grey."""
    texture = cv2.resize(
        np.random.default_rng(0).integers(0, 255, (8, 8, 3), np.uint8), (size, size), interpolation=cv2.INTER_NEAREST
    )
    frame = np.full((144, 256, 3), 60, np.uint8)
    frame[56 : 56 + size, int(x) : int(x) + size] = texture
    shift = np.float32([[1, 0, x - int(x)], [0, 1, 0]])
    return cv2.warpAffine(frame, shift, (256, 144), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def square_left_edge(frame: np.ndarray) -> float:
    """The square's left edge to a fraction of a pixel: where the column profile crosses half height."""
    profile = (np.abs(frame[60:84].astype(float) - 60).sum(axis=2) > 0).mean(axis=0)
    return float(np.argmax(profile > 0.5))


@pytest.mark.parametrize("distance", [8, 15, 24])
def test_flow_infill_puts_a_moving_square_where_it_truly_is(distance):
    first, last = textured_square(40), textured_square(40 + distance)
    times = [1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4]
    frames = FlowInfill().fill(first, last, times)
    assert len(frames) == len(times) and all(f.shape == first.shape and f.dtype == np.uint8 for f in frames)
    for t, frame in zip(times, frames, strict=True):
        truth = textured_square(40 + distance * t)
        assert abs(square_left_edge(frame) - square_left_edge(truth)) <= 1
        assert np.abs(frame.astype(int) - truth).mean() < 1.5  # no ghost of either end
        crossfade = ((1 - t) * first + t * last).astype(np.uint8)
        assert np.abs(frame.astype(int) - truth).mean() < np.abs(crossfade.astype(int) - truth).mean() / 5


def test_the_flow_infill_is_the_default_backend_and_fills_nothing_for_no_times():
    backend = INFILLERS.create("flow")
    frame = textured_square(10)
    assert backend.fill(frame, frame, []) == []
    (same,) = backend.fill(frame, frame, [0.5])
    np.testing.assert_array_equal(same, frame)


def test_fill_clip_streams_anchors_and_fills_between_them():
    anchors = [textured_square(20 + 16 * j) for j in range(4)]  # every 4th frame of a 4 px/frame move
    frames = list(fill_clip(iter(anchors), 12, stride=4, depth=2, infiller=FlowInfill()))
    assert len(frames) == 12
    for i, frame in enumerate(frames):
        assert abs(square_left_edge(frame) - square_left_edge(textured_square(20 + 4 * i))) <= 1
    np.testing.assert_array_equal(frames[4], anchors[1])  # anchors pass through untouched


def test_make_renders_anchors_and_fills_the_rest_smoother_than_holding_frames(tmp_path):
    """On an example, the flow fill beats repeating each rendered frame (what a low-rate render looks like)."""
    from planners.heuristic import HeuristicPlanner
    from stitching.metrics import evaluate_video
    from storyteller.core.models import PlanConfig
    from storyteller.pipeline import Storyteller
    from tests.conftest import EXAMPLES

    story = (EXAMPLES / "hamster_fight_night.txt").read_text()
    plan = HeuristicPlanner().plan(story, PlanConfig(title="h", width=256, height=144, fps=12))
    plan = plan.model_copy(update={"shots": plan.shots[:2]})
    filled = Storyteller(runs_dir=tmp_path, fill=FillSettings()).render(plan, tmp_path / "filled")
    held = Storyteller(runs_dir=tmp_path, fill=FillSettings(infill="hold", stride=2)).render(plan, tmp_path / "held")
    full = Storyteller(runs_dir=tmp_path, fill=None).render(plan, tmp_path / "full")
    scores = {name: evaluate_video(r.video, plan) for name, r in (("filled", filled), ("held", held), ("full", full))}
    assert all(s.frames == plan.total_frames for s in scores.values())
    assert scores["filled"].smoothness > scores["held"].smoothness
    # (VBench's flicker score favours held frames: half their consecutive pairs do not change at all)
    assert scores["filled"].smoothness > scores["full"].smoothness - 0.01  # close to rendering every frame
    assert filled.rendered["clips"] == len(plan.shots)
    assert filled.fill["used"].startswith("flow: 1 frame in 2 drawn") and filled.fill["mode"] == "forced"
    again = Storyteller(runs_dir=tmp_path, fill=FillSettings()).render(plan, tmp_path / "filled")
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}


class ModelLike:
    """An animator that says nothing of its cost, as a model-backed one: the animatic's frames, counted."""

    name = "model-like"

    def __init__(self):
        self.frames_drawn = 0

    def animate(self, keyframe, shot, plan, guide=None):
        from generators.animatic import AnimaticAnimator

        for frame in AnimaticAnimator().animate(keyframe, shot, plan, guide):
            self.frames_drawn += 1
            yield frame


def test_fill_auto_draws_every_animatic_frame_and_infills_a_costly_animator(tmp_path):
    from planners.heuristic import HeuristicPlanner
    from storyteller.core.models import PlanConfig
    from storyteller.pipeline import Storyteller
    from tests.conftest import EXAMPLES

    story = (EXAMPLES / "hamster_fight_night.txt").read_text()
    plan = HeuristicPlanner().plan(story, PlanConfig(title="h", width=128, height=72, fps=12))
    plan = plan.model_copy(update={"shots": plan.shots[:2]})
    animatic = Storyteller(runs_dir=tmp_path).render(plan, tmp_path / "animatic")  # fill="auto", the default
    assert animatic.fill["mode"] == "auto" and animatic.fill["used"] == "none, every frame drawn"
    # declared by both, never measured: the choice cannot flip with the machine's load
    assert animatic.fill["draw ms/MP (declared)"] < animatic.fill["infill ms/MP (declared)"]
    assert "costs no more than infilling" in animatic.fill["reason"]
    model = ModelLike()
    costly = Storyteller(animator=model, executor="serial", runs_dir=tmp_path).render(plan, tmp_path / "model")
    assert costly.fill["used"] == "flow: 1 frame in 2 drawn, the rest infilled"
    assert costly.fill["draw ms/MP (declared)"] is None  # unknown: taken as costly
    declared = type("Declared", (ModelLike,), {"frame_cost": 100.0})()  # a plain object may declare its cost
    cheap = Storyteller(animator=declared, executor="serial", runs_dir=tmp_path).render(plan, tmp_path / "declared")
    assert cheap.fill["draw ms/MP (declared)"] == 100.0 and cheap.fill["used"] == costly.fill["used"]
    # the animator drew only the anchors: about half the frames
    assert model.frames_drawn <= sum(plan.shot_frames(s) // 2 + 2 for s in plan.shots)
    record = json.loads((tmp_path / "model" / "run.json").read_text())
    assert record["render"]["fill"]["used"] == costly.fill["used"]


def test_a_morph_transition_slides_what_two_shots_share_instead_of_ghosting_it():
    from stitching.timeline import stitch
    from storyteller.core.models import StoryPlan

    def plan(kind: str) -> StoryPlan:
        shot = {"text": "a", "span": [0, 1], "duration": 1.0, "prompt": "a"}
        return StoryPlan.model_validate(
            {
                "title": "t",
                "width": 256,
                "height": 144,
                "fps": 8,
                "shots": [
                    {**shot, "id": "s1"},
                    {**shot, "id": "s2", "transition": {"kind": kind, "duration": 0.5}},
                ],
            }
        )

    clips = {"a": [textured_square(40)] * 8, "b": [textured_square(64)] * 8}
    frames = {
        kind: list(stitch(plan(kind), ["a", "b"], reader=lambda c: iter(clips[c]))) for kind in ("morph", "crossfade")
    }
    assert len(frames["morph"]) == len(frames["crossfade"]) == plan("morph").total_frames == 12
    middle = 4 + 2 - 1  # the second of the three overlap frames: halfway
    truth = textured_square(40 + 24 * 2 / 5)
    morph, fade = frames["morph"][middle], frames["crossfade"][middle]
    assert np.abs(morph.astype(int) - truth).mean() < np.abs(fade.astype(int) - truth).mean() / 3


def test_deflicker_takes_out_brightness_jitter_but_keeps_the_picture():
    from stitching.metrics import evaluate
    from stitching.smooth import deflicker

    base = textured_square(60)
    jitter = np.random.default_rng(3).uniform(0.92, 1.08, 24)
    flickering = [np.clip(base * j, 0, 255).astype(np.uint8) for j in jitter]
    eased = list(deflicker(iter(flickering)))
    assert len(eased) == 24
    assert evaluate(eased).flicker > evaluate(flickering).flicker + 0.005
    assert np.abs(eased[-1].astype(int) - base).mean() < np.abs(flickering[-1].astype(int) - base).mean() + 2


def test_colour_match_keeps_one_look_per_place(tmp_path):
    """A shot whose keyframe drifted warm is pulled back to the colours of the place's first keyframe."""
    from planners.heuristic import HeuristicPlanner
    from stitching import read_video
    from storyteller.core.models import PlanConfig, Transition
    from storyteller.pipeline import Storyteller

    class Drifting:  # keyframes that drift warmer shot by shot, as diffusion models do
        name = "drifting"

        def __init__(self) -> None:
            from generators.animatic import AnimaticKeyframes

            self.inner = AnimaticKeyframes()

        def config(self):
            return {"drift": 1}

        def keyframe(self, shot, plan):
            image = np.asarray(self.inner.keyframe(shot, plan)).astype(np.float32)
            warmth = 30 * (int(shot.id.rsplit("_", 1)[1]) - 1)  # (a task sees its shot's neighbours, not all)
            image[..., 0] += warmth
            image[..., 2] -= warmth
            return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))

    from PIL import Image

    story = "A cat sat in the kitchen. The cat ate fish in the kitchen."
    plan = HeuristicPlanner().plan(story, PlanConfig(title="c", width=128, height=72, fps=8))
    assert len(plan.shots) == 2 and plan.shots[0].location == plan.shots[1].location
    cut = Transition()
    plan = plan.model_copy(update={"shots": [s.model_copy(update={"transition": cut}) for s in plan.shots]})
    serial = {"executor": "serial"}  # Drifting is a local class: it cannot travel to a worker process
    plain = Storyteller(keyframe=Drifting(), runs_dir=tmp_path, fill=None, **serial).render(plan, tmp_path / "plain")
    matched = Storyteller(keyframe=Drifting(), runs_dir=tmp_path, fill=None, colour_match=True, **serial)
    kept = matched.render(plan, tmp_path / "kept")

    def red_minus_blue(video) -> list[float]:
        frames = list(read_video(video))
        start = plan.shot_starts()[1]
        return [float(np.mean(f[..., 0]) - np.mean(f[..., 2])) for f in (frames[0], frames[start])]

    first, second = red_minus_blue(plain.video)
    first_kept, second_kept = red_minus_blue(kept.video)
    assert second - first > 25  # the drift is there without the match
    assert second - second_kept > 25  # the warm drift is taken out
    # (global statistics, and content differs too; measured after the film's YUV 4:2:0 round trip)
    assert abs(second_kept - first_kept) < (second - first) * 0.6
