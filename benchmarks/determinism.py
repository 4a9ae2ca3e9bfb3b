"""A film is a function of its inputs: the same story makes the same film however, wherever it is made.

    python benchmarks/determinism.py                    # the examples (about six minutes on 2 cores)
    python benchmarks/determinism.py STORY.txt [...]    # any stories, e.g. ones nobody here has seen
    python benchmarks/determinism.py --size 512x288     # at another size (default 256x144)

Each story is made five ways, each `storyteller make` in its own process on a fresh machine (an empty user
cache and store): with 2 workers (the default); again, on another fresh machine; with 1 worker; with 2
workers beside a CPU hog (one busy process per core); and killed with SIGKILL half-way, then run again.
The table prints, for each, the digests of what the film is made of (run.json's content: the frames
handed to x264 and the samples handed to AAC) and of the MP4 itself. Every row of a story must agree; the
last line says whether they all do (exit status 1 if not).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".txt", ".fountain"))
WAYS = ("fresh machine", "another fresh machine", "1 worker", "beside a CPU hog", "killed, then resumed")


def make(story: Path, folder: Path, size: str, workers: int, kill_after: float | None = None) -> dict[str, str]:
    """`storyteller make` on a fresh machine in `folder`; killed after `kill_after` seconds and run again if
    given. The film's digests, and the seconds the (last) make took."""
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(folder / "user-cache"),
        "STORYTELLER_CACHE": str(folder / "store"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "storyteller", "make", str(story), "--runs", str(folder / "runs")]
    command += ["--size", size, "--workers", str(workers), "--no-library", "-q"]
    if kill_after is not None:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{story.name}: storyteller make failed: {done.stderr.strip()[-300:]}")
    (record,) = (folder / "runs").glob("*/run.json")
    content = json.loads(record.read_text())["content"]
    video = Path(json.loads(record.read_text())["video"])
    return {
        "frames": content["frames_sha256"][:12],
        "samples": (content.get("samples_sha256") or "-")[:12],
        "mp4": hashlib.sha256(video.read_bytes()).hexdigest()[:12],
        "seconds": f"{seconds:.1f}",
    }


def spin() -> None:
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stories", nargs="*", type=Path, default=EXAMPLES)
    parser.add_argument("--size", default="256x144")
    args = parser.parse_args()
    rows, agreed = [], True
    for story in args.stories:
        films: dict[str, dict[str, str]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            films[WAYS[0]] = make(story, folder / "a", args.size, 2)
            films[WAYS[1]] = make(story, folder / "b", args.size, 2)
            films[WAYS[2]] = make(story, folder / "c", args.size, 1)
            hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(os.cpu_count() or 1)]
            for hog in hogs:
                hog.start()
            try:
                films[WAYS[3]] = make(story, folder / "d", args.size, 2)
            finally:
                for hog in hogs:
                    hog.kill()
            half = float(films[WAYS[0]]["seconds"]) / 2
            films[WAYS[4]] = make(story, folder / "e", args.size, 2, kill_after=half)
        first = films[WAYS[0]]  # every other way must make this film
        digest = lambda film: (film["frames"], film["samples"], film["mp4"])  # noqa: E731
        agreed &= all(digest(film) == digest(first) for film in films.values())
        for way, film in films.items():
            same = "yes" if digest(film) == digest(first) else "NO"
            rows.append((story.name, way, film["frames"], film["samples"], film["mp4"], film["seconds"], same))
        rows.append(("",) * 7)
    header = ("story", "made", "frames sha256", "samples sha256", "mp4 sha256", "make s", "same")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows[:-1]]:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
    verdict = "every film agrees" if agreed else "FILMS DIFFER"
    print(f"\n{verdict}: {len(args.stories)} stories, made {len(WAYS)} ways each")
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
