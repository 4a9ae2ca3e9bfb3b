"""Whether a noun the word lists do not know names something alive: a trucker, a busker, a sheepdog are;
a dot, a mood, a vending machine, a Tesla are not.

The project's offline sentence embedder (MiniLM, `storyteller.core.embedding`) places "a trucker" nearer
to people and animals than to objects, places, vehicles, ideas and weather; the margin between the two
nearest prototypes decides. It is asked only about nouns no list knows, once per noun per process, and
its margin is rounded so the answer does not hang on the last bits of a float.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from storyteller.core import lexicon as lx
from storyteller.core.embedding import load_embedder

ALIVE = ("a person", "a man", "a woman", "a child", "an animal", "a worker", "a driver", "a traveller", "a creature")
NOT_ALIVE = (
    "an object", "a thing", "a place", "a machine", "a tool", "a vehicle", "a building", "an idea", "a feeling",
    "weather", "light", "a plant", "food", "clothing", "a picture",
)  # fmt: skip
MARGIN = 0.03  # how much nearer the living a noun must be (a measured gap: "egg" +0.02, "ninja" +0.04)
DOER_MARGIN = -0.07  # a doer's noun ("trucker" -0.06, "passenger" -0.01) needs less: its ending says who


def is_alive(noun: str) -> bool:
    """Whether `noun` (a lowercase singular noun, one or two words) names a living being."""
    needed = DOER_MARGIN if noun.endswith(lx.AGENTIVE_ENDINGS) else MARGIN
    return margin(noun) > needed


@lru_cache(maxsize=65536)
def margin(noun: str) -> float:
    """How much nearer "a <noun>" lies to the living prototypes than to the rest (cosine, to 2 places)."""
    prototypes = _prototypes()
    vector = load_embedder().encode([f"a {noun}"], normalize_embeddings=True)[0]
    alive, dead = prototypes[: len(ALIVE)] @ vector, prototypes[len(ALIVE) :] @ vector
    return round(float(alive.max() - dead.max()), 2)


PEOPLE = ("a person", "a man", "a woman", "a child", "a worker")
ANIMALS = ("an animal", "a dog", "a bird", "a fish", "an insect", "a monster")


@lru_cache(maxsize=65536)
def is_human(noun: str) -> bool:
    """Whether a living `noun` is a person rather than an animal ("busker" is, "sheepdog" is not)."""
    prototypes = _prototypes()
    vector = load_embedder().encode([f"a {noun}"], normalize_embeddings=True)[0]
    start = len(ALIVE) + len(NOT_ALIVE)
    people, animals = prototypes[start : start + len(PEOPLE)] @ vector, prototypes[start + len(PEOPLE) :] @ vector
    return round(float(people.max() - animals.max()), 2) > 0


@lru_cache(maxsize=1)
def _prototypes() -> np.ndarray:
    return np.asarray(load_embedder().encode([*ALIVE, *NOT_ALIVE, *PEOPLE, *ANIMALS], normalize_embeddings=True))
