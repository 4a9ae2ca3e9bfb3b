"""A local server speaking ComfyUI's protocol as its server.py and execution.py do, on tiny numpy "models".

Routes: GET /object_info, POST /upload/image, POST /prompt (validated as validate_prompt does: 400 with
`error` and `node_errors`), GET /history[/{prompt_id}], GET /view, GET /queue, and the websocket
/ws?clientId= carrying status, execution_start, execution_cached, executing, progress, executed,
execution_success, execution_error, and the final executing with node null. Faults on demand: a node that
runs out of memory, a websocket dropped mid-job, a server that dies mid-shot.

`python -m tests.comfy_server --port 8188 [--die-after N]` runs it on its own (the benchmark does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import itertools
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.comfy_nodes import NODES, NodeFailure

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Faults:
    """What goes wrong, when asked."""

    die_after: int | None = None  # prompts finished before the server dies in the middle of the next
    drop_socket: bool = False  # close every websocket once a job starts (the client must poll the history)
    step_seconds: float = 0.0  # each sampler step's time


@dataclass
class Comfy:
    """The server's state: its folders, queue, history and sockets."""

    root: Path
    faults: Faults = field(default_factory=Faults)
    sockets: dict[str, WebSocket] = field(default_factory=dict)
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    finished: int = 0
    number: itertools.count = field(default_factory=itertools.count)
    queue: asyncio.Queue | None = None

    def folder(self, kind: str) -> Path:
        path = self.root / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def send(self, event: str, data: dict[str, Any], sid: str | None) -> None:
        socket = self.sockets.get(sid or "")
        if socket is not None:
            try:
                await socket.send_json({"type": event, "data": data})
            except (RuntimeError, WebSocketDisconnect, OSError):
                self.sockets.pop(sid or "", None)


