"""The NUWA-XL fill, measured side by side in one run.

    python benchmarks/fill.py            # about eight minutes on 2 cores
    python benchmarks/fill.py --quick    # the speed figures alone

1. frames filled per second by the `flow` infill at 512x288 (animatic frames of an example);
2. speed-up of filling the same gaps on 2 worker processes against 1, one thread each (segments are
   independent; each worker loads its own stretch of the film from disk);
0. what the animatic takes to draw a frame and the flow infill to make one (ms per megapixel, at four
   sizes), beside the figures they declare: `--fill auto` chooses by the declared ones, so a film never
   depends on the machine; this is how they are checked, and updated when the drawing or the flow changes;
3. each example rendered four ways: every frame rendered (no fill), flow fill at stride 2 (the default)
   and 4, and frames held (what the anchors alone look like), scored by `storyteller eval`: motion
   smoothness and flicker, with the wall time of each `make`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

EXAMPLES = ["hamster_fight_night", "zosia_walks_home"]


def fill_share(share: str) -> int:
    """Fill every gap of two frames in one stretch of a film (a .npy of frames): one worker's share."""
    import numpy as np

    from stitching.fill import fill_gap
    from stitching.infill import FlowInfill

    frames = np.load(share)
    infill = FlowInfill()
    for i in range(0, len(frames) - 2, 2):
        fill_gap(frames[i], frames[i + 2], 2, 1, infill)
    return len(frames)


def drawing_seconds(width: int, height: int) -> float:
    """Seconds per frame for the animatic on a busy probe shot: a cat and a dog by a house, one walking,
    outdoors at dusk in the rain, captioned."""
    from generators.animatic import ShotRenderer, shared_matcher
    from storyteller.core.models import Action, Entity, SceneGraph, Shot, StoryPlan

    graph = SceneGraph(
        entities=[Entity(id="cat", label="cat"), Entity(id="dog", label="dog"), Entity(id="house", label="house")],
        actions=[Action(agent="cat", verb="walk", start=0.0, end=1.0)],
        time_of_day="dusk",
        weather="rain",
    )
    text = "A cat walks past a dog in the rain."
    shot = Shot(id="probe", text=text, prompt=text, span=(0, len(text)), duration=1.0, graph=graph)
    plan = StoryPlan(title="probe", shots=[shot], width=width, height=height, fps=12)
    renderer = ShotRenderer(shot, plan, shared_matcher(), captions=True)
    renderer.frame(0.0)  # the first frame loads glyphs and fonts: not what a frame costs
    start = time.perf_counter()
    for k in range(1, 25):
        renderer.frame(k / 12)
    return (time.perf_counter() - start) / 24


def flow_seconds(width: int, height: int) -> float:
    """Seconds per frame the flow infill takes, on two frames of a smooth pattern a few pixels apart."""
    import numpy as np

    from stitching.infill import FlowInfill

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)

    def frame(shift: float) -> np.ndarray:
        wave = 127 + 120 * np.sin((x + shift) / 9.0) * np.cos(y / 7.0)
        return np.repeat(wave[..., None], 3, axis=2).astype(np.uint8)

    infill = FlowInfill()
    infill.fill(frame(0), frame(4), [0.5])  # warm: OpenCV's first call sets itself up
    start = time.perf_counter()
    for _ in range(4):
        infill.fill(frame(0), frame(4), [0.25, 0.5, 0.75])
    return (time.perf_counter() - start) / 12


def declared_costs() -> Table:
    from generators.animatic import AnimaticAnimator
    from stitching.infill import FlowInfill

    table = Table(title="cost per frame, ms per megapixel: measured here / declared (what --fill auto reads)")
    for column in ("size", "animatic draws", "flow infills", "infill / draw"):
        table.add_column(column, justify="right")
    for width, height in ((128, 72), (256, 144), (512, 288), (1024, 576)):
        megapixels = width * height / 1e6
        drawn, made = drawing_seconds(width, height) * 1e3 / megapixels, flow_seconds(width, height) * 1e3 / megapixels
        table.add_row(f"{width}x{height}", f"{drawn:.1f}", f"{made:.1f}", f"{made / drawn:.1f}")
    declared_draw, declared_fill = AnimaticAnimator.frame_cost, FlowInfill.frame_cost
    assert declared_draw is not None and declared_fill is not None
    table.add_row("declared", f"{declared_draw:g}", f"{declared_fill:g}", f"{declared_fill / declared_draw:.1f}")
    return table


