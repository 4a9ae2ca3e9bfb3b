"""The diffusers backends on tiny random-weight pipelines of the real classes, offline, on the CPU."""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image

from generators.animatic import AnimaticAnimator
from generators.diffusion import preset, presets, runtime
from generators.diffusion.animator import DiffusersAnimator, motion_bucket, motion_prompt
from generators.diffusion.keyframes import DiffusersKeyframes
from generators.prompts import keyframe_prompt
from planners.heuristic import HeuristicPlanner
from storyteller.core.errors import StorytellerError
from storyteller.core.models import MotionGuide, PlanConfig, StoryPlan
from storyteller.pipeline import Storyteller
from tests import tiny_diffusion
from tests.conftest import store
from tests.test_cli import TINY, assert_clear_error, run

STORY = "A cute golden hamster throwing punches in a boxing ring. The crowd cheered as the hamster jumped."


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tiny-diffusion")
    return {
        "sd": tiny_diffusion.stable_diffusion(root / "sd"),
        "svd": tiny_diffusion.stable_video_diffusion(root / "svd"),
        "ltx": tiny_diffusion.ltx_condition(root / "ltx"),
    }


@pytest.fixture
def plan() -> StoryPlan:
    return HeuristicPlanner().plan(STORY, PlanConfig(title="t", width=64, height=64, fps=8))


def tiny_preset(models: dict, tmp_path, animator: str = "svd", **video) -> str:
    settings = {"steps": 2, "width": 64, "height": 64, "frames": 4, "fps": 4, **video}
    line = ", ".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in settings.items())
    path = tmp_path / "tiny.toml"
    path.write_text(
        "[tiny]\nmemory_gb = [0.1, 0.1]\n"
        f'keyframe = {{ model = "{models["sd"]}", steps = 2, guidance = 0.0, width = 64, height = 64 }}\n'
        f'animator = {{ model = "{models[animator]}", {line} }}\n'
    )
    return str(path)


