"""LoRAs per character in the diffusers backends, on tiny random LoRA weights made with peft: active in the
shots its character is in, off in the others, several at once, the trigger word in the prompt, the weights'
content in the cache key; a style LoRA for the whole film."""

from __future__ import annotations

import numpy as np
import pytest

from generators.diffusion.keyframes import DiffusersKeyframes
from generators.prompts import keyframe_prompt
from planners.heuristic import HeuristicPlanner
from storyteller.core.models import Lora, PlanConfig, StoryPlan
from storyteller.render_plan import shot_inputs
from tests import tiny_diffusion

pytest.importorskip("peft")
STORY = "Mia walked to the lighthouse. Her dog Rex ran along the beach. Mia and Rex sat on the rocks together."
CASTS = (["mia"], ["rex"], ["mia", "rex"])
SETTINGS = {"steps": 2, "guidance": 0.0, "width": 64, "height": 64}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    sd = tiny_diffusion.stable_diffusion(root / "sd")
    return (
        sd,
        tiny_diffusion.lora(root / "mia.safetensors", sd, 1),
        tiny_diffusion.lora(root / "rex.safetensors", sd, 2),
    )


@pytest.fixture(scope="module")
def plan(made) -> StoryPlan:
    _, mia_lora, rex_lora = made
    planned = HeuristicPlanner().plan(STORY, PlanConfig(title="l", width=64, height=64, fps=8))
    loras = {"mia": Lora(path=str(mia_lora), scale=1.0, trigger="sks_mia"), "rex": Lora(path=str(rex_lora))}
    characters = [c.model_copy(update={"lora": loras.get(c.id)}) for c in planned.characters]
    assert {c.id for c in characters} == {"mia", "rex"}, [c.id for c in characters]
    # three shots of the same words: Mia alone, Rex alone, the two of them
    shot = planned.shots[0]
    shots = [shot.model_copy(update={"id": f"s{i}", "characters": cast}) for i, cast in enumerate(CASTS)]
    return planned.model_copy(update={"characters": characters, "shots": shots})


def picture(keyframes: DiffusersKeyframes, plan: StoryPlan, index: int) -> np.ndarray:
    return np.asarray(keyframes.keyframe(plan.shots[index], plan)).astype(int)


def test_a_characters_lora_acts_in_its_shots_and_is_off_in_the_others(made, plan):
    sd = made[0]
    bare = plan.model_copy(update={"characters": [c.model_copy(update={"lora": None}) for c in plan.characters]})
    plain, styled = DiffusersKeyframes(str(sd), **SETTINGS), DiffusersKeyframes(str(sd), **SETTINGS)
    mia_shot, rex_shot, both = 0, 1, 2
    assert np.abs(picture(styled, plan, mia_shot) - picture(plain, bare, mia_shot)).mean() > 1  # Mia's adapter acts
    assert styled._pipe.get_active_adapters() == ["character_mia"]
    # Rex's shot: his adapter alone; then both at once in the shot they share, unlike either alone
    rex = picture(styled, plan, rex_shot)
    assert styled._pipe.get_active_adapters() == ["character_rex"]
    together = picture(styled, plan, both)
    assert sorted(styled._pipe.get_active_adapters()) == ["character_mia", "character_rex"]
    only_mia = plan.model_copy(
        update={"characters": [c.model_copy(update={"lora": None}) if c.id == "rex" else c for c in plan.characters]}
    )
    assert np.abs(together - picture(plain, only_mia, both)).mean() > 0.5
    # a shot without either is the model as it is: the adapters are off, not merely weighed down
    nobody = plan.model_copy(
        update={"shots": [plan.shots[mia_shot].model_copy(update={"characters": [], "graph": plan.shots[0].graph})]}
    )
    assert np.array_equal(picture(styled, nobody, 0), picture(plain, nobody, 0))
    assert np.abs(rex - picture(plain, bare, rex_shot)).mean() > 1


def test_the_trigger_joins_the_prompt_and_the_weights_content_keys_the_shot(made, plan, tmp_path):
    assert "sks_mia" in keyframe_prompt(plan.shots[0], plan) and "sks_mia" not in keyframe_prompt(plan.shots[1], plan)
    before = shot_inputs(plan.shots[0], plan)["loras"]
    assert set(before) == {"mia"}
    copy = tmp_path / "mia-copy.safetensors"
    copy.write_bytes(made[1].read_bytes())
    moved = plan.model_copy(
        update={
            "characters": [
                c.model_copy(update={"lora": Lora(path=str(copy), trigger="sks_mia")}) if c.id == "mia" else c
                for c in plan.characters
            ]
        }
    )
    assert shot_inputs(moved.shots[0], moved)["loras"] == before  # the same weights elsewhere: the same key
    copy.write_bytes(made[2].read_bytes())
    assert shot_inputs(moved.shots[0], moved)["loras"] != before  # other weights at that path: another key


def test_a_style_lora_acts_in_every_shot_and_its_content_keys_the_backend(made, plan):
    sd, mia_lora, _ = made
    bare = plan.model_copy(update={"characters": [c.model_copy(update={"lora": None}) for c in plan.characters]})
    styled = DiffusersKeyframes(str(sd), style_lora=str(mia_lora), style_lora_scale=0.8, **SETTINGS)
    plain = DiffusersKeyframes(str(sd), **SETTINGS)
    for index in range(len(bare.shots)):
        assert np.abs(picture(styled, bare, index) - picture(plain, bare, index)).mean() > 0.5
    assert styled._pipe.get_active_adapters() == ["style"]
    assert "style_lora_sha256" in styled.config() and styled.config() != plain.config()


def test_pickled_weights_are_refused_and_weights_that_do_not_fit_are_one_line(made, plan, tmp_path):
    from pydantic import ValidationError

    from storyteller.core.errors import StorytellerError

    with pytest.raises(ValidationError, match="safetensors"):
        Lora(path="mia.bin")
    wrong = tmp_path / "wrong.safetensors"
    wrong.write_bytes(b"not weights at all")
    broken = plan.model_copy(
        update={
            "characters": [
                c.model_copy(update={"lora": Lora(path=str(wrong))}) if c.id == "mia" else c for c in plan.characters
            ]
        }
    )
    with pytest.raises(StorytellerError, match="does not fit") as raised:
        DiffusersKeyframes(str(made[0]), **SETTINGS).keyframe(broken.shots[0], broken)
    assert "\n" not in str(raised.value)
