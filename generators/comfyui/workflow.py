"""A user's ComfyUI workflow in the API format ("Export (API)"), with placeholders where storyteller's values go.

A placeholder is a node input whose whole value is `{{name}}`: `"text": "{{prompt}}"`, `"seed": "{{seed}}"`. The
workflow is checked when it is read (a misspelt placeholder, a keyframe workflow without `{{prompt}}`, an
animator without `{{image}}`, the UI format instead of the API's) and against the server's own node list
before the first shot (an output node, every node installed).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyteller.core.errors import StorytellerError

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
NUMBERS = ("seed", "width", "height", "frames", "fps")  # become JSON numbers
IMAGES = ("image", "last_image", "reference")  # images storyteller uploads; the value is the uploaded name
TEXTS = ("prompt", "negative_prompt")
PLACEHOLDERS = TEXTS + NUMBERS + IMAGES
NEEDED = {"keyframe": "prompt", "animator": "image"}  # what each stage's workflow cannot do without
MAX_WORKFLOW_BYTES = 20_000_000


@dataclass(frozen=True)
class Workflow:
    """A workflow read and checked: its nodes, where each placeholder is, and the digest of its content."""

    path: str
    nodes: dict[str, dict[str, Any]]
    slots: tuple[tuple[str, str, str], ...]  # (node id, input name, placeholder), in the file's order
    digest: str  # sha256 of its nodes as JSON (its content, however it is laid out): part of every cache key

    @classmethod
    def read(cls, path: str | Path, stage: str) -> Workflow:
        """The workflow at `path` for `stage` ("keyframe" or "animator"), checked; a problem is one line."""
        where = f"ComfyUI workflow {path}"
        nodes = _nodes(Path(path), where)
        slots = tuple(_slots(nodes, where))
        used = {name for _, _, name in slots}
        if stage == "keyframe" and "image" in used:
            raise StorytellerError(
                f"{where}: {{{{image}}}} is the shot's keyframe, which this workflow draws: use it in an animator's"
            )
        if NEEDED[stage] not in used:
            need = "{{" + NEEDED[stage] + "}}"
            article = "an" if stage[0] in "aeiou" else "a"
            raise StorytellerError(f"{where}: {article} {stage} workflow needs {need} in a node input (see the README)")
        text = json.dumps(nodes, sort_keys=True, separators=(",", ":"))
        return cls(str(path), nodes, slots, hashlib.sha256(text.encode()).hexdigest())

    @property
    def uses(self) -> frozenset[str]:
        """The placeholders it has."""
        return frozenset(name for _, _, name in self.slots)

    def filled(self, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The nodes with each placeholder replaced by its value (numbers as JSON numbers)."""
        nodes = copy.deepcopy(self.nodes)
        for node, name, placeholder in self.slots:
            if placeholder not in values:
                raise StorytellerError(f"ComfyUI workflow {self.path}: nothing to put in {{{{{placeholder}}}}} here")
            nodes[node]["inputs"][name] = values[placeholder]
        return nodes

    def check_against(self, node_info: dict[str, Any]) -> None:
        """The workflow against the server's node list (`/object_info`): every node installed, and at least one
        output node (a node that saves or shows what the workflow makes)."""
        where = f"ComfyUI workflow {self.path}"
        missing = sorted({n["class_type"] for n in self.nodes.values() if n["class_type"] not in node_info})
        if missing:
            raise StorytellerError(
                f"{where}: this ComfyUI has no node {', '.join(missing)} (install it, or export again)"
            )
        outputs = [i for i, n in self.nodes.items() if node_info[n["class_type"]].get("output_node")]
        if not outputs:
            raise StorytellerError(f"{where}: no output node saves a result (add SaveImage or a video save node)")


def _nodes(path: Path, where: str) -> dict[str, dict[str, Any]]:
    """The file's nodes, checked to be the API format."""
    if not path.is_file():
        raise StorytellerError(f"{where} does not exist")
    if path.stat().st_size > MAX_WORKFLOW_BYTES:
        raise StorytellerError(f"{where}: larger than {MAX_WORKFLOW_BYTES:,} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise StorytellerError(f"{where} is not JSON: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data:
        raise StorytellerError(f"{where} is in ComfyUI's UI format: save it with Workflow > Export (API)")
    if not isinstance(data, dict) or not data:
        raise StorytellerError(f"{where}: expected the API format, an object of nodes by id")
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise StorytellerError(f"{where}: node {node_id} has no class_type (is this the API format?)")
        if not isinstance(node.get("inputs", {}), dict):
            raise StorytellerError(f"{where}: node {node_id}'s inputs are not an object")
        node.setdefault("inputs", {})
    return data


def _slots(nodes: dict[str, dict[str, Any]], where: str) -> list[tuple[str, str, str]]:
    """Every placeholder: (node id, input name, placeholder); a wrong one said in one line."""
    slots = []
    for node_id, node in nodes.items():
        for name, value in node["inputs"].items():
            if not isinstance(value, str) or "{{" not in value:
                continue
            at = f"node {node_id} ({node['class_type']}) input {name}"
            found = PLACEHOLDER.fullmatch(value.strip())
            if found is None:
                raise StorytellerError(f"{where}: {at} is {value!r}: a placeholder must be the input's whole value")
            placeholder = found.group(1)
            if placeholder not in PLACEHOLDERS:
                known = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
                raise StorytellerError(f"{where}: {at}: unknown placeholder {{{{{placeholder}}}}} (known: {known})")
            slots.append((node_id, name, placeholder))
    return slots
