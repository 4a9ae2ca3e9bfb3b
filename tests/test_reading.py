"""Story understanding of the default planner: who is in each shot, named exactly, and nothing else.

Every story here was written for these tests. `tests/stories/` holds longer annotated ones, scored the way
`benchmarks/planner.py` scores them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from planners.heuristic import HeuristicPlanner
from storyteller.core.models import PlanConfig, StoryPlan

STORIES = Path(__file__).parent / "stories"


def plan(text: str) -> StoryPlan:
    return HeuristicPlanner().plan(text, PlanConfig(title="t"))


def cast(result: StoryPlan) -> dict[str, str]:
    """name -> id of every character in the plan"""
    return {c.name: c.id for c in result.characters}


def shot_with(result: StoryPlan, words: str):
    return next(s for s in result.shots if words in s.text)


def everything_drawn(result: StoryPlan) -> set[str]:
    return {e.label for s in result.shots for e in s.graph.entities} | {c.kind for c in result.characters}


def test_names_in_any_script_are_kept_exactly_with_ascii_ids():
    result = plan(
        "Åsa and her brother Jean-Luc walked to the lake. Zoë waved to them from a boat. "
        "Ольга, the ferry captain, rang the bell. The maintenance robot KIT-9 blinked at her. "
        "Nguyễn Van Minh laughed."
    )
    names = cast(result)
    assert {"Åsa", "Jean-Luc", "Zoë", "Ольга", "KIT-9", "Nguyễn Van Minh"} <= set(names)  # a name kept whole
    assert all(cid.isascii() and cid.replace("_", "").isalnum() for cid in names.values())
    kinds = {c.name: c.kind for c in result.characters}
    assert kinds["Jean-Luc"] == "brother" and kinds["KIT-9"] == "robot" and kinds["Ольга"] == "captain"


def test_the_capitalised_first_word_of_a_quote_is_no_name():
    result = plan(
        'Mia walked to the lighthouse with her dog Rex. The keeper smiled and said, "Storms come in the autumn." '
        "Rex barked at the gulls."
    )
    assert {"Mia", "Rex"} <= set(cast(result)) and "Storms" not in cast(result)
    # a name opening a quote is still one where the story names it elsewhere
    named = plan('Ben waved. "Anna is late," he said. Later Anna ran up the hill.')
    assert {"Ben", "Anna"} <= set(cast(named))


def test_titles_are_roles_and_an_alias_finds_the_named_character():
    result = plan(
        "Inspector Varga reached the museum at dawn. The detective studied the broken glass. "
        "Captain Ines Moreau met him at the door. The commander said nothing."
    )
    names = cast(result)
    assert set(names) == {"Varga", "Ines Moreau"}  # the title is no part of the name; the name is kept whole
    assert shot_with(result, "The detective").characters == [names["Varga"]]
    assert names["Ines Moreau"] in shot_with(result, "The commander").characters
    looks = {c.name: c.appearance for c in result.characters}
    assert looks["Ines Moreau"].startswith("Ines Moreau") and "captain" in looks["Ines Moreau"]


def test_names_introduced_without_named():
    result = plan(
        "Nadia was the baker of the village. Yusuf, the fisherman's son, knocked on her door. "
        "She gave the boy a warm loaf."
    )
    kinds = {c.name: c.kind for c in result.characters}
    assert kinds == {"Nadia": "baker", "Yusuf": "son"}  # the fisherman is only talked about
    last = shot_with(result, "She gave")
    assert set(last.characters) == {cast(result)["Nadia"], cast(result)["Yusuf"]}


def test_unnamed_animals_people_and_machines_that_act_are_characters():
    result = plan("A proud hare laughed at a slow tortoise. The old robot rolled closer. A stranger smiled.")
    assert {c.kind for c in result.characters} == {"hare", "tortoise", "robot", "stranger"}
    first = result.shots[0]
    assert set(first.characters) == {"hare", "tortoise"}
    assert ("hare", "tortoise") in {(a.agent, a.object) for a in first.graph.actions}  # the hare laughs at her


def test_pronouns_follow_gender_number_and_recency_and_never_their_own_subject():
    result = plan(
        "Tom met his sister Maya at the station. She hugged him.\n\n"
        "The tortoise walked past the hare. It did not look at him."
    )
    names = cast(result)
    hug = shot_with(result, "She hugged")
    assert ("maya", "tom") in {(a.agent, a.object) for a in hug.graph.actions}
    assert names["Maya"] == "maya" and set(hug.characters) == {"maya", "tom"}
    look = shot_with(result, "It did not")
    assert set(look.characters) == {"tortoise", "hare"}


def test_a_first_person_narrator_and_we():
    result = plan("Last winter Grandpa took me fishing. We sat by a hole in the ice. I caught nothing at all that day.")
    names = cast(result)
    assert names["I"] == "narrator" and names["Grandpa"] == "grandpa"
    assert set(shot_with(result, "We sat").characters) == {"narrator", "grandpa"}
    assert shot_with(result, "I caught").characters == ["narrator"]


def test_groups_resolve_to_their_members():
    result = plan(
        "Leo built a kite. His cousin Ana painted a dragon on it.\n\n"
        "The two children ran up the hill. A grey goat watched them from behind a fence. "
        "Both of them laughed until they fell over."
    )
    pair = {"leo", "ana"}
    assert set(shot_with(result, "The two children").characters) == pair
    assert set(shot_with(result, "A grey goat").characters) == pair | {"goat"}
    assert set(shot_with(result, "Both of them").characters) == pair


def test_dialogue_puts_the_speaker_and_the_one_spoken_to_in_the_shot():
    result = plan(
        "A fox sat under a tree. A crow landed on a branch above him.\n\n"
        '"What a fine voice you must have," said the fox.'
    )
    assert set(shot_with(result, "said the fox").characters) == {"fox", "crow"}


def test_objects_verbs_body_parts_and_places_are_never_characters():
    result = plan(
        "The old sailor agreed. The radio crackled in the cabin. He steered the boat toward Lisbon, "
        "rubbing his tired eyes."
    )
    assert [c.kind for c in result.characters] == ["sailor"]
    drawn = everything_drawn(result)
    assert not drawn & {"agreed", "crackled", "steered", "agree", "crackle", "steer", "eye", "eyes", "lisbon"}
    assert {"radio", "boat"} <= drawn


def test_quantities_and_containers_name_what_they_hold():
    result = plan("A mouse found a piece of cheese. A crowd of people watched a girl carry a basket of fish.")
    labels = everything_drawn(result)
    assert "cheese" in labels and "piece" not in labels
    assert "people" in {c.kind for c in result.characters} and "crowd" not in labels
    assert {"basket", "fish"} <= labels
    assert "fish" not in {c.kind for c in result.characters}
    second = result.shots[-1]
    assert ("fish", "in", "basket") in {(r.subject, r.predicate, r.object) for r in second.graph.relations}


def test_proper_places_are_places_and_carry_to_the_next_shot():
    result = plan(
        "Rosa sold flowers at the busy market of Ærøskøbing. Her dog slept under the table.\n\nLater she walked home."
    )
    assert "Ærøskøbing" not in cast(result)
    market = result.shots[0].location
    assert market and "rosk" in market
    location = next(loc for loc in result.locations if loc.id == market)
    assert "Ærøskøbing" in location.name
    assert all(s.location == market for s in result.shots)  # no new place named: still there


def test_the_character_bible_gathers_the_whole_story():
    result = plan(
        "A girl named Lila lived by the sea. Every morning she put on her yellow raincoat. Lila had long red hair."
    )
    lila = next(c for c in result.characters if c.name == "Lila")
    assert "yellow raincoat" in lila.appearance
    for shot in result.shots:
        if "lila" in shot.characters:
            assert lila.appearance in shot.prompt


def _benchmark_scorer():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "planner.py"
    spec = importlib.util.spec_from_file_location("planner_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score


@pytest.mark.parametrize("story", sorted(p.stem for p in STORIES.glob("*.txt")))
def test_annotated_stories_are_read_well(story):
    score = _benchmark_scorer()
    annotation = json.loads((STORIES / f"{story}.json").read_text(encoding="utf-8"))
    result = score(annotation, plan((STORIES / f"{story}.txt").read_text(encoding="utf-8")))
    named, names = result["names"]
    assert named == names, f"{story}: proper names kept {named}/{names}"
    assert result["recall"] >= 0.75 and result["precision"] >= 0.75, f"{story}: {result}"


def test_kin_generic_nouns_and_names_said_in_quotes_find_who_we_met():
    result = plan(
        "Elif walked along the beach with her grandmother. A stranger on a grey horse rode past them. "
        '"Good morning," Grandmother called. The man raised his hat. "My name is Tobin," he said.'
    )
    names = cast(result)
    assert set(names) == {"Elif", "Grandmother", "Tobin", "Horse"}
    assert {c.kind for c in result.characters} == {"person", "grandmother", "stranger", "horse"}
    assert names["Tobin"] in shot_with(result, "The man raised").characters


def test_a_capitalised_first_word_that_names_a_thing_is_no_character():
    result = plan("The whole village gathered in the square at night. Fireworks exploded above the crowd of people.")
    assert {c.kind for c in result.characters} == {"people"}
    assert "fireworks" in {e.label for e in result.shots[-1].graph.entities}


def test_descriptions_kin_and_whose_body_a_verb_means():
    result = plan(
        "An old woman and her husband lived by the forest. Every winter the man chopped wood while his wife "
        "baked bread.\n\nDetective Sharma walked into the café. The waiter, a thin man with a scar, avoided "
        "her eyes. She noticed mud on his boots."
    )
    kinds = {c.id: c.kind for c in result.characters}
    assert sorted(kinds.values()) == ["detective", "husband", "waiter", "woman"]  # no "wife", no second "man"
    assert set(shot_with(result, "his wife").characters) == {"woman", "husband"}
    assert set(shot_with(result, "She noticed").characters) == {"sharma", "waiter"}
    waiter = next(c for c in result.characters if c.kind == "waiter")
    assert "scar" in waiter.appearance and "boots" in waiter.appearance


def test_the_nearness_index_answers_as_the_embedder_does():
    from planners import animacy, bible

    for noun in ("trucker", "busker", "sheepdog", "dot", "mood", "lantern", "vending machine", "scarf"):
        for these, those in ((animacy.ALIVE, animacy.NOT_ALIVE), (bible.WEARABLE, bible.NOT_WEARABLE)):
            indexed = animacy.nearer(noun, these, those)
            vector = animacy.vector_of(noun)  # the embedder's own answer
            embedded = float((animacy._encoded(these) @ vector).max() - (animacy._encoded(those) @ vector).max())
            assert abs(indexed - embedded) <= 0.011, (noun, indexed, embedded)


def test_a_story_of_common_words_plans_without_loading_the_embedder():
    import subprocess
    import sys

    code = (
        "import sys; from planners.heuristic import HeuristicPlanner; from storyteller.core.models import PlanConfig\n"
        "HeuristicPlanner().plan(open(sys.argv[1]).read(), PlanConfig())\n"
        "print('sentence_transformers' in sys.modules)\n"
    )
    story = Path(__file__).parent.parent / "examples" / "the_lighthouse_cat.txt"
    out = subprocess.run([sys.executable, "-c", code, str(story)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
