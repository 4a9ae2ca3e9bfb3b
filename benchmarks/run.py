"""Benchmarks of the default pipeline, measured side by side in one run.

    python benchmarks/run.py            # everything but the novel (about five minutes on 2 cores)
    python benchmarks/run.py --quick    # real-time factor only
    python benchmarks/run.py --novel    # a novel-length story of our own: plan, make, resume (about 30 min)

Each measurement is a `storyteller make` or `render` in its own process, so imports, model loads and
encoding all count. "Cold" is an empty cache (STORYTELLER_CACHE pointed at an empty folder); "fresh
machine" is an empty user cache directory too (XDG_CACHE_HOME). Figures are reported as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # first: this folder's retrieval.py must not shadow the retrieval package

from benchmarks.novel import write_book  # noqa: E402
from storyteller.core.cache import file_digest  # noqa: E402
from storyteller.core.models import read_plan  # noqa: E402
from storyteller.core.video_io import read_video, write_video  # noqa: E402
from storyteller.settings import DEFAULT_QUALITY, ENCODERS  # noqa: E402

EXAMPLE = ROOT / "examples" / "the_lighthouse_cat.txt"


def print_table(header: tuple[str, ...], rows: list[tuple]) -> None:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def storyteller(*args: str, env: dict[str, str] | None = None) -> tuple[float, Any]:
    """(wall seconds, resource usage of the process and the children it waited for) of one command."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "storyteller", *args, "--quiet"], env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        detail = process.stderr.read().decode() if process.stderr else status
        raise SystemExit(f"storyteller {' '.join(args)} failed: {detail}")
    return wall, usage


