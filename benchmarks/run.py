"""Benchmarks of the default pipeline, measured side by side in one run.

    python benchmarks/run.py            # everything (about five minutes on 2 cores)
    python benchmarks/run.py --quick    # real-time factor only

Each measurement is a cold `storyteller make` (empty run directory) in its own process, so imports,
model loads and encoding all count. Figures are reported as ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the_lighthouse_cat.txt"


def print_table(header: tuple[str, ...], rows: list[tuple]) -> None:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def cold_make(story: Path, workdir: Path, *args: str) -> tuple[float, Any]:
    """(wall seconds, resource usage of the process and the children it waited for) of one `make`."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "storyteller", "make", str(story), "--quiet", "--runs", str(workdir), *args],
        env=env,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        detail = process.stderr.read().decode() if process.stderr else status
        raise SystemExit(f"make {' '.join(args)} failed: {detail}")
    return wall, usage


def make(story: Path, workdir: Path, *args: str) -> tuple[float, int, float]:
    """(wall seconds, peak resident KiB of the process, seconds of video) of one cold make."""
    wall, usage = cold_make(story, workdir, *args)
    from storyteller.core.models import read_plan

    plan = read_plan(workdir / story.stem / "plan.json")
    return wall, usage.ru_maxrss, plan.duration


def story_of_length(minutes: float, path: Path) -> Path:
    """The example's paragraphs repeated until the plan runs `minutes` long."""
    paragraphs = EXAMPLE.read_text().split("\n\n")[1:]
    per_pass = 110.0  # seconds of video one pass of the example plans to
    copies = max(1, round(minutes * 60 / per_pass * len(paragraphs)))
    path.write_text("\n\n".join(paragraphs[k % len(paragraphs)] for k in range(copies)))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the real-time factor")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # warm the per-user emoji cache once, so every run below pays the same (model-free) cost
        make(EXAMPLE, tmp_path / "warm", "--size", "64x64", "--fps", "4")
        base = None
        for workers in (1, 2):
            wall, _, seconds = make(EXAMPLE, tmp_path / f"rtf{workers}", "--workers", str(workers))
            base = base or wall
            rows.append(
                (
                    f"real-time factor, 2-minute example, 512x288 @ 24 fps, {workers} worker(s)",
                    f"{seconds / wall:.2f}x",
                    f"{seconds:.0f}s of video in {wall:.1f}s; speed-up vs 1 worker {base / wall:.2f}",
                )
            )
        if not args.quick:
            peaks = {}
            for minutes in (1, 10):
                story = story_of_length(minutes, tmp_path / f"story_{minutes}min.txt")
                wall, peak, seconds = make(story, tmp_path / f"mem{minutes}", "--workers", "1")
                peaks[minutes] = peak
                rows.append(
                    (
                        f"peak memory, {minutes}-minute story",
                        f"{peak / 1024:.0f} MiB",
                        f"{seconds:.0f}s of video, real-time factor {seconds / wall:.2f}x",
                    )
                )
            rows.append(("peak memory ratio, 10-minute / 1-minute", f"{peaks[10] / peaks[1]:.3f}", "target < 1.2"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  notes")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
