"""Errors a user can act on: the CLI prints their message on one line and exits with code 2."""

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # a terminal's colour codes (Ray colours its tracebacks)


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, without colour codes (its type's name if it has none):
    what a user is shown of a library's own failure. Safe for an empty message."""
    text = _COLOUR.sub("", str(error)).strip().splitlines()
    return text[0] if text else type(error).__name__


def printable(text: str) -> str:
    """`text` with newlines and control characters (terminal escape codes among them) shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class StorytellerError(Exception):
    """Bad input or a missing resource. The message is the whole story: no traceback follows it."""

    def __str__(self) -> str:
        # a message may quote the user's own text (a plan's field, a file name): its newlines and
        # control characters are shown escaped, so the message stays one line that a terminal prints as is
        return printable(super().__str__())
