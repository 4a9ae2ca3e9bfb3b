"""The studio's web server: Starlette on uvicorn, serving one run directory to a browser on this machine.

Why Starlette and a small page of our own rather than Gradio: the studio is a storyboard (a grid of
keyframes that seeks a player, a form per shot with lists of entities, relations and timed actions, a
character bible) around one long-lived render with live progress. That is a custom layout and a
server-sent event stream; Starlette gives routing, streaming and file responses with no front-end
framework, and the page (templates/, static/) is plain HTML, CSS and JavaScript shipped in the package,
so it works offline.

Security: it binds 127.0.0.1 unless told otherwise; the Host header must name this machine (no DNS
rebinding); every request but the page's own static files needs the session's random token, and every
state-changing one must carry it in a header (which another site's page cannot set); a client's path
never leaves the run directory; uploads are images only, capped, decoded and written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, get_args, overload

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from storyteller.core.errors import StorytellerError
from storyteller.core.models import CameraMove, TimeOfDay, TransitionKind, Weather
from storyteller.core.progress import Reporter
from storyteller.export import export
from storyteller.pipeline import Storyteller
from storyteller.studio.session import MAX_REFERENCE_UPLOAD, MEDIA_TYPES, Studio

HERE = Path(__file__).parent
TOKEN_HEADER = "x-storyteller-token"
TOKEN_PARAMETER = "token"  # the session token in a URL: the page's, its media's and its event stream's
MAX_JSON_BYTES = 20_000_000
# no request body is longer, whatever its Content-Length says (or whether it says one): an upload's image and
# its form around it, or the largest plan's JSON
MAX_BODY_BYTES = max(MAX_JSON_BYTES, MAX_REFERENCE_UPLOAD + 65_536)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CHOICES = {
    "camera": list(get_args(CameraMove)),
    "transition": list(get_args(TransitionKind)),
    "time_of_day": list(get_args(TimeOfDay)),
    "weather": list(get_args(Weather)),
}


class Events:
    """Every event the studio publishes, fanned out to each page's stream (from any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        with self.lock:
            listeners = list(self.listeners)
        for loop, queue in listeners:
            with contextlib.suppress(RuntimeError):  # its loop has closed: the page is gone
                loop.call_soon_threadsafe(queue.put_nowait, event)

    async def stream(self, first: dict[str, Any]) -> AsyncIterator[str]:
        """Server-sent events: `first` (the state now), then each event as it comes, a comment every 15 s
        to keep the connection open."""
        queue: asyncio.Queue = asyncio.Queue()
        listener = (asyncio.get_running_loop(), queue)
        with self.lock:
            self.listeners.add(listener)
        try:
            yield f"data: {json.dumps(first)}\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                yield f"data: {json.dumps(event)}\n\n"
        finally:
            with self.lock:
                self.listeners.discard(listener)


def create_app(
    run_dir: Path,
    teller: Callable[[Reporter], Storyteller],
    token: str | None = None,
    terminal: Reporter | None = None,
    hosts: tuple[str, ...] = LOOPBACK,
) -> Starlette:
    """The studio for `run_dir`: `teller` builds the Storyteller its renders and exports use, given the
    reporter progress goes to; `token` is the session's secret (random if not given; `app.state.token`)."""
    events = Events()
    studio = Studio(run_dir, teller, events.publish, terminal)
    api = Api(studio, events, token or secrets.token_urlsafe(24))
    guarded, changing = api.guarded, functools.partial(api.guarded, changes=True)
    routes = [
        Route("/", api.page),
        Route("/api/plan", guarded(api.get_plan), methods=["GET"]),
        Route("/api/plan", changing(api.put_plan), methods=["PUT"]),
        Route("/api/shots/add", changing(api.add_shot), methods=["POST"]),
        Route("/api/shots/{index:int}", changing(api.edit_shot), methods=["POST"]),
        Route("/api/shots/{index:int}/split", changing(api.split_shot), methods=["POST"]),
        Route("/api/shots/{index:int}/delete", changing(api.delete_shot), methods=["POST"]),
        Route("/api/shots/{index:int}/move", changing(api.move_shot), methods=["POST"]),
        Route("/api/characters/{character}", changing(api.edit_character), methods=["POST"]),
        Route("/api/characters/{character}/reference", changing(api.upload_reference), methods=["POST"]),
        Route("/api/shots/{index:int}/pin/{which}", changing(api.pin_frame), methods=["POST"]),
        Route("/api/undo", changing(api.undo), methods=["POST"]),
        Route("/api/redo", changing(api.redo), methods=["POST"]),
        Route("/api/render", changing(api.render), methods=["POST"]),
        Route("/api/export", changing(api.export_timeline), methods=["POST"]),
        Route("/api/events", guarded(api.stream), methods=["GET"]),
        Route("/media/{path:path}", guarded(api.media), methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)), Middleware(BodyLimit)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.token, app.state.studio, app.state.events = api.token, studio, events
    return app


