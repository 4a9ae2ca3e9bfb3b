"""The studio: a storyboard web page to read, edit and re-render a film shot by shot (`storyteller studio`).

`session` holds what the page edits (the plan's history, the storyboard's edits, one render at a time) and
needs nothing more than the pipeline; `server` serves it over HTTP and needs the `[studio]` extra
(Starlette, uvicorn, Jinja2, python-multipart), so it is loaded by name, when the studio starts, with a
one-line error naming the extra when it is missing: `storyteller --help` does not pay for a web server.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from storyteller.core.errors import StorytellerError

EXTRA = "pip install 'storyteller[studio]'"


def load_server() -> ModuleType:
    """storyteller.studio.server, or a one-line error naming the extra that brings what it needs."""
    try:
        return import_module("storyteller.studio.server")
    except ImportError as error:
        missing = error.name or "a library"
        raise StorytellerError(f"the studio needs {missing}: {EXTRA}") from None
