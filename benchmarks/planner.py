"""Story understanding of the default planner, scored against annotated stories.

    python benchmarks/planner.py ../shared/planner-bench/shots.py ../shared/planner-bench/stories.py
    python benchmarks/planner.py DIR [DIR ...] [--planner heuristic] [--long-words 100000] [--novel-words 13000]

Each DIR holds `<id>.txt` stories with `<id>.json` annotations beside them: {"characters": {id:
[aliases]}, "extras": [aliases], "sentences": [{"text", "present": [ids]}]}; the first alias of a named
character is its proper name. A script that writes such files (`python shots.py OUT`), or a folder with a
`stories.py` and no stories, is run first. For every story the table gives its shots per paragraph of its
body (in a shot script a paragraph is a written shot: 1.00 is perfect; a fable's paragraphs hold several
shots), per-shot character recall and precision, proper names kept exactly, characters that stand for no
one annotated (nor an extra: a mood, a place, a brand), and planning time; then each DIR's mean. Then our
own novel (benchmarks/novel.py, whose cast is known: how many of its people and animals are found, under
their whole names, and how many characters are no one), and the time to plan a long story made of the
same stories repeated (`--long-words`).

Scoring: a plan character stands for the annotated character one of whose aliases appears as a word in
its name, id, kind or appearance (the first field that names one decides); one that stands for an extra
is neither required nor counted against the plan. Each annotated sentence belongs to the shot whose text
shares most words with it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))  # for run.py beside; last, so its names shadow no package

from novel import ANIMALS, CAST, write_book  # noqa: E402  # benchmarks/novel.py, our own novel
from run import print_table  # noqa: E402  # benchmarks/run.py, beside this script

from planners import PLANNERS, animacy  # noqa: E402
from storyteller.core.lexicon import PEOPLE, TITLES  # noqa: E402
from storyteller.core.models import PlanConfig, StoryPlan  # noqa: E402


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", _fold(text)))


def _stands_for(character: dict, annotated: dict[str, list[str]]) -> str | None:
    for value in (character.get(k) or "" for k in ("name", "id", "kind", "appearance")):
        for cid, aliases in annotated.items():
            if any(re.search(rf"(?<!\w){re.escape(_fold(a))}(?!\w)", _fold(value)) for a in aliases):
                return cid
    return None


def score(annotation: dict, plan: StoryPlan) -> dict:
    """Recall and precision of who is in each shot, and the proper names the plan kept."""
    annotated = annotation["characters"]
    extras = {"extra": annotation.get("extras", [])}
    meaning = {
        c.id: _stands_for(c.model_dump(), annotated) or _stands_for(c.model_dump(), extras) for c in plan.characters
    }
    expected: list[set[str]] = [set() for _ in plan.shots]
    for sentence in annotation["sentences"]:
        words = _words(sentence["text"])
        if words:
            best = max(range(len(plan.shots)), key=lambda i: len(words & _words(plan.shots[i].text)))
            expected[best] |= set(sentence["present"])
    hits = misses = wrong = 0
    for shot, want in zip(plan.shots, expected, strict=True):
        got = [meaning.get(cid) for cid in shot.characters if meaning.get(cid) != "extra"]
        hits += len({g for g in got if g} & want)
        misses += len(want - {g for g in got if g})
        wrong += sum(1 for g in got if g is None or g not in want)
    names = [aliases[0] for aliases in annotated.values() if aliases[0][:1].isupper()]
    kept = {_fold(c.name) for c in plan.characters}
    return {
        "recall": hits / max(1, hits + misses),
        "precision": hits / max(1, hits + wrong),
        "names": (sum(1 for n in names if _fold(n) in kept), len(names)),
        "no one": sum(1 for stands in meaning.values() if stands is None),  # characters that are nobody
    }


def written_shots(story: str) -> int:
    """The paragraphs of the story's body (after its title): in a shot script, the shots its writer cut."""
    body = story.split("\n\n", 1)[-1] if "\n\n" in story else story
    return max(1, sum(1 for part in body.split("\n\n") if part.strip()))


def stories_in(folder: Path, scratch: Path) -> list[Path]:
    """The annotated stories of `folder`; a script that writes them (`shots.py`, or a folder with a
    `stories.py` and no stories) is run into `scratch` first."""
    script = folder if folder.suffix == ".py" else folder / "stories.py"
    if script.is_file() and (script == folder or not list(folder.glob("*.txt"))):
        subprocess.run([sys.executable, str(script), str(scratch)], check=True, stdout=subprocess.DEVNULL)
        folder = scratch
    return sorted(p for p in folder.glob("*.txt") if p.with_suffix(".json").exists())


