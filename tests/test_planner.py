from planners import PLANNERS
from planners.heuristic import HeuristicPlanner
from storyteller.core.models import PlanConfig
from tests.conftest import EXAMPLES, HAMSTER, ZOSIA


def plan(text: str, seed: int = 0):
    return HeuristicPlanner().plan(text, PlanConfig(title="t", seed=seed))


def test_same_story_and_seed_give_the_same_plan_byte_for_byte():
    story = (EXAMPLES / "the_lighthouse_cat.txt").read_text()
    assert plan(story).model_dump_json() == plan(story).model_dump_json()


def test_registry_builds_the_default_planner():
    assert isinstance(PLANNERS.create("heuristic"), HeuristicPlanner)


def test_hamster_wears_gloves_and_punches_in_a_ring():
    shot = plan(HAMSTER).shots[0]
    labels = {e.id: e.label for e in shot.graph.entities}
    assert labels["hamster"] == "hamster"
    assert "boxing gloves" in labels.values()
    gloves = next(i for i, label in labels.items() if label == "boxing gloves")
    assert any(r.subject == "hamster" and r.predicate == "wears" and r.object == gloves for r in shot.graph.relations)
    assert [(a.agent, a.verb) for a in shot.graph.actions] == [("hamster", "punch")]
    assert shot.location == "boxing_ring"


def test_names_pronouns_and_repeats_resolve_to_one_character():
    story = ZOSIA + " Later the girl waved. Zosia smiled and she jumped."
    result = plan(story)
    assert [c.id for c in result.characters] == ["zosia"]
    zosia = result.characters[0]
    assert zosia.name == "Zosia"
    # the appearance is fixed once, from every sentence, and reused verbatim in every prompt
    assert "gloves" in zosia.appearance and "jacket" in zosia.appearance
    for shot in result.shots:
        assert shot.characters == ["zosia"]
        assert zosia.appearance in shot.prompt
    verbs = [a.verb for s in result.shots for a in s.graph.actions if a.agent == "zosia"]
    assert verbs == ["walk", "walk", "wave", "smile", "jump"]


def test_style_time_weather_and_location_reach_the_graph():
    result = plan(ZOSIA)
    assert result.style == "Disney animation style"
    assert all(s.graph.weather == "snow" for s in result.shots)
    assert result.shots[-1].location == "path"
    night = plan("At night a dog ran through the city. The rain fell.")
    assert night.shots[0].graph.time_of_day == "night"
    assert night.shots[0].location == "city"


def test_durations_follow_the_text_and_actions_fit_their_shot():
    short, long = "A dog ran.", "A dog ran across the wide green field for a very long time while the sun slowly set."
    result = plan(f"{long}\n\n{short}")
    assert result.shots[0].duration > result.shots[1].duration
    for shot in result.shots:
        for action in shot.graph.actions:
            assert 0 <= action.start <= action.end <= shot.duration


def test_camera_hints_are_read_from_the_text():
    result = plan("Teddy bear walking down 5th Avenue, front view, beautiful sunset, close up, high definition, 4K")
    shot = result.shots[0]
    assert shot.camera == "close_up"
    assert shot.graph.time_of_day == "sunset"
    assert shot.location == "5th_avenue"
    assert [(a.agent, a.verb) for a in shot.graph.actions] == [("teddy_bear", "walk")]


def test_relations_between_entities():
    shot = plan("A cat sat on a chair near the window.").shots[0]
    triples = {(r.subject, r.predicate, r.object) for r in shot.graph.relations}
    assert ("cat", "on", "chair") in triples


def test_title_line_is_the_title_not_a_shot():
    result = plan((EXAMPLES / "the_lighthouse_cat.txt").read_text())
    assert result.title == "The Lighthouse Cat"
    assert not result.shots[0].text.startswith("The Lighthouse Cat")


def test_two_minute_example_runs_about_two_minutes():
    result = plan((EXAMPLES / "the_lighthouse_cat.txt").read_text())
    assert 100 <= result.duration <= 140
