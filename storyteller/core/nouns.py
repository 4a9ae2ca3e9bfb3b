"""The English nouns the shipped indexes cover (build time only): what the planner and the animatic look up
instead of asking the sentence embedder, so most stories never load it."""

from __future__ import annotations

import csv
import gzip
import importlib.resources

from storyteller.core import lexicon


def english_nouns() -> list[str]:
    """Lower-case English nouns and their plurals (lemminflect's list: pip install lemminflect), and every
    word of the lexicon."""
    words: set[str] = set()
    table = importlib.resources.files("lemminflect") / "resources" / "infl_lu.csv.gz"
    with gzip.open(str(table), "rt", encoding="utf-8") as rows:
        for lemma, pos, *forms in csv.reader(rows):
            if pos == "noun" and lemma.isalpha() and lemma.islower():
                words.add(lemma)
                words.update(f for form in forms for f in form.split("/") if f.isalpha() and f.islower())
    for value in vars(lexicon).values():
        if isinstance(value, set | frozenset | dict | list | tuple):
            words.update(w for w in value if isinstance(w, str) and w.replace(" ", "").isalpha() and w.islower())
    return sorted(words)
