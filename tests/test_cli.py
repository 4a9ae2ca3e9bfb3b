"""The command line as a user meets it: real subprocesses, real exit codes, no tracebacks."""

import json
import os
import re
import subprocess
import sys

import decord
import pytest

from storyteller.core.models import StoryPlan
from tests.conftest import HAMSTER, ROOT

TINY = ["--size", "64x64", "--fps", "8"]


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "storyteller", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def assert_clear_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_help_is_instant_and_imports_no_torch():
    code = (
        "import sys; from storyteller.cli import build_parser;"
        "build_parser().format_help();"
        "heavy = {'torch', 'diffusers', 'transformers', 'langchain', 'faiss', 'decord',"
        " 'sentence_transformers', 'av', 'cv2'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    assert run("--help").returncode == 0


def test_make_then_edit_and_render(tmp_path):
    story = tmp_path / "hamster.txt"
    story.write_text(HAMSTER + " The crowd cheered.")
    made = run("make", story, *TINY, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr
    video = tmp_path / "runs" / "hamster" / "hamster.mp4"
    plan_path = tmp_path / "runs" / "hamster" / "plan.json"
    assert len(decord.VideoReader(str(video))) == StoryPlan.model_validate_json(plan_path.read_text()).total_frames
    plan = json.loads(plan_path.read_text())
    assert "shots" in made.stdout and "cache" in made.stdout  # the summary table

    plan["shots"][0]["text"] = "A hamster in a red corner."
    plan_path.write_text(json.dumps(plan))
    out = tmp_path / "edited.mp4"
    rendered = run("render", plan_path, "-o", out, cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert re.search(r"rendered 1 keyframes, 0 clips, [12] segments, 1 films", rendered.stdout)
    assert out.exists() and (tmp_path / "edited.srt").read_text().startswith("1\n")


def test_plan_command_writes_valid_json(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(HAMSTER)
    out = tmp_path / "plan.json"
    assert run("plan", story, "-o", out).returncode == 0
    assert json.loads(out.read_text())["shots"][0]["graph"]["actions"][0]["verb"] == "punch"


def test_schema_and_backends():
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "StoryPlan"
    listing = run("backends").stdout
    assert "heuristic" in listing and "animatic" in listing


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["no such file"]),
        (b"", ["empty"]),
        (b"   \n\t  \n", ["empty"]),
        (b"\xff\xfe\x00bad bytes \x81", ["not UTF-8"]),
    ],
)
def test_bad_stories(tmp_path, content, words):
    story = tmp_path / "story.txt"
    if content is not None:
        story.write_bytes(content)
    assert_clear_error(run("make", story, *TINY, cwd=tmp_path), *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--planner", "nope"], ["unknown planner 'nope'", "heuristic"]),
        (["--animator", "nope"], ["unknown animator 'nope'"]),
        (["--keyframe", "nope"], ["unknown keyframe backend 'nope'"]),
        (["--size", "0x0"], ["impossible"]),
        (["--size", "63x64"], ["even"]),
        (["--size", "big"], ["512x288"]),
        (["--fps", "0"], ["fps 0 is impossible"]),
        (["--fps", "1000"], ["impossible"]),
    ],
)
def test_bad_options(tmp_path, args, words):
    story = tmp_path / "story.txt"
    story.write_text(HAMSTER)
    assert_clear_error(run("make", story, *TINY[:0], *args, cwd=tmp_path), *words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", ["plan.json"]),
        ('{"title": "x"}', ["shots", "Field required"]),
        (None, ["no such plan file"]),
    ],
)
def test_bad_plans(tmp_path, text, words):
    path = tmp_path / "plan.json"
    if text is not None:
        path.write_text(text)
    assert_clear_error(run("render", path, cwd=tmp_path), *words)


def test_a_bad_field_in_a_plan_is_named(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(HAMSTER)
    path = tmp_path / "plan.json"
    run("plan", story, "-o", path)
    plan = json.loads(path.read_text())
    plan["shots"][0]["duration"] = "long"
    path.write_text(json.dumps(plan))
    assert_clear_error(run("render", path, cwd=tmp_path), "shots.0.duration", "number")


def test_a_huge_story_is_refused_clearly(tmp_path):
    story = tmp_path / "huge.txt"
    story.write_text("word " * 500_000)
    assert_clear_error(run("make", story, cwd=tmp_path), "limit")


def test_an_unwritable_run_directory_keeps_its_promise(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(HAMSTER)
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the run directory should go")
    assert_clear_error(run("make", story, *TINY, cwd=tmp_path), "runs")


def test_a_fountain_screenplay_is_picked_by_its_extension(tmp_path):
    script = tmp_path / "snow.fountain"
    script.write_text((ROOT / "examples" / "snow_day.fountain").read_text())
    out = tmp_path / "plan.json"
    result = run("plan", script, "-o", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = StoryPlan.model_validate_json(out.read_text())
    assert plan.title == "Snow Day" and any(s.text.startswith("Zosia: ") for s in plan.shots)


def test_minutes_sets_the_length(tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(HAMSTER + " The crowd cheered. The hamster jumped.")
    out = tmp_path / "plan.json"
    assert run("plan", story, "-o", out, "--minutes", "0.5").returncode == 0
    assert abs(StoryPlan.model_validate_json(out.read_text()).duration - 30) < 0.5
    assert_clear_error(run("plan", story, "--minutes", "-1"), "impossible")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("openai:gpt-4o-mini", ["langchain-openai", "storyteller[openai]"]),
        ("nosuchprovider:model", ["nosuchprovider"]),
        ("gpt4", ["provider:model"]),
    ],
)
def test_llm_problems_are_one_clear_line(tmp_path, spec, words):
    story = tmp_path / "s.txt"
    story.write_text(HAMSTER)
    assert_clear_error(run("plan", story, "--llm", spec, cwd=tmp_path), *words)
