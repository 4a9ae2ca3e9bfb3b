"""One run directory open in the studio: its plan's history (undo and redo across edits, kept in the run
directory), the storyboard edits (add, delete, split, reorder shots), and at most one render at a time,
whose progress is published to every page watching.

Nothing here serves HTTP: the web server (server.py) calls these methods, and so can a test or a script.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from storyteller.core.cache import atomic_write_text
from storyteller.core.errors import StorytellerError
from storyteller.core.models import (
    Action,
    SceneGraph,
    Shot,
    StoryPlan,
    Transition,
    read_plan,
    scaled,
    validation_message,
)
from storyteller.core.outputs import published_film
from storyteller.core.progress import EventReporter, Reporter
from storyteller.pipeline import RunResult, Storyteller

HISTORY = "history"  # the run directory's folder of plan versions: 000001.json, 000002.json ...
MAX_HISTORY = 500  # versions kept; the oldest go first
MAX_REFERENCE_UPLOAD = 8 * 1024 * 1024  # bytes of an uploaded image (a reference, a pinned frame)
REFERENCES, PINNED = "references", "pinned"  # the run directory's folders of uploaded images
PINS = ("keyframe", "last_frame")  # a shot's frames that may be pinned
MAX_REFERENCE_PIXELS = 4096 * 4096

Publish = Callable[[dict[str, Any]], None]


class Studio:
    """A run directory being edited.

    Args:
        run_dir: the run directory; its plan.json is the plan being edited.
        teller: how to build the Storyteller that renders it, given the reporter progress goes to.
        publish: called with every event (progress, a finished render, a new plan version), from any thread.
        terminal: where progress is shown besides (the terminal the studio was started from).
    """

    def __init__(
        self,
        run_dir: Path,
        teller: Callable[[Reporter], Storyteller],
        publish: Publish,
        terminal: Reporter | None = None,
    ) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.teller, self.publish, self.terminal = teller, publish, terminal
        self.lock = threading.RLock()  # edits and history
        self.rendering = threading.Event()
        self.last_render: dict[str, Any] = {"state": "idle"}
        self.history = self.run_dir / HISTORY
        self.history.mkdir(parents=True, exist_ok=True)
        opened = read_plan(self.run_dir / "plan.json")
        if not self._versions():  # the first version is the plan as it was opened
            self._write_version(1, opened)
            self._set_position(1)
        elif opened != self.plan():  # plan.json was changed by hand (or rendered) since: a version of its own
            self.commit(opened)

    # --- the plan and its history -----------------------------------------------------------------

    def _versions(self) -> list[int]:
        return sorted(int(p.stem) for p in self.history.glob("[0-9]*.json") if p.stem.isdigit())

    def _write_version(self, number: int, plan: StoryPlan) -> None:
        atomic_write_text(self.history / f"{number:06d}.json", plan.model_dump_json(indent=1))

    def _position(self) -> int:
        try:
            at = int(json.loads((self.history / "position.json").read_text())["at"])
        except (OSError, ValueError, KeyError, TypeError):
            at = 0
        versions = self._versions()
        return at if at in versions else versions[-1]

    def _set_position(self, number: int) -> None:
        atomic_write_text(self.history / "position.json", json.dumps({"at": number}))

    def plan(self) -> StoryPlan:
        """The plan as edited now."""
        with self.lock:
            return read_plan(self.history / f"{self._position():06d}.json")

    def state(self) -> dict[str, Any]:
        """What the page shows besides the plan: where in the history it is, whether a render runs."""
        with self.lock:
            at, versions = self._position(), self._versions()
            return {
                "version": at,
                "can_undo": at > versions[0],
                "can_redo": at < versions[-1],
                "rendering": self.rendering.is_set(),
                "render": self.last_render,
                "film": self.film(),
            }

    def film(self) -> str | None:
        """The run's film, relative to the run directory (None: not rendered there yet)."""
        published = published_film(self.run_dir)
        if published is None:
            return None
        video = published[0].resolve()
        inside = video.is_file() and video.is_relative_to(self.run_dir)
        return video.relative_to(self.run_dir).as_posix() if inside else None

    def commit(self, plan: StoryPlan) -> StoryPlan:
        """A new version of the plan: it becomes the run's plan.json, later versions (a redo) are dropped."""
        with self.lock:
            at = self._position()
            for later in self._versions():
                if later > at:
                    (self.history / f"{later:06d}.json").unlink(missing_ok=True)
            self._write_version(at + 1, plan)
            self._set_position(at + 1)
            for old in self._versions()[:-MAX_HISTORY]:
                (self.history / f"{old:06d}.json").unlink(missing_ok=True)
            self._show(plan)
        return plan

    def _show(self, plan: StoryPlan) -> None:
        atomic_write_text(self.run_dir / "plan.json", plan.model_dump_json(indent=2))
        self.publish({"type": "plan", **self.state()})

    def undo(self) -> StoryPlan:
        return self._step(-1)

    def redo(self) -> StoryPlan:
        return self._step(+1)

    def _step(self, direction: int) -> StoryPlan:
        with self.lock:
            versions, at = self._versions(), self._position()
            index = versions.index(at) + direction
            if not 0 <= index < len(versions):
                raise StorytellerError("nothing to undo" if direction < 0 else "nothing to redo")
            self._set_position(versions[index])
            plan = self.plan()
            self._show(plan)
            return plan

    # --- edits: each validated as a whole plan, refused with the plan's own one-line message --------

    def replace(self, data: Any) -> StoryPlan:
        """The whole plan, as JSON data."""
        return self.commit(_validated(data, self.plan(), self.run_dir))

    def edit_shot(self, index: int, data: Any) -> StoryPlan:
        """Shot `index` replaced by `data` (a shot's JSON: text, prompt, duration, camera, transition,
        characters, scene graph); its id stays."""
        plan = self.plan()
        shot = _shot_at(plan, index)
        if not isinstance(data, dict):
            raise StorytellerError("a shot must be a JSON object")
        before = shot.model_dump(mode="json")
        merged = {**before, **data, "id": shot.id}
        actions = merged.get("graph", {}).get("actions") if isinstance(merged.get("graph"), dict) else None
        duration = merged.get("duration")
        if _same_actions(actions, before["graph"]["actions"]) and isinstance(duration, int | float) and duration > 0:
            # a new length with the actions as they were: they keep their places in the shot, scaled
            moved = scaled(shot, duration).graph.actions
            merged["graph"] = {**merged["graph"], "actions": [a.model_dump(mode="json") for a in moved]}
        if isinstance(merged.get("characters"), list) and isinstance(merged.get("graph"), dict):
            merged["graph"] = _cast(plan, merged["characters"], merged["graph"])
        shots = [s.model_dump(mode="json") for s in plan.shots]
        shots[index] = merged
        return self.commit(_validated({**plan.model_dump(mode="json"), "shots": shots}, plan, self.run_dir))

    def edit_character(self, character_id: str, data: Any) -> StoryPlan:
        """A character's appearance, name, kind or voice; its id stays."""
        plan = self.plan()
        if not isinstance(data, dict):
            raise StorytellerError("a character must be a JSON object")
        characters = [c.model_dump(mode="json") for c in plan.characters]
        for index, character in enumerate(characters):
            if character["id"] == character_id:
                characters[index] = {**character, **data, "id": character_id}
                break
        else:
            raise StorytellerError(f"no character '{character_id}' in the plan")
        return self.commit(_validated({**plan.model_dump(mode="json"), "characters": characters}, plan, self.run_dir))

    def _with_shots(self, plan: StoryPlan, shots: list[Shot]) -> StoryPlan:
        """`plan` with `shots`, validated whole (a split's halves, a moved shot's crossfade) and committed."""
        data = {**plan.model_dump(mode="json"), "shots": [s.model_dump(mode="json") for s in shots]}
        return self.commit(_validated(data, plan, self.run_dir))

    def add_shot(self, after: int) -> StoryPlan:
        """A new shot after shot `after` (-1: first), in the same place with the same people, to be written."""
        plan = self.plan()
        if not -1 <= after < len(plan.shots):
            raise StorytellerError(f"no shot {after} to add after in a film of {len(plan.shots)} shots (-1: first)")
        source = _shot_at(plan, max(after, 0))
        new = Shot(
            id=_new_id(plan, source.id),
            text="A new shot.",
            span=(source.span[1], source.span[1]),
            duration=3.0,
            camera="static",
            prompt=source.prompt,
            characters=list(source.characters),
            location=source.location,
            graph=SceneGraph(**_cast(plan, source.characters, {"time_of_day": source.graph.time_of_day})),
        )
        shots = list(plan.shots)
        shots.insert(after + 1, new)
        return self._with_shots(plan, shots)

    def delete_shot(self, index: int) -> StoryPlan:
        plan = self.plan()
        _shot_at(plan, index)
        if len(plan.shots) == 1:
            raise StorytellerError("a film needs at least one shot")
        shots = [s for i, s in enumerate(plan.shots) if i != index]
        return self._with_shots(plan, shots)

    def move_shot(self, index: int, to: int) -> StoryPlan:
        plan = self.plan()
        shot = _shot_at(plan, index)
        if not 0 <= to < len(plan.shots):
            raise StorytellerError(f"no place {to} in a film of {len(plan.shots)} shots")
        shots = [s for i, s in enumerate(plan.shots) if i != index]
        shots.insert(to, shot)
        return self._with_shots(plan, shots)

    def split_shot(self, index: int) -> StoryPlan:
        """Shot `index` cut in two at the sentence (else the word) nearest its middle: the text, span and
        duration divided, each action kept in the half it happens in (its times moved with it)."""
        plan = self.plan()
        shot = _shot_at(plan, index)
        cut = _middle_break(shot.text)
        if cut is None:
            raise StorytellerError(f"shot {shot.id} has too few words to split")
        share = cut / len(shot.text)
        first_seconds = round(max(0.5, shot.duration * share), 2)
        second_seconds = round(max(0.5, shot.duration - first_seconds), 2)
        at = shot.span[0] + cut
        first_actions, second_actions = [], []
        for action in shot.graph.actions:
            if action.start < first_seconds:
                end = min(action.end, first_seconds)
                first_actions.append(action.model_copy(update={"end": end}))
            else:
                start, end = action.start - first_seconds, min(action.end - first_seconds, second_seconds)
                second_actions.append(action.model_copy(update={"start": start, "end": max(start, end)}))
        said = _split_narration(shot.narration)
        first = shot.model_copy(
            update={
                "text": shot.text[:cut].strip(),
                "narration": said[0],
                "span": (shot.span[0], at),
                "duration": first_seconds,
                "graph": shot.graph.model_copy(update={"actions": first_actions}),
            }
        )
        second = shot.model_copy(
            update={
                "id": _new_id(plan, shot.id),
                "text": shot.text[cut:].strip(),
                "narration": said[1],
                "span": (at, shot.span[1]),
                "duration": second_seconds,
                "transition": Transition(),
                "graph": shot.graph.model_copy(update={"actions": second_actions}),
                "guide": None,
            }
        )
        shots = [*plan.shots[:index], first, second, *plan.shots[index + 1 :]]
        return self._with_shots(plan, shots)

    def set_reference(self, character_id: str, data: bytes) -> StoryPlan:
        """An uploaded image becomes the character's reference (IP-Adapter), kept as a PNG in the run's
        references/ (nothing of the upload but its pixels)."""
        plan = self.plan()
        if character_id not in {c.id for c in plan.characters}:
            raise StorytellerError(f"no character '{character_id}' in the plan")
        target = self._kept(_uploaded_pixels(data), REFERENCES, f"{character_id}.png")
        return self.edit_character(character_id, {"reference": str(target)})

    def set_pinned(self, index: int, which: str, data: bytes | None) -> StoryPlan:
        """An uploaded image pinned as shot `index`'s first frame (`which` "keyframe") or last frame
        ("last_frame"), kept as a PNG in the run's pinned/; no data: the pin taken away."""
        if which not in PINS:
            raise StorytellerError(f"pin a 'keyframe' or a 'last_frame', not '{which}'")
        shot = _shot_at(self.plan(), index)
        if data is None:
            return self.edit_shot(index, {which: None})
        target = self._kept(_uploaded_pixels(data), PINNED, f"{shot.id}-{which}.png")
        return self.edit_shot(index, {which: str(target)})

    def _kept(self, pixels: Image.Image, folder: str, name: str) -> Path:
        """`pixels` as a PNG in the run directory's `folder`, written whole or not at all."""
        target = self.run_dir / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        pixels.save(partial, format="PNG")
        partial.replace(target)
        return target

    # --- rendering ---------------------------------------------------------------------------------

    def reporter(self) -> Reporter:
        """Progress as events for the page, and on the terminal too."""
        return EventReporter(self.publish, also=self.terminal)

    def render(self) -> bool:
        """Render the plan as edited now, on a thread of its own; False if a render is already running."""
        with self.lock:
            if self.rendering.is_set():
                return False
            self.rendering.set()
            plan = self.plan()
        self.last_render = {"state": "running"}
        self.publish({"type": "render", **self.last_render})
        threading.Thread(target=self._render, args=(plan,), name="studio-render", daemon=True).start()
        return True

    def _render(self, plan: StoryPlan) -> None:
        try:
            teller = self.teller(self.reporter())
            result: RunResult = teller.render(plan, self.run_dir)
            with self.lock:  # the plan as rendered (guides found, durations fitted to the speech), unless the
                # user edited it while the render ran: their edit stands, and the next render draws it
                edited = self.plan() != plan
                if not edited and result.plan != plan:
                    self.commit(result.plan)
            self.last_render = {"state": "done", "rendered": result.rendered, "video": result.video.name}
            if edited:
                self.last_render["note"] = "the plan was edited during the render: render again to see the edit"
        except StorytellerError as error:
            self.last_render = {"state": "error", "message": str(error)}
        except Exception as error:  # shown on the page, one line; the server goes on
            self.last_render = {"state": "error", "message": f"{type(error).__name__}: {error}"}
        finally:
            self.rendering.clear()
            self.publish({"type": "render", **self.last_render, **self.state()})

    def media(self, relative: str) -> Path:
        """A file of the run directory, by its path relative to it; nothing outside it, nothing hidden, no
        link, only what the page shows."""
        if not relative or "\\" in relative or "\0" in relative:
            raise StorytellerError("no such file")
        parts = Path(relative).parts
        if Path(relative).is_absolute() or any(p in ("..", ".") or p.startswith(".") for p in parts):
            raise StorytellerError("no such file")
        if parts[0] == HISTORY or Path(relative).suffix.lower() not in MEDIA_TYPES:
            raise StorytellerError("no such file")
        path = self.run_dir / relative
        here = self.run_dir
        for part in parts:  # no link anywhere on the way
            here = here / part
            if here.is_symlink():
                raise StorytellerError("no such file")
        if not path.is_file() or not path.resolve().is_relative_to(self.run_dir):
            raise StorytellerError("no such file")
        return path


MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".png": "image/png",
    ".srt": "text/plain; charset=utf-8",
    ".otio": "application/json",
}


def _uploaded_pixels(data: bytes) -> Image.Image:
    """An uploaded image, decoded and checked (a known format, a sane size): only its pixels go on."""
    if len(data) > MAX_REFERENCE_UPLOAD:
        raise StorytellerError(f"the image is {len(data):,} bytes; at most {MAX_REFERENCE_UPLOAD:,}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP", "GIF", "BMP"):
                raise StorytellerError("the upload is not a PNG, JPEG, WebP, GIF or BMP image")
            if image.width * image.height > MAX_REFERENCE_PIXELS:
                raise StorytellerError(f"the image is {image.width}x{image.height}; at most 16 megapixels")
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise StorytellerError("the upload is not an image that can be read") from None


def _validated(data: Any, current: StoryPlan, run_dir: Path) -> StoryPlan:
    """A plan the client sent, validated as plan.json is (strictly, as JSON types: "seed": true is not a
    number), and trusted no further than the run directory: a character's reference image is the one it
    had, or one uploaded into the run's references/ (a path such as /etc/shadow is never read)."""
    try:
        plan = StoryPlan.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as error:
        raise StorytellerError(validation_message(error)) from None
    had = {c.id: c.reference for c in current.characters}
    uploads = (run_dir / REFERENCES).resolve()
    for character in plan.characters:
        reference = character.reference
        if reference is None or reference == had.get(character.id):
            continue
        if not Path(reference).resolve().is_relative_to(uploads):
            raise StorytellerError(f"character {character.id}: a reference image is uploaded, not named by path")
    loras = {c.id: c.lora.path for c in current.characters if c.lora}
    for character in plan.characters:  # LoRA weights are named in plan.json by hand, never by the page
        if character.lora is not None and character.lora.path != loras.get(character.id):
            raise StorytellerError(f"character {character.id}: LoRA weights are named in plan.json, not by the page")
    pinned = {(s.id, which): getattr(s, which) for s in current.shots for which in PINS}
    for shot in plan.shots:  # a pinned frame likewise: the one it had, or one uploaded into pinned/
        for which in PINS:
            path = getattr(shot, which)
            if path is None or path == pinned.get((shot.id, which)):
                continue
            if not Path(path).resolve().is_relative_to((run_dir / PINNED).resolve()):
                what = which.replace("_", " ")
                raise StorytellerError(f"shot {shot.id}: a pinned {what} is uploaded, not named by path")
    return plan