def folder_rows(planner, folder: Path, scratch: Path) -> tuple[list[tuple], list[str]]:
    """A row per annotated story of `folder`, then their mean; and the stories' texts."""
    rows, texts = [], []
    totals = {"recall": 0.0, "precision": 0.0, "named": 0, "names": 0, "seconds": 0.0, "no one": 0, "per": 0.0}
    paths = stories_in(folder, scratch)
    if not paths:
        raise SystemExit(f"no annotated stories (*.txt with *.json beside them) in {folder}")
    for path in paths:
        story = path.read_text(encoding="utf-8")
        texts.append(story)
        start = time.perf_counter()
        plan = planner.plan(story, PlanConfig(title=path.stem))
        seconds = time.perf_counter() - start
        result = score(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")), plan)
        named, names = result["names"]
        per = len(plan.shots) / written_shots(story)
        rows.append(
            (path.stem, len(plan.shots), f"{per:.2f}", f"{result['recall']:.2f}", f"{result['precision']:.2f}",
             f"{named}/{names}", str(result["no one"]), f"{seconds * 1000:.0f}")
        )  # fmt: skip
        totals["no one"] += result["no one"]
        totals["recall"] += result["recall"]
        totals["precision"] += result["precision"]
        totals["seconds"] += seconds
        totals["per"] += per
        totals["named"] += named
        totals["names"] += names
    n = len(paths)
    rows.append(
        (f"mean of {folder.name}", "", f"{totals['per'] / n:.2f}", f"{totals['recall'] / n:.2f}",
         f"{totals['precision'] / n:.2f}", f"{totals['named']}/{totals['names']}", str(totals["no one"]),
         f"{totals['seconds'] / n * 1000:.0f}")
    )  # fmt: skip
    return rows, texts


def novel_row(planner, words: int) -> tuple:
    """The novel of benchmarks/novel.py (our own, written by rule; its cast is known): how many of its
    people and animals the plan finds, under their whole names, and how many characters are no one of them
    (a chapter title's word, a place, a thing). Recall and precision are not scored: it is not annotated."""
    story = write_book(words)
    start = time.perf_counter()
    plan = planner.plan(story, PlanConfig(title="novel"))
    seconds = time.perf_counter() - start
    cast = [_whole_name(full) for full, *_ in CAST] + [name for name, *_ in ANIMALS]
    found = {_fold(c.name) for c in plan.characters}
    aliases = {_fold(a) for c in plan.characters for a in (c.name, *c.aliases)}
    known = {_fold(n) for n in cast} | {_fold(n.split()[0]) for n in cast}
    no_one = sum(1 for c in plan.characters if not {_fold(a) for a in (c.name, *c.aliases)} & known)
    whole = sum(1 for n in cast if _fold(n) in found)
    met = sum(1 for n in cast if _fold(n) in aliases or _fold(n.split()[0]) in aliases)
    return (f"novel ({len(story.split())} words, {story.count('Chapter ')} chapters)", len(plan.shots), "",
            f"cast {met}/{len(cast)}", f"{len(plan.characters)} characters", f"{whole}/{len(cast)}", str(no_one),
            f"{seconds * 1000:.0f}")  # fmt: skip


def _whole_name(first_met: str) -> str:
    """ "Tomás Reyes, a sailor," -> "Tomás Reyes"; "Doctor Søren Berg" -> "Søren Berg" (a title is no name)."""
    name = first_met.split(",")[0]
    words = name.split()
    titled = words[0].lower() in TITLES or words[0].lower() in PEOPLE  # "Brother Anselm": a role before it
    return " ".join(words[1:]) if len(words) > 1 and titled else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="one or more folders; each gets its mean row")
    parser.add_argument("--planner", default="heuristic")
    parser.add_argument("--long-words", type=int, default=100_000, help="0: skip the long story")
    parser.add_argument("--novel-words", type=int, default=13_000, help="0: skip the novel")
    args = parser.parse_args()
    planner = PLANNERS.create(args.planner)
    planner.plan("A cat sat on a mat.", PlanConfig())  # load the language pipeline outside the timings
    animacy.is_alive("cat")  # and the sentence embedder the reader asks about unknown nouns
    rows, texts = [], []
    for folder in args.folders:
        with tempfile.TemporaryDirectory() as scratch:
            found, read = folder_rows(planner, folder, Path(scratch))
        rows += found
        texts += read
    if args.novel_words:
        rows.append(novel_row(planner, args.novel_words))
    if args.long_words:
        body = "\n\n".join(t.split("\n\n", 1)[-1] for t in texts)
        repeats = max(1, args.long_words // len(body.split()) + 1)
        long_story = "\n\n".join([body] * repeats)
        start = time.perf_counter()
        plan = planner.plan(long_story, PlanConfig(title="long"))
        seconds = time.perf_counter() - start
        words = len(long_story.split())
        rows.append((f"long story ({words} words)", len(plan.shots), "", "", "", "", "", f"{seconds * 1000:.0f}"))
    header = ("story", "shots", "per paragraph", "recall", "precision", "names kept", "no one", "plan ms")
    print_table(header, rows)


if __name__ == "__main__":
    main()
