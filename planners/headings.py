"""Headings in a story: "Chapter 3: The Salt Market", "## Part Two", "PROLOGUE", "* * *".

A heading names a part of the book; it is no sentence of the story: never read for characters or places,
never narrated.
"""

from __future__ import annotations

import re

MAX_WORDS = 12
_NAMED_PART = re.compile(
    r"^(?:chapter|part|book|act|section|prologue|epilogue|interlude|afterword|foreword|preface)\b"
    r"(?:\s+(?:[0-9]+|[ivxlcdm]+|[a-z]+(?:-[a-z]+)?))?\s*(?:[:.—–-]\s*.*)?$",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(r"^#{1,6}\s+\S")
_BREAK = re.compile(r"^(?:\*\s*){3,}$|^(?:-\s*){3,}$|^(?:#\s*){3,}$|^(?:~\s*){3,}$")


def is_heading(text: str) -> bool:
    """Whether a paragraph is a heading: a chapter or part line, a Markdown heading, a scene break, or a
    short line in capitals with no sentence's end."""
    line = text.strip()
    if not line or "\n" in line or len(line.split()) > MAX_WORDS:
        return False
    if _MARKDOWN.match(line) or _BREAK.match(line):
        return True
    if line[-1] in '.!?…"”’' and not _NAMED_PART.match(line.rstrip(".")):
        return False
    letters = [c for c in line if c.isalpha()]
    shouting = len(letters) >= 4 and all(c.isupper() for c in letters) and len(line.split()) <= 6
    return bool(_NAMED_PART.match(line)) or shouting


def title_of(text: str) -> str:
    """The heading as a title card shows it: "## The Salt Market" is "The Salt Market"; a scene break has none."""
    line = text.strip()
    if _BREAK.match(line):
        return ""
    return line.lstrip("#").strip().rstrip(".").strip()