class Api:
    """The studio's endpoints: each answers with the plan as it now is and the studio's state; every one but
    the page is guarded by the session's token."""

    def __init__(self, studio: Studio, events: Events, token: str) -> None:
        self.studio, self.events, self.token = studio, events, token
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    def matches(self, given: str) -> bool:
        return bool(given) and secrets.compare_digest(given.encode(), self.token.encode())

    def allowed(self, request: Request, changes: bool) -> bool:
        """The token in the header; for a read (an image, the film, the event stream, which a page cannot
        give headers), in the URL too. No cookie: a cookie goes to every port of the host, so to every other
        server on 127.0.0.1, and two studios would overwrite each other's."""
        given = request.headers.get(TOKEN_HEADER, "")
        return self.matches(given or ("" if changes else request.query_params.get(TOKEN_PARAMETER, "")))

    def guarded(self, handler: Callable[[Request], Awaitable[Response]], changes: bool = False) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            if not self.allowed(request, changes):
                return JSONResponse({"error": "this needs the studio's session token (see the URL it printed)"}, 403)
            try:
                return await handler(request)
            except BodyTooLarge as error:  # answered, and the connection closed: the rest is never read
                return JSONResponse({"error": str(error)}, 413, headers={"Connection": "close"})
            except StorytellerError as error:
                return JSONResponse({"error": str(error)}, 400)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
                # a body of a shape no endpoint takes ([["mia"]] for a list of ids, 5 for a graph's actions):
                # the client's mistake, answered in one line; nothing of it reaches the terminal
                return JSONResponse({"error": f"the request does not fit the plan ({type(error).__name__})"}, 400)

        return endpoint

    def answer(self, plan: Any = None) -> JSONResponse:
        plan = plan if plan is not None else self.studio.plan()
        return JSONResponse({"plan": plan.model_dump(mode="json"), "state": self.studio.state()})

    async def page(self, request: Request) -> Response:
        if not self.matches(request.query_params.get(TOKEN_PARAMETER, "")):
            return Response("Open the studio with the URL it printed (it carries the session token).", 403)
        response = self.templates.TemplateResponse(
            request, "studio.html", {"token": self.token, "title": self.studio.plan().title, "choices": CHOICES}
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the token in the URL goes nowhere else
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' blob:; media-src 'self'; style-src 'self'; script-src 'self'"
        )
        return response

    async def get_plan(self, request: Request) -> Response:
        return self.answer()

    async def put_plan(self, request: Request) -> Response:
        return self.answer(self.studio.replace(await _body(request)))

    async def edit_shot(self, request: Request) -> Response:
        return self.answer(self.studio.edit_shot(_index_of(request), await _body(request)))

    async def split_shot(self, request: Request) -> Response:
        return self.answer(self.studio.split_shot(_index_of(request)))

    async def delete_shot(self, request: Request) -> Response:
        return self.answer(self.studio.delete_shot(_index_of(request)))

    async def move_shot(self, request: Request) -> Response:
        to = await _number(request, "to", "the shot's new place")
        return self.answer(self.studio.move_shot(_index_of(request), to))

    async def add_shot(self, request: Request) -> Response:
        after = await _number(request, "after", "the place of the shot before it, -1 for first")
        return self.answer(self.studio.add_shot(after))

    async def edit_character(self, request: Request) -> Response:
        return self.answer(self.studio.edit_character(request.path_params["character"], await _body(request)))

    async def upload_reference(self, request: Request) -> Response:
        data = await _uploaded(request)
        plan = await run_in_threadpool(self.studio.set_reference, request.path_params["character"], data)
        return self.answer(plan)

    async def pin_frame(self, request: Request) -> Response:
        """A shot's first or last frame pinned to the uploaded image; a form without one unpins it."""
        data = await _uploaded(request, required=False)
        which = request.path_params["which"]
        plan = await run_in_threadpool(self.studio.set_pinned, _index_of(request), which, data)
        return self.answer(plan)

    async def undo(self, request: Request) -> Response:
        return self.answer(self.studio.undo())

    async def redo(self, request: Request) -> Response:
        return self.answer(self.studio.redo())

    async def render(self, request: Request) -> Response:
        if not self.studio.render():
            return JSONResponse({"error": "a render is already running", "state": self.studio.state()}, 409)
        return JSONResponse({"state": self.studio.state()}, 202)

    async def export_timeline(self, request: Request) -> Response:
        studio = self.studio
        if studio.rendering.is_set():
            return JSONResponse({"error": "a render is running: export when it is done"}, 409)
        target = studio.run_dir / "export" / f"{studio.run_dir.name}.otio"
        await run_in_threadpool(export, studio.teller(studio.reporter()), studio.run_dir, [target], True)  # its own
        return JSONResponse({"path": target.relative_to(studio.run_dir).as_posix()})

    async def stream(self, request: Request) -> Response:
        first = {"type": "hello", **self.studio.state()}
        return StreamingResponse(
            self.events.stream(first),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def media(self, request: Request) -> Response:
        try:
            path = self.studio.media(request.path_params["path"])
        except StorytellerError:
            return JSONResponse({"error": "no such file"}, 404)
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()], headers={"Cache-Control": "no-cache"})


