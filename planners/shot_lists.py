"""Shot lists other tools write, read as they are: StoryMem's JSON scripts and HoloCine's prompts.

StoryMem (Zhang et al. 2025, "StoryMem: Multi-shot Long Video Storytelling with Memory") takes a JSON
script: `story_name`, `story_overview` and `scenes`, each with `video_prompts` (a shot each), `cut` (per
prompt, or one for the scene: false means the shot goes on from the last frame of the one before) and
optionally a `first_frame_prompt`. HoloCine (Meng et al. 2025, "HoloCine: Holistic Generation of Cinematic
Multi-Shot Long Video Narratives") takes one prompt: `[global caption] …` describing the scene and its
`[character1]`, `[character2]` …, then `[per shot caption] …` and `[shot cut] …` for each further shot.

Either becomes a `ShotList`: the given shots, in order, each with its text, its first-frame prompt and
whether it continues the one before, and a prologue (the overview or the global caption) that says who the
characters are and how they look but is no shot of its own. The planners plan one shot per given shot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storyteller.core import lexicon as lx
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Entity, Shot, Transition

STORYMEM_KEYS = ("story_name", "story_overview", "scenes")
_HOLOCINE = re.compile(r"\[(?:global caption|per shot caption|shot cut)\]", re.IGNORECASE)
_TAG = re.compile(r"\[character\s*(\d+)\]", re.IGNORECASE)
_NAME = r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*"  # "Elena", "Lin Daiyu"
_NAMING = (  # how a global caption names a character: "(Elena)", ", named Elena", ", Elena," (before a comma)
    rf"(?:\s*\(\s*({_NAME})\s*\)|,?\s*(?:named|called)\s+({_NAME})|,\s*({_NAME})(?=\s*,))"
)
_NAMED = re.compile(_NAMING)
_INTRODUCED = re.compile(rf"\[[Cc]haracter\s*(\d+)\]{_NAMING}?")  # a tag and its naming (case matters)


@dataclass(frozen=True)
class GivenShot:
    """One shot as the list gives it."""

    text: str  # what the shot shows: the list's prompt for it
    keyframe: str = ""  # a prompt for its first frame, where the list gives one
    continues: bool = False  # no cut: it goes on from the previous shot's last frame


@dataclass(frozen=True)
class ShotList:
    """A shot list read from another tool's format."""

    layout: str  # "storymem" | "holocine"
    title: str
    prologue: str  # the overview or global caption: who is who and how they look; never a shot
    shots: tuple[GivenShot, ...]

    def as_text(self) -> tuple[str, list[tuple[int, int]]]:
        """The list as a script: the prologue, then one paragraph a shot; and each shot's span in it."""
        text = _one_line(self.prologue)
        spans = []
        for shot in self.shots:
            text += "\n\n" if text else ""
            spans.append((len(text), len(text) + len(_one_line(shot.text))))
            text += _one_line(shot.text)
        return text, spans


def as_given(shot: Shot, given: GivenShot, previous: Shot | None, entity: Callable[[str], Entity]) -> Shot:
    """A planned shot as its list gave it: its first-frame prompt, a cut (the list's own editing), and where
    it continues the one before (no cut), that shot's place and people in one take. `entity(id)`: the scene
    graph entity of a character carried over."""
    update: dict[str, Any] = {"keyframe_prompt": given.keyframe, "transition": Transition()}
    if given.continues and previous is not None:
        kept = [cid for cid in previous.characters if cid not in shot.characters]
        update |= {
            "continues": True,
            "location": previous.location or shot.location,  # one take: the place it began in
            "characters": [*shot.characters, *kept],
            "graph": shot.graph.model_copy(update={"entities": [*shot.graph.entities, *map(entity, kept)]}),
        }
    return shot.model_copy(update=update)


def read(text: str) -> ShotList | None:
    """The shot list `text` holds, or None when it is prose, a screenplay or anything else. A StoryMem
    script with a field of the wrong kind is an error naming the field."""
    stripped = text.strip()
    if stripped.startswith("{") and any(f'"{key}"' in stripped for key in STORYMEM_KEYS):
        if _is_plan(stripped):  # storyteller's own plan.json (whose chapters are its "scenes"): no shot list
            return None
        return _storymem(stripped)
    if _HOLOCINE.search(text):
        return _holocine(text)
    return None


def _is_plan(text: str) -> bool:
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(found, dict) and "schema_version" in found and "shots" in found


# --- StoryMem --------------------------------------------------------------------------------------