def test_tiny_sd_keyframes_and_svd_animation_make_a_film(models, tmp_path):
    story = tmp_path / "hamster.txt"
    story.write_text(STORY)
    made = run("make", story, *TINY, "--preset", tiny_preset(models, tmp_path), "--no-library", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr + made.stdout
    run_dir = tmp_path / "runs" / "hamster"
    plan = StoryPlan.model_validate_json((run_dir / "plan.json").read_text())
    import decord

    video = decord.VideoReader(str(run_dir / "hamster.mp4"))
    assert len(video) == plan.total_frames
    assert video[0].shape == (64, 64, 3)
    for shot in plan.shots:  # keyframes come from the diffusion model, not the animatic
        with Image.open(run_dir / "keyframes" / f"{shot.id}.png") as keyframe:
            assert keyframe.size == (64, 64)
            assert "storyteller-backend" not in keyframe.info
    # a second run renders nothing: every keyframe and clip is in the cache
    again = run("make", story, *TINY, "--preset", tiny_preset(models, tmp_path), "--no-library", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "rendered 0 keyframes, 0 clips, 0 segments, 0 films" in again.stdout


def test_a_model_named_without_a_preset_runs_at_its_own_size_and_says_so(models, tmp_path):
    story = tmp_path / "hamster.txt"
    story.write_text(STORY)
    # the tiny pipeline's UNet samples 32 latents a side and its VAE scales by 2: 64 pixels, not 512
    made = run("make", story, *TINY, "--keyframe", f"diffusers:{models['sd']}", "--no-library", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    record = json.loads((tmp_path / "runs" / "hamster" / "run.json").read_text())
    assert record["models"] == {"keyframes": f"{models['sd']} at 64x64"}
    assert f"{models['sd']} at 64x64" in made.stdout  # the run summary says it too
    plan = StoryPlan.model_validate_json((tmp_path / "runs" / "hamster" / "plan.json").read_text())
    wide = plan.model_copy(update={"width": 128, "height": 64})
    assert DiffusersKeyframes(str(models["sd"])).frame_size(wide) == (96, 48)  # 64x64's pixels, 2:1
    # a video model's clip length and rate: its pipeline's defaults, else its config (SVD: the UNet's)
    svd = DiffusersAnimator(str(models["svd"]))
    assert (svd.size(), svd.clip_frames(), svd.model_fps(plan)) == ((64, 64), 25, 7)
    ltx = DiffusersAnimator(str(models["ltx"]))
    assert (ltx.size(), ltx.clip_frames(), ltx.model_fps(plan)) == ((704, 512), 161, 25)
    assert all(side % 32 == 0 for side in ltx.frame_size(wide))  # LTX takes multiples of 32 only
    given = DiffusersKeyframes(str(models["sd"]), width=32, height=32)
    assert given.frame_size(plan) == (32, 32) and (given.config()["width"], given.config()["height"]) == (32, 32)


def test_same_seed_same_frames_and_another_seed_other_frames(models, plan):
    shot = plan.shots[0].model_copy(update={"duration": 1.0})
    keyframe = DiffusersKeyframes(str(models["sd"]), steps=2, guidance=0.0, width=64, height=64)
    first = np.asarray(keyframe.keyframe(shot, plan))
    again = np.asarray(
        DiffusersKeyframes(str(models["sd"]), steps=2, guidance=0.0, width=64, height=64).keyframe(shot, plan)
    )
    np.testing.assert_array_equal(first, again)
    reseeded = plan.model_copy(update={"seed": 1})
    assert not np.array_equal(first, np.asarray(keyframe.keyframe(shot, reseeded)))

    def clip(p: StoryPlan) -> np.ndarray:
        animator = DiffusersAnimator(str(models["svd"]), steps=2, width=64, height=64, frames=4, fps=4)
        return np.stack(list(animator.animate(Image.fromarray(first), shot, p)))

    frames = clip(plan)
    assert frames.shape == (plan.shot_frames(shot), 64, 64, 3)
    np.testing.assert_array_equal(frames, clip(plan))
    assert not np.array_equal(frames, clip(reseeded))


def test_a_long_shot_continues_from_its_last_frame_chunk_by_chunk(models, plan):
    shot = plan.shots[0].model_copy(update={"duration": 3.0})
    calls = []

    class Recording(DiffusersAnimator):
        def generate(self, first, last, count, *args, **kwargs):
            frames = super().generate(first, last, count, *args, **kwargs)
            calls.append((np.asarray(first).copy(), count, frames))
            return frames

    animator = Recording(str(models["svd"]), steps=2, width=64, height=64, frames=4, fps=4)
    keyframe = Image.new("RGB", (64, 64), (200, 120, 40))
    frames = list(animator.animate(keyframe, shot, plan))
    assert len(frames) == plan.shot_frames(shot) == 24
    # 3 s at 4 fps is 12 model frames; chunks of 4 share one frame: 4 + 3 + 3 + 3 covers 13 >= 12
    assert [count for _, count, _ in calls] == [4, 4, 4, 4]
    np.testing.assert_array_equal(calls[0][0], np.asarray(keyframe))
    for (_, _, before), (start, _, _) in itertools.pairwise(calls):
        np.testing.assert_array_equal(start, before[-1])  # each chunk starts where the last one ended


def test_ltx_condition_pipeline_between_a_first_and_a_last_frame(models, plan):
    shot = plan.shots[0]
    animator = DiffusersAnimator(str(models["ltx"]), steps=2, width=64, height=64, frames=9, fps=8)
    first = Image.new("RGB", (64, 64), (250, 20, 20))
    last = Image.new("RGB", (64, 64), (20, 20, 250))
    seen = {}
    pipe = animator.load()
    original = type(pipe).__call__

    @functools.wraps(original)  # the backend reads the call's signature
    def spy(self, **kwargs):
        seen.update(kwargs)
        return original(self, **kwargs)

    type(pipe).__call__ = spy
    try:
        frames = animator.generate(first, last, 9, shot, plan)
        other_end = animator.generate(first, Image.new("RGB", (64, 64), (20, 250, 20)), 9, shot, plan)
        same = animator.generate(first, last, 9, shot, plan)
    finally:
        type(pipe).__call__ = original
    assert [c.frame_index for c in seen["conditions"]] == [0, 8]
    assert len(frames) == 9 and frames[0].shape == (64, 64, 3) and frames[0].dtype == np.uint8
    for a, b in zip(frames, same, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(frames, other_end, strict=True))


def test_ltx_animates_a_shot_through_the_orchestrator(models, plan, tmp_path):
    teller = Storyteller(
        keyframe=DiffusersKeyframes(str(models["sd"]), steps=2, guidance=0.0, width=64, height=64),
        animator=DiffusersAnimator(str(models["ltx"]), steps=2, width=64, height=64, frames=9, fps=8),
        runs_dir=tmp_path,
    )
    result = teller.render(plan, tmp_path / "ltx")
    import decord

    assert len(decord.VideoReader(str(result.video))) == result.plan.total_frames
    assert teller.animator._pipe is None and teller.keyframer._pipe is None  # freed once their stage is over


def test_denoising_steps_drive_the_progress_display(models, plan, tmp_path):
    from contextlib import contextmanager

    bars: dict[str, list] = {}

    class Recorder:
        @contextmanager
        def stage(self, name, total):
            yield lambda n=1: None

        @contextmanager
        def task(self, name, total):
            bars[name] = [0, total]
            yield lambda n=1: bars[name].__setitem__(0, bars[name][0] + n)

        def log(self, message):
            pass

    Storyteller(
        keyframe=DiffusersKeyframes(str(models["sd"]), steps=3, guidance=0.0, width=64, height=64),
        animator=DiffusersAnimator(str(models["svd"]), steps=2, width=64, height=64, frames=4, fps=4),
        reporter=Recorder(),
        runs_dir=tmp_path,
    ).render(plan, tmp_path / "steps")
    for shot in plan.shots:
        assert bars[f"{shot.id} keyframe"] == [3, 3]
        chunks = len(DiffusersAnimator("m", frames=4, fps=4).chunk_lengths(round(shot.duration * 4) + 1))
        done, total = bars[f"{shot.id} denoise"]
        assert done == total >= 2 * chunks


def test_missing_models_are_one_clear_line(models, tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(STORY)
    missing = run("make", story, *TINY, "--keyframe", "diffusers:./no/such/model", cwd=tmp_path)
    assert_clear_error(missing, "./no/such/model", "does not exist")
    offline = run("make", story, *TINY, "--preset", "sd-turbo+svd", cwd=tmp_path)  # HF_HUB_OFFLINE=1 in tests
    assert_clear_error(offline, "stabilityai/sd-turbo", "huggingface-cli download stabilityai/sd-turbo")
    wrong_kind = run("make", story, *TINY, "--animator", f"diffusers:{models['sd']}", cwd=tmp_path)
    assert_clear_error(wrong_kind, "StableDiffusionPipeline", "not a video pipeline")
    assert_clear_error(run("make", story, "--preset", "nope", cwd=tmp_path), "unknown preset 'nope'", "sd-turbo+svd")
    bad = tmp_path / "bad.toml"
    bad.write_text('[x]\nkeyframe = { model = "m", step = 2 }\nanimator = { model = "v" }\n')
    assert_clear_error(run("make", story, "--preset", bad, cwd=tmp_path), "unknown key step")
    # the plan was written before the model was looked for: nothing finished is lost
    assert (tmp_path / "runs" / "s" / "plan.json").is_file()


def test_presets_are_listed_with_their_memory():
    listed = run("presets")
    assert listed.returncode == 0
    for name, entry in presets().items():
        assert name in listed.stdout and entry.animator["model"] in listed.stdout
        assert f"GPU {entry.memory_gb[0]:g} GB" in listed.stdout
    assert {"sd-turbo+svd", "sdxl-turbo+svd-xt", "flux-schnell+ltx", "wan-1.3b"} <= set(presets())
    assert preset("flux-schnell+ltx").animator["pipeline"] == "LTXConditionPipeline"


def test_prompts_carry_the_bible_the_place_and_the_style(plan):
    plan = plan.model_copy(update={"style": "claymation"})
    shot = plan.shots[0]
    prompt = keyframe_prompt(shot, plan)
    for cid in shot.characters:
        assert plan.character(cid).appearance in prompt
    assert prompt.endswith("claymation")
    guide = MotionGuide(source="clip.mp4", trajectory=[(0.1, 0.5), (0.9, 0.5)], camera=(0.0, 0.0, 0.2))
    moving = motion_prompt(shot, plan, guide)
    assert "subject moves to the right" in moving and "camera zooms in" in moving
    still = MotionGuide(source="still.mp4", trajectory=[(0.5, 0.5), (0.5, 0.5)])
    assert motion_bucket(still) < motion_bucket(None) < motion_bucket(guide) <= 255


def test_one_seed_per_character_and_location(plan):
    a = plan.shots[0]
    b = a.model_copy(update={"text": "Later, the hamster rested.", "prompt": "a hamster resting"})
    seeds = []

    class Seeds(DiffusersKeyframes):
        def load(self):
            class Pipe:
                def __call__(self, prompt, num_inference_steps, guidance_scale, generator, width, height):
                    seeds.append(generator.initial_seed())
                    return type("Out", (), {"images": [Image.new("RGB", (width, height))]})

            return Pipe()

    backend = Seeds("unused")
    backend.keyframe(a, plan)
    backend.keyframe(b, plan)  # same lead, same place: same noise, so the same look
    backend.keyframe(a.model_copy(update={"location": None}), plan)
    backend.keyframe(a, plan.model_copy(update={"seed": 7}))
    assert seeds[0] == seeds[1]
    assert len(set(seeds)) == 3


def test_low_memory_on_the_cpu_slices_instead_of_offloading(models, capfd):
    keyframes = DiffusersKeyframes(str(models["sd"]), steps=1, width=64, height=64, low_memory=True)
    pipe = keyframes.load()
    assert "model offload needs a GPU" in capfd.readouterr().err
    assert pipe.unet.device.type == "cpu"
    keyframes.close()
    assert keyframes._pipe is None


def test_a_device_that_is_not_there_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(StorytellerError, match="no CUDA device"):
        runtime.pick_device("cuda")


def test_reference_images_hold_a_character_through_an_ip_adapter(models, plan, tmp_path):
    adapter = tiny_diffusion.ip_adapter(tmp_path / "ip-adapter", models["sd"])
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    Image.new("RGB", (64, 64), (230, 30, 30)).save(red)
    Image.new("RGB", (64, 64), (30, 30, 230)).save(blue)

    def with_reference(path) -> StoryPlan:
        crowd = [c.model_copy(update={"reference": str(path)}) if c.id == "crowd" else c for c in plan.characters]
        return plan.model_copy(update={"characters": crowd})

    def backend(**extra) -> DiffusersKeyframes:
        return DiffusersKeyframes(str(models["sd"]), steps=2, guidance=0.0, width=64, height=64, **extra)

    lone, crowded = plan.shots  # the hamster alone; the crowd (with a reference) and the hamster
    assert "crowd" not in lone.characters and "crowd" in crowded.characters
    ip = {"ip_adapter": [str(adapter), "models", "ip-adapter.bin"]}
    held = backend(**ip)
    red_crowd = np.asarray(held.keyframe(crowded, with_reference(red))).astype(int)
    alone = np.asarray(held.keyframe(lone, with_reference(red))).astype(int)
    blue_crowd = np.asarray(backend(**ip).keyframe(crowded, with_reference(blue))).astype(int)
    free = backend()
    # a shot without references is drawn as if there were no adapter; one with a reference follows it
    np.testing.assert_allclose(alone, np.asarray(free.keyframe(lone, plan)), atol=1)
    assert np.abs(red_crowd - np.asarray(free.keyframe(crowded, plan))).mean() > 0.1
    assert np.abs(red_crowd - blue_crowd).mean() > 0.1


class Watched(DiffusersKeyframes):
    """The tiny keyframe model, noting the likeness each keyframe was held to."""

    held: ClassVar[list] = []

    def _reference(self, pipe, shot, plan):
        given = super()._reference(pipe, shot, plan)
        held = [c.reference for c in (plan.character(cid) for cid in shot.characters) if c and c.reference]
        Watched.held.append((shot.id, np.asarray(given["ip_adapter_image"]) if held and given else None))
        return given


def test_a_characters_first_keyframe_holds_its_later_ones(models, plan, tmp_path):
    adapter = tiny_diffusion.ip_adapter(tmp_path / "ip-adapter", models["sd"])
    settings = {"steps": 2, "guidance": 0.0, "width": 64, "height": 64}
    keyframer = Watched(str(models["sd"]), ip_adapter=[str(adapter), "models", "ip-adapter.bin"], **settings)

    def render(plan, name, **options):
        teller = Storyteller(keyframe=keyframer, speaker=None, executor="serial", runs_dir=tmp_path, **options)
        Watched.held.clear()
        return teller.render(plan, tmp_path / name)

    first = render(plan, "memory")
    run_dir = first.run_dir
    hamster = first.plan.character("hamster")
    assert hamster.remembered == "references/hamster.png"  # recorded in plan.json, the picture beside it
    assert read_bytes(run_dir / "references" / "hamster.png") == read_bytes(run_dir / "keyframes" / "shot_001.png")
    assert '"remembered": "references/hamster.png"' in (run_dir / "plan.json").read_text()
    # the hamster's second shot was held to its first keyframe: the adapter received that very image
    held = dict(Watched.held)
    with Image.open(run_dir / "keyframes" / "shot_001.png") as image:
        assert held["shot_001"] is None and np.array_equal(held["shot_002"], np.asarray(image.convert("RGB")))
    # without memory the second shot is drawn from its prompt alone
    free = render(plan, "free", character_memory=False)
    assert dict(Watched.held)["shot_002"] is None and free.plan.character("hamster").remembered is None
    assert read_bytes(free.keyframes[0]) == read_bytes(first.keyframes[0])
    assert read_bytes(free.keyframes[1]) != read_bytes(first.keyframes[1])
    # a reference of the user's own wins: both shots are held to it, and the keyframes change
    red = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (230, 30, 30)).save(red)
    own = [c.model_copy(update={"reference": str(red)}) if c.id == "hamster" else c for c in plan.characters]
    pinned = render(plan.model_copy(update={"characters": own}), "pinned")
    assert pinned.plan.character("hamster").remembered is None
    assert read_bytes(pinned.keyframes[1]) != read_bytes(first.keyframes[1])
    with Image.open(red) as image:
        assert [np.array_equal(likeness, np.asarray(image)) for _, likeness in Watched.held] == [True, True]


def test_a_controlnet_draws_the_keyframe_on_the_retrieved_clips_depth(models, plan, tmp_path, monkeypatch):
    import base64

    from generators.diffusion.keyframes import structure_image
    from storyteller.core.models import Structure

    control = tiny_diffusion.controlnet(tmp_path / "controlnet", models["sd"])
    ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (18, 1))  # near on the right
    maps = [ramp, ramp[:, ::-1], np.full((18, 32), 128, np.uint8)]  # the clip's first, middle and last frame
    depth = Structure(
        kind="depth",
        width=32,
        height=18,
        times=[0, 0.5, 1],
        maps=[base64.b64encode(m.tobytes()).decode() for m in maps],
    )
    guided = plan.shots[0].model_copy(update={"guide": MotionGuide(source="clip.mp4#t=0", structure=depth)})
    calls = []
    real_run = runtime.run
    monkeypatch.setattr(
        runtime, "run", lambda pipe, what, **kwargs: calls.append((pipe, kwargs)) or real_run(pipe, what, **kwargs)
    )
    settings = {"steps": 2, "guidance": 0.0, "width": 64, "height": 64}
    keyframer = DiffusersKeyframes(str(models["sd"]), controlnet=str(control), guide_structure=1.0, **settings)
    assert keyframer.takes_structure
    held = np.asarray(keyframer.keyframe(guided, plan)).astype(int)
    pipe, kwargs = calls[-1]
    # the ControlNet pipeline received the depth map of the shot's start, enlarged to the keyframe's size
    assert type(pipe).__name__ == "StableDiffusionControlNetPipeline" and kwargs["controlnet_conditioning_scale"] == 1.0
    expected = np.asarray(structure_image(depth, 0.0, (64, 64)))
    assert np.array_equal(np.asarray(kwargs["image"]), expected) and expected[:, -1].mean() > expected[:, 0].mean()
    free = np.asarray(keyframer.keyframe(plan.shots[0], plan)).astype(int)  # no structure: the plain pipeline
    assert type(calls[-1][0]).__name__ == "StableDiffusionPipeline" and "image" not in calls[-1][1]
    assert np.abs(held - free).mean() > 0.5
    # a structure in the plan keys the keyframe: another map, another keyframe; none without a ControlNet
    from storyteller.core.cache import Cache
    from storyteller.render_plan import RenderPlan
    from storyteller.settings import RenderSettings

    def key(shot, backend):
        other = plan.model_copy(update={"shots": [shot, *plan.shots[1:]]})
        work = RenderPlan.build(
            other, {shot.id: shot.guide}, Cache(tmp_path / "c"), backend, AnimaticAnimator(), None, RenderSettings()
        )
        return work.shots[0].keyframe_key

    flipped = depth.model_copy(update={"maps": [depth.maps[1], depth.maps[0], depth.maps[2]]})
    other = guided.model_copy(update={"guide": guided.guide.model_copy(update={"structure": flipped})})
    assert key(guided, keyframer) != key(other, keyframer)
    plain = DiffusersKeyframes(str(models["sd"]), **settings)
    assert key(guided, plain) == key(other, plain)


def test_sparsectrl_animates_on_the_clips_structure_at_the_shots_times(models, plan, tmp_path, monkeypatch):
    import base64

    from generators.diffusion.keyframes import structure_image
    from storyteller.core.models import Structure

    video_model = tiny_diffusion.animatediff_sparsectrl(tmp_path / "sparsectrl", models["sd"])
    ramp = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (18, 1))
    maps = [ramp, ramp[:, ::-1], np.full((18, 32), 128, np.uint8)]
    encoded = [base64.b64encode(m.tobytes()).decode() for m in maps]
    depth = Structure(kind="depth", width=32, height=18, times=[0, 0.5, 1], maps=encoded)
    shot = plan.shots[0].model_copy(update={"duration": 0.875})  # 7 frames at 8 fps: one call
    guide = MotionGuide(source="clip.mp4#t=0", structure=depth)
    calls = []
    real_run = runtime.run

    def watched(pipe, what, **kwargs):
        calls.append(kwargs)
        return real_run(pipe, what, **kwargs)

    monkeypatch.setattr(runtime, "run", watched)
    settings = {"steps": 2, "guidance": 1.0, "width": 64, "height": 64, "frames": 8}
    guided = DiffusersAnimator(str(video_model), guide_structure=1.0, **settings)
    keyframe = Image.new("RGB", (64, 64))
    held = np.stack(list(guided.animate(keyframe, shot, plan, guide))).astype(int)
    # the depth maps of the clip's first, middle and last frame, at the shot's first, middle and last frame
    assert calls[-1]["controlnet_frame_indices"] == [0, 3, 6] and calls[-1]["controlnet_conditioning_scale"] == 1.0
    for image, time in zip(calls[-1]["conditioning_frames"], depth.times, strict=True):
        assert np.array_equal(np.asarray(image), np.asarray(structure_image(depth, time, (64, 64))))
    free = np.stack(list(DiffusersAnimator(str(video_model), **settings).animate(keyframe, shot, plan, guide)))
    assert calls[-1]["controlnet_conditioning_scale"] == 0.0  # unguided: a blank control frame weighing nothing
    assert np.abs(held - free.astype(int)).mean() > 0.5
    assert guided.config()["guide_structure"] == 1.0 and DiffusersAnimator("m").config()["guide_structure"] == 0.0


def test_a_pipeline_assembled_from_several_checkpoints_loads_each_component(models, plan, tmp_path):
    import torch
    from diffusers import UNet2DConditionModel

    other = UNet2DConditionModel.from_pretrained(models["sd"], subfolder="unet")
    with torch.no_grad():  # another denoiser of the same shape: other weights, another picture
        for weight in other.parameters():
            weight.add_(torch.randn_like(weight) * 0.2)
    other.save_pretrained(tmp_path / "other" / "unet")
    settings = {"steps": 2, "guidance": 0.0, "width": 64, "height": 64}
    swapped = DiffusersKeyframes(
        str(models["sd"]), components={"unet": ["UNet2DConditionModel", str(tmp_path / "other"), "unet"]}, **settings
    )
    base = DiffusersKeyframes(str(models["sd"]), **settings)
    assert swapped.config()["components"] and swapped.config() != base.config()  # another cache key
    shot = plan.shots[0]
    assert (
        np.abs(np.asarray(swapped.keyframe(shot, plan)).astype(int) - np.asarray(base.keyframe(shot, plan))).mean() > 1
    )
    bad = DiffusersKeyframes(str(models["sd"]), components={"unet": ["NoSuchModel", "x"]}, **settings)
    with pytest.raises(StorytellerError, match="no diffusers or transformers class 'NoSuchModel'"):
        bad.keyframe(shot, plan)
    assert (
        presets()["framepack-long"].animator["components"]["transformer"][0]
        == "HunyuanVideoFramepackTransformer3DModel"
    )


def read_bytes(path) -> bytes:
    return Path(path).read_bytes()


def test_reference_images_without_an_adapter_are_noted_not_fatal(models, plan, tmp_path, capfd):
    reference = tmp_path / "me.png"
    Image.new("RGB", (64, 64)).save(reference)
    hamster = [c.model_copy(update={"reference": str(reference)}) for c in plan.characters]
    image = DiffusersKeyframes(str(models["sd"]), steps=1, width=64, height=64).keyframe(
        plan.shots[0], plan.model_copy(update={"characters": hamster})
    )
    assert image.size == (64, 64)
    assert "reference images are not used" in capfd.readouterr().err


def test_ltx_takes_the_retrieved_clips_frames_as_a_condition(models, plan, tmp_path):
    from stitching import write_video

    reference = tmp_path / "moving_square.mp4"
    square = []
    for i in range(24):  # a white square crossing a black frame, 1 s at 24 fps
        frame = np.zeros((64, 64, 3), np.uint8)
        frame[16:32, 2 * i : 2 * i + 16] = 255
        square.append(frame)
    write_video(iter(square), reference, 24)
    guide = MotionGuide(source=f"{reference}#t=0.25", trajectory=[(0.1, 0.5), (0.8, 0.5)])
    shot = plan.shots[0]
    seen: list = []
    animator = DiffusersAnimator(str(models["ltx"]), steps=2, width=64, height=64, frames=9, fps=8, guide_strength=0.3)
    pipe = animator.load()
    original = type(pipe).__call__

    @functools.wraps(original)
    def spy(self, **kwargs):
        seen.append(kwargs["conditions"])
        return original(self, **kwargs)

    type(pipe).__call__ = spy
    try:
        keyframe = Image.new("RGB", (64, 64), (90, 140, 60))
        guided = animator.generate(keyframe, None, 9, shot, plan, guide)
        unguided = animator.generate(keyframe, None, 9, shot, plan, None)
        gone = animator.generate(keyframe, None, 9, shot, plan, guide.model_copy(update={"source": "/gone.mp4"}))
    finally:
        type(pipe).__call__ = original
    first, video = seen[0]
    assert first.image is not None and first.frame_index == 0
    ratio = pipe.vae_temporal_compression_ratio  # the first latent frame is the keyframe's alone
    assert video.frame_index == ratio and video.strength == 0.3 and len(video.video) == 9 - ratio
    # model frame k (at 8 fps) shows the clip at 0.25 s + k / 8 s: the square has moved 2 px per clip frame
    for k, image in enumerate(video.video, start=ratio):
        columns = np.flatnonzero(np.asarray(image)[24].max(axis=1) > 128)
        clip_frame = min(23, round((0.25 + k / 8) * 24))
        assert abs(columns.min() - 2 * clip_frame) <= 2
    assert len(seen[1]) == len(seen[2]) == 1  # no guide, or a clip that is gone: the keyframe alone
    assert any(not np.array_equal(a, b) for a, b in zip(guided, unguided, strict=True))
    assert len(gone) == 9


def test_ltx_infill_fills_between_two_frames_and_runs_in_the_fill_stage(models, plan, tmp_path):
    from generators.diffusion.infill import DiffusersInfill
    from stitching.fill import FillSettings
    from stitching.infill import INFILLERS

    infill = INFILLERS.create(f"diffusers:{models['ltx']}", steps=2, width=64, height=64)
    assert isinstance(infill, DiffusersInfill)
    first = np.full((64, 64, 3), (250, 20, 20), np.uint8)
    last = np.full((64, 64, 3), (20, 20, 250), np.uint8)
    frames = infill.fill(first, last, [0.25, 0.5, 0.75])
    assert len(frames) == 3 and all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    again = INFILLERS.create(f"diffusers:{models['ltx']}", steps=2, width=64, height=64).fill(
        first, last, [0.25, 0.5, 0.75]
    )
    for a, b in zip(frames, again, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(StorytellerError, match="first-and-last-frame pipeline"):
        INFILLERS.create(f"diffusers:{models['svd']}").fill(first, last, [0.5])
    # the orchestrator's fill stage with the LTX infill: the film has its planned frames
    fill = FillSettings(infill=infill, stride=4)
    result = Storyteller(runs_dir=tmp_path, fill=fill).render(plan, tmp_path / "ltx-fill")
    import decord

    assert len(decord.VideoReader(str(result.video))) == result.plan.total_frames
    # every segment is kept in the run's cache: a shot made again asks the model for none of them
    segments = list((store() / "segment").glob("*/*.npy"))
    assert len(segments) >= len(plan.shots)
    for stage in ("clip", "film-segment", "film"):
        for entry in (store() / stage).rglob("*"):
            if entry.is_file():
                entry.unlink()
    calls = []
    original = type(infill.load()).__call__

    @functools.wraps(original)
    def counting(self, **kwargs):
        calls.append(1)
        return original(self, **kwargs)

    type(infill.load()).__call__ = counting
    try:
        again = Storyteller(runs_dir=tmp_path, fill=fill).render(plan, tmp_path / "ltx-fill")
    finally:
        type(infill.load()).__call__ = original
    assert again.rendered["clips"] == len(plan.shots) and calls == []


def test_preset_auto_takes_the_best_preset_the_gpu_fits(models, tmp_path, monkeypatch):
    from generators.diffusion import Preset, best_fit

    small = Preset("small", "", (4, 2), {"model": "a"}, {"model": "b"}, rank=1)
    large = Preset("large", "", (40, 20), {"model": "c"}, {"model": "d"}, rank=5)
    choices = {"small": small, "large": large}
    assert best_fit(None, choices).preset is None  # no GPU: the animatic
    assert best_fit(1, choices).preset is None
    assert (best_fit(6, choices).preset, best_fit(6, choices).low_memory) == (small, False)
    assert (best_fit(24, choices).preset, best_fit(24, choices).low_memory) == (large, True)
    assert (best_fit(48, choices).preset, best_fit(48, choices).low_memory) == (large, False)
    # the built-in presets, by a faked GPU's memory, through the command line
    story = tmp_path / "hamster.txt"
    story.write_text(STORY)
    monkeypatch.setenv("STORYTELLER_GPU_MEMORY_GB", "3")
    made = run("make", story, *TINY, "--preset", "auto", "--no-library", cwd=tmp_path)
    assert made.returncode == 0 and "--preset auto: 3 GB GPU: no preset fits, the animatic draws" in made.stderr
    assert best_fit(12).preset.name == "wan-1.3b" and best_fit(24).preset.name == "wan2.2-ti2v-5b"
    assert best_fit(80).preset.name == "flux-schnell+ltx-0.9.7-distilled" and not best_fit(80).low_memory
    monkeypatch.setenv("STORYTELLER_GPU_MEMORY_GB", "lots")
    assert_clear_error(run("make", story, *TINY, "--preset", "auto", cwd=tmp_path), "STORYTELLER_GPU_MEMORY_GB=lots")


class CountingKeyframes:
    """Wraps a keyframe backend and records which shots it drew."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []
        self.takes_references, self.takes_structure, self.consistent = False, False, False

    def config(self):
        return self.inner.config()

    def keyframe(self, shot, plan, progress=None):
        self.calls.append(shot.id)
        return self.inner.keyframe(shot, plan, progress)


def test_a_shot_that_continues_starts_from_the_last_frame_of_the_clip_before(models, tmp_path):
    script = {
        "story_name": "one take",
        "scenes": [
            {"video_prompts": ["A hamster punches a bag in a gym.", "The hamster keeps punching, faster."],
             "cut": [True, False]},
        ],
    }  # fmt: skip
    keyframes = CountingKeyframes(DiffusersKeyframes(str(models["sd"]), steps=2, guidance=0.0, width=64, height=64))
    animator = DiffusersAnimator(str(models["svd"]), steps=2, width=64, height=64, frames=4, fps=4)
    teller = Storyteller(keyframe=keyframes, animator=animator, runs_dir=tmp_path / "runs", executor="serial")
    result = teller.make(json.dumps(script), name="take", width=64, height=64, fps=8)
    first, second = result.plan.shots
    assert second.continues and keyframes.calls == [first.id]  # the model drew the first keyframe only
    import decord

    film = decord.VideoReader(str(result.video))
    ended = film[result.plan.shot_frames(first) - 1].asnumpy().astype(int)  # the first clip's last frame
    with Image.open(result.keyframes[1]) as taken:
        began = np.asarray(taken.convert("RGB")).astype(int)
    assert np.abs(ended - began).mean() < 6  # the same picture, through the film's lossy encoder


def test_a_pinned_last_frame_ends_the_shots_last_chunk(models, plan, tmp_path):
    end = tmp_path / "end.png"
    Image.new("RGB", (64, 64), (20, 20, 250)).save(end)
    shot = plan.shots[0].model_copy(update={"duration": 1.0})
    pinned = shot.model_copy(update={"last_frame": str(end)})
    animator = DiffusersAnimator(str(models["ltx"]), steps=2, width=64, height=64, frames=9, fps=8)
    seen = []
    pipe = animator.load()
    original = type(pipe).__call__

    @functools.wraps(original)  # the backend reads the call's signature
    def spy(self, **kwargs):
        seen.append(kwargs)
        return original(self, **kwargs)

    type(pipe).__call__ = spy
    try:
        free = np.stack(list(animator.animate(Image.new("RGB", (64, 64), (250, 20, 20)), shot, plan)))
        held = np.stack(list(animator.animate(Image.new("RGB", (64, 64), (250, 20, 20)), pinned, plan)))
    finally:
        type(pipe).__call__ = original
    assert [c.frame_index for c in seen[0]["conditions"]] == [0]  # the keyframe alone
    assert [c.frame_index for c in seen[-1]["conditions"]][-1] == seen[-1]["num_frames"] - 1  # and the pinned end
    assert not np.array_equal(free[-1], held[-1])