@overload
async def _uploaded(request: Request) -> bytes: ...
@overload
async def _uploaded(request: Request, required: Literal[False]) -> bytes | None: ...


async def _uploaded(request: Request, required: bool = True) -> bytes | None:
    """The image a form sends as its field 'image' (at most MAX_REFERENCE_UPLOAD bytes); None where a form
    sends none and none is `required`."""
    if int(request.headers.get("content-length") or 0) > MAX_REFERENCE_UPLOAD + 65_536:
        raise StorytellerError(f"the image is over {MAX_REFERENCE_UPLOAD:,} bytes")
    try:
        async with request.form(max_files=1, max_fields=1, max_part_size=MAX_REFERENCE_UPLOAD) as form:
            upload = form.get("image")
            if upload is None and not required:
                return None
            if upload is None or isinstance(upload, str):
                raise StorytellerError("send the image as the form field 'image'")
            return await upload.read(MAX_REFERENCE_UPLOAD + 1)
    except (ValueError, KeyError) as error:  # the multipart parser's own refusals
        raise StorytellerError(f"the upload could not be read: {error}") from None


async def _body(request: Request) -> Any:
    """The request's JSON (BodyLimit stops reading it at MAX_BODY_BYTES, whatever the headers say)."""
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than anything a plan holds
        raise StorytellerError("the request is not JSON a plan could hold") from None


def _index_of(request: Request) -> int:
    return int(request.path_params["index"])


async def _number(request: Request, name: str, meaning: str) -> int:
    """The whole number the request's JSON gives as `name`."""
    data = await _body(request)
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise StorytellerError(f'{request.url.path.rsplit("/", 1)[-1]} needs {{"{name}": {meaning}}}')
    return value


class BodyTooLarge(StorytellerError):
    """A request body past MAX_BODY_BYTES: reading stops there."""


class BodyLimit:
    """Counts every request's body as it arrives and stops it at MAX_BODY_BYTES, whether or not it said its
    length (a chunked upload of 300 MB is refused at 20 MB, not read whole first)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY_BYTES:
                    raise BodyTooLarge(f"the request is over {MAX_BODY_BYTES:,} bytes")
            return message

        await self.app(scope, counted, send)


def serve(app: Starlette, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run `app` on host:port (0: a free port) until Ctrl-C; `on_ready` gets the page's URL, token and all."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        raise StorytellerError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    on_ready(f"http://{shown}:{bound}/?token={app.state.token}")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    server.run(sockets=[sock])
