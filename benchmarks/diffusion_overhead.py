"""Orchestration overhead of the diffusion backends: the same tiny pipelines, the same frames, called
directly with diffusers versus through `storyteller`, side by side in one run.

    python benchmarks/diffusion_overhead.py            # 3 shots of the hamster story, 64x64 @ 8 fps
    python benchmarks/diffusion_overhead.py --shots 6 --steps 4 --rounds 5

Both paths load the pipelines, make every keyframe (tiny Stable Diffusion), animate it chunk by chunk
(tiny Stable Video Diffusion) and encode one H.264 film with the same encoder settings. storyteller adds
what it is for: the plan on disk, content-addressed caching of every keyframe and clip, lossless shot
clips joined into the film, subtitles and a contact sheet. The pipelines have random weights: their
cost per step is tiny next to a real model's, so the ratio measured here is an upper bound.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests import tiny_diffusion  # noqa: E402


def direct(models: dict, plan, steps: int, frames: int, out: Path) -> int:
    """What a user would write with diffusers alone: load, generate every shot, encode the film."""
    import diffusers
    import numpy as np
    from PIL import Image

    from generators.diffusion.animator import motion_bucket
    from generators.diffusion.runtime import generator
    from generators.prompts import keyframe_prompt, lead
    from stitching import write_video

    diffusers.utils.logging.set_verbosity_error()
    text2image = diffusers.AutoPipelineForText2Image.from_pretrained(models["sd"])
    text2image.set_progress_bar_config(disable=True)
    keyframes = []
    for shot in plan.shots:
        image = text2image(
            prompt=keyframe_prompt(shot, plan),
            num_inference_steps=steps,
            guidance_scale=0.0,
            generator=generator("keyframe", plan.seed, lead(shot), shot.location),
            width=plan.width,
            height=plan.height,
        ).images[0]
        keyframes.append(image)
    del text2image
    video = diffusers.StableVideoDiffusionPipeline.from_pretrained(models["svd"])
    video.set_progress_bar_config(disable=True)

    def film():
        for shot, keyframe in zip(plan.shots, keyframes, strict=True):
            count = plan.shot_frames(shot)
            chunks = 1 + max(0, math.ceil((count - frames) / (frames - 1)))
            first, made = keyframe, []
            for chunk in range(chunks):
                clip = video(
                    image=first,
                    num_inference_steps=steps,
                    generator=generator("animate", plan.seed, shot.text, shot.duration, chunk),
                    width=plan.width,
                    height=plan.height,
                    num_frames=frames,
                    output_type="np",
                    max_guidance_scale=3.0,
                    min_guidance_scale=1.0,
                    fps=plan.fps,
                    motion_bucket_id=motion_bucket(None),
                ).frames[0]
                clip = [(np.clip(f, 0, 1) * 255).round().astype(np.uint8) for f in clip]
                made.extend(clip if chunk == 0 else clip[1:])
                first = Image.fromarray(made[-1])
            yield from made[:count]

    return write_video(film(), out, plan.fps, crf=20)


def through_storyteller(models: dict, plan, steps: int, frames: int, runs: Path) -> int:
    from generators.diffusion.animator import DiffusersAnimator
    from generators.diffusion.keyframes import DiffusersKeyframes
    from storyteller.pipeline import Storyteller

    size = {"width": plan.width, "height": plan.height}
    teller = Storyteller(
        keyframe=DiffusersKeyframes(str(models["sd"]), steps=steps, guidance=0.0, **size),
        animator=DiffusersAnimator(str(models["svd"]), steps=steps, frames=frames, fps=plan.fps, **size),
        runs_dir=runs,
    )
    return teller.render(plan, runs / "story").plan.total_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--shots", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--frames", type=int, default=8, help="frames per generated chunk")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import decord
    import numpy as np
    import torch

    from planners.heuristic import HeuristicPlanner
    from storyteller.core.models import PlanConfig, Transition

    torch.set_num_threads(os.cpu_count() or 1)
    story = (ROOT / "examples" / "hamster_fight_night.txt").read_text()
    plan = HeuristicPlanner().plan(story, PlanConfig(title="story", width=args.size, height=args.size, fps=8))
    # cuts only: both paths then hold exactly the same frames (a crossfade would need the stitcher)
    shots = [s.model_copy(update={"transition": Transition()}) for s in plan.shots[: args.shots]]
    plan = plan.model_copy(update={"shots": shots})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = {
            "sd": tiny_diffusion.stable_diffusion(tmp / "sd"),
            "svd": tiny_diffusion.stable_video_diffusion(tmp / "svd"),
        }
        times: dict[str, list[float]] = {"direct": [], "storyteller": []}
        for round_ in range(args.rounds):  # alternate, so drift in the machine hits both alike
            for name in ("direct", "storyteller") if round_ % 2 == 0 else ("storyteller", "direct"):
                start = time.perf_counter()
                if name == "direct":
                    count = direct(models, plan, args.steps, args.frames, tmp / f"direct{round_}.mp4")
                else:
                    count = through_storyteller(models, plan, args.steps, args.frames, tmp / f"runs{round_}")
                times[name].append(time.perf_counter() - start)
                assert count == plan.total_frames
        ours = decord.VideoReader(str(tmp / "runs0" / "story" / "story.mp4"))
        theirs = decord.VideoReader(str(tmp / "direct0.mp4"))
        assert len(ours) == len(theirs) == plan.total_frames
        differ = float(
            np.mean([np.abs(ours[i].asnumpy().astype(int) - theirs[i].asnumpy()).mean() for i in (0, len(ours) // 2)])
        )

    title = (
        f"diffusion orchestration overhead ({len(plan.shots)} shots, {plan.total_frames} frames, "
        f"{args.size}x{args.size}, {args.steps} steps, median of {args.rounds})"
    )
    _report(title, times, differ)


def _report(title: str, times: dict[str, list[float]], differ: float) -> None:
    from rich.console import Console
    from rich.table import Table

    direct_s, ours_s = statistics.median(times["direct"]), statistics.median(times["storyteller"])
    table = Table(title=title)
    table.add_column("path")
    table.add_column("wall s", justify="right")
    table.add_column("vs direct", justify="right")
    table.add_row("diffusers called directly", f"{direct_s:.2f}", "1.000")
    table.add_row("through storyteller", f"{ours_s:.2f}", f"{ours_s / direct_s:.3f}")
    Console().print(table)
    print(
        f"extra wall time: {100 * (ours_s / direct_s - 1):+.1f} % (target <= 3 %); "
        f"mean pixel difference between the two films: {differ:.2f} / 255"
    )


if __name__ == "__main__":
    main()
