"""Executors side by side: the two-minute example rendered cold by each, speed-up against serial.

    python benchmarks/executors.py            # serial, local x1, local x2, ray (2 CPUs); about 3 minutes
    python benchmarks/executors.py --no-ray   # without Ray

Each run is a cold `storyteller make` in its own process (imports, worker start-up and Ray's start all
count) into an empty run directory; every film is checked to be byte-identical to the serial one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

from run import EXAMPLE, cold_make  # benchmarks/run.py, beside this script


def make(workdir: Path, *args: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its pool, film digest) of one cold make."""
    wall, usage = cold_make(EXAMPLE, workdir, *args)
    film = workdir / EXAMPLE.stem / f"{EXAMPLE.stem}.mp4"
    return wall, usage.ru_utime + usage.ru_stime, hashlib.sha256(film.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray executor")
    args = parser.parse_args()
    runs = [("serial", ["--executor", "serial"]), ("local, 1 worker", ["--executor", "local", "--workers", "1"])]
    runs.append(("local, 2 workers", ["--executor", "local", "--workers", "2"]))
    if not args.no_ray:
        runs.append(("ray, local 2-CPU instance", ["--executor", "ray", "--workers", "2"]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        make(Path(tmp) / "warm", "--size", "64x64", "--fps", "4")  # per-user caches filled once, for every run
        for n, (name, options) in enumerate(runs):
            rows.append((name, *make(Path(tmp) / str(n), *options)))
    serial_wall, _, serial_film = rows[0][1:]
    cores = os.cpu_count() or 1
    print(f"two-minute example ({EXAMPLE.name}, 512x288 @ 24 fps), cold, {cores} cores")
    print(f"{'executor':<28}{'wall s':>8}{'speed-up':>10}{'cores busy':>12}  film")
    for name, wall, cpu, film in rows:
        busy = f"{cpu / wall:.2f}" if not name.startswith("ray") else "n/a"  # Ray's workers are not our children
        same = "same bytes" if film == serial_film else "DIFFERENT"
        print(f"{name:<28}{wall:>8.1f}{serial_wall / wall:>10.2f}{busy:>12}  {same}")


if __name__ == "__main__":
    main()
