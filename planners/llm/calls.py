"""Asking a chat model for a validated, typed answer: structured output where the model supports tool
calling, JSON otherwise; every failure fed back and retried a bounded number of times; every call
cached on disk so a resumed or re-rendered run costs no tokens."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from planners.llm import prompts
from storyteller.core.cache import atomic_write_text
from storyteller.core.errors import first_line

T = TypeVar("T", bound=BaseModel)


class PlanningError(Exception):
    """The model gave no usable answer, or could not be called."""


@dataclass
class CallStats:
    calls: int = 0  # answers that came from the model
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    model_seconds: float = 0.0  # time spent inside the model
    total_seconds: float = 0.0  # time spent in `ask`, model included

    def overhead_per_call(self) -> float:
        answered = self.calls + self.cache_hits
        return (self.total_seconds - self.model_seconds) / answered if answered else 0.0


class ModelCaller:
    def __init__(self, model: Any, cache_dir: Path | None = None, attempts: int = 3) -> None:
        self.model = model
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.attempts = attempts
        self.stats = CallStats()
        self._structured: dict[type, Any] = {}

    def ask(self, step: str, prompt: str, schema: type[T], check: Callable[[T], list[str]]) -> T:
        """The model's answer to `prompt` as a `schema`, passing `check`; raises PlanningError."""
        from langchain_core.messages import AIMessage, HumanMessage

        started = time.perf_counter()
        structured = self._structured_model(schema)
        if structured is None:
            prompt += "\n\n" + prompts.JSON_ONLY.format(schema=prompts.dumps(schema.model_json_schema()))
        messages: list[Any] = [HumanMessage(prompt)]
        errors: list[str] = []
        try:
            for _ in range(self.attempts):
                text = self._answer(messages, structured, schema)
                answer, errors = _parse(text, schema)
                if answer is not None:
                    errors = check(answer)
                    if not errors:
                        return answer
                messages += [AIMessage(text), HumanMessage(prompts.RETRY.format(errors=_bullets(errors)))]
        finally:
            self.stats.total_seconds += time.perf_counter() - started
        raise PlanningError(
            f"{step}: the model gave no valid answer in {self.attempts} tries; last problem: {errors[0]}"
        )

    # --- one call, through the cache -----------------------------------------------------------

    def _answer(self, messages: list[Any], structured: Any, schema: type[BaseModel]) -> str:
        key = self._key(messages, schema, structured is not None)
        path = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                self.stats.cache_hits += 1
                return str(json.loads(path.read_text(encoding="utf-8"))["text"])
            except (OSError, ValueError, KeyError, TypeError):  # unreadable, or not an answer
                self.stats.cache_hits -= 1  # unreadable: ask again
        started = time.perf_counter()
        try:
            if structured is not None:
                result = structured.invoke(messages)
                raw = result["raw"]
                calls = getattr(raw, "tool_calls", None) or []
                text = prompts.dumps(calls[0]["args"]) if calls else _content(raw)
            else:
                raw = self.model.invoke(messages)
                text = _after_prompt(_content(raw), messages)
        except Exception as error:  # a provider's failure (network, auth, quota) is one clear line
            raise PlanningError(f"the model call failed: {type(error).__name__}: {first_line(error)}"[:400]) from None
        finally:
            self.stats.model_seconds += time.perf_counter() - started
        self.stats.calls += 1
        usage = getattr(raw, "usage_metadata", None) or {}
        self.stats.tokens_in += int(usage.get("input_tokens", 0) or 0)
        self.stats.tokens_out += int(usage.get("output_tokens", 0) or 0)
        if path is not None:
            atomic_write_text(path, json.dumps({"text": text, "usage": dict(usage)}))
        return text

    def _structured_model(self, schema: type[BaseModel]) -> Any:
        """`with_structured_output` where the model can bind tools; None means: ask for JSON."""
        if schema not in self._structured and _local_pipeline(self.model):
            self._structured[schema] = None  # a local pipeline answers in text; its tool calls are never parsed
        if schema not in self._structured:
            try:
                self._structured[schema] = self.model.with_structured_output(schema, include_raw=True)
            except (NotImplementedError, AttributeError, TypeError, ValueError):
                self._structured[schema] = None
        return self._structured[schema]

    def _key(self, messages: list[Any], schema: type[BaseModel], structured: bool) -> str:
        identity = {
            "model": type(self.model).__name__,
            "params": {k: str(v) for k, v in sorted(_identifying(self.model).items())},
            "schema": schema.__name__,
            "structured": structured,
            "messages": [[type(m).__name__, _content(m)] for m in messages],
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _identifying(model: Any) -> dict[str, Any]:
    """What tells the model from another of its class: langchain's identifying parameters (a provider's model
    name and settings) and the model's own plain settings (a custom model's name, temperature, path), so two
    models of one class never share answers. Its failure is the model's own, and is not hidden."""
    params = dict(model._identifying_params)
    fields = model.model_dump() if callable(getattr(model, "model_dump", None)) else {}
    plain = (str, int, float, bool)
    params.update({k: v for k, v in fields.items() if isinstance(v, plain) and k not in params})
    # a scripted test model's place in its script changes as it answers: not what it is
    for noisy in ("responses", "messages", "i"):
        params.pop(noisy, None)
    return params


def _after_prompt(text: str, messages: list[Any]) -> str:
    """Only what the model wrote: a pipeline that echoes its prompt would hand the prompt's own examples
    to the JSON parser as if the model had written them."""
    asked = _content(messages[-1]).strip() if messages else ""
    if asked and asked in text:
        return text[text.rindex(asked) + len(asked) :]
    return text


def _local_pipeline(model: Any) -> bool:
    return type(getattr(model, "llm", None)).__name__ == "HuggingFacePipeline"


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):  # content blocks
        return "".join(block.get("text", "") if isinstance(block, dict) else str(block) for block in content)
    return str(content)


def _parse(text: str, schema: type[T]) -> tuple[T | None, list[str]]:
    """The answer as a `schema`, or the reasons it is not one (JSON errors, then field errors)."""
    body = _json_block(text)
    if body is None:
        return None, ["the answer holds no JSON object"]
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        return None, [f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"]
    try:
        return schema.model_validate(data), []
    except ValidationError as error:
        return None, [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()[:8]]


def _json_block(text: str) -> str | None:
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def _bullets(errors: list[str]) -> str:
    return "\n".join(f"- {e}" for e in errors)
