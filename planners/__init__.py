"""Stage 1, plan: story text -> StoryPlan.

A planner is any object with `plan(story, config) -> StoryPlan`. Built-ins register here by name;
third-party planners register through the `storyteller.planners` entry-point group.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from storyteller.models import PlanConfig, StoryPlan
from storyteller.registry import Registry


@runtime_checkable
class Planner(Protocol):
    def plan(self, story: str, config: PlanConfig) -> StoryPlan: ...


PLANNERS: Registry[Planner] = Registry("planner", "storyteller.planners")
PLANNERS.register("heuristic", "planners.heuristic:HeuristicPlanner")
PLANNERS.register("llm", "planners.llm:LLMPlanner")  # "llm:provider:model"
PLANNERS.register("fountain", "planners.fountain:FountainPlanner")  # screenplays

__all__ = ["PLANNERS", "Planner"]
