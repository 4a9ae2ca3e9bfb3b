"""A film is a function of its inputs (issue 24): not of the worker count, the executor, the order in which
workers finish, nor of which process spoke a line. (benchmarks/determinism.py adds fresh user caches, a CPU
hog beside the render, and a kill and resume.)"""

from __future__ import annotations

import json

import pytest

from storyteller import Storyteller
from storyteller.core.models import StoryPlan

# three speakers in the neural voice: each line noise-driven, so it would differ between processes unseeded
STORY = (
    'Nora and her sister Ida carried a lantern to the pier. "Look, the boats are home!" cried Ida. '
    'Their grandmother Vera waved from the deck. "Come aboard, girls," Vera said. The old dog barked at the gulls.'
)
SIZE = {"width": 96, "height": 64, "fps": 8}


def film(tmp_path, name: str, **settings) -> tuple[bytes, dict, str]:
    """A make on a store of its own (as on a fresh machine): the film's bytes, run.json's content, plan.json."""
    teller = Storyteller(runs_dir=tmp_path / name, cache_dir=tmp_path / name / "store", **settings)
    result = teller.make(STORY, "pier", **SIZE)
    content = json.loads((result.run_dir / "run.json").read_text())["content"]
    return result.video.read_bytes(), content, result.plan_path.read_text()


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("films")
    return {
        "1 worker": film(tmp_path, "one", workers=1),
        "2 workers": film(tmp_path, "two", workers=2),
        "serial": film(tmp_path, "serial", executor="serial"),
    }


def test_the_story_speaks_in_the_neural_voice(films):
    """Its noise (a VITS voice samples its durations and its sound) is drawn from generators seeded by each
    sentence and voice, never from ONNX Runtime's clock-seeded one: every process says a line alike."""
    plan = StoryPlan.model_validate_json(films["serial"][2])
    assert plan.narrator.backend == "piper" and all(c.voice.backend == "piper" for c in plan.characters)


def test_one_worker_two_workers_and_the_serial_executor_make_the_same_film_byte_for_byte(films):
    videos, contents, plans = zip(*films.values(), strict=True)
    assert len(set(plans)) == 1
    assert all(content == contents[0] for content in contents)
    assert contents[0]["frames"] > 0 and contents[0]["samples"] > 0
    assert len(set(videos)) == 1  # the encoders' bytes too: x264 and AAC given the same, in one install