def _storymem(text: str) -> ShotList:
    try:
        script = json.loads(text)
    except json.JSONDecodeError as error:
        raise StorytellerError(f"StoryMem script: not valid JSON: {error}") from None
    if not isinstance(script, dict):
        raise StorytellerError("StoryMem script: expected a JSON object with 'scenes'")
    title = _optional_text(script, "story_name", "story_name")
    overview = _optional_text(script, "story_overview", "story_overview")
    scenes = script.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        raise StorytellerError("StoryMem script: scenes: expected a non-empty list of scenes")
    shots: list[GivenShot] = []
    for n, scene in enumerate(scenes):
        where = f"scenes[{n}]"
        if not isinstance(scene, dict):
            raise StorytellerError(f"StoryMem script: {where}: expected an object with video_prompts")
        prompts = scene.get("video_prompts")
        if not isinstance(prompts, list) or not prompts:
            raise StorytellerError(f"StoryMem script: {where}.video_prompts: expected a non-empty list of prompts")
        for k, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise StorytellerError(f"StoryMem script: {where}.video_prompts[{k}]: expected the text of a shot")
        cuts = _cuts(scene.get("cut", True), len(prompts), f"{where}.cut")
        first_frame = _optional_text(scene, "first_frame_prompt", f"{where}.first_frame_prompt")
        for k, prompt in enumerate(prompts):
            continues = not cuts[k] and bool(shots)  # the film's first shot has nothing to go on from
            shots.append(GivenShot(prompt.strip(), first_frame if k == 0 else "", continues))
    return ShotList("storymem", title, overview, tuple(shots))


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StorytellerError(f"StoryMem script: {where}: expected text, got {type(value).__name__}")
    return value.strip()


def _cuts(value: Any, count: int, where: str) -> list[bool]:
    """`cut` as StoryMem writes it: one for the scene or one per prompt, true/false or "True"/"False"."""
    values = value if isinstance(value, list) else [value] + [True] * (count - 1)
    if len(values) != count:
        raise StorytellerError(f"StoryMem script: {where}: {len(values)} values for {count} video_prompts")
    cuts = []
    for item in values:
        if isinstance(item, bool):
            cuts.append(item)
        elif isinstance(item, str) and item.strip().lower() in ("true", "false"):
            cuts.append(item.strip().lower() == "true")
        else:
            raise StorytellerError(f"StoryMem script: {where}: expected true or false, got {item!r:.40}")
    return cuts


# --- HoloCine --------------------------------------------------------------------------------------


def _holocine(text: str) -> ShotList:
    text = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"\[per shot caption\]", text, maxsplit=1, flags=re.IGNORECASE)
    head, body = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    prologue = re.sub(r"\[global caption\]", "", head, flags=re.IGNORECASE).strip()
    captions = [c.strip(" |") for c in re.split(r"\[shot cut\]", body, flags=re.IGNORECASE)]
    captions = [re.sub(r"\[global caption\]", "", c, flags=re.IGNORECASE).strip() for c in captions]
    captions = [c for c in captions if c]
    if not captions:
        raise StorytellerError("HoloCine prompt: no shots: write them after [per shot caption], cut by [shot cut]")
    prologue = re.sub(r"\s*This scene contains \w+ shots?\.?", "", prologue, flags=re.IGNORECASE)
    names = _holocine_cast(prologue)
    shots = tuple(GivenShot(_named(caption, names, _TAG)) for caption in captions)
    return ShotList("holocine", "", _named(prologue, names, _INTRODUCED), shots)


def _holocine_cast(caption: str) -> dict[str, str]:
    """What to call each [characterN]: the name the caption gives it, else "the <what it is>" (the first
    living thing its description names: "[character1], a young woman in a red coat" is "the woman")."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for match in _TAG.finditer(caption):
        number = match.group(1)
        if number in names:
            continue
        after = caption[match.end() :]
        named = _NAMED.match(caption, match.end())
        if named:
            names[number] = next(g for g in named.groups() if g)
            continue
        description = re.split(r"[.;]|\[character", after, maxsplit=1)[0]
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", description)]
        kind = next((w for w in words if w in lx.ANIMATE), None) or "person"
        name = f"the {kind}"
        if name in taken:  # two of a kind: the second told apart by its first descriptive word
            adjective = next((w for w in words if w not in lx.FUNCTION_WORDS and w != kind), "other")
            name = f"the {adjective} {kind}"
        taken.add(name)
        names[number] = name
    return names


def _named(text: str, names: dict[str, str], tags: re.Pattern[str]) -> str:
    """The text with each [characterN] (and, in the global caption, the naming after it) replaced by what
    it is called, capitalised where a sentence starts."""

    def call(match: re.Match[str]) -> str:
        name = names.get(match.group(1), "someone")
        at_start = re.search(r"(?:^|[.!?])\s*$", text[: match.start()]) is not None
        return name[:1].upper() + name[1:] if at_start else name

    return tags.sub(call, text)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
