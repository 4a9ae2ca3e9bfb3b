"""Executors: the same bytes whichever runs the work, only uncached work scheduled, progress from workers,
model-backed infill segments as tasks of their own, and a local two-CPU Ray instance."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest

from stitching.fill import FillSettings
from stitching.infill import FlowInfill
from storyteller import Storyteller
from storyteller.core.cache import file_digest
from storyteller.core.errors import StorytellerError
from storyteller.core.executors import Call, executor
from storyteller.core.executors.serial import SerialExecutor
from storyteller.core.models import PlanConfig
from tests.conftest import HAMSTER, ZOSIA

STORY = ZOSIA + "\n\n" + HAMSTER + " The hamster jumped."
TINY = {"width": 64, "height": 64, "fps": 8}


class Recorder:
    """A reporter that keeps every bar's name and how far it got."""

    def __init__(self):
        self.bars: dict[str, int] = {}

    @contextmanager
    def stage(self, name, total):
        yield lambda n=1: None

    @contextmanager
    def task(self, name, total):
        self.bars[name] = 0

        def advance(n=1):
            self.bars[name] += n

        yield advance

    def log(self, message):
        pass


class Counted(SerialExecutor):
    """The serial executor, counting the pools it starts and the calls it is given."""

    def __init__(self):
        self.pools, self.calls = 0, []

    @contextmanager
    def pool(self, worker, resources, tasks, limit, reporter):
        self.pools += 1
        with super().pool(worker, resources, tasks, limit, reporter) as pool:
            inner = pool.map

            def map(calls):
                for call in calls:
                    self.calls.append(call.method)
                    yield from inner([call])

            pool.map = map
            yield pool


class SlowFlow(FlowInfill):
    """The flow infill posing as a model-backed one: its segments become tasks of their own."""

    name = "flow"
    cheap = False


def make(tmp_path, name, **kw):
    config = PlanConfig(title=name, cache_dir=tmp_path / name / "cache", **TINY)
    teller = Storyteller(runs_dir=tmp_path, cache_dir=tmp_path / name / "cache", **kw)
    plan = teller.plan(STORY, config)
    return teller.render(plan, tmp_path / name)


def test_serial_and_local_pool_make_the_same_bytes_and_record_the_executor(tmp_path):
    serial = make(tmp_path, "serial", executor="serial")
    local = make(tmp_path, "local", executor="local", workers=2)
    assert file_digest(serial.video) == file_digest(local.video)
    # (the animatic keeps no clips: the workers draw and encode each shot's segment of the film)
    assert serial.rendered == local.rendered == {"keyframes": 3, "clips": 0, "segments": 3, "films": 1}
    assert json.loads((tmp_path / "local" / "run.json").read_text())["executor"] == "local"
    assert json.loads((tmp_path / "serial" / "run.json").read_text())["rendered"]["segments"] == 3


def test_cached_work_is_never_scheduled(tmp_path):
    counted = Counted()
    first = make(tmp_path, "x", executor=counted)
    assert counted.pools == 1 and counted.calls == ["keyframe"] * 3 + ["film_segment"] * 3
    again = make(tmp_path, "x", executor=counted)
    assert counted.pools == 1, "a render with everything cached starts no workers"
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
    assert file_digest(first.video) == file_digest(again.video)


def test_progress_from_workers_reaches_the_reporter(tmp_path):
    reporter = Recorder()
    result = make(tmp_path, "p", executor="local", workers=2, reporter=reporter)
    for shot in result.plan.shots:
        assert reporter.bars[shot.id] == result.plan.shot_frames(shot)  # every frame counted on the driver


