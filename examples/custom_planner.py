"""A planner of your own, in a few lines: one shot per line of the story, three seconds each.

python examples/custom_planner.py
"""

from storyteller import PlanConfig, StoryPlan, Storyteller
from storyteller.core.models import Action, Entity, SceneGraph, Shot


class LinePlanner:
    """Any object with `plan(story, config) -> StoryPlan` is a planner."""

    def plan(self, story: str, config: PlanConfig) -> StoryPlan:
        shots, offset = [], 0
        for n, line in enumerate(text for text in story.splitlines() if text.strip()):
            start = story.index(line, offset)
            offset = start + len(line)
            noun = line.split()[-1].strip(".!?").lower()  # the last word is the star of the shot
            graph = SceneGraph(
                entities=[Entity(id="star", label=noun)],
                actions=[Action(agent="star", verb="jump", start=0.5, end=2.5)],
            )
            span = (start, offset)
            shots.append(Shot(id=f"line_{n + 1}", text=line, span=span, duration=3.0, prompt=line, graph=graph))
        return StoryPlan(title=config.title, shots=shots, **config.picture())


if __name__ == "__main__":
    story = "Look, a rocket.\nAnd here comes a penguin.\nFinally, a birthday cake."
    result = Storyteller(planner=LinePlanner()).make(story, name="custom_planner", width=320, height=180)
    print(f"{len(result.plan.shots)} shots -> {result.video}")
