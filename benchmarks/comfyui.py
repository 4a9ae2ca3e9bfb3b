"""What driving ComfyUI costs storyteller, and a film that survives the server's death, against the local
server that speaks ComfyUI's protocol (tests/comfy_server.py, in a process of its own).

    python benchmarks/comfyui.py             # 2-second jobs, 6 shots; a 20-shot film killed at shot 10
    python benchmarks/comfyui.py --shots 3 --job-seconds 1

Overhead per shot: the client's time in the protocol (upload, queue, follow the job, fetch what it saved) less
the job's own time as the server recorded it (execution_start to execution_success), as a share of the job;
beside it, the decoding of what was saved into the shot's frames (work any use of the clip needs). Resume: a
20-shot film made with `--keyframe comfyui:...`, the server killed in the middle of shot 11's job; a second
server started and the same make run again; what it queued is what was not kept.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.comfy_server import ended, spawn  # noqa: E402

KEYFRAME = ROOT / "examples" / "comfyui" / "txt2img.json"
ANIMATOR = ROOT / "tests" / "comfyui" / "img2video.json"
STEPS = 20  # each job's sampler steps (both workflows)


def job_seconds(url: str) -> list[float]:
    """Each finished job's own time, from the timestamps the server kept in its history."""
    import httpx

    times = []
    for entry in httpx.get(f"{url}/history", timeout=30).json().values():
        stamps = {m[0]: m[1]["timestamp"] for m in entry["status"]["messages"]}
        times.append((stamps["execution_success"] - stamps["execution_start"]) / 1000)
    return times


def overhead(shots: int, seconds: float, work: Path) -> list[tuple[str, str]]:
    """Per shot, for keyframes and for clips: the protocol's cost (upload, queue, follow, fetch) beyond the job's
    own time, and the decoding of what it saved into the shot's frames."""
    from generators.comfyui.backends import ComfyAnimator, ComfyKeyframes
    from planners.heuristic import HeuristicPlanner
    from storyteller.core.models import PlanConfig

    story = " ".join(f"Mia walked past lighthouse number {i}." for i in range(shots))
    plan = HeuristicPlanner().plan(story, PlanConfig(title="bench", width=512, height=288, fps=24))
    server, url = spawn(work / "overhead", "--step-seconds", str(seconds / STEPS))
    try:
        backends = {"keyframe": ComfyKeyframes(KEYFRAME, url=url), "clip": ComfyAnimator(ANIMATOR, url=url)}
        spent = {kind: timed(backend.client) for kind, backend in backends.items()}
        walls: dict[str, list[float]] = {"keyframe": [], "clip": []}
        for shot in plan.shots[:shots]:
            start = time.perf_counter()
            image = backends["keyframe"].keyframe(shot, plan)
            walls["keyframe"].append(time.perf_counter() - start)
            start = time.perf_counter()
            frames = sum(1 for _ in backends["clip"].animate(image, shot, plan))
            walls["clip"].append(time.perf_counter() - start)
            assert frames == plan.shot_frames(shot)
        jobs = job_seconds(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = []
    for kind, offset in (("keyframe", 0), ("clip", 1)):
        own = statistics.median(jobs[offset::2])
        protocol = statistics.median(spent[kind]["call"]) - own
        decode = statistics.median(w - c for w, c in zip(walls[kind], spent[kind]["call"], strict=True))
        rows.append(
            (
                f"per {kind}: upload, queue, follow, fetch ({own:.2f} s jobs)",
                f"{protocol * 1000:.0f} ms = {protocol / own:.1%} of a job (target <= 3 %)",
            )
        )
        rows.append((f"per {kind}: decoding what it saved into the shot's frames", f"{decode * 1000:.0f} ms"))
    return rows


def timed(client: Any) -> dict[str, list[float]]:
    """The client's protocol calls timed: each shot's upload, run and fetch, summed into one figure a shot."""
    spent: dict[str, list[float]] = {"call": []}
    current = [0.0]

    def wrap(name: str) -> None:
        method = getattr(client, name)

        def measured(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                current[0] += time.perf_counter() - start
                if name == "fetch":  # a shot's calls end with its fetches (one here)
                    spent["call"].append(current[0])
                    current[0] = 0.0

        setattr(client, name, measured)

    for name in ("upload", "run", "fetch"):
        wrap(name)
    return spent


def resume(work: Path) -> list[tuple[str, str]]:
    """A 20-shot film, the server killed during shot 11's keyframe; the make run again on a new server."""
    import httpx

    story = work / "twenty.txt"
    story.write_text(" ".join(f"Mia walked past lighthouse number {i}." for i in range(1, 21)))
    env = {**os.environ, "STORYTELLER_CACHE": str(work / "store")}

    def make(url: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "storyteller", "make", str(story), "--keyframe", f"comfyui:{KEYFRAME}"]
        command += ["--comfyui-url", url, "--size", "128x72", "--fps", "8", "--no-audio", "--no-library", "-q"]
        return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=1800)

    dying, url = spawn(work / "first", "--die-after", "10")
    try:
        killed = make(url)
    finally:
        ended(dying)
    second, url = spawn(work / "second")
    try:
        resumed = make(url)
        queued = len(httpx.get(f"{url}/history", timeout=30).json())
    finally:
        second.terminate()
        second.wait(timeout=30)
    plan = json.loads((work / "runs" / "twenty" / "plan.json").read_text())
    line = killed.stderr.strip().splitlines()[-1] if killed.stderr.strip() else ""
    return [
        ("20-shot film, server killed during shot 11", f"exit {killed.returncode}: {line}"),
        ("the same make on a new server", f"exit {resumed.returncode}; {len(plan['shots'])} shots"),
        ("keyframes queued again / reused", f"{queued} / {len(plan['shots']) - queued} (target: 10 / 10)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=6, help="shots timed for the overhead")
    parser.add_argument("--job-seconds", type=float, default=2.0, help="each job's length on the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rows = overhead(args.shots, args.job_seconds, work) + resume(work)
    width = max(len(name) for name, _ in rows)
    print(f"| {'ComfyUI (local test server)':<{width}} | figure |\n|{'-' * (width + 2)}|---|")
    for name, figure in rows:
        print(f"| {name:<{width}} | {figure} |")


if __name__ == "__main__":
    main()
