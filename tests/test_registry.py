"""Backends by name: built-ins, entry points of other packages, and a clear error for the rest."""

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from generators import ANIMATORS, KEYFRAME_GENERATORS
from planners import PLANNERS
from storyteller.core import registry
from storyteller.core.errors import StorytellerError
from tests.conftest import EXAMPLES


class EchoPlanner:
    def __init__(self, model: str = "none") -> None:
        self.model = model

    def plan(self, story, config):  # pragma: no cover - only constructed here
        raise NotImplementedError


def test_entry_points_register_third_party_backends(monkeypatch):
    fake = [
        EntryPoint("echo", "tests.test_registry:EchoPlanner", "storyteller.planners"),
        EntryPoint("keyframe.echo", "tests.test_registry:EchoPlanner", "storyteller.generators"),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep for ep in fake if ep.group == group])
    assert "echo" in PLANNERS.names()
    assert type(PLANNERS.create("echo")).__name__ == "EchoPlanner"
    assert PLANNERS.create("echo:some-model").model == "some-model"
    assert "echo" in KEYFRAME_GENERATORS.names() and "echo" not in ANIMATORS.names()


def test_unknown_names_list_what_is_known():
    with pytest.raises(StorytellerError, match=r"unknown animator 'x' \(known: animatic, comfyui, diffusers\)"):
        ANIMATORS.create("x")


def test_the_custom_planner_example_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_planner.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(EXAMPLES.parent), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert "3 shots" in out.stdout
    assert (tmp_path / "runs" / "custom_planner" / "custom_planner.mp4").stat().st_size > 0
