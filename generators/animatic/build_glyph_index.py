"""Build the glyph index shipped with storyteller: the first make then spends no time on glyph matching.

    pip install lemminflect          # its noun list (19,000 English nouns and their plurals); build time only
    python -m generators.animatic.build_glyph_index

Writes generators/animatic/glyph_index.npz: the MiniLM vector of every emoji name (float16), and for
every noun of the list (and the lexicon's words) the emoji name nearest to it and its cosine score, as
the matcher would find them. The matcher's rules (aliases, exact names, the threshold) are applied at
run time on top, so changing those needs no rebuild; a new emoji or embedder version does (the index
records the digest of the names it was built for, and is ignored when they differ).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from generators.animatic.glyphs import INDEX_FILE, emoji_names, names_digest
from storyteller.core.embedding import load_embedder
from storyteller.core.nouns import english_nouns


def build(path: Path = INDEX_FILE) -> None:
    start = time.perf_counter()
    model = load_embedder()
    names = emoji_names()[0]

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=256, normalize_embeddings=True), dtype=np.float32)

    name_vectors = embed(names)
    words = english_nouns()
    best = np.empty(len(words), np.int16)
    score = np.empty(len(words), np.float32)
    for first in range(0, len(words), 4096):
        scores = embed(words[first : first + 4096]) @ name_vectors.T
        best[first : first + 4096] = scores.argmax(axis=1)
        score[first : first + 4096] = scores.max(axis=1)
    np.savez_compressed(
        path,
        names_digest=np.array(names_digest(names)),
        name_vectors=name_vectors.astype(np.float16),
        nouns=np.array(words),
        best=best,
        score=score,
    )
    seconds = time.perf_counter() - start
    print(f"{path}: {len(names)} emoji names, {len(words)} nouns, {path.stat().st_size:,} bytes, {seconds:.0f} s")


if __name__ == "__main__":
    build()
