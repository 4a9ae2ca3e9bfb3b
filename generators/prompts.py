"""What every model-backed generator asks for a shot: its prompts, completed from the plan, and its seed."""

from __future__ import annotations

from storyteller.core.models import MotionGuide, Shot, StoryPlan, stable_hash


def lead(shot: Shot) -> str | None:
    """The character a shot is about: the first in its list."""
    return shot.characters[0] if shot.characters else None


def keyframe_prompt(shot: Shot, plan: StoryPlan) -> str:
    """The shot's first frame: its keyframe prompt where it has one (a shot list's first-frame prompt), else its
    prompt, completed from the plan."""
    return completed(shot.keyframe_prompt or shot.prompt, shot, plan)


def video_prompt(shot: Shot, plan: StoryPlan) -> str:
    """The whole shot: its prompt, completed from the plan."""
    return completed(shot.prompt, shot, plan)


def completed(given: str, shot: Shot, plan: StoryPlan) -> str:
    """A prompt with whatever of the bible, the place and the style it leaves out."""
    parts = [given.strip().rstrip(",")]
    text = given.lower()
    for cid in shot.characters:
        character = plan.character(cid)
        if character is None:
            continue
        trigger = character.lora.trigger if character.lora else ""
        if trigger and trigger.lower() not in text:  # the word its LoRA was trained on, beside its bible text
            parts.append(trigger)
        if character.appearance.lower() not in text:
            parts.append(character.appearance)
    location = plan.location(shot.location)
    if location:
        place = location.description or location.name
        if place.lower() not in text:
            parts.append(place)
    if plan.style and plan.style.lower() not in text:
        parts.append(plan.style)
    return ", ".join(p for p in parts if p)


def shot_seed(stage: str, plan: StoryPlan, shot: Shot) -> int:
    """The shot's noise seed (< 2**60): the plan's seed, the shot's lead character and its place, so the same
    hero in the same place starts from the same noise, in any backend and any process."""
    return int(stable_hash([stage, plan.seed, lead(shot), shot.location])[:15], 16)


def motion_prompt(shot: Shot, plan: StoryPlan, guide: MotionGuide | None = None) -> str:
    """What the clip shows and how it moves: the keyframe prompt, the shot's motion, and the guide's path."""
    parts = [video_prompt(shot, plan)]
    if shot.motion_prompt:
        parts.append(shot.motion_prompt)
    if shot.camera != "static":
        parts.append("camera " + shot.camera.replace("_", " "))
    if guide is not None:
        parts.extend(_guide_words(guide))
    return ", ".join(parts)


def _guide_words(guide: MotionGuide) -> list[str]:
    """The retrieved clip's motion in words: where its subject goes, what its camera does."""
    words = []
    if len(guide.trajectory) > 1:
        (x0, y0), (x1, y1) = guide.trajectory[0], guide.trajectory[-1]
        dx, dy = x1 - x0, y1 - y0
        if max(abs(dx), abs(dy)) > 0.1:
            horizontal = "to the right" if dx > 0 else "to the left"
            vertical = "downwards" if dy > 0 else "upwards"
            words.append("subject moves " + (horizontal if abs(dx) >= abs(dy) else vertical))
    if guide.camera is not None:
        dx, _, zoom = guide.camera
        if abs(zoom) > 0.05:
            words.append("camera zooms " + ("in" if zoom > 0 else "out"))
        elif abs(dx) > 0.05:
            words.append("camera pans " + ("right" if dx > 0 else "left"))
    return words
