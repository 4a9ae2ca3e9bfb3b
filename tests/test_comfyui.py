"""The ComfyUI backends against a local server speaking ComfyUI's protocol (tests/comfy_server.py): queued,
progress, outputs of every kind, refusals, execution errors, a dropped socket, a server killed mid-shot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from generators.comfyui.backends import ComfyAnimator, ComfyKeyframes
from generators.comfyui.workflow import Workflow
from planners.heuristic import HeuristicPlanner
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig, StoryPlan
from tests.comfy_server import Faults, Running, ended, spawn
from tests.conftest import ROOT

TXT2IMG = ROOT / "examples" / "comfyui" / "txt2img.json"
IMG2VIDEO = ROOT / "tests" / "comfyui" / "img2video.json"
STORY = "Mia walked to the old lighthouse. The keeper waved at her from the top. A gull flew over the sea."
SIZE = ["--size", "64x48", "--fps", "8", "--no-audio", "--no-library"]


@pytest.fixture
def server(tmp_path):
    running = Running(tmp_path / "comfy")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def plan() -> StoryPlan:
    return HeuristicPlanner().plan(STORY, PlanConfig(title="t", width=64, height=48, fps=8))


def cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "storyteller", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def workflow(tmp_path: Path, nodes: dict, name: str = "w.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(nodes))
    return path


def prompts(server: Running) -> int:
    return sum(1 for method, path in server.state.requests if (method, path) == ("POST", "/prompt"))


def test_a_film_through_comfyui_is_made_resumed_and_redrawn_only_where_edited(server, tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    backends = ["--keyframe", f"comfyui:{TXT2IMG}", "--animator", f"comfyui:{IMG2VIDEO}", "--comfyui-url", server.url]
    nowhere = "http://127.0.0.1:9"  # a proxy the environment names is not used: only the server given is asked
    proxies = {"HTTP_PROXY": nowhere, "HTTPS_PROXY": nowhere, "ALL_PROXY": nowhere, "http_proxy": nowhere}
    made = cli("make", story, *backends, *SIZE, cwd=tmp_path, env=proxies)
    assert made.returncode == 0, made.stderr
    run_dir = tmp_path / "runs" / "story"
    plan = StoryPlan.model_validate_json((run_dir / "plan.json").read_text())
    shots = len(plan.shots)
    assert prompts(server) == 2 * shots  # a keyframe and a clip per shot
    record = json.loads((run_dir / "run.json").read_text())
    assert f"ComfyUI at {server.url}" in record["models"]["keyframes"]
    # the filled workflow: the shot's prompt, its seed as a number, the plan's size
    first = next(iter(server.state.history.values()))["prompt"][2]
    assert first["6"]["inputs"]["text"].startswith(plan.shots[0].prompt.rstrip(","))
    assert isinstance(first["3"]["inputs"]["seed"], int) and first["5"]["inputs"]["width"] == 64
    # the same make again: everything from the cache, the server never asked
    again = cli("make", story, *backends, *SIZE, cwd=tmp_path)
    assert again.returncode == 0 and prompts(server) == 2 * shots
    # one shot edited: its keyframe and clip alone are queued
    edited = plan.model_copy(deep=True)
    edited.shots[1].prompt = "a lighthouse keeper in a red coat waves from the gallery"
    (run_dir / "plan.json").write_text(edited.model_dump_json())
    rendered = cli("render", run_dir / "plan.json", *backends, *SIZE[4:5], cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert prompts(server) == 2 * shots + 2
    assert set(server.state.requests) <= {
        ("GET", "/object_info"), ("POST", "/prompt"), ("GET", "/view"), ("POST", "/upload/image"),
        *{("GET", path) for _, path in server.state.requests if path.startswith("/history/")},
    }  # fmt: skip


def test_progress_comes_from_the_websocket_and_every_kind_of_output_becomes_the_shots_frames(server, plan, tmp_path):
    keyframes = ComfyKeyframes(TXT2IMG, url=server.url)
    keyframes.prepare_plan(plan)
    steps: list[tuple[int, int]] = []
    image = keyframes.keyframe(plan.shots[0], plan, progress=lambda done, total: steps.append((done, total)))
    assert image.size == (64, 48) and steps == [(i, 20) for i in range(1, 21)]
    shot, count = plan.shots[0], plan.shot_frames(plan.shots[0])
    saves = {
        "mp4": {"class_type": "VHS_VideoCombine", "inputs": {"images": ["2", 0], "frame_rate": 8.0,
                "filename_prefix": "v", "format": "video/h264-mp4"}},
        "webp": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["2", 0], "fps": 8.0, "filename_prefix": "w"}},
        "gif": {"class_type": "VHS_VideoCombine", "inputs": {"images": ["2", 0], "frame_rate": 8.0,
                "filename_prefix": "g", "format": "image/gif"}},
        "pngs": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "p"}},
    }  # fmt: skip
    made = {}
    for kind, save in saves.items():
        nodes = json.loads(IMG2VIDEO.read_text())
        nodes["3"] = save
        animator = ComfyAnimator(workflow(tmp_path, nodes, f"{kind}.json"), url=server.url)
        frames = list(animator.animate(image, shot, plan))
        assert len(frames) == count and all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)
        made[kind] = np.stack(frames).astype(int)
    # lossless outputs are the node's frames exactly; H.264 is within a few levels of them
    assert np.array_equal(made["webp"], made["pngs"])
    assert np.abs(made["mp4"] - made["pngs"]).mean() < 4
    assert np.abs(made["gif"] - made["pngs"]).mean() < 12  # a GIF's 256 colours
    assert np.abs(made["pngs"][-1] - made["pngs"][0]).mean() > 10  # it moves


def test_a_pinned_last_frame_reaches_the_workflow(server, plan, tmp_path):
    from PIL import Image

    white = tmp_path / "end.png"
    Image.new("RGB", (64, 48), (255, 255, 255)).save(white)
    nodes = json.loads(IMG2VIDEO.read_text())
    nodes["4"] = {"class_type": "LoadImage", "inputs": {"image": "{{last_image}}"}}
    nodes["2"]["inputs"]["last_image"] = ["4", 0]
    animator = ComfyAnimator(workflow(tmp_path, nodes), url=server.url)
    with pytest.raises(StorytellerError, match="pins no last frame"):
        animator.prepare_plan(plan)
    pinned = plan.model_copy(update={"shots": [s.model_copy(update={"last_frame": str(white)}) for s in plan.shots]})
    animator.prepare_plan(pinned)
    frames = list(animator.animate(Image.new("RGB", (64, 48)), pinned.shots[0], pinned))
    assert frames[0].mean() < 60 and frames[-1].mean() > 250  # from the black keyframe to the white last frame


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda n: n["3"]["inputs"].update(seed="{{sead}}"), "unknown placeholder {{sead}}"),
        (lambda n: n["6"]["inputs"].update(text="{{prompt}}, masterpiece"), "must be the input's whole value"),
        (lambda n: n["6"]["inputs"].update(text="a cat"), "a keyframe workflow needs {{prompt}}"),
        (lambda n: n.update(nodes=[], links=[]), "UI format"),
        (
            lambda n: n.update({"10": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}}}),
            "use it in an animator",
        ),
    ],
)
def test_a_wrong_workflow_is_one_line_before_anything_runs(change, said, tmp_path):
    nodes = json.loads(TXT2IMG.read_text())
    change(nodes)
    path = workflow(tmp_path, nodes)
    story = tmp_path / "s.txt"
    story.write_text(STORY)
    made = cli(
        "make", story, "--keyframe", f"comfyui:{path}", "--comfyui-url", "http://127.0.0.1:9", *SIZE, cwd=tmp_path
    )
    assert made.returncode == 2 and said in made.stderr and "Traceback" not in made.stderr
    assert len(made.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.mp4"))


def test_an_animator_without_an_image_and_a_workflow_without_an_output_node_are_refused(server, plan, tmp_path):
    nodes = json.loads(IMG2VIDEO.read_text())
    nodes["1"]["inputs"]["image"] = "example.png"
    with pytest.raises(StorytellerError, match="an animator workflow needs"):
        ComfyAnimator(workflow(tmp_path, nodes), url=server.url)
    silent = json.loads(TXT2IMG.read_text())
    del silent["9"]
    keyframes = ComfyKeyframes(workflow(tmp_path, silent, "silent.json"), url=server.url)
    with pytest.raises(StorytellerError, match="no output node"):
        keyframes.prepare_plan(plan)
    foreign = json.loads(TXT2IMG.read_text())
    foreign["9"]["class_type"] = "SaveImageWebsocket"
    with pytest.raises(StorytellerError, match="has no node SaveImageWebsocket"):
        ComfyKeyframes(workflow(tmp_path, foreign, "foreign.json"), url=server.url).prepare_plan(plan)


def test_the_servers_own_reasons_name_the_shot_in_one_line(server, tmp_path):
    story = tmp_path / "s.txt"
    story.write_text(STORY)
    missing = json.loads(TXT2IMG.read_text())
    missing["4"]["inputs"]["ckpt_name"] = "sdxl.safetensors"  # a model the server does not have
    path = workflow(tmp_path, missing)
    refused = cli("make", story, "--keyframe", f"comfyui:{path}", "--comfyui-url", server.url, *SIZE, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (
        "ComfyUI, shot_001:" in refused.stderr and "Value not in list: ckpt_name: 'sdxl.safetensors'" in refused.stderr
    )
    big = ["--size", "1280x1024", "--fps", "8", "--no-audio", "--no-library"]
    oom = cli("make", story, "--keyframe", f"comfyui:{TXT2IMG}", "--comfyui-url", server.url, *big, cwd=tmp_path)
    assert oom.returncode == 2 and "node 3 (KSampler) failed: CUDA out of memory" in oom.stderr
    down = cli(
        "make", story, "--keyframe", f"comfyui:{TXT2IMG}", "--comfyui-url", "http://127.0.0.1:9", *SIZE, cwd=tmp_path
    )
    assert down.returncode == 2 and "is not answering" in down.stderr and "Traceback" not in down.stderr


def test_a_dropped_websocket_falls_back_to_the_history(tmp_path, plan):
    running = Running(tmp_path / "comfy", Faults(drop_socket=True))
    try:
        image = ComfyKeyframes(TXT2IMG, url=running.url).keyframe(plan.shots[0], plan)
        assert image.size == (64, 48) and np.asarray(image).std() > 5
    finally:
        running.stop()


def test_the_workflows_content_keys_the_work_not_its_layout_or_path(tmp_path):
    nodes = json.loads(TXT2IMG.read_text())
    compact = workflow(tmp_path, nodes, "compact.json")
    spaced = tmp_path / "elsewhere" / "spaced.json"
    spaced.parent.mkdir()
    spaced.write_text(json.dumps(nodes, indent=4))
    assert ComfyKeyframes(compact).config() == ComfyKeyframes(spaced, url="http://10.0.0.1:8188").config()
    nodes["3"]["inputs"]["steps"] = 30
    assert ComfyKeyframes(workflow(tmp_path, nodes, "steps.json")).config() != ComfyKeyframes(compact).config()
    assert Workflow.read(compact, "keyframe").uses == {"prompt", "negative_prompt", "seed", "width", "height"}


def test_a_server_killed_mid_shot_is_one_line_and_the_next_run_resumes(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(STORY)
    dying, url = spawn(tmp_path / "comfy", "--die-after", "2")
    backends = ["--keyframe", f"comfyui:{TXT2IMG}", "--comfyui-url", url, "--executor", "serial"]
    try:
        killed = cli("make", story, *backends, *SIZE, cwd=tmp_path)
    finally:
        ended(dying)
    assert killed.returncode == 2 and "Traceback" not in killed.stderr
    assert "ComfyUI, shot_003:" in killed.stderr and "not answering" in killed.stderr
    again, _ = spawn(tmp_path / "comfy2", port=int(url.rsplit(":", 1)[1]))  # the same address, a new server
    try:
        resumed = cli("make", story, *backends, *SIZE, cwd=tmp_path)
        history = httpx.get(f"{url}/history", timeout=10).json()
    finally:
        again.terminate()
        again.wait(timeout=30)
    assert resumed.returncode == 0, resumed.stderr
    assert len(history) == 1  # shots 1 and 2 were kept: only shot 3 is drawn again
