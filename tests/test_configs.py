"""Settings as frozen dataclasses: a backend's cache key follows its fields, the machine's settings stay out;
one RenderSettings for the CLI, the Python API and the studio.

(tests/conformance checks every registered backend's config class; these are the particulars.)
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from generators import ANIMATORS, KEYFRAME_GENERATORS
from generators.diffusion.animator import DiffusersAnimator
from generators.diffusion.configs import AnimatorConfig, KeyframeConfig, PipelineConfig
from generators.diffusion.keyframes import DiffusersKeyframes
from generators.diffusion.presets import presets
from planners.heuristic import HeuristicConfig, HeuristicPlanner
from retrieval.retriever import LibraryConfig
from stitching.fill import FillSettings
from storyteller import cli
from storyteller.arguments import build_parser
from storyteller.cli import render_settings
from storyteller.core.configs import key_of, settings_names
from storyteller.core.errors import StorytellerError
from storyteller.core.progress import QuietReporter
from storyteller.pipeline import Storyteller
from storyteller.settings import RenderSettings
from tests.conftest import ROOT


def test_the_machine_settings_stay_out_of_the_key_and_everything_that_draws_is_in():
    base = DiffusersKeyframes("m")
    assert DiffusersKeyframes("m", device="cpu", low_memory=True).config() == base.config()
    for change in ({"variant": "fp16"}, {"steps": 4}, {"width": 512, "height": 512}, {"ip_adapter_scale": 0.2}):
        assert DiffusersKeyframes("m", **change).config() != base.config(), change
    assert "device" not in base.config() and "low_memory" not in base.config()


def test_the_settings_given_whole_or_as_keywords_or_through_the_registry_are_one_backend():
    given = DiffusersAnimator(AnimatorConfig(model="m", frames=9, fps=8))
    assert given.config() == DiffusersAnimator("m", frames=9, fps=8).config()
    assert given.config() == ANIMATORS.create("diffusers:m", frames=9, fps=8).config()
    assert given.settings.steps == 25 and DiffusersKeyframes("m").settings.steps == 30  # each stage's own default
    with pytest.raises(dataclasses.FrozenInstanceError):
        given.settings.steps = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: KEYFRAME_GENERATORS.create("diffusers:m", stepz=2), "stepz"),
        (lambda: DiffusersKeyframes("m", stepz=2), "no setting stepz"),
        (lambda: KEYFRAME_GENERATORS.create("diffusers"), "give it as diffusers:MODEL"),
        (lambda: DiffusersKeyframes(AnimatorConfig(model="m")), "takes a KeyframeConfig"),
        (lambda: HeuristicPlanner(shots="chapter"), "shots 'chapter'"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(make, said):
    with pytest.raises(StorytellerError, match=said) as raised:
        make()
    assert "\n" not in str(raised.value)


def test_the_diffusers_backends_share_one_config_and_presets_hold_its_keyed_fields():
    shared = set(settings_names(PipelineConfig))
    assert shared < set(settings_names(KeyframeConfig)) and shared < set(settings_names(AnimatorConfig))
    keyed = set(settings_names(KeyframeConfig, keyed_only=True)) | set(settings_names(AnimatorConfig, keyed_only=True))
    for preset in presets().values():  # every built-in preset builds, and says only what draws
        assert set(preset.keyframe) | set(preset.animator) <= keyed
        assert DiffusersKeyframes(**preset.keyframe).settings.model == preset.keyframe["model"]
        assert DiffusersAnimator(**preset.animator).settings.model == preset.animator["model"]


def test_one_library_under_any_name_is_one_key_and_a_cast_given_as_a_list_is_kept_frozen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert LibraryConfig("clips") == LibraryConfig(str(tmp_path / "clips")) == LibraryConfig(os.path.join(".", "clips"))
    cast = HeuristicConfig(names=["Ada", "Bo"])  # type: ignore[arg-type]
    assert cast.names == ("Ada", "Bo") and key_of(cast)["names"] == ("Ada", "Bo")
    assert HeuristicPlanner(names=["Ada"]).config() == HeuristicPlanner(HeuristicConfig(names=("Ada",))).config()


# --- the render's settings: one value for the CLI, the Python API and the studio -------------------------


def test_the_command_lines_defaults_are_the_render_settings_defaults():
    args = build_parser().parse_args(["make", "story.txt"])
    assert render_settings(args) == RenderSettings()


def test_flags_keywords_and_a_settings_value_are_the_same_settings(tmp_path):
    args = build_parser().parse_args(
        ["make", "story.txt", "--deflicker", "--quality", "small", "--narration", "dialogue", "--fill", "none"]
    )
    given = RenderSettings(deflicker=True, quality="small", narration="dialogue", fill=None)
    assert render_settings(args) == given
    assert Storyteller(speaker=None, deflicker=True, quality="small", narration="dialogue", fill=None).settings == given
    assert Storyteller(speaker=None, settings=given).settings == given
    # a keyword beside a settings value changes that one field; the studio's renders get the CLI's teller
    assert Storyteller(speaker=None, settings=given, quality="fast").settings == given.but(quality="fast")
    teller = cli._storyteller(args, QuietReporter(), tmp_path)
    assert teller.settings == given and teller.voicing is not None and teller.voicing.settings == given


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: Storyteller(speaker=None, deflickr=True), "no render setting deflickr"),
        (lambda: RenderSettings(quality="best"), "quality 'best'"),
        (lambda: RenderSettings(narration="loud"), "narration 'loud'"),
        (lambda: RenderSettings(fill="sometimes"), "fill 'sometimes'"),
        (lambda: RenderSettings(cache_size=-1), "must not be negative"),
        (lambda: RenderSettings(music="no-such-song.mp3"), "music file"),
    ],
)
def test_a_wrong_render_setting_is_one_line(make, said):
    with pytest.raises(StorytellerError, match=said) as raised:
        make()
    assert "\n" not in str(raised.value)


def test_the_fill_is_resolved_once_in_the_settings():
    assert RenderSettings().auto_fill and RenderSettings().fill_settings == FillSettings()
    forced = RenderSettings(fill=FillSettings(infill="hold", stride=3))
    assert not forced.auto_fill and forced.fill_settings == FillSettings(infill="hold", stride=3)
    assert RenderSettings(fill=None).fill_settings is None


def test_a_preset_names_a_style_lora_or_a_comfyui_workflow_beside_it(tmp_path):
    from generators.comfyui.backends import ComfyKeyframes
    from generators.diffusion.presets import preset

    (tmp_path / "look.safetensors").write_bytes(b"weights")
    workflow = ROOT / "examples" / "comfyui" / "txt2img.json"
    (tmp_path / "txt2img.json").write_text(workflow.read_text())
    (tmp_path / "mine.toml").write_text(
        '[styled.keyframe]\nmodel = "sd"\nstyle_lora = "look.safetensors"\nstyle_lora_scale = 0.7\n'
        '[styled.animator]\nmodel = "svd"\n'
        '[comfy.keyframe]\nbackend = "comfyui"\nworkflow = "txt2img.json"\n'
        '[comfy.animator]\nmodel = "svd"\n'
    )
    styled = preset(f"{tmp_path / 'mine.toml'}:styled")
    assert styled.keyframe["style_lora"] == str(tmp_path / "look.safetensors")  # found beside the preset
    comfy = preset(f"{tmp_path / 'mine.toml'}:comfy")
    built = KEYFRAME_GENERATORS.create(comfy.keyframe.pop("backend"), **comfy.keyframe)
    assert isinstance(built, ComfyKeyframes) and built.settings.workflow == str(tmp_path / "txt2img.json")
    (tmp_path / "bad.toml").write_text(
        '[x.keyframe]\nbackend = "comfyui"\nurl = "http://a"\n[x.animator]\nmodel = "m"\n'
    )
    with pytest.raises(StorytellerError, match="unknown key url"):
        preset(str(tmp_path / "bad.toml"))
