"""No run loses work: SIGKILL at several moments, then the same command, re-renders nothing that had
finished and makes the same film as an uninterrupted run; damaged cache entries are rebuilt; a full disk
or an unwritable output is one clear line that keeps every finished artifact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyteller.core.cache import file_digest
from tests.conftest import HAMSTER, ROOT, ZOSIA, store
from tests.test_cli import assert_clear_error, run

STORY = ZOSIA + "\n\n" + HAMSTER + " The hamster jumped. The crowd cheered and the bell rang."
PICTURE = ["--size", "192x108", "--fps", "12"]


def sealed(cache: Path) -> dict[str, tuple[int, int]]:
    """Every finished cache entry (its record written) -> (inode, mtime): changed only if it is rewritten."""
    found = {}
    for record in cache.glob("*/*/*.json"):
        entry = record.with_name(record.name[: -len(".json")])
        if entry.exists():
            stat = entry.stat()
            found[str(entry.relative_to(cache))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def count(entries: dict, stage: str) -> int:
    return sum(name.startswith(stage + "/") for name in entries)


def make_command(story: Path, runs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "storyteller", "make", str(story), *PICTURE, "--runs", str(runs), "-q", *extra]


def kill_when(command: list[str], ready, cwd: Path) -> None:
    """Start the run in its own process group and SIGKILL all of it (workers too) once `ready()` holds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.005)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The film of an uninterrupted run, and how many shots it has."""
    where = tmp_path_factory.mktemp("reference")
    story = where / "story.txt"
    story.write_text(STORY)
    subprocess.run(make_command(story, where / "runs"), check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    plan = json.loads((where / "runs" / "story" / "plan.json").read_text())
    return file_digest(where / "runs" / "story" / "story.mp4"), len(plan["shots"])


# (the animatic keeps no clips: each worker draws a shot and encodes its segment of the film)
MOMENTS = {
    "while drawing keyframes": lambda cache, shots: count(sealed(cache), "keyframe") >= 1,
    "after the first segment": lambda cache, shots: count(sealed(cache), "film-segment") >= 1,
    "between segments": lambda cache, shots: count(sealed(cache), "film-segment") >= shots // 2,
    "while joining the film": lambda cache, shots: count(sealed(cache), "film-segment") >= shots,
}


@pytest.mark.parametrize("executor", ["serial", "local"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_killed_run_resumes_without_redoing_finished_work(tmp_path, reference, moment, executor):
    film, shots = reference
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    command = make_command(story, tmp_path / "runs", "--executor", executor, "--workers", "2")
    cache = store()
    kill_when(command, lambda: MOMENTS[moment](cache, shots), tmp_path)
    before = sealed(cache)

    subprocess.run(command, check=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = sealed(cache)
    assert file_digest(tmp_path / "runs" / "story" / "story.mp4") == film  # as if never interrupted
    for entry, identity in before.items():
        assert after[entry] == identity, f"{entry} finished before the kill and was made again"
    record = json.loads((tmp_path / "runs" / "story" / "run.json").read_text())
    assert record["rendered"]["segments"] == shots - count(before, "film-segment")
    assert record["rendered"]["keyframes"] == shots - count(before, "keyframe")
    leftovers = [p.name for p in cache.rglob(".*") if p.is_file()]
    assert not leftovers, f"temporaries of the killed run were left behind: {leftovers}"


def test_damaged_entries_of_every_kind_are_rebuilt(tmp_path, reference):
    film, _ = reference
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    command = make_command(story, tmp_path / "runs", "--executor", "serial")
    subprocess.run(command, check=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    cache = store()
    for stage in ("keyframe", "film-segment", "film"):
        entry = sorted(p for p in cache.glob(f"{stage}/*/*") if not p.name.endswith(".json"))[0]
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, wrong hash
        entry.write_bytes(bytes(data))
    subprocess.run(command, check=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    record = json.loads((tmp_path / "runs" / "story" / "run.json").read_text())
    assert record["rendered"]["keyframes"] == 1 and record["rendered"]["films"] == 1
    assert record["rendered"]["segments"] == 1  # the damaged segment, drawn again (the animatic keeps no clips)
    assert file_digest(tmp_path / "runs" / "story" / "story.mp4") == film


FULL_AFTER_TWO_SEGMENTS = """
import errno, os, sys
from storyteller import cli
from storyteller.core import cache

real, sealed = os.replace, []


def replace(source, target, *args, **kwargs):
    if "/film-segment/" in str(target) and str(target).endswith(".mp4"):
        if len(sealed) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        sealed.append(target)
    return real(source, target, *args, **kwargs)


cache.os.replace = replace
raise SystemExit(cli.main(sys.argv[1:]))
"""


def test_a_full_disk_is_one_line_and_keeps_finished_work(tmp_path, reference):
    film, shots = reference
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    command = make_command(story, tmp_path / "runs", "--executor", "serial")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # the disk fills up as the third segment of the film is stored
    full = [sys.executable, "-c", FULL_AFTER_TWO_SEGMENTS, *command[3:]]
    result = subprocess.run(full, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert_clear_error(result, "No space left on device")
    kept = sealed(store())
    assert count(kept, "keyframe") == shots and count(kept, "film-segment") == 2

    subprocess.run(command, check=True, cwd=tmp_path, env=env)  # space freed: the same command finishes
    record = json.loads((tmp_path / "runs" / "story" / "run.json").read_text())
    made = {"keyframes": 0, "clips": 0, "segments": shots - 2, "films": 1}
    assert record["rendered"] == made
    assert file_digest(tmp_path / "runs" / "story" / "story.mp4") == film
    assert all(sealed(store())[k] == v for k, v in kept.items())


def test_an_unwritable_output_is_one_line_and_keeps_the_film(tmp_path, reference):
    film, _ = reference
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    (tmp_path / "blocked").write_text("a file where a folder should be")
    bad = run("make", story, *PICTURE, "-o", tmp_path / "blocked" / "film.mp4", cwd=tmp_path)
    assert_clear_error(bad, "blocked")
    assert not (tmp_path / "runs").exists(), "an output that cannot be written is refused before any work"
    good = run("make", story, *PICTURE, "-o", tmp_path / "film.mp4", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert file_digest(tmp_path / "film.mp4") == film
