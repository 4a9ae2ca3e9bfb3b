"""One suite over every registered backend (diffusers' PipelineTesterMixin, for this project's registries).

Parametrised over every name of the planner, keyframe, animator, infill, speaker and retriever registries
(entry points included): a backend added to a registry is tested here without a line of new test code,
by name alone or on the tiny model `builders.TINY` gives it. Each builds, its config (its cache key) is
JSON and the same from a fresh process, it pickles (a worker receives it so), `close()` twice is safe, its
outputs have the promised size, frame count and sample rate, the same input gives the same bytes, and what
it claims (a speaker's timing, an animator's frames from any frame) holds.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from planners.heuristic import HeuristicPlanner
from storyteller.core.configs import RUNTIME, Configured, key_of
from storyteller.core.models import StoryPlan, Voice
from tests.conformance.builders import CONFIG, ROOT, STORY, build, cases, config_json

CASES = cases()


@pytest.fixture(scope="module")
def plan() -> StoryPlan:
    """A plan of the story whose first shot lasts one second (a model-backed animator draws it quickly)."""
    planned = HeuristicPlanner().plan(STORY, CONFIG)
    shots = [planned.shots[0].model_copy(update={"duration": 1.0}), *planned.shots[1:]]
    return planned.model_copy(update={"shots": shots})


@pytest.fixture(scope="module")
def fresh_configs(models: dict[str, str]) -> dict[str, str]:
    """Every backend's config, computed by another process."""
    command = [sys.executable, "-m", "tests.conformance.builders", json.dumps(models)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_every_registry_has_backends_and_each_case_is_a_registered_name():
    kinds = {kind for kind, _ in CASES}
    assert kinds == {"planner", "keyframe", "animator", "infill", "speaker", "retriever"}
    assert ("keyframe", "animatic") in CASES and ("speaker", "piper") in CASES


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_it_builds_and_its_config_is_json_the_same_from_another_process_and_survives_pickling(
    kind: str, name: str, models: dict[str, str], fresh_configs: dict[str, str]
) -> None:
    backend = build(kind, name, models)
    key = config_json(backend)  # JSON-able, or this raises
    assert fresh_configs[f"{kind}/{name}"] == key
    assert config_json(pickle.loads(pickle.dumps(backend))) == key
    backend.close()
    backend.close()  # twice is safe


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_its_settings_are_one_documented_dataclass_and_its_key_is_derived_from_them(kind, name, models):
    """A backend with settings keeps them in a frozen dataclass (`Configured`): its cache key is their keyed
    fields and its code's digest, written nowhere by hand; every field is documented on the class."""
    backend = build(kind, name, models)
    if not isinstance(backend, Configured):
        assert not _arguments(type(backend)), f"{kind} {name} takes settings but keeps them in no config class"
        return
    settings = backend.settings
    assert dataclasses.is_dataclass(settings) and type(settings).__dataclass_params__.frozen  # type: ignore[attr-defined]
    key = backend.config()
    assert {k: key[k] for k in key_of(settings)} == key_of(settings) and len(key["code"]) == 64
    documented = "".join(cls.__doc__ or "" for cls in type(settings).__mro__)  # a base's fields on the base
    for field in dataclasses.fields(settings):
        said = re.search(rf"^\s+(\w+, )*{field.name}(, \w+)*: \S", documented, re.MULTILINE)
        assert said, f"{type(settings).__name__}.{field.name} is not documented"
        if field.metadata.get(RUNTIME):
            assert field.name not in key  # how fast, never what: the same work, the same key
    parts = {part: getattr(backend, part) for part in getattr(backend, "parts", ())}
    rebuilt = type(backend)(config=settings, **parts) if parts else type(backend)(settings)  # given whole: the same
    assert config_json(rebuilt) == config_json(backend)


def _arguments(backend_class: type) -> list[str]:
    """The settings a backend's constructor takes."""
    init = backend_class.__init__
    if init is object.__init__:
        return []
    return [p for p in inspect.signature(init).parameters if p != "self"]


def _two(make: Any) -> tuple[Any, Any]:
    return make(), make()


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "planner"])
def test_a_planner_plans_the_same_plan_twice_with_everyone_it_names(kind, name, models):
    first, again = _two(lambda: build(kind, name, models).plan(STORY, CONFIG))  # (a scripted model answers once)
    assert first.model_dump_json() == again.model_dump_json() and first.shots
    cast = {c.id for c in first.characters}
    assert all(set(s.characters) <= cast for s in first.shots)
    assert all(s.duration > 0 for s in first.shots)


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "keyframe"])
def test_a_keyframe_has_the_promised_size_and_the_same_bytes_twice(kind, name, models, plan):
    backend = build(kind, name, models)
    backend.prepare_plan(plan)
    first, again = _two(lambda: backend.keyframe(plan.shots[0], plan))
    size = backend.frame_size(plan) if hasattr(backend, "frame_size") else (plan.width, plan.height)
    assert first.size == tuple(size) and first.mode == "RGB"
    assert first.tobytes() == again.tobytes()


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "animator"])
def test_an_animator_yields_the_shots_frames_the_same_twice_and_from_any_frame(kind, name, models, plan):
    backend = build(kind, name, models)
    backend.prepare_plan(plan)
    shot = plan.shots[0]
    keyframe = build("keyframe", "animatic", models).keyframe(shot, plan).resize((plan.width, plan.height))
    first, again = _two(lambda: np.stack(list(backend.animate(keyframe, shot, plan))))
    assert first.shape[0] == plan.shot_frames(shot) and first.shape[3] == 3 and first.dtype == np.uint8
    assert np.array_equal(first, again)
    tail = np.stack(list(backend.frames_from(keyframe, shot, plan, None, 3)))
    assert np.array_equal(tail, first[3:])  # a crossfade's tail, drawn again, is the same frames


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "infill"])
def test_an_infill_gives_a_frame_per_time_of_the_known_frames_size_the_same_twice(kind, name, models):
    backend = build(kind, name, models)
    rng = np.random.default_rng(0)
    first_frame, last_frame = (rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2))
    times = [0.25, 0.5, 0.75]
    made, again = _two(lambda: backend.fill(first_frame, last_frame, times))
    assert len(made) == len(times)
    assert all(f.shape == first_frame.shape and f.dtype == first_frame.dtype for f in made)
    assert all(np.array_equal(a, b) for a, b in zip(made, again, strict=True))


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "speaker"])
def test_a_speaker_speaks_english_the_same_twice_and_its_timing_is_its_length(kind, name, models):
    backend = build(kind, name, models)
    assert backend.has_language("en")
    voice = Voice(name=backend.voice_name("en", None, 0))
    line, again = _two(lambda: backend.speak("The keeper waved at her from the door.", voice))
    assert line.rate > 0 and line.seconds > 0 and line.samples.ndim == 1
    assert np.abs(line.samples).max() <= 1.0 and np.array_equal(line.samples, again.samples)
    timing = backend.timing("The keeper waved at her from the door.", voice)
    if timing is not None:  # it claims to know the length before speaking: it must be the length spoken
        assert abs(timing.seconds - line.seconds) <= 0.05 * line.seconds


@pytest.mark.parametrize(("kind", "name"), [c for c in CASES if c[0] == "retriever"])
def test_a_retriever_guides_a_shot_the_same_twice(kind, name, models, plan):
    backend = build(kind, name, models)
    first, again = _two(lambda: backend.guide(plan.shots[0], plan))
    assert first == again
    assert first is None or first.model_dump_json() == again.model_dump_json()
