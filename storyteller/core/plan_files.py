"""plan.json as storyteller writes it: a plan replaced is never lost (every earlier version kept, numbered,
in plans/ beside it), and a plan the user edited is noticed before a make replaces it."""

from __future__ import annotations

from pathlib import Path

from storyteller.core.cache import atomic_write_text
from storyteller.core.models import StoryPlan, stable_hash
from storyteller.core.progress import note


def save_plan(plan: StoryPlan, path: Path) -> None:
    """Write plan.json. A different plan already there (perhaps edited by hand) is never lost: every earlier
    version is kept, numbered, in plans/ beside it (plan-001.json the oldest)."""
    text = plan.model_dump_json(indent=2)
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return
        atomic_write_text(_next_version(path), old)
    atomic_write_text(path, text)
    atomic_write_text(path.parent / "plans" / WRITTEN, stable_hash(text))


WRITTEN = "written.sha256"  # in plans/: the digest of the plan.json storyteller wrote last


def note_edits(path: Path) -> None:
    """A note, before `make` replaces plan.json with the story's plan, if the one there holds edits of the
    user's (it is not what storyteller wrote): where it will be kept."""
    try:
        held = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    try:
        ours = (path.parent / "plans" / WRITTEN).read_text(encoding="utf-8") == stable_hash(held)
    except OSError:
        ours = False
    if not ours:
        note(f"{path} held edits of yours; if the story's plan differs, yours is kept as {_next_version(path)}")


def _next_version(path: Path) -> Path:
    kept = path.parent / "plans"
    numbers = [int(p.stem[5:]) for p in kept.glob("plan-*.json") if p.stem[5:].isdigit()]
    return kept / f"plan-{max(numbers, default=0) + 1:03d}.json"
