"""The instructions and in-context examples of the three steps (Dysen-VDM: plan actions, build the
dynamic scene graph, imagine the scene)."""

from __future__ import annotations

import json

STEP1 = """You are the planner of a film made from a story. Step 1 of 3: action planning.
Read the part of the story below and list its key events in temporal order; each event becomes one shot.
- Fix the cast: every character gets a lowercase id, a name, a kind (one noun) and ONE visual appearance
  that will be reused word for word in every shot. Characters already in the bible keep their id and
  appearance: do not repeat them unless they are new.
- Every event names its agent, one action verb (prefer: walk, run, jump, fly, fall, punch, spin, grow,
  shrink, explode, roar, raise, burn, dance, wave, swim, shake, sit, climb, appear, vanish), the object
  if any, the characters on screen (ids), the location (an id) and a duration in seconds.
- The durations of this part must add up to {target:.1f} seconds (within 5 %).
- `text` copies the sentence(s) of the story the event shows.

Character bible so far: {bible}
Locations so far: {locations}
Story so far: {summary}

Example. Story: "A cute golden hamster throwing punches wearing boxing gloves in a boxing ring."
Answer: {example1}

Example. Story: "{example1b_story}"
Answer: {example1b}

Part of the story to plan:
{story}"""

STEP2 = """Step 2 of 3: turn each event into a dynamic scene graph.
For every event below give: the camera move (static, pan_left, pan_right, tilt_up, tilt_down, zoom_in,
zoom_out, close_up, wide); the entities on screen (characters by their id, things by a short lowercase id,
each with the noun to draw as `label` and visual attributes); relations between entity ids (predicates:
in, on, above, under, near, behind, facing, wears, holds); and actions (agent and object are entity ids,
verb as in step 1) with start and end times in seconds inside the shot (0 <= start <= end <= duration).

Character bible: {bible}

Example. Event: {example_event}
Answer: {example2}

Events:
{events}"""

STEP3 = """Step 3 of 3: scene imagination. Enrich every shot with plausible visual detail.
For each event give the time of day (dawn, morning, day, sunset, dusk, night), the weather (clear, cloudy,
rain, snow, fog, storm), the setting in concrete visual terms (light, colours, props), extra visual
attributes per entity id, a keyframe prompt (one rich text-to-image prompt for the first frame; it must
contain each character's appearance exactly as the bible gives it) and a motion prompt (what moves and
how, and what the camera does).{style}

Character bible: {bible}

Example. Event and graph: {example_event}
Answer: {example3}

Events and their graphs:
{shots}"""

JSON_ONLY = """Answer with one JSON object only, no prose, matching this JSON Schema:
{schema}"""

RETRY = """That answer cannot be used:
{errors}
Answer again with the whole corrected JSON object."""

EXAMPLE_EVENT = {
    "id": "e1",
    "text": "A cute golden hamster throwing punches wearing boxing gloves in a boxing ring.",
    "agent": "hamster",
    "action": "punch",
    "object": None,
    "characters": ["hamster"],
    "location": "boxing_ring",
    "duration": 5.0,
}
EXAMPLE1 = {
    "title": "Fight night",
    "style": "",
    "summary": "A hamster in boxing gloves throws punches in a boxing ring.",
    "characters": [
        {
            "id": "hamster",
            "name": "Hamster",
            "kind": "hamster",
            "appearance": "a cute golden hamster with round cheeks wearing red boxing gloves",
        }
    ],
    "locations": [{"id": "boxing_ring", "name": "boxing ring", "description": "a small boxing ring under spotlights"}],
    "events": [EXAMPLE_EVENT],
}
EXAMPLE1B_STORY = (
    "Disney animation style, One frosty day a little girl named Zosia was coming home from school. "
    "With gloves keeping her hands warm, she walked along the path."
)
EXAMPLE1B = {
    "title": "Zosia walks home",
    "style": "Disney animation style",
    "summary": "On a frosty day Zosia walks home from school along a snowy path.",
    "characters": [
        {
            "id": "zosia",
            "name": "Zosia",
            "kind": "girl",
            "appearance": "a little girl with rosy cheeks in a cozy blue jacket and knitted gloves",
        }
    ],
    "locations": [{"id": "path", "name": "snowy path", "description": "a path through fields under deep snow"}],
    "events": [
        {"id": "e1", "text": "One frosty day a little girl named Zosia was coming home from school.",
         "agent": "zosia", "action": "walk", "object": None, "characters": ["zosia"], "location": "path",
         "duration": 4.0},
        {"id": "e2", "text": "With gloves keeping her hands warm, she walked along the path.", "agent": "zosia",
         "action": "walk", "object": None, "characters": ["zosia"], "location": "path", "duration": 4.0},
    ],
}  # fmt: skip
EXAMPLE2 = {
    "shots": [
        {
            "event_id": "e1",
            "camera": "close_up",
            "entities": [
                {"id": "hamster", "label": "hamster", "attributes": ["golden", "cute"]},
                {"id": "gloves", "label": "boxing gloves", "attributes": ["red"]},
            ],
            "relations": [{"subject": "hamster", "predicate": "wears", "object": "gloves"}],
            "actions": [{"agent": "hamster", "verb": "punch", "object": None, "start": 0.5, "end": 4.5}],
        }
    ]
}
EXAMPLE3 = {
    "shots": [
        {
            "event_id": "e1",
            "time_of_day": "night",
            "weather": "clear",
            "setting": "a boxing ring with blue canvas, red ropes and bright spotlights, a dark crowd beyond",
            "attributes": {"hamster": ["determined"], "gloves": ["shiny"]},
            "keyframe_prompt": "a cute golden hamster with round cheeks wearing red boxing gloves, fists raised, "
            "in a boxing ring with blue canvas and red ropes under bright spotlights, cinematic",
            "motion_prompt": "the hamster throws quick punches left and right; the camera slowly pushes in",
        }
    ]
}


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
