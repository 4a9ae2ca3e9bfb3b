"""Hostile and careless inputs, each the exact case a user met (issue 25), run as a real process: what the
command must answer (its exit status, words of its one line), and the user's files that must come through
untouched. tests/test_robustness.py runs every probe; benchmarks/robustness.py prints a row for each.

A probe is a function of an empty folder (its working directory): it writes what the case needs and returns
the command, the files that must be intact after it (compared byte for byte) and the files it must make.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["--no-library", "-q"]  # render: the plan says its size
TINY = ["--size", "64x64", "--fps", "8", *QUIET]
STORY = "Mia walked to the lighthouse. The keeper waved at her."


@dataclass
class Case:
    """What one probe runs and what must hold after it."""

    args: list[str]
    exit: int  # 2: refused in one line; 0: done
    says: str = ""  # words the one line of a refusal holds
    kept: list[str] = field(default_factory=list)  # files that must come through byte for byte
    made: list[str] = field(default_factory=list)  # files the command must make
    absent: list[str] = field(default_factory=list)  # files it must not make


@dataclass
class Outcome:
    exit: int
    first_line: str
    one_line: bool  # a refusal is one line, and nothing prints a traceback
    intact: bool  # every kept file as it was, every made file there, no absent file
    passed: bool


def storyteller(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "storyteller", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def a_plan(folder: Path, name: str = "plan.json", **changes: object) -> Path:
    """A small valid plan.json (one shot, one character), with top-level or first-shot fields changed."""
    shot = {
        "id": "shot_001",
        "text": "Mia waved.",
        "span": [0, 10],
        "duration": 2.0,
        "prompt": "Mia waves",
        "characters": ["mia"],
        "graph": {"entities": [{"id": "mia", "label": "girl"}]},
    }
    plan = {
        "title": "mia",
        "width": 64,
        "height": 64,
        "fps": 8,
        "characters": [{"id": "mia", "name": "Mia", "kind": "girl", "appearance": "a girl in a red coat"}],
        "shots": [shot],
    }
    for key, value in changes.items():
        (shot if key in shot else plan)[key] = value
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan))
    return path


def story(folder: Path, name: str = "story.txt", text: str = STORY) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the probes: one per case of issue 25 that a command line shows --------------------------------


def story_named_srt(folder: Path) -> Case:
    story(folder, "tale.srt")
    return Case(["make", "tale.srt", "-o", "tale.mp4", *TINY], 2, "is an input", kept=["tale.srt"])


def output_is_the_input_plan(folder: Path) -> Case:
    a_plan(folder, "in/plan.json")
    return Case(["render", "in/plan.json", "-o", "in/plan.json", "-y", *QUIET], 2, "is an input", kept=["in/plan.json"])


def story_named_dots(folder: Path) -> Case:
    story(folder, "...txt")
    (folder / "plan.json").write_text("my own plan")
    (folder / "notes.srt").write_text("mine")
    return Case(["make", "...txt", "--runs", ".", *TINY], 0, kept=["plan.json", "notes.srt"], made=["story/story.mp4"])


def existing_subtitles_beside_output(folder: Path) -> Case:
    story(folder)
    (folder / "film.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nmine\n")
    return Case(["make", "story.txt", "-o", "film.mp4", *TINY], 2, "film.srt: already exists", kept=["film.srt"])


def output_named_srt(folder: Path) -> Case:
    story(folder)
    return Case(["make", "story.txt", "-o", "out.srt", *TINY], 2, "MP4", absent=["out.srt"])


def run_dir_not_a_run(folder: Path) -> Case:
    a_plan(folder)
    (folder / "docs").mkdir()
    (folder / "docs" / "thesis.txt").write_text("years of work")
    (folder / "docs" / "story.srt").write_text("mine")
    return Case(
        ["render", "plan.json", "--run-dir", "docs", *QUIET], 2, "not a storyteller run", kept=["docs/story.srt"]
    )


def run_dir_root(folder: Path) -> Case:
    a_plan(folder)
    return Case(["render", "plan.json", "--run-dir", "/", *QUIET], 2, "not a run folder's name")


def size_too_narrow(folder: Path) -> Case:
    story(folder)
    return Case(["make", "story.txt", "--size", "1024x16", "--no-library", "-q"], 2, "at most 4 times")


def minutes_tiny(folder: Path) -> Case:
    story(folder)
    return Case(["make", "story.txt", "--minutes", "1e-6", *TINY], 0, made=["runs/story/story.mp4"])


def entity_label_empty(folder: Path) -> Case:
    a_plan(folder, graph={"entities": [{"id": "mia", "label": ""}]})
    return Case(["render", "plan.json", *QUIET], 2, "label", kept=["plan.json"])


def shot_text_huge(folder: Path) -> Case:
    a_plan(folder, text="The sea. " * 27_000)  # 240 KB: refused when read, before any memory is spent on it
    return Case(["render", "plan.json", *QUIET], 2, "at most 10000 characters", kept=["plan.json"])


def narration_longer_than_a_shot(folder: Path) -> Case:
    a_plan(folder, text="The waves rolled in and the gulls cried over the harbour all day. " * 120)
    return Case(["render", "plan.json", "-q"], 2, "lasts at most 120 s")


def seed_true(folder: Path) -> Case:
    a_plan(folder, seed=True)
    return Case(["render", "plan.json", *QUIET], 2, "seed", kept=["plan.json"])


def seed_text(folder: Path) -> Case:
    a_plan(folder, seed="7")
    return Case(["render", "plan.json", *QUIET], 2, "seed", kept=["plan.json"])


def duration_text(folder: Path) -> Case:
    a_plan(folder, duration="4.17")
    return Case(["render", "plan.json", *QUIET], 2, "duration", kept=["plan.json"])


def manifest_fifo(folder: Path) -> Case:
    (folder / "clips").mkdir()
    os.mkfifo(folder / "captions.csv")
    return Case(["index", "clips", "--manifest", "captions.csv"], 2, "not a regular file")


def search_k_negative(folder: Path) -> Case:
    return Case(["search", "a cat", "-k", "-1"], 2, "at least 1")


def search_k_zero(folder: Path) -> Case:
    return Case(["search", "a cat", "-k", "0"], 2, "at least 1")


def embedder_missing(folder: Path) -> Case:
    (folder / "clips").mkdir()
    clip(folder / "clips" / "a.mp4")
    return Case(["index", "clips", "--embedder", "/nonexistent"], 2, "cannot load the embedder")


def clip(path: Path) -> None:
    import numpy as np

    from storyteller.core.video_io import write_video

    write_video(iter([np.full((64, 64, 3), 10 * i, np.uint8) for i in range(16)]), path, 8)


PROBES: dict[str, Callable[[Path], Case]] = {
    "1 a story named tale.srt, -o tale.mp4": story_named_srt,
    "2 render -o naming the input plan, -y": output_is_the_input_plan,
    "3 a story named ...txt": story_named_dots,
    "4 -o film.mp4 beside an existing film.srt": existing_subtitles_beside_output,
    "5 -o out.srt": output_named_srt,
    "6 --run-dir a folder that is not a run": run_dir_not_a_run,
    "6 --run-dir /": run_dir_root,
    "14 a plan whose shot text is 240 KB": shot_text_huge,
    "14 narration longer than a shot may last": narration_longer_than_a_shot,
    "15 --size 1024x16": size_too_narrow,
    "16 --minutes 1e-6": minutes_tiny,
    "17 an entity labelled ''": entity_label_empty,
    "20 index --manifest FIFO": manifest_fifo,
    '21 "seed": true': seed_true,
    '21 "seed": "7"': seed_text,
    '21 "duration": "4.17"': duration_text,
    "23 search -k -1": search_k_negative,
    "23 search -k 0": search_k_zero,
    "24 index --embedder /nonexistent": embedder_missing,
}


def run_probe(probe: Callable[[Path], Case], folder: Path) -> Outcome:
    case = probe(folder)
    before = {name: (folder / name).read_bytes() for name in case.kept}
    done = storyteller(*case.args, cwd=folder, timeout=300)
    lines = done.stderr.strip().splitlines()
    one_line = "Traceback" not in done.stderr + done.stdout and (case.exit == 0 or len(lines) == 1)
    intact = all((folder / name).read_bytes() == data for name, data in before.items())
    intact &= all((folder / name).is_file() for name in case.made)
    intact &= not any((folder / name).exists() for name in case.absent)
    first = lines[0] if lines else ""
    said = case.exit == 0 or case.says in first
    return Outcome(
        done.returncode, first, one_line, intact, done.returncode == case.exit and one_line and intact and said
    )
