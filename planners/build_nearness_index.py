"""Build the nearness index shipped with storyteller: most stories then plan without the sentence embedder.

    pip install lemminflect          # its noun list; build time only
    python -m planners.build_nearness_index

Writes planners/nearness_index.npz: for every noun of the list and every set of prototype phrases the
planners compare nouns with (planners/animacy.py, planners/bible.py), the cosine of "a <noun>" to the
set's nearest phrase, as integers of 1/INDEX_SCALE. A set added or changed later is not in the index: nouns
are then embedded for it, as before; rebuild to make it free again.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from planners import animacy, bible
from storyteller.core.embedding import load_embedder
from storyteller.core.nouns import english_nouns


def phrase_sets() -> list[tuple[str, ...]]:
    """Every set of prototype phrases the planners compare nouns with."""
    found: dict[str, tuple[str, ...]] = {}
    for module in (animacy, bible):
        for value in vars(module).values():
            if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
                found[animacy.set_key(value)] = value
    return [found[key] for key in sorted(found)]


def build(path: Path = animacy.INDEX_FILE) -> None:
    start = time.perf_counter()
    model = load_embedder()

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=animacy.BATCH, normalize_embeddings=True), np.float32)

    sets = phrase_sets()
    prototypes = sorted({p for phrases in sets for p in phrases})
    phrase_vectors = embed(prototypes)
    columns = [[prototypes.index(p) for p in phrases] for phrases in sets]
    words = english_nouns()
    cosines = np.empty((len(words), len(sets)), np.int16)
    for first in range(0, len(words), animacy.BATCH):
        part = words[first : first + animacy.BATCH]
        scores = embed([f"a {w}" for w in part]) @ phrase_vectors.T
        nearest = np.stack([scores[:, c].max(axis=1) for c in columns], axis=1)
        cosines[first : first + len(part)] = np.round(nearest * animacy.INDEX_SCALE).astype(np.int16)
    keys = [animacy.set_key(phrases) for phrases in sets]
    np.savez_compressed(path, nouns=np.array(words), sets=np.array(keys), cosines=cosines)
    seconds = time.perf_counter() - start
    print(f"{path}: {len(words)} nouns x {len(sets)} phrase sets, {path.stat().st_size:,} bytes, {seconds:.0f} s")


if __name__ == "__main__":
    build()
