"""Stage 1, plan: story text -> StoryPlan.

A planner is any object with `plan(story, config) -> StoryPlan`. Built-ins register here by name;
third-party planners register through the `storyteller.planners` entry-point group.
"""

from __future__ import annotations

from storyteller.core.backend import Planner
from storyteller.core.registry import Registry

PLANNERS: Registry[Planner] = Registry("planner", "storyteller.planners")
PLANNERS.register("heuristic", "planners.heuristic:HeuristicPlanner")
PLANNERS.register("llm", "planners.llm:LLMPlanner")  # "llm:provider:model"
PLANNERS.register("fountain", "planners.fountain:FountainPlanner")  # screenplays

__all__ = ["PLANNERS", "Planner"]
