"""Errors a user can act on: the CLI prints their message on one line and exits with code 2."""


class StorytellerError(Exception):
    """Bad input or a missing resource. The message is the whole story: no traceback follows it."""