def _cast(plan: StoryPlan, present: list[Any], graph: dict[str, Any]) -> dict[str, Any]:
    """A shot's scene graph in step with who is in it (what is drawn is the graph): an entity for each
    character now present, and a character no longer present gone with its relations and actions."""
    characters = {c.id: c for c in plan.characters}
    entities = [
        e
        for e in graph.get("entities", [])
        if not isinstance(e, dict) or e.get("id") not in characters or e.get("id") in present
    ]
    have = {e.get("id") for e in entities if isinstance(e, dict)}
    entities += [{"id": cid, "label": characters[cid].kind} for cid in present if cid in characters and cid not in have]
    gone = set(characters) - set(present)

    def keeps(item: Any, *ends: str) -> bool:
        return not isinstance(item, dict) or not any(item.get(end) in gone for end in ends)

    return {
        **graph,
        "entities": entities,
        "relations": [r for r in graph.get("relations", []) if keeps(r, "subject", "object")],
        "actions": [a for a in graph.get("actions", []) if keeps(a, "agent", "object")],
    }


def _shot_at(plan: StoryPlan, index: int) -> Shot:
    if not isinstance(index, int) or not 0 <= index < len(plan.shots):
        raise StorytellerError(f"no shot {index}: the film has shots 0 to {len(plan.shots) - 1}")
    return plan.shots[index]


