"""Export (issue 17): a rendered run as an OpenTimelineIO timeline, and EDL / FCP XML through OTIO's adapters."""

import itertools

import opentimelineio as otio
import pytest

from storyteller import Storyteller
from storyteller.cli import main
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Transition, read_plan
from storyteller.core.video_io import frame_count
from storyteller.export import cuts, export

STORY = (
    "Mia walked to the old lighthouse with her dog Rex. The waves crashed on the rocks below. "
    "Later that night, a storm rolled in over the sea. Rex barked at the thunder."
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    teller = Storyteller(runs_dir=runs, executor="serial", cache_dir=runs / "store")
    first = teller.make(STORY, name="mia", width=64, height=64, fps=8)
    plan = read_plan(first.plan_path)  # the first cut becomes a crossfade: a transition to export
    crossfade = Transition(kind="crossfade", duration=1.0)
    shots = [plan.shots[0], plan.shots[1].model_copy(update={"transition": crossfade})]
    result = teller.render(plan.model_copy(update={"shots": shots + plan.shots[2:]}), first.run_dir)
    return teller, result


def test_the_otio_timeline_has_the_films_shots_in_order_and_lasting_as_long(run, tmp_path):
    teller, result = run
    plan = result.plan
    export(teller, result.run_dir, [tmp_path / "film.otio"])
    timeline = otio.adapters.read_from_file(str(tmp_path / "film.otio"))
    video, audio = timeline.video_tracks()[0], timeline.audio_tracks()
    clips = list(video.find_clips())
    assert [c.name for c in clips] == [s.id for s in plan.shots]
    edges = cuts(plan)
    assert [c.duration().value for c in clips] == [b - a for a, b in itertools.pairwise(edges)]
    assert video.duration().value == plan.total_frames == frame_count(result.video)
    assert [m.name for c in clips for m in c.markers] == [s.text for s in plan.shots]
    transitions = [item for item in video if isinstance(item, otio.schema.Transition)]
    overlaps = [plan.overlap_frames(i) for i in range(len(plan.shots)) if plan.overlap_frames(i)]
    assert plan.overlap_frames(1) > 0 and len(transitions) == len(overlaps)
    for transition, overlap in zip(transitions, overlaps, strict=True):
        assert transition.in_offset.value + transition.out_offset.value == overlap
        assert transition.transition_type == "SMPTE_Dissolve"
    # each clip's media is its shot's whole clip, with the frames the dissolve plays on either side
    for shot, clip in zip(plan.shots, clips, strict=True):
        media = result.run_dir / "shots" / f"{shot.id}.mp4"
        assert clip.media_reference.target_url == media.resolve().as_uri()
        assert frame_count(media) == plan.shot_frames(shot)
    before, after = clips[0], clips[1]
    dissolve = video[video.index(after) - 1]
    assert before.source_range.end_time_exclusive().value + dissolve.out_offset.value == plan.shot_frames(plan.shots[0])
    assert after.source_range.start_time.value - dissolve.in_offset.value == 0
    assert len(audio) == 1 and audio[0].duration().value == plan.total_frames


def test_edl_and_fcp_xml_through_otios_adapters_and_bad_targets_are_one_line(run, tmp_path, capsys):
    teller, result = run
    if "cmx_3600" not in otio.adapters.available_adapter_names():
        pytest.skip("otio-cmx3600-adapter is not installed")
    with pytest.raises(StorytellerError, match="SMPTE timecode"):  # 8 fps has no timecode
        export(teller, result.run_dir, [tmp_path / "film.edl"])
    film = teller.make(STORY.split(". ")[0] + ".", name="at24", width=64, height=64, fps=24)
    export(teller, film.run_dir, [tmp_path / "film.edl", tmp_path / "film.xml"])
    edl = (tmp_path / "film.edl").read_text()
    assert all(f"FROM CLIP NAME:  {shot.id}" in edl for shot in film.plan.shots)
    assert (tmp_path / "film.xml").read_text().count("<clipitem") >= len(film.plan.shots)
    assert main(["export", str(result.run_dir), "--otio", str(tmp_path / "film.mp4")]) == 2
    assert main(["export", str(tmp_path), "--otio", str(tmp_path / "x.otio")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[0].endswith("should end in .otio") and "not a rendered run directory" in errors[1]
