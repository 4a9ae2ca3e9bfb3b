"""Whether a noun the word lists do not know names something alive: a trucker, a busker, a sheepdog are;
a dot, a mood, a vending machine, a Tesla are not.

The project's offline sentence embedder (MiniLM, `storyteller.core.embedding`) places "a trucker" nearer
to people and animals than to objects, places, vehicles, ideas and weather; the margin between the two
nearest prototypes decides. It is asked only about nouns no list knows, once per noun per process (a
story's nouns are embedded in batches: `prime`), and margins are rounded so an answer does not hang on the
last bits of a float.

Most nouns are not embedded at all: planners/nearness_index.npz (made by planners/build_nearness_index.py)
holds the cosine of 33,000 English nouns to every prototype phrase, so a story of common words plans
without loading the embedder (seconds saved on every make). A noun outside the list is embedded as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from storyteller.core import lexicon as lx
from storyteller.core.embedding import load_embedder

ALIVE = ("a person", "a man", "a woman", "a child", "an animal", "a worker", "a driver", "a traveller", "a creature")
NOT_ALIVE = (
    "an object", "a thing", "a place", "a machine", "a tool", "a vehicle", "a building", "an idea", "a feeling",
    "weather", "light", "a plant", "food", "clothing", "a picture",
)  # fmt: skip
PEOPLE = ("a person", "a man", "a woman", "a child", "a worker")
ANIMALS = ("an animal", "a dog", "a bird", "a fish", "an insect", "a monster")
MARGIN = 0.03  # how much nearer the living a noun must be (a measured gap: "egg" +0.02, "ninja" +0.04)
DOER_MARGIN = -0.07  # a doer's noun ("trucker" -0.06, "passenger" -0.01) needs less: its ending says who
BATCH = 64

_vectors: dict[str, np.ndarray] = {}  # "a <noun>" embedded, per noun, for this process
_pending: set[str] = set()  # nouns primed but not yet embedded


TOOLS = ("a tool", "a machine", "a device", "a part", "an appliance", "a container")


def is_alive(noun: str) -> bool:
    """Whether `noun` (a lowercase singular noun, one or two words) names a living being."""
    found = margin(noun)
    if found > MARGIN:
        return True
    # a doer's ending gives a noun the benefit of the doubt, if it is nearer people than tools (a wiper is not)
    return noun.endswith(lx.AGENTIVE_ENDINGS) and found > DOER_MARGIN and nearer(noun, PEOPLE, TOOLS) > 0.05


def margin(noun: str) -> float:
    """How much nearer "a <noun>" lies to the living prototypes than to the rest (cosine, to 2 places)."""
    return nearer(noun, ALIVE, NOT_ALIVE)


def is_human(noun: str) -> bool:
    """Whether a living `noun` is a person rather than an animal ("busker" is, "sheepdog" is not)."""
    return nearer(noun, PEOPLE, ANIMALS) > 0


def nearer(noun: str, these: tuple[str, ...], those: tuple[str, ...]) -> float:
    """How much nearer "a <noun>" lies to the nearest of `these` phrases than to the nearest of `those`."""
    indexed = _indexed(noun, these, those)
    if indexed is not None:
        return round(indexed[0] - indexed[1], 2)
    vector = vector_of(noun)
    return round(float((_encoded(these) @ vector).max() - (_encoded(those) @ vector).max()), 2)


INDEX_FILE = Path(__file__).with_name("nearness_index.npz")
INDEX_SCALE = 10_000  # cosines are stored as integers of this many parts


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, int], dict[str, int], np.ndarray] | None:
    """(noun -> row, phrase set -> column, nearest cosines x INDEX_SCALE) of the shipped index; None without."""
    try:
        with np.load(INDEX_FILE) as data:
            nouns, sets, cosines = data["nouns"].tolist(), data["sets"].tolist(), data["cosines"]
    except (OSError, KeyError, ValueError):
        return None
    return {n: i for i, n in enumerate(nouns)}, {p: j for j, p in enumerate(sets)}, cosines


def is_noun(word: str) -> bool:
    """Whether `word` (lower case) is one of the English nouns (or plurals) the index holds."""
    index = _index()
    return index is not None and word in index[0]


def set_key(phrases: tuple[str, ...]) -> str:
    return "|".join(phrases)


def _indexed(noun: str, *sets: tuple[str, ...]) -> list[float] | None:
    """The noun's cosine to the nearest phrase of each set, from the index; None where it lacks one."""
    index = _index()
    if index is None or noun not in index[0] or any(set_key(p) not in index[1] for p in sets):
        return None
    row = index[2][index[0][noun]]
    return [int(row[index[1][set_key(p)]]) / INDEX_SCALE for p in sets]


def vector_of(noun: str) -> np.ndarray:
    if noun not in _vectors:
        _embed(sorted(_pending | {noun}))
        _pending.clear()
    return _vectors[noun]


def prime(nouns: Iterable[str]) -> None:
    """Note nouns the index does not hold: the first one asked about is embedded with all the others, in
    batches (one model call for many nouns); a story that never asks loads no model."""
    index = _index()
    _pending.update(n for n in nouns if n and n not in _vectors and (index is None or n not in index[0]))


def _embed(nouns: list[str]) -> None:
    missing = [n for n in nouns if n not in _vectors]
    for start in range(0, len(missing), BATCH):
        part = missing[start : start + BATCH]
        encoded = load_embedder().encode([f"a {n}" for n in part], normalize_embeddings=True, batch_size=BATCH)
        _vectors.update(zip(part, np.asarray(encoded), strict=True))


@lru_cache(maxsize=16)
def _encoded(phrases: tuple[str, ...]) -> np.ndarray:
    return np.asarray(load_embedder().encode(list(phrases), normalize_embeddings=True))
