"""A client of the user's ComfyUI server, speaking its protocol as its own frontend does (ComfyUI's server.py and
execution.py): images up through `/upload/image`, the workflow queued on `/prompt` with a client id, progress
from the websocket `/ws?clientId=` (`executing`, `progress`, `execution_success`, `execution_error`), or, where
the socket cannot be had or drops, from polling `/history/{prompt_id}`; results fetched from `/view`.

Only the URL the user gave is contacted: no proxy from the environment, no redirect followed, and the names
fetched are the ones the server reported, as query parameters of its own `/view`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from storyteller.core.errors import StorytellerError

DEFAULT_URL = "http://127.0.0.1:8188"  # ComfyUI's own default address
Progress = Callable[[int, int], None]
MAX_RESULT_BYTES = 4_000_000_000  # one saved image or video
MAX_JSON_BYTES = 200_000_000  # a history entry or the node list
IDLE_SECONDS = 5.0  # without a message this long, ask the history whether the job ended unseen
POLL_SECONDS = 0.25


class ComfyError(StorytellerError):
    """What the server said went wrong (or that it could not be reached), in one line."""


@dataclass(frozen=True)
class Saved:
    """A file an output node saved: where `/view` finds it."""

    node: str
    filename: str
    subfolder: str
    type: str


def check_url(url: str) -> str:
    """The server's base URL, without a trailing slash: http or https, a host, nothing after the path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise StorytellerError(f"--comfyui-url {url}: give the server's address, e.g. http://127.0.0.1:8188")
    return url.rstrip("/")


class ComfyClient:
    """One ComfyUI server. `timeout`: the longest one job may run, in seconds."""

    def __init__(self, url: str, timeout: float = 3600.0) -> None:
        self.url = check_url(url)
        self.timeout = timeout
        self._http: Any = None

    def __getstate__(self) -> dict[str, Any]:  # a worker opens its own connections
        return {**self.__dict__, "_http": None}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # --- requests ----------------------------------------------------------------------------------

    def node_info(self) -> dict[str, Any]:
        """Every node class the server has, with whether it is an output node (`/object_info`)."""
        return self._json("GET", "/object_info")

    def upload(self, png: bytes, name: str) -> str:
        """An image into the server's input folder; the name a LoadImage node takes it by."""
        files = {"image": (name, png, "image/png")}
        answer = self._json("POST", "/upload/image", files=files, data={"type": "input", "overwrite": "true"})
        stored = str(answer.get("name", name))
        return f"{answer['subfolder']}/{stored}" if answer.get("subfolder") else stored

    def run(self, prompt: dict[str, Any], progress: Progress | None = None) -> list[Saved]:
        """Queue `prompt` (a filled workflow), wait for it, and return what its output nodes saved."""
        client_id = uuid.uuid4().hex  # who this job's messages are for: never part of a result
        with self._socket(client_id) as socket:  # opened before queueing: no message is missed
            answer = self._json("POST", "/prompt", json={"prompt": prompt, "client_id": client_id}, refused=True)
            if not isinstance(answer, dict) or not answer.get("prompt_id"):
                raise ComfyError("the server queued the workflow but gave no prompt_id")
            prompt_id = str(answer["prompt_id"])
            deadline = time.monotonic() + self.timeout
            if socket is not None:
                self._follow(socket, prompt_id, progress, deadline)
            entry = self._finished(prompt_id, deadline)
        return list(_saved(entry))

    def fetch(self, saved: Saved) -> bytes:
        """A saved file's bytes, from `/view`."""
        params = {"filename": saved.filename, "subfolder": saved.subfolder, "type": saved.type}
        with self._client().stream("GET", "/view", params=params) as response:
            self._check(response, f"/view {saved.filename}")
            data = bytearray()
            for block in response.iter_bytes():
                data += block
                if len(data) > MAX_RESULT_BYTES:
                    raise ComfyError(f"{saved.filename} is larger than {MAX_RESULT_BYTES:,} bytes")
        return bytes(data)

    # --- following a job ---------------------------------------------------------------------------

    def _follow(self, socket: Any, prompt_id: str, progress: Progress | None, deadline: float) -> None:
        """Read the job's messages until it ends; a dropped socket leaves the rest to the history."""
        from websockets.exceptions import ConnectionClosed

        while time.monotonic() < deadline:
            try:
                message = socket.recv(timeout=IDLE_SECONDS)
            except TimeoutError:
                if self._history(prompt_id):  # ended while nothing was said to us
                    return
                continue
            except ConnectionClosed:
                return
            event = _event(message)
            kind, data = event.get("type"), event.get("data")
            if not isinstance(data, dict) or data.get("prompt_id") != prompt_id:  # a preview, another job's news
                continue
            if kind == "progress" and progress is not None:
                progress(int(data.get("value", 0)), max(1, int(data.get("max", 1))))
            elif kind == "execution_error":
                raise ComfyError(execution_error(data))
            elif kind == "execution_interrupted":
                raise ComfyError(f"the job was interrupted on the server (at node {data.get('node_id')})")
            elif kind == "executing" and data.get("node") is None:  # sent once the history holds the job
                return

    def _finished(self, prompt_id: str, deadline: float) -> dict[str, Any]:
        """The job's history entry, polled for until it is there; an error it records, raised."""
        wait = 0.02
        while True:
            entry = self._history(prompt_id)
            if entry:
                status = entry.get("status") or {}
                if status.get("status_str") == "error":
                    reported = [m[1] for m in status.get("messages", []) if m and m[0] == "execution_error"]
                    raise ComfyError(execution_error(reported[0]) if reported else "the job failed on the server")
                return entry
            if time.monotonic() > deadline:
                raise ComfyError(f"the job did not finish within {self.timeout:g} s")
            time.sleep(wait)
            wait = min(POLL_SECONDS, wait * 2)  # a job just ended is found at once, a long one asked less often

    def _history(self, prompt_id: str) -> dict[str, Any] | None:
        found = self._json("GET", f"/history/{prompt_id}")
        entry = found.get(prompt_id) if isinstance(found, dict) else None
        return entry if isinstance(entry, dict) else None

    # --- transport ---------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._http is None:
            httpx = _needed("httpx")

            timeout = httpx.Timeout(60.0, connect=10.0)
            self._http = httpx.Client(base_url=self.url, timeout=timeout, follow_redirects=False, trust_env=False)
        return self._http

    @contextlib.contextmanager
    def _socket(self, client_id: str) -> Iterator[Any]:
        """The websocket for this client id, or None where it cannot be had (then the history is polled)."""
        connect = _needed("websockets.sync.client").connect
        address = urlsplit(self.url)
        scheme = "wss" if address.scheme == "https" else "ws"
        where = f"{scheme}://{address.netloc}{address.path}/ws?clientId={client_id}"
        try:
            opened = connect(where, proxy=None, open_timeout=10, max_size=64 * 2**20)
        except Exception:  # any failed handshake (no socket here, a proxy in the way): the history is polled
            opened = None
        if opened is None:
            yield None
            return
        with opened as socket:
            yield socket

    def _json(self, method: str, path: str, refused: bool = False, **kwargs: Any) -> Any:
        httpx = _needed("httpx")

        try:
            response = self._client().request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ComfyError(f"ComfyUI at {self.url} is not answering ({type(error).__name__}: {error})") from None
        if refused and response.status_code == 400:
            raise ComfyError(refusal(_body(response)))
        self._check(response, path)
        if len(response.content) > MAX_JSON_BYTES:
            raise ComfyError(f"{path}: an answer larger than {MAX_JSON_BYTES:,} bytes")
        return _body(response)

    def _check(self, response: Any, what: str) -> None:
        if response.status_code != 200:
            raise ComfyError(f"ComfyUI at {self.url} answered {what} with HTTP {response.status_code}")