def _new_id(plan: StoryPlan, base: str) -> str:
    """An id no shot has: `base` with a letter after it (shot_003_b, shot_003_c ...), then a number."""
    taken = {s.id for s in plan.shots}
    for suffix in [*"bcdefghijklmnopqrstuvwxyz", *map(str, range(2, 10_000))]:
        if f"{base}_{suffix}" not in taken:
            return f"{base}_{suffix}"
    raise StorytellerError("no free shot id")


def _split_narration(narration: str | None) -> tuple[str | None, str | None]:
    """A shot's own narration cut as its text is (null stays null: each half reads its own text)."""
    if narration is None:
        return None, None
    cut = _middle_break(narration)
    return (narration, "") if cut is None else (narration[:cut].strip(), narration[cut:].strip())


def _middle_break(text: str) -> int | None:
    """Where to cut `text` in two: the sentence end nearest its middle, else the space nearest it."""
    middle = len(text) / 2
    for pattern in (r"(?<=[.!?…])\s+", r"\s+"):
        breaks = [m.end() for m in re.finditer(pattern, text) if 0 < m.start() < len(text.rstrip()) - 1]
        if breaks:
            return min(breaks, key=lambda b: abs(b - middle))
    return None


def _same_actions(edited: Any, actions: list[dict]) -> bool:
    """Whether the page sent the shot's actions as they were (it leaves out the fields it does not show,
    a spoken line's words, which then read as their defaults)."""
    if not isinstance(edited, list):
        return False
    try:
        sent = [Action.model_validate(a).model_dump(mode="json", exclude={"line"}) for a in edited]
        return sent == [{k: v for k, v in a.items() if k != "line"} for a in actions]
    except ValueError:  # pydantic's errors are ValueErrors: not the actions as they were
        return False
