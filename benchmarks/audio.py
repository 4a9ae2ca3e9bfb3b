"""Sound's cost and figures, side by side in one run.

    python benchmarks/audio.py

Speech synthesis speed (seconds of speech per wall second, espeak-ng, each line in a fresh engine), and
the two-minute example made cold (an empty cache) with and without sound, alternating, each in its own
process: the wall time sound adds, the film's loudness and true peak, and its audio/video length gap.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # first: this folder's retrieval.py must not shadow the retrieval package
sys.path.append(str(ROOT / "benchmarks"))  # for run.py beside; last, so its names shadow no package

from run import EXAMPLE, make, print_table  # noqa: E402

from stitching.metrics import evaluate_sound  # noqa: E402
from stitching.sound.espeak import EspeakSpeaker  # noqa: E402
from storyteller.core.models import Voice, read_plan  # noqa: E402

ROUNDS = 2


def synthesis_speed() -> tuple[float, float]:
    """(seconds of speech, wall seconds) for every sentence of the example, spoken once."""
    sentences = [s.strip() + "." for s in EXAMPLE.read_text().replace("\n", " ").split(".") if s.strip()]
    speaker = EspeakSpeaker()
    speaker.speak("Warm up.", Voice())  # the library loads once
    start = time.perf_counter()
    spoken = sum(speaker.speak(sentence, Voice(name="en+m3")).seconds for sentence in sentences)
    return spoken, time.perf_counter() - start


def main() -> None:
    spoken, wall = synthesis_speed()
    rows = [("speech synthesis, espeak-ng", f"{spoken / wall:.0f}x", f"{spoken:.0f}s of speech in {wall:.2f}s")]
    walls: dict[str, list[float]] = {"sound": [], "silent": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        user = {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}
        make(EXAMPLE, tmp_path / "warm", "--size", "64x64", "--fps", "4", env=user)  # the per-user memos
        for round_ in range(ROUNDS):
            for mode, args in (("sound", ()), ("silent", ("--no-audio",))):
                wall_s, _, seconds = make(EXAMPLE, tmp_path / f"{mode}{round_}", *args, env=user)
                walls[mode].append(wall_s)
                if mode == "sound":
                    film = tmp_path / f"{mode}{round_}" / EXAMPLE.stem / f"{EXAMPLE.stem}.mp4"
                    sound, video_seconds = evaluate_sound(film), seconds
        plan = read_plan(tmp_path / "sound0" / EXAMPLE.stem / "plan.json")
    best = {mode: min(times) for mode, times in walls.items()}
    rows += [
        ("cold make with sound", f"{best['sound']:.1f}s", f"{video_seconds:.0f}s of video, {len(plan.shots)} shots"),
        ("cold make without sound (--no-audio)", f"{best['silent']:.1f}s", f"best of {ROUNDS}, alternating"),
        ("what sound adds to a cold make", f"{best['sound'] / best['silent'] - 1:+.1%}", "target <= 15%"),
        ("integrated loudness", f"{sound.loudness:.1f} LUFS", "target -16 +- 1"),
        ("true peak", f"{sound.true_peak:.1f} dBFS", "target under -1"),
        (
            "audio - video length",
            f"{sound.av_difference * 1000:+.0f} ms",
            f"target within a frame ({1000 / plan.fps:.0f} ms)",
        ),
    ]
    print_table(("measure", "value", "notes"), rows)


if __name__ == "__main__":
    main()
