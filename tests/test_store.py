"""One cache for every run on the machine (issue 15): a plan rendered from anywhere reuses what is there,
and the store keeps to its cap, least recently used first, never taking what a running render holds."""

import json
import os
import shutil
import subprocess
import sys

import decord
import pytest

from planners.heuristic import HeuristicPlanner
from storyteller import Storyteller
from storyteller.core.cache import Cache
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig
from tests.conftest import HAMSTER, ROOT, store

TINY = ["--size", "64x64", "--fps", "8", "-q"]


def run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "storyteller", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_a_moved_plan_renders_from_the_shared_cache_into_its_own_run_directory(tmp_path):
    story = tmp_path / "hamster.txt"
    story.write_text(HAMSTER)
    assert run("make", story, *TINY, cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "desk"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "runs" / "hamster" / "plan.json", elsewhere / "plan.json")
    shutil.rmtree(tmp_path / "runs")  # even the run directory is gone: the cache is not in it
    moved = run("render", elsewhere / "plan.json", "-q", cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["plan.json"]  # nothing written beside the plan
    run_dir = tmp_path / "runs" / "hamster"  # runs/<the plan's title>
    record = json.loads((run_dir / "run.json").read_text())
    assert record["rendered"] == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
    assert (run_dir / "hamster.mp4").is_file() and (run_dir / "plan.json").is_file()
    assert not (run_dir / "cache").exists()
    # --run-dir puts it anywhere; a run directory's own plan.json renders in place
    assert run("render", elsewhere / "plan.json", "--run-dir", tmp_path / "cut", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "cut" / "cut.mp4").is_file()
    assert run("render", tmp_path / "cut" / "plan.json", "-q", cwd=tmp_path).returncode == 0
    assert not (tmp_path / "runs" / "cut").exists()


def test_the_store_prunes_to_its_cap_least_recently_used_first_and_keeps_what_is_leased(tmp_path):
    story = tmp_path / "hamster.txt"
    story.write_text(HAMSTER)
    assert run("make", story, *TINY, cwd=tmp_path).returncode == 0
    cache = Cache(store())
    entries = sorted(cache.entries(), key=lambda e: e.used)
    total = sum(e.size for e in entries)
    assert {e.stage for e in entries} >= {"keyframe", "film-segment", "film"}
    held = [e for e in entries if e.stage == "film-segment"]
    os.utime(held[0].path.with_name(held[0].path.name + ".json"), (1, 1))  # the least recently used of all
    with cache.lease([e.path for e in held]):  # a render elsewhere is using the segments
        removed, freed = cache.prune(total // 4)
    left = list(cache.entries())
    assert all(e.path.exists() for e in held)  # leased: kept, even the oldest
    assert removed > 0 and freed > 0 and sum(e.size for e in left) <= max(total // 4, sum(e.size for e in held))
    assert not list((store() / "leases").iterdir())  # the lease ended with its render
    # with nothing leased, `storyteller cache prune` empties it to the cap asked for
    pruned = run("cache", "prune", "--cache-size", "0", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert "removed" in pruned.stdout and not list(cache.entries())
    info = run("cache", "info", cwd=tmp_path)
    assert info.returncode == 0 and str(store().name) in info.stdout.replace("\n", "")


def test_a_lease_of_a_process_that_died_holds_nothing(tmp_path):
    cache = Cache(tmp_path)
    path = cache.put("clip", "ab" * 32, ".mkv", lambda p: p.write_bytes(b"x" * 100))
    (tmp_path / "leases").mkdir(exist_ok=True)
    (tmp_path / "leases" / "999999999.dead.json").write_text(json.dumps([str(path.relative_to(tmp_path))]))
    size = 100 + path.with_name(path.name + ".json").stat().st_size
    assert cache.leased() == set()
    assert cache.prune(0) == (1, size)
    assert not path.exists() and not list((tmp_path / "leases").iterdir())


def test_a_bad_cache_size_is_one_line(tmp_path):
    result = run("cache", "prune", "--cache-size", "lots", cwd=tmp_path)
    assert result.returncode == 2 and "should look like 500M" in result.stderr and "Traceback" not in result.stderr


class CountingPlanner(HeuristicPlanner):
    """The heuristic planner, counting its plans (it is deterministic: its plans are cached); it plans in this
    process, where the count is kept."""

    calls = 0
    apart = False

    def plan(self, story, config):
        CountingPlanner.calls += 1
        return super().plan(story, config)


def test_a_deterministic_planner_plans_a_story_once(tmp_path, tiny):
    def teller(runs: str) -> Storyteller:
        return Storyteller(planner=CountingPlanner(), runs_dir=tmp_path / runs, executor="serial")

    first = teller("a").make(HAMSTER, name="fight", **tiny)
    again = teller("b").make(HAMSTER, name="fight", **tiny)  # another run directory: the plan from the cache
    assert CountingPlanner.calls == 1 and again.plan == first.plan
    assert json.loads((again.run_dir / "run.json").read_text())["plan"]["cached"]
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
    teller("c").make(HAMSTER + " The crowd cheered.", name="fight", **tiny)  # another story: planned
    teller("d").make(HAMSTER, name="fight", **{**tiny, "seed": 7})  # other settings: planned
    assert CountingPlanner.calls == 3


def test_quality_picks_the_encoder_and_keys_the_segments_by_it(tmp_path, tiny):
    plan = Storyteller().plan(HAMSTER, PlanConfig(title="q", **tiny))
    fast = Storyteller(executor="serial").render(plan, tmp_path / "fast")
    small = Storyteller(executor="serial", quality="small").render(plan, tmp_path / "small")
    assert small.rendered["segments"] == len(plan.shots) and small.rendered["clips"] == 0  # the clips are shared
    assert len(decord.VideoReader(str(small.video))) == len(decord.VideoReader(str(fast.video))) == plan.total_frames
    with pytest.raises(StorytellerError, match="quality 'best'"):
        Storyteller(quality="best")


def test_facts_are_sealed_with_an_entry_and_an_entry_without_them_is_made_again(tmp_path):
    cache = Cache(tmp_path)
    old = cache.put("film-segment", "k1", ".mp4", lambda p: p.write_bytes(b"old"))  # sealed before facts were kept
    assert cache.get("film-segment", "k1", ".mp4") == old and cache.facts("film-segment", "k1", ".mp4") == {}
    assert cache.get_with_facts("film-segment", "k1", ".mp4") is None
    facts = {"frames": 3, "frames_sha256": "ab"}
    path = cache.put("film-segment", "k1", ".mp4", lambda p: p.write_bytes(b"new"), facts=lambda: facts)
    assert path.read_bytes() == b"new" and cache.get_with_facts("film-segment", "k1", ".mp4") == path
    assert cache.facts("film-segment", "k1", ".mp4") == facts
    # a sealed entry with its facts stands: a second writer's bytes are not swapped in under them
    cache.put("film-segment", "k1", ".mp4", lambda p: p.write_bytes(b"other"), facts=lambda: {"frames": 9})
    assert path.read_bytes() == b"new" and cache.facts("film-segment", "k1", ".mp4") == facts


def test_run_json_says_what_the_film_is_made_of_before_the_encoders(tmp_path):
    """Frames and samples digested as the encoders were given them: the same after a resume from the cache."""
    teller = Storyteller(runs_dir=tmp_path)
    first = teller.make(HAMSTER, "a", width=64, height=64, fps=8)
    record = json.loads((first.run_dir / "run.json").read_text())["content"]
    assert record["frames"] == first.plan.total_frames and len(record["frames_sha256"]) == 64
    assert record["samples"] > 0 and len(record["samples_sha256"]) == 64
    shutil.rmtree(store() / "film")  # joined again from the cached segments and soundtrack
    again = teller.make(HAMSTER, "b", width=64, height=64, fps=8)
    assert again.rendered["segments"] == 0 and again.rendered["films"] == 1
    assert again.content == first.content == record


def test_two_leases_in_one_process_each_hold_what_is_made_while_they_last(tmp_path):
    """Two renders at once in one process (threads, the API): one ending never stops the other's holding."""
    cache = Cache(tmp_path)
    with cache.lease():
        with cache.lease():
            first = cache.put("clip", "k1", ".mkv", lambda p: p.write_bytes(b"a"))
        second = cache.put("clip", "k2", ".mkv", lambda p: p.write_bytes(b"b"))  # after the inner one ended
        assert {first, second} <= cache.leased()
        assert cache.prune(0) == (0, 0)  # both held: nothing goes
    assert cache.prune(0)[0] == 2