def _needed(module: str) -> Any:
    """A library the ComfyUI backends need, or one line naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise StorytellerError(
            f"the ComfyUI backends need {module.split('.')[0]}: pip install 'storyteller[comfyui]'"
        ) from None


def _event(message: Any) -> dict[str, Any]:
    """A websocket message as {"type", "data"}; a binary preview or anything not JSON, as nothing."""
    if isinstance(message, bytes):
        return {}
    try:
        event = json.loads(message)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ComfyError(f"ComfyUI answered {response.request.url.path} with something not JSON") from None


def _saved(entry: dict[str, Any]) -> Iterator[Saved]:
    """Every file the job's output nodes saved, in node order and then each node's own order."""
    outputs = entry.get("outputs") or {}
    for node in sorted(outputs, key=lambda n: (len(str(n)), str(n))):
        for value in (outputs[node] or {}).values():
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict) and isinstance(item.get("filename"), str):
                    kind = str(item.get("type", "output"))
                    yield Saved(str(node), item["filename"], str(item.get("subfolder", "")), kind)


def refusal(body: Any) -> str:
    """A 400 from /prompt in one line: the error, and each node's first reason (ComfyUI's validate_prompt)."""
    if not isinstance(body, dict):
        return "the server refused the workflow"
    error = body.get("error")
    said = error.get("message", "") if isinstance(error, dict) else str(error or "")
    reasons = []
    node_errors = body.get("node_errors")
    for node_id, found in (node_errors if isinstance(node_errors, dict) else {}).items():
        for reason in (found if isinstance(found, dict) else {}).get("errors", [])[:1]:
            if not isinstance(reason, dict):
                continue
            detail = f": {reason['details']}" if reason.get("details") else ""
            reasons.append(f"node {node_id} ({found.get('class_type', '?')}): {reason.get('message', '')}{detail}")
    return _one_line("the server refused the workflow: " + "; ".join(reasons or [said or "no reason given"]))


def execution_error(data: dict[str, Any]) -> str:
    """An `execution_error` message in one line: the node, its type and the exception's own first line."""
    message = str(data.get("exception_message", "")).strip().splitlines()
    reason = message[0] if message else str(data.get("exception_type", "an error"))
    return _one_line(f"node {data.get('node_id')} ({data.get('node_type', '?')}) failed: {reason}")


def _one_line(text: str, limit: int = 400) -> str:
    """The server's words on one line, cut short where they run long."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
