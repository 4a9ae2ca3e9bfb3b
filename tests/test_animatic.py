"""The animatic draws the scene graph: glyphs chosen by noun, placed by relations, moved by actions."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generators import ANIMATORS, KEYFRAME_GENERATORS
from generators.animatic import AnimaticAnimator, AnimaticKeyframes, ShotRenderer
from generators.animatic.glyphs import GlyphMatcher, shared_matcher, shipped_index
from generators.animatic.scene import layout
from storyteller.core.models import Action, Entity, Location, Relation, SceneGraph, Shot, StoryPlan

W, H = 192, 108


def make_plan(entities, relations=(), actions=(), camera="static", location="park", duration=2.0, weather="clear"):
    shot = Shot(
        id="s1",
        text="test",
        span=(0, 4),
        duration=duration,
        camera=camera,
        prompt="test",
        location="loc" if location else None,
        graph=SceneGraph(entities=list(entities), relations=list(relations), actions=list(actions), weather=weather),
    )
    locations = [Location(id="loc", name=location)] if location else []
    return StoryPlan(title="t", width=W, height=H, fps=8, locations=locations, shots=[shot])


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 40


def render(plan, t=0.0):
    return ShotRenderer(plan.shots[0], plan, shared_matcher(), captions=False).frame(t)


@pytest.mark.parametrize(
    ("noun", "emoji"),
    [
        ("hamster", "🐹"),
        ("boxing gloves", "🥊"),
        ("fireworks", "🎆"),
        ("Godzilla", "🦖"),
        ("fire", "🔥"),
        ("fox", "🦊"),
    ],
)
def test_nouns_become_their_emoji(noun, emoji):
    assert shared_matcher().match(noun) == emoji


def test_embedder_finds_near_names_and_gives_up_on_nonsense():
    matcher = shared_matcher()
    assert matcher.match("kitty") in {"🐱", "🐈"}
    assert matcher.match("zqxv blorptang") is None


def test_a_sprite_is_drawn_where_the_layout_puts_it():
    plan = make_plan([Entity(id="hamster", label="hamster")])
    empty = render(make_plan([]))
    frame = render(plan)
    mask = changed(frame, empty)
    renderer = ShotRenderer(plan.shots[0], plan, shared_matcher(), captions=False)
    x0, y0, x1, y1 = renderer.screen_box("hamster", 0.0)
    inside = mask[int(y0) : int(y1), int(x0) : int(x1)]
    assert inside.mean() > 0.35  # the glyph fills its box
    xs = np.nonzero(mask)[1]
    assert abs(xs.mean() - (x0 + x1) / 2) < 3
    assert x0 - 2 <= xs.min() and xs.max() <= x1 + 2  # nothing drawn beside it
    assert abs((x0 + x1) / 2 - W / 2) < 2  # one entity stands mid-frame


def test_relations_place_sprites():
    on = make_plan(
        [Entity(id="cat", label="cat"), Entity(id="chair", label="chair")],
        relations=[Relation(subject="cat", predicate="on", object="chair")],
    )
    sprites = {s.id: s for s in layout(on.shots[0], on)}
    assert sprites["cat"].x == sprites["chair"].x and sprites["cat"].y < sprites["chair"].y
    renderer = ShotRenderer(on.shots[0], on, shared_matcher(), captions=False)
    cat, chair = renderer.screen_box("cat", 0), renderer.screen_box("chair", 0)
    assert cat[3] < chair[3] - 5  # the cat's base is above the chair's

    worn = make_plan(
        [Entity(id="hamster", label="hamster"), Entity(id="gloves", label="boxing gloves")],
        relations=[Relation(subject="hamster", predicate="wears", object="gloves")],
    )
    renderer = ShotRenderer(worn.shots[0], worn, shared_matcher(), captions=False)
    body, glove = renderer.screen_box("hamster", 0), renderer.screen_box("gloves", 0)
    centre = ((glove[0] + glove[2]) / 2, (glove[1] + glove[3]) / 2)
    assert body[0] < centre[0] < body[2] + 10 and body[1] < centre[1] < body[3]  # on the hamster, at its side
    assert centre[0] > (body[0] + body[2]) / 2
    # both glyphs really are in the picture: the glove is red, the hamster orange
    frame = render(worn)
    box = frame[int(glove[1]) : int(glove[3]), int(glove[0]) : int(glove[2])].reshape(-1, 3).astype(int)
    assert ((box[:, 0] > 180) & (box[:, 1] < 110) & (box[:, 2] < 110)).mean() > 0.1


def test_actions_move_sprites_at_the_times_the_graph_gives():
    walk = Action(agent="dog", verb="walk", start=1.0, end=2.0)
    plan = make_plan([Entity(id="dog", label="dog")], actions=[walk], duration=2.0)
    renderer = ShotRenderer(plan.shots[0], plan, shared_matcher(), captions=False)
    start, still, end = (renderer.screen_box("dog", t) for t in (0.0, 0.9, 2.0))
    assert start[0] == still[0]  # nothing happens before the action starts
    assert abs(end[0] - start[0]) > W * 0.2  # then the dog crosses a fifth of the frame
    # and the pixels agree with the boxes
    empty = render(make_plan([]), 0)
    for t, box in ((0.0, start), (2.0, end)):
        xs = np.nonzero(changed(render(plan, t), empty))[1]
        assert abs(xs.mean() - (box[0] + box[2]) / 2) < 4


def test_jump_lifts_and_fall_drops():
    for verb, sign in (("jump", -1), ("fall", 1)):
        plan = make_plan([Entity(id="cat", label="cat")], actions=[Action(agent="cat", verb=verb, start=0, end=2)])
        renderer = ShotRenderer(plan.shots[0], plan, shared_matcher(), captions=False)
        before, after = renderer.screen_box("cat", 0.0), renderer.screen_box("cat", 0.33 if verb == "jump" else 2.0)
        assert (after[3] - before[3]) * sign > 3


def test_background_tells_places_apart():
    city_night = make_plan([], location="city")
    city_night.shots[0].graph.time_of_day = "night"
    snowy_path = make_plan([], location="path", weather="snow")
    dark, bright = render(city_night), render(snowy_path)
    assert dark.mean() < 80 < bright.mean()


def test_keyframe_is_the_first_frame_and_frames_stream():
    plan = make_plan([Entity(id="dog", label="dog")], actions=[Action(agent="dog", verb="run", start=0, end=2)])
    shot = plan.shots[0]
    keyframe = KEYFRAME_GENERATORS.create("animatic").keyframe(shot, plan)
    frames = ANIMATORS.create("animatic").animate(keyframe, shot, plan)
    first = next(frames)
    assert np.array_equal(first, np.asarray(keyframe))
    rest = list(frames)
    assert len(rest) + 1 == plan.shot_frames(shot)
    assert not np.array_equal(rest[-1], first)


def test_a_keyframe_from_another_backend_is_animated_by_the_camera():
    plan = make_plan([], camera="zoom_in")
    painted = Image.new("RGB", (W, H), (10, 200, 30))
    frames = list(AnimaticAnimator(captions=False).animate(painted, plan.shots[0], plan))
    assert len(frames) == plan.shot_frames(plan.shots[0])
    assert all(np.abs(f.astype(int) - (10, 200, 30)).max() <= 2 for f in frames)


def test_captions_show_the_text():
    plan = make_plan([], location=None)
    with_text = AnimaticKeyframes(captions=True).keyframe(plan.shots[0], plan)
    without = AnimaticKeyframes(captions=False).keyframe(plan.shots[0], plan)
    diff = changed(np.asarray(with_text), np.asarray(without))
    assert diff[: H // 2].sum() == 0 and diff[H // 2 :].sum() > 0  # the caption sits at the bottom


def test_weather_stays_outdoors():
    snowy_kitchen = render(make_plan([], location="kitchen", weather="snow"), 1.0)
    dry_kitchen = render(make_plan([], location="kitchen"), 1.0)
    assert np.array_equal(snowy_kitchen, dry_kitchen)
    snowy_park = render(make_plan([], location="park", weather="snow"), 1.0)
    assert not np.array_equal(snowy_park, render(make_plan([], location="park"), 1.0))


# --- the shipped glyph index (issue 15: the first make spends no time on glyph matching) ---


def test_common_nouns_match_from_the_shipped_index_without_loading_the_embedder(tmp_path):
    matcher = GlyphMatcher(cache_dir=tmp_path)  # an empty user cache: a fresh machine
    assert shipped_index() is not None  # built for the emoji release installed here
    found = {noun: matcher.match(noun) for noun in ("lantern", "whale", "barrel", "lighthouses", "umbrella")}
    assert matcher._model is None  # not one embedding computed
    assert found["whale"] in {"🐳", "🐋"} and found["lantern"] is not None
    assert not list(tmp_path.iterdir())  # nothing embedded, nothing to remember


def test_the_shipped_index_is_what_the_embedder_finds(tmp_path):
    index = shipped_index()
    matcher = GlyphMatcher(cache_dir=tmp_path)
    nouns = list(index["nearest"])[::2000]  # a spread of the 33,000
    vectors = matcher._embed(nouns) @ index["name_vectors"].T
    for noun, scores in zip(nouns, vectors, strict=True):
        best, score = index["nearest"][noun]
        assert int(scores.argmax()) == best or abs(float(scores.max()) - score) < 2e-3, noun
        assert abs(float(scores[best]) - score) < 2e-3, noun  # float16 name vectors: within rounding


MEMO_WRITER = """
import sys, numpy as np
from pathlib import Path
from generators.animatic import glyphs

def fake_embed(self, texts):  # a stand-in for MiniLM: any unit vector will do
    rng = np.random.default_rng(abs(hash(texts[0])) % 2**32)
    vector = rng.normal(size=(1, 384)).astype(np.float32)
    return vector / np.linalg.norm(vector)

glyphs.GlyphMatcher._embed = fake_embed
matcher = glyphs.GlyphMatcher(cache_dir=Path(sys.argv[1]))
for n in range(25):
    matcher.match(f"zorblax {sys.argv[2]} {n}")
"""


def test_the_match_memo_keeps_what_every_worker_found(tmp_path):
    root = Path(__file__).resolve().parent.parent
    workers = [
        subprocess.Popen([sys.executable, "-c", MEMO_WRITER, str(tmp_path), name], cwd=root) for name in ("a", "b")
    ]
    assert [worker.wait(120) for worker in workers] == [0, 0]
    memo = GlyphMatcher(cache_dir=tmp_path)._matches
    assert {f"zorblax {name} {n}" for name in ("a", "b") for n in range(25)} <= set(memo)
