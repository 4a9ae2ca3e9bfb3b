"""End to end through the Python API: a real MP4, a cache that makes re-runs free, edits that redo one shot."""

import json

import decord
import numpy as np
import pytest

from generators.animatic import AnimaticAnimator, AnimaticKeyframes
from storyteller import Storyteller
from storyteller.core.models import PlanConfig, SceneGraph, Shot, StoryPlan, read_plan
from tests.conftest import EXAMPLES, HAMSTER, ZOSIA, store

STORY = ZOSIA + "\n\n" + HAMSTER + " The hamster jumped."


class Counting:
    """Wraps a backend and counts the calls that do real work."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []

    def config(self):
        return self.inner.config()

    def keyframe(self, shot, plan):
        self.calls.append(shot.id)
        return self.inner.keyframe(shot, plan)

    def animate(self, keyframe, shot, plan, guide=None):
        self.calls.append(shot.id)
        yield from self.inner.animate(keyframe, shot, plan, guide)


def teller(tmp_path, **kw):
    keyframes, animator = Counting(AnimaticKeyframes()), Counting(AnimaticAnimator())
    kw.setdefault("executor", "serial")  # the calls are counted in this process
    return Storyteller(keyframe=keyframes, animator=animator, runs_dir=tmp_path / "runs", **kw), keyframes, animator


def test_make_writes_a_film_that_decodes_with_the_planned_frames(tmp_path, tiny):
    st, _, _ = teller(tmp_path)
    result = st.make(STORY, name="tiny", **tiny)
    plan = result.plan
    assert result.video == tmp_path / "runs" / "tiny" / "tiny.mp4"
    video = decord.VideoReader(str(result.video))
    assert len(video) == plan.total_frames
    assert video.get_avg_fps() == pytest.approx(plan.fps)
    assert video[0].shape == (plan.height, plan.width, 3)
    assert any(s.transition.kind == "crossfade" for s in plan.shots)  # the join is exercised
    # companions: subtitles timed on the timeline, a contact sheet, the plan, a keyframe per shot
    srt = result.subtitles.read_text()
    assert srt.count(" --> ") == len(plan.shots) and plan.shots[0].text[:20] in srt
    assert result.contact_sheet.stat().st_size > 0
    assert read_plan(result.plan_path) == plan
    assert [k.name for k in result.keyframes] == [f"{s.id}.png" for s in plan.shots]


def test_the_film_shows_each_shot_at_its_place_on_the_timeline(tmp_path, tiny):
    st, _, _ = teller(tmp_path)
    result = st.make(STORY, name="tiny", **tiny)
    plan = result.plan
    video = decord.VideoReader(str(result.video))
    for shot, start, keyframe in zip(plan.shots, plan.shot_starts(), result.keyframes, strict=True):
        if plan.overlap_frames(plan.shots.index(shot)):
            continue  # the first frames of a crossfade are a blend
        expected = np.asarray(__import__("PIL.Image").Image.open(keyframe).convert("RGB"), dtype=float)
        error = np.abs(video[start].asnumpy().astype(float) - expected).mean()
        assert error < 12, f"{shot.id} does not start at frame {start}"


def test_second_run_does_no_rendering(tmp_path, tiny):
    st, keyframes, animator = teller(tmp_path)
    first = st.make(STORY, name="tiny", **tiny)
    assert len(animator.calls) == len(first.plan.shots)
    keyframes.calls.clear()
    animator.calls.clear()
    before = first.video.read_bytes()
    again = st.make(STORY, name="tiny", **tiny)
    assert keyframes.calls == [] and animator.calls == []
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
    assert again.video.read_bytes() == before


def test_editing_one_shot_rerenders_only_that_shot(tmp_path, tiny):
    st, keyframes, animator = teller(tmp_path)
    result = st.make(STORY, name="tiny", **tiny)
    data = json.loads(result.plan_path.read_text())
    data["shots"][1]["camera"] = "zoom_out" if data["shots"][1]["camera"] != "zoom_out" else "pan_left"
    result.plan_path.write_text(json.dumps(data))
    keyframes.calls.clear()
    animator.calls.clear()
    edited = st.render(read_plan(result.plan_path), result.run_dir)
    assert animator.calls == [data["shots"][1]["id"]]
    assert edited.rendered["clips"] == 1 and edited.rendered["films"] == 1
    # its film segment, and the next one's if a transition blends the two: no other shot is encoded again
    blended = 1 if result.plan.overlap_frames(2) else 0
    assert edited.rendered["segments"] == 1 + blended
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["rendered"]["segments"] == edited.rendered["segments"]
    assert record["render"]["cached"]["segments"] == len(result.plan.shots) - 1 - blended


def test_a_corrupt_cache_entry_is_rebuilt_not_trusted(tmp_path, tiny):
    st, _, animator = teller(tmp_path)
    st.make(STORY, name="tiny", **tiny)
    clip = next((store() / "clip").rglob("*.mkv"))
    clip.write_bytes(clip.read_bytes()[:100])  # a half-written file
    film = next((store() / "film").rglob("*.mp4"))
    film.write_bytes(b"")
    for segment in (store() / "film-segment").rglob("*.mp4"):  # so every clip is read again
        segment.write_bytes(segment.read_bytes()[:-10])
    animator.calls.clear()
    again = st.make(STORY, name="tiny", **tiny)
    assert len(animator.calls) == 1
    assert again.rendered["segments"] == len(again.plan.shots)
    assert len(decord.VideoReader(str(again.video))) == again.plan.total_frames


def test_stray_temporary_files_are_ignored(tmp_path, tiny):
    st, _, animator = teller(tmp_path)
    st.make(STORY, name="tiny", **tiny)
    record = next((store() / "clip").rglob("*.mkv.json"))
    record.unlink()  # the run was killed between writing a clip and sealing it, before the film
    next((store() / "film").rglob("*.mp4.json")).unlink()
    for sealed in (store() / "film-segment").rglob("*.mp4.json"):  # and before any segment
        sealed.unlink()
    animator.calls.clear()
    st.make(STORY, name="tiny", **tiny)
    assert len(animator.calls) == 1


def test_a_custom_planner_is_any_object_with_plan(tmp_path, tiny):
    class OneShot:
        def plan(self, story: str, config: PlanConfig) -> StoryPlan:
            shot = Shot(id="only", text=story, span=(0, len(story)), duration=1.5, prompt=story, graph=SceneGraph())
            return StoryPlan(title=config.title, shots=[shot], **config.picture())

    result = Storyteller(planner=OneShot(), runs_dir=tmp_path).make("Anything at all.", name="custom", **tiny)
    assert [s.id for s in result.plan.shots] == ["only"]
    # 1.5 s planned; read aloud, the line takes longer: the shot lasts as long as its speech
    assert len(decord.VideoReader(str(result.video))) == result.plan.total_frames > 12


def test_two_workers_render_the_same_clips(tmp_path, tiny):
    serial = Storyteller(runs_dir=tmp_path / "a", cache_dir=tmp_path / "a" / "cache").make(STORY, name="x", **tiny)
    pooled = Storyteller(runs_dir=tmp_path / "b", cache_dir=tmp_path / "b" / "cache", workers=2).make(
        STORY, name="x", **tiny
    )
    clips = lambda root: sorted(p.name for p in (root / "cache" / "clip").rglob("*.mkv"))  # noqa: E731
    assert clips(serial.run_dir) == clips(pooled.run_dir)
    assert pooled.video.read_bytes() == serial.video.read_bytes()


def test_frames_stream_through_a_long_story(tmp_path):
    # 20 shots at 8 fps: the film is assembled without holding it in memory (see benchmarks for the ratio)
    story = " ".join(["A dog ran across the park and jumped."] * 20)
    result = Storyteller(runs_dir=tmp_path).make(story, name="long", width=64, height=64, fps=8)
    assert len(decord.VideoReader(str(result.video))) == result.plan.total_frames


def test_examples_plan_and_their_first_shot_renders(tmp_path, tiny):
    for path in sorted(EXAMPLES.glob("*.txt")):
        st = Storyteller(runs_dir=tmp_path)
        plan = st.plan(path.read_text(), PlanConfig(title=path.stem, **tiny))
        assert plan.characters, path.name
        first = plan.model_copy(update={"shots": plan.shots[:1]})
        result = st.render(first, tmp_path / path.stem)
        assert len(decord.VideoReader(str(result.video))) == first.total_frames


def test_the_film_is_its_segments_joined_frame_for_frame_with_exact_timestamps(tmp_path, tiny):
    import av

    from stitching.timeline import stitch
    from storyteller.core.video_io import read_video
    from storyteller.render_plan import FILM_SEGMENT

    st, _, _ = teller(tmp_path)
    result = st.make(STORY, name="tiny", **tiny)
    plan = result.plan
    record = json.loads((result.run_dir / "run.json").read_text())
    segments = [store() / p for p in record["render"]["segments"]]
    assert len(segments) == len(plan.shots) and all(FILM_SEGMENT in str(p) for p in segments)
    joined = [f.tobytes() for f in read_video(result.video, layout="yuv420p")]
    parts = [f.tobytes() for s in segments for f in read_video(s, layout="yuv420p")]
    assert len(joined) == plan.total_frames and joined == parts  # every join exact: no frame lost or changed
    with av.open(str(result.video)) as film:
        stream = film.streams.video[0]
        times = sorted(float(frame.pts * stream.time_base) for frame in film.decode(stream))
    assert times == pytest.approx([k / plan.fps for k in range(plan.total_frames)])
    # and the segments hold what a single pass over the stitched clips shows (H.264 at CRF 20: close, not equal)
    clips = [store() / p for p in record["render"]["clips"]]
    single = np.stack(list(stitch(plan, clips))).astype(float)
    decoded = np.stack([np.frombuffer(f, np.uint8) for f in joined]).astype(float).reshape(single.shape)
    assert np.abs(decoded - single).mean() < 3