def main(quick: bool = False) -> None:
    from rich.console import Console

    console = Console()
    console.print(declared_costs())
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        renders = _renders(runs, quick)
        console.print(_speed_table(renders, runs))
        if not quick:
            console.print(_quality_table(renders))


def _renders(runs: Path, quick: bool) -> dict[tuple[str, str], tuple[float, Path]]:
    """Each example made in each mode: its make's seconds and its film."""
    from stitching.fill import FillSettings
    from storyteller.pipeline import Storyteller

    renders: dict[tuple[str, str], tuple[float, Path]] = {}
    modes = {
        "every frame rendered": None,
        "flow fill, stride 2": FillSettings(stride=2),
        "flow fill, stride 4": FillSettings(stride=4, depth=2),
        "held frames, stride 2": FillSettings(infill="hold", stride=2),
    }
    for example in EXAMPLES[:1] if quick else EXAMPLES:
        story = (ROOT / "examples" / f"{example}.txt").read_text()
        for mode, fill in list(modes.items())[: 1 if quick else None]:
            start = time.perf_counter()
            result = Storyteller(runs_dir=runs / mode.replace(" ", "_"), fill=fill, workers=2).make(story, example)
            renders[example, mode] = (time.perf_counter() - start, result.video)
    return renders


def _speed_table(renders: dict[tuple[str, str], tuple[float, Path]], runs: Path) -> Any:
    """1 and 2: every gap of the fully rendered hamster film, two frames apart, three times over; each
    worker loads its own stretch of the film (as a render worker has its shot's frames at hand), so what is
    measured is the fill, not frames pickled between processes."""
    import numpy as np
    from rich.table import Table

    from stitching import read_video
    from stitching.fill import one_thread_each

    frames = list(read_video(renders["hamster_fight_night", "every frame rendered"][1]))
    shares = []
    for start in range(0, len(frames) - 2, 62):
        share = runs / f"share{start}.npy"
        np.save(share, np.stack(frames[start : start + 64]))
        shares.append(str(share))
    shares *= 3
    gaps = sum(len(range(0, len(np.load(s, mmap_mode="r")) - 2, 2)) for s in shares)
    timings = {}
    for workers in (1, 2):
        start = time.perf_counter()
        if workers == 1:
            one_thread_each()  # one worker, one core: as each pool worker runs
            for share in shares:
                fill_share(share)
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=one_thread_each) as pool:
                list(pool.map(fill_share, shares))
        timings[workers] = time.perf_counter() - start
    speed = Table(title=f"flow infill at 512x288: {gaps} gaps of one frame")
    for column in ("workers", "wall s", "frames filled / s", "speed-up"):
        speed.add_column(column, justify="right")
    for workers, seconds in timings.items():
        speed.add_row(str(workers), f"{seconds:.2f}", f"{gaps / seconds:.1f}", f"{timings[1] / seconds:.2f}")
    return speed


def _quality_table(renders: dict[tuple[str, str], tuple[float, Path]]) -> Any:
    """Each film's smoothness and flicker (storyteller eval), with and without the fill."""
    from rich.table import Table

    from stitching.metrics import evaluate_video
    from storyteller.core.models import read_plan

    quality = Table(title="examples with and without the fill (storyteller eval)")
    for column in ("example", "mode", "make s", "smoothness", "flicker"):
        quality.add_column(column, justify="right" if column not in ("example", "mode") else "left")
    for (example, mode), (seconds, video) in renders.items():
        plan = read_plan(video.parent / "plan.json")
        scores = evaluate_video(video, plan)
        quality.add_row(example, mode, f"{seconds:.1f}", f"{scores.smoothness:.4f}", f"{scores.flicker:.4f}")
    return quality


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
