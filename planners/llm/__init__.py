"""The LLM planner (Dysen-VDM's three steps) on any langchain chat model."""

from planners.llm.calls import CallStats, ModelCaller, PlanningError
from planners.llm.planner import LLMPlanner, load_chat_model

__all__ = ["CallStats", "LLMPlanner", "ModelCaller", "PlanningError", "load_chat_model"]