def test_model_backed_infill_runs_one_task_per_segment_and_matches_the_fused_clip(tmp_path):
    fused = make(tmp_path, "fused", executor="serial", fill=FillSettings())
    counted = Counted()
    split = make(tmp_path, "split", executor=counted, fill=FillSettings(infill=SlowFlow()))
    assert file_digest(fused.video) == file_digest(split.video)
    gaps = sum(-(-(split.plan.shot_frames(s) - 1) // 2) for s in split.plan.shots)
    assert counted.calls.count("anchors") == 3 and counted.calls.count("segment") == gaps
    assert len(list((tmp_path / "split" / "cache" / "segment").glob("*/*.npy"))) == gaps
    # a lost clip is joined again from the stored anchors and segments: no model is asked for anything
    for lost in [
        *(tmp_path / "split" / "cache").glob("clip/*/*.mkv"),
        *(tmp_path / "split" / "cache").glob("film-segment/*/*"),
        *(tmp_path / "split" / "cache").glob("film/*/*"),
    ]:
        lost.unlink()
    counted.calls.clear()
    again = make(tmp_path, "split", executor=counted, fill=FillSettings(infill=SlowFlow()))
    assert counted.calls == [] and again.rendered["clips"] == 3
    assert file_digest(again.video) == file_digest(split.video)


def test_model_backed_infill_on_a_process_pool_matches(tmp_path):
    fused = make(tmp_path, "fused", executor="serial", fill=FillSettings())
    pooled = make(tmp_path, "pooled", executor="local", workers=2, fill=FillSettings(infill=SlowFlow(), depth=1))
    assert file_digest(fused.video) == file_digest(pooled.video)


@pytest.mark.parametrize(
    ("spec", "words"),
    [("nope", ["unknown executor 'nope'", "ray"]), ("local:foo", ["only ray takes an address"])],
)
def test_bad_executor_names_are_clear(spec, words):
    with pytest.raises(StorytellerError) as error:
        executor(spec)
    assert all(word in str(error.value) for word in words)


def test_executor_specs_name_the_cluster():
    assert executor("ray://head:10001").address == "ray://head:10001"  # Ray Client
    assert executor("ray:auto").address == "auto"
    assert executor("ray", workers=2).address is None and executor("ray", workers=2).workers == 2
    assert executor("local", workers=3).workers == 3


def test_an_unreachable_cluster_is_one_clear_line(tmp_path):
    # before the Ray tests below: their local instance is one that `ray:auto` would find
    pytest.importorskip("ray", reason="the ray extra is not installed")
    from tests.test_cli import assert_clear_error, run

    story = tmp_path / "story.txt"
    story.write_text(HAMSTER)
    result = run("make", story, "--size", "64x64", "--fps", "8", "--executor", "ray:auto", cwd=tmp_path)
    assert_clear_error(result, "cannot start Ray (auto)")
    assert (tmp_path / "runs" / "story" / "plan.json").exists(), "the plan is kept"


# --- Ray: a local two-CPU instance, as CI runs it ----------------------------------------------------

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module")
def local_ray():
    import sys

    # Ray's workers import classes by module; this test module is not installed, so its classes travel whole
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_ray_makes_the_same_bytes_as_serial_and_reports_progress(tmp_path, local_ray):
    serial = make(tmp_path, "serial", executor="serial")
    reporter = Recorder()
    on_ray = make(tmp_path, "ray", executor="ray", reporter=reporter)
    assert file_digest(serial.video) == file_digest(on_ray.video)
    assert on_ray.rendered == {"keyframes": 3, "clips": 0, "segments": 3, "films": 1}
    for shot in on_ray.plan.shots:
        assert reporter.bars[shot.id] == on_ray.plan.shot_frames(shot)
    assert ray.is_initialized(), "an instance the caller started is left running"


def test_ray_runs_infill_segments_as_tasks(tmp_path, local_ray):
    fused = make(tmp_path, "fused", executor="serial", fill=FillSettings())
    split = make(tmp_path, "split", executor="ray", fill=FillSettings(infill=SlowFlow()))
    assert file_digest(fused.video) == file_digest(split.video)


def test_a_failing_ray_task_is_one_clear_line(local_ray):
    from storyteller.core.executors.ray import RayExecutor
    from storyteller.work import Worker

    with (
        RayExecutor().pool(Worker(None, None), _one_cpu(), 1, 1, Recorder()) as pool,
        pytest.raises(StorytellerError) as error,
    ):
        list(pool.map([Call("segment", (np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), [0.5]))]))
    assert "a Ray task failed" in str(error.value) and "\n" not in str(error.value)


def _one_cpu():
    from storyteller.core.executors import Resources

    return Resources(cpus=1)


def test_diffusion_backends_ask_for_a_gpu_unless_on_the_cpu():
    from generators.diffusion.keyframes import DiffusersKeyframes
    from storyteller.core.backend import Animator, adopt

    class Plain:  # says nothing of what it needs
        def animate(self, keyframe, shot, plan, guide=None):
            return iter(())

    assert DiffusersKeyframes("some/model").resources().gpus == 1
    assert DiffusersKeyframes("some/model", device="cpu").resources().gpus == 0
    assert adopt(Plain(), Animator).resources().gpus == 0  # the animatic and anything that does not say: one CPU