def app(state: Comfy) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.queue = asyncio.Queue()
        worker = asyncio.get_running_loop().create_task(_worker(state))
        yield
        worker.cancel()

    async def logged(request: Request) -> None:
        state.requests.append((request.method, request.url.path))

    async def object_info(request: Request) -> Response:
        await logged(request)
        return JSONResponse({name: node.info(name, state) for name, node in NODES.items()})

    async def upload(request: Request) -> Response:
        await logged(request)
        form = await request.form()
        image = form.get("image")
        if image is None or isinstance(image, str) or not image.filename:
            return Response(status_code=400)
        name = os.path.basename(image.filename)
        (state.folder("input") / name).write_bytes(await image.read())
        return JSONResponse({"name": name, "subfolder": "", "type": "input"})

    async def prompt(request: Request) -> Response:
        await logged(request)
        body = await request.json()
        if "prompt" not in body:
            return JSONResponse({"error": "no prompt", "node_errors": []}, status_code=400)
        valid, error, outputs, node_errors = validate(body["prompt"], state)
        if not valid:
            return JSONResponse({"error": error, "node_errors": node_errors}, status_code=400)
        prompt_id, number = str(uuid.uuid4()), next(state.number)
        extra = {"client_id": body.get("client_id")}
        assert state.queue is not None
        await state.queue.put((number, prompt_id, body["prompt"], extra, outputs))
        return JSONResponse({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def history(request: Request) -> Response:
        await logged(request)
        wanted = request.path_params.get("prompt_id")
        if wanted is None:
            return JSONResponse(state.history)
        return JSONResponse({wanted: state.history[wanted]} if wanted in state.history else {})

    async def view(request: Request) -> Response:
        await logged(request)
        name, kind = request.query_params.get("filename", ""), request.query_params.get("type", "output")
        if not name or name[0] == "/" or ".." in name or kind not in ("output", "input", "temp"):
            return Response(status_code=400)
        path = state.folder(kind) / request.query_params.get("subfolder", "") / os.path.basename(name)
        return FileResponse(path) if path.is_file() else Response(status_code=404)

    async def queue(request: Request) -> Response:
        await logged(request)
        return JSONResponse({"queue_running": [], "queue_pending": []})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        sid = websocket.query_params.get("clientId") or uuid.uuid4().hex
        state.sockets[sid] = websocket
        remaining = state.queue.qsize() if state.queue else 0
        await state.send("status", {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": sid}, sid)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            state.sockets.pop(sid, None)

    routes = [
        Route("/object_info", object_info),
        Route("/upload/image", upload, methods=["POST"]),
        Route("/prompt", prompt, methods=["POST"]),
        Route("/history", history),
        Route("/history/{prompt_id}", history),
        Route("/view", view),
        Route("/queue", queue),
        WebSocketRoute("/ws", socket),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def validate(prompt: Any, state: Comfy) -> tuple[bool, Any, list[str], Any]:
    """ComfyUI's validate_prompt: (valid, error, outputs to execute, node_errors)."""
    if not isinstance(prompt, dict):
        return False, _error("invalid_prompt", "Prompt is not an object", ""), [], {}
    for node_id, node in prompt.items():
        if node.get("class_type") not in NODES:
            message = f"Cannot execute because node {node.get('class_type')} does not exist."
            return False, _error("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
    outputs = [i for i, node in prompt.items() if NODES[node["class_type"]].output_node]
    if not outputs:
        return False, _error("prompt_no_outputs", "Prompt has no outputs", ""), [], []
    node_errors: dict[str, Any] = {}
    for node_id, node in prompt.items():
        reasons = NODES[node["class_type"]].reasons(node.get("inputs", {}), prompt, state)
        if reasons:
            node_errors[node_id] = {"errors": reasons, "dependent_outputs": outputs, "class_type": node["class_type"]}
    if node_errors:
        details = "\n".join(f"{r['message']}: {r['details']}" for e in node_errors.values() for r in e["errors"])
        return (
            False,
            _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details),
            [],
            node_errors,
        )
    return True, None, outputs, {}


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


async def _worker(state: Comfy) -> None:
    """The prompt queue, one job at a time (ComfyUI's prompt_worker)."""
    assert state.queue is not None
    while True:
        await _job(state, *(await state.queue.get()))


async def _job(state: Comfy, number: int, prompt_id: str, prompt: dict, extra: dict, outputs: list[str]) -> None:
    """One prompt run, its messages sent to its client and kept in its history entry."""
    sid = extra.get("client_id")
    messages: list[list[Any]] = []

    async def say(event: str, data: dict[str, Any], kept: bool = False) -> None:
        data = {**data, "prompt_id": prompt_id}
        if kept:
            messages.append([event, {**data, "timestamp": int(time.time() * 1000)}])
        await state.send(event, data, sid)

    await say("execution_start", {}, kept=True)
    await say("execution_cached", {"nodes": []}, kept=True)
    if state.faults.drop_socket and sid in state.sockets:
        await state.sockets.pop(sid).close()
    ui, status = await _execute(state, prompt, say)
    if status == "success":
        await say("execution_success", {}, kept=True)
    entry = {"prompt": [number, prompt_id, prompt, extra, outputs], "outputs": ui}
    entry["status"] = {"status_str": status, "completed": status == "success", "messages": messages}
    state.history[prompt_id] = entry
    await state.send("executing", {"node": None, "prompt_id": prompt_id}, sid)
    state.finished += 1


async def _execute(state: Comfy, prompt: dict[str, Any], say: Any) -> tuple[dict[str, Any], str]:
    """Every node in dependency order; each output node's ui kept. An exception: execution_error."""
    done: dict[str, tuple[Any, ...]] = {}
    ui: dict[str, Any] = {}
    for node_id in _order(prompt):
        node = prompt[node_id]
        await say("executing", {"node": node_id, "display_node": node_id})
        inputs = {k: (done[v[0]][v[1]] if isinstance(v, list) else v) for k, v in node.get("inputs", {}).items()}
        spec = NODES[node["class_type"]]
        try:
            result, shown = await spec.run(inputs, state, node_id, say)
        except NodeFailure as failure:
            await say(
                "execution_error",
                {
                    "node_id": node_id,
                    "node_type": node["class_type"],
                    "executed": list(done),
                    "exception_message": failure.message,
                    "exception_type": failure.kind,
                    "traceback": ['  File "nodes.py", line 1, in sample\n'],
                    "current_inputs": {},
                    "current_outputs": {},
                },
                kept=True,
            )
            return ui, "error"
        done[node_id] = result
        if shown:
            ui[node_id] = shown
            await say("executed", {"node": node_id, "display_node": node_id, "output": shown})
    return ui, "success"


def _order(prompt: dict[str, Any]) -> list[str]:
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list):
                visit(str(value[0]))
        order.append(node_id)

    for node_id in prompt:
        visit(node_id)
    return order


def digest_colour(*parts: object) -> tuple[int, int, int]:
    """A colour from the parts: the same seed and prompt, the same picture."""
    h = hashlib.sha256(repr(parts).encode()).digest()
    return h[0], h[1], h[2]


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


class Running:
    """The server on a free loopback port, on a thread of its own."""

    def __init__(self, root: Path, faults: Faults | None = None) -> None:
        import socket
        import threading

        import uvicorn

        self.state = Comfy(root, faults or Faults())
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app(self.state), log_level="critical", ws="websockets-sansio", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def spawn(root: Path, *extra: str, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """The server in a process of its own (one that can die as a real one does), on `port` (default: a free
    one), with `extra` command-line options; its address once it listens."""
    if port is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    command = [sys.executable, "-m", "tests.comfy_server", "--port", str(port), "--root", str(root), *extra]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the test ComfyUI did not start")


def ended(server: subprocess.Popen) -> None:
    """A server told to die gone: it killed itself mid-shot, or (the make failed before) it is stopped here."""
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--die-after", type=int, help="prompts finished before the server dies mid-shot")
    parser.add_argument("--step-seconds", type=float, default=0.0)
    args = parser.parse_args()
    state = Comfy(args.root, Faults(die_after=args.die_after, step_seconds=args.step_seconds))
    uvicorn.run(app(state), host="127.0.0.1", port=args.port, log_level="critical", ws="websockets-sansio")


if __name__ == "__main__":
    main()