def make(story: Path, workdir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """(wall seconds, peak resident KiB of the process, seconds of video) of one make; cold (an empty
    cache of its own) unless `env` names a STORYTELLER_CACHE."""
    env = {"STORYTELLER_CACHE": str(workdir / "store"), **(env or {})}
    wall, usage = storyteller("make", str(story), "--runs", str(workdir), *args, env=env)
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
    parser.add_argument("--novel", action="store_true", help="only the novel: a feature film from a book")
    parser.add_argument("--words", type=int, default=10_000, help="the novel's length (10,000: about 90 minutes)")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        user = {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}  # this run's own user cache directory
        if args.novel:
            print_rows(novel_rows(tmp_path, user, args.words))
            return
        if not args.quick:
            rows += first_and_later_makes(tmp_path, user)
        # warm the per-user memo once, so every run below pays the same (model-free) cost
        make(EXAMPLE, tmp_path / "warm", "--size", "64x64", "--fps", "4", env=user)
        base = None
        for workers in (1, 2):
            wall, _, seconds = make(EXAMPLE, tmp_path / f"rtf{workers}", "--workers", str(workers), env=user)
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
                wall, peak, seconds = make(story, tmp_path / f"mem{minutes}", "--workers", "1", env=user)
                peaks[minutes] = peak
                rows.append(
                    (
                        f"peak memory, {minutes}-minute story",
                        f"{peak / 1024:.0f} MiB",
                        f"{seconds:.0f}s of video, real-time factor {seconds / wall:.2f}x",
                    )
                )
            rows.append(("peak memory ratio, 10-minute / 1-minute", f"{peaks[10] / peaks[1]:.3f}", "target < 1.2"))
    print_rows(rows)


def print_rows(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  notes")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


GLYPH_TIMER = """
import json, sys, time
from pathlib import Path
from generators.animatic.glyphs import GlyphMatcher
labels = json.loads(sys.argv[1])
start = time.perf_counter()
matcher = GlyphMatcher(cache_dir=Path(sys.argv[2]))
found = [matcher.match(label) for label in labels]
print(json.dumps([time.perf_counter() - start, matcher._model is not None]))
"""


def glyph_matching(plan: Any, user_cache: Path) -> tuple[str, str, str]:
    """The time a fresh machine's first make spends matching the plan's nouns to glyphs (imports aside)."""
    labels = sorted(
        {e.label for shot in plan.shots for e in shot.graph.entities} | {loc.name for loc in plan.locations}
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", GLYPH_TIMER, json.dumps(labels), str(user_cache)]
    seconds, loaded = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
    embedder = "the embedder loaded" if loaded else "no embedder loaded"
    return ("glyph matching on a fresh machine", f"{seconds:.2f}s", f"{len(labels)} nouns, {embedder}; target <= 1 s")


def first_and_later_makes(tmp_path: Path, user: dict[str, str]) -> list[tuple[str, str, str]]:
    """Issue 15's rows, side by side: a make on a fresh machine, a cold make, the same make again, an edit
    of one shot, the plan rendered from elsewhere; and the encoder alone on the same frames (the floor)."""
    rows: list[tuple[str, str, str]] = []
    store = {**user, "STORYTELLER_CACHE": str(tmp_path / "shared-store")}
    first, _, seconds = make(EXAMPLE, tmp_path / "first", env=store)  # empty user cache, empty store
    plan = read_plan(tmp_path / "first" / EXAMPLE.stem / "plan.json")
    what = f"{len(plan.shots)} shots, {seconds:.0f}s of video"
    rows.append(
        (
            "first make on a fresh machine (empty user cache)",
            f"{seconds / first:.2f}x",
            f"{what} in {first:.1f}s; target >= 8x",
        )
    )
    rows.append(glyph_matching(plan, tmp_path / "fresh-user-cache"))
    cold, _, _ = make(EXAMPLE, tmp_path / "cold", env=user)  # warm install and memo, empty store
    rows.append(("cold make (warm install, empty cache)", f"{seconds / cold:.2f}x", f"{cold:.1f}s; target >= 10x"))
    again, _, _ = make(EXAMPLE, tmp_path / "again", env=store)  # a new run directory, the same store
    rows.append(("second identical make", f"{again / cold:.1%}", f"{again:.1f}s, of a cold make; target <= 5%"))
    plan_path = tmp_path / "again" / EXAMPLE.stem / "plan.json"
    edited = json.loads(plan_path.read_text())
    middle = edited["shots"][len(edited["shots"]) // 2]
    middle["graph"]["weather"] = "snow" if middle["graph"].get("weather") != "snow" else "rain"
    plan_path.write_text(json.dumps(edited))
    edit, _ = storyteller("render", str(plan_path), env=store)
    rows.append(("edit one shot, render", f"{edit / cold:.1%}", f"{edit:.1f}s, of a cold make; target <= 15%"))
    moved = tmp_path / "desk" / "plan.json"
    moved.parent.mkdir()
    moved.write_text(plan_path.read_text())
    elsewhere, _ = storyteller("render", str(moved), "--runs", str(tmp_path / "elsewhere"), env=store)
    rows.append(
        (
            "render a moved copy of the plan",
            f"{elsewhere / cold:.1%}",
            f"{elsewhere:.1f}s, of a cold make; target <= 10%",
        )
    )
    frames = list(read_video(tmp_path / "cold" / EXAMPLE.stem / f"{EXAMPLE.stem}.mp4", layout="yuv420p"))
    start = time.perf_counter()
    encoder = ENCODERS[DEFAULT_QUALITY]
    write_video(iter(frames), tmp_path / "floor.mp4", plan.fps, crf=encoder["crf"], preset=encoder["preset"])
    floor = time.perf_counter() - start
    rows.append(
        (
            "floor: the film's frames encoded alone, same encoder",
            f"{seconds / floor:.2f}x",
            f"{len(frames)} frames in {floor:.1f}s",
        )
    )
    rows.append(("cold make / encoder floor", f"{floor / cold:.2f}", "the floor's seconds over a cold make's; >= 0.6"))
    return rows


def novel_rows(tmp_path: Path, user: dict[str, str], words: int) -> list[tuple[str, str, str]]:
    """Issue 27's rows: a book of our own (benchmarks/novel.py) planned at two lengths, made into a feature
    film cold (wall, real-time factor, peak memory of all its processes), killed half-way and made again."""
    rows = []
    env = {**os.environ, **user, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    book, long_book = tmp_path / "novel.txt", tmp_path / "long_novel.txt"
    book.write_text(write_book(words), encoding="utf-8")
    long_book.write_text(write_book(100_000), encoding="utf-8")
    for story in (book, long_book):
        command = [sys.executable, "-m", "storyteller", "plan", str(story), "-o", str(tmp_path / f"{story.stem}.json")]
        wall, peak = watched(command, env)
        size = len(story.read_text(encoding="utf-8").split())
        rows.append((f"plan a {size:,}-word book", f"{wall:.1f}s", f"peak memory {peak / 1024:.0f} MiB; < 60 s"))
    store = {**env, "STORYTELLER_CACHE": str(tmp_path / "novel-store")}
    make_command = [sys.executable, "-m", "storyteller", "make", str(book), "--runs", str(tmp_path / "novel"), "-q"]
    wall, peak = watched(make_command, store)
    plan = read_plan(tmp_path / "novel" / "novel" / "plan.json")
    film = tmp_path / "novel" / "novel" / "novel.mp4"
    rows.append(
        ("novel: minutes of film", f"{plan.duration / 60:.1f}", f"{len(plan.shots)} shots, {len(plan.scenes)} scenes")
    )
    rows.append(
        ("novel: cold make", f"{wall / 60:.1f} min", f"real-time factor {plan.duration / wall:.1f}x; <= 12 min")
    )
    rows.append(
        ("novel: peak memory, all processes", f"{peak / 1024:.0f} MiB", "summed over the make and its workers; <= 1 GB")
    )
    # killed half-way (every process of the make, as a power cut would), then the same command again
    again = {**env, "STORYTELLER_CACHE": str(tmp_path / "resume-store")}
    runs = tmp_path / "resumed"
    command = [*make_command[:6], str(runs), "-q"]
    segments = Path(again["STORYTELLER_CACHE"]) / "film-segment"
    half = len(plan.shots) // 2
    killed = kill_when(command, again, lambda: len(list(segments.glob("*/*.mp4"))) >= half)
    resumed, _ = watched(command, again)
    same = file_digest(runs / "novel" / "novel.mp4") == file_digest(film)
    rows.append(
        ("novel: resumed after a kill half-way", f"{resumed / wall:.0%}",
         f"of a cold make ({killed:.0f}s in when killed); bytes identical: {same}")
    )  # fmt: skip
    return rows


def watched(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(wall seconds, peak KiB of resident memory summed over the process and all its descendants)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return time.perf_counter() - start, peak


def kill_when(command: list[str], env: dict[str, str], ready: Any) -> float:
    """Start `command` in its own process group; SIGKILL the whole group once `ready()`: seconds it ran."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    while process.poll() is None and not ready():
        time.sleep(0.1)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return time.perf_counter() - start


def tree_rss(pid: int) -> int:
    """Resident KiB of `pid` and every process descended from it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = (Path("/proc") / str(current) / "status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


if __name__ == "__main__":
    main()
