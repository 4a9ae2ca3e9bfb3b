"""The clip library's numbers.

    python benchmarks/retrieval.py            # 1,000,000 vectors (about ten minutes on 2 cores)
    python benchmarks/retrieval.py --n 100000 # quicker

1. Vector search at scale: random normalised 384-d vectors in the index the library builds above its
   size threshold (HNSW), against exact search: build time, query latency p50/p99, recall@10.
2. Indexing throughput on the demo clips: clips per second for the whole indexer, and for its two
   heavy parts measured alone (caption embedding; motion extraction).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.library import hnsw_index


def vectors(n: int, dim: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data


def vector_search(n: int, queries: int = 300, dim: int = 384) -> list[tuple[str, str]]:
    import faiss

    base, query = vectors(n, dim, 0), vectors(queries, dim, 1)
    threads = faiss.omp_get_max_threads()
    exact = faiss.IndexFlatIP(dim)
    exact.add(base)
    truth = exact.search(query, 10)[1]
    start = time.perf_counter()
    index = faiss.IndexIDMap2(hnsw_index(dim))
    index.add_with_ids(base, np.arange(n, dtype=np.int64))
    build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)  # latency of one query at a time, as a user's search is
    exact_ms = []
    for q in query[:50]:
        t = time.perf_counter()
        exact.search(q[None], 10)
        exact_ms.append((time.perf_counter() - t) * 1000)
    rows = [(f"HNSW build (M=32, efConstruction=80), {n:,} x {dim}", f"{build:.1f} s"),
            ("exact search p50 (1 thread)", f"{np.percentile(exact_ms, 50):.2f} ms")]  # fmt: skip
    for row in rows:  # the build is long at 1M: show what is known as soon as it is known
        print(f"{row[0]:<60}  {row[1]}", flush=True)
    hnsw = faiss.downcast_index(index.index)
    for ef in (128, 512, 2048):  # the recall / latency trade-off, side by side
        hnsw.hnsw.efSearch = ef
        latencies, found = [], []
        for q in query:
            t = time.perf_counter()
            found.append(index.search(q[None], 10)[1][0])
            latencies.append((time.perf_counter() - t) * 1000)
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
        name = f"HNSW efSearch={ef}: p50 / p99 latency, recall@10"
        print(f"{name:<60}  {p50:.2f} / {p99:.2f} ms, {recall:.3f}", flush=True)
    faiss.omp_set_num_threads(threads)
    return []


def indexing() -> list[tuple[str, str]]:
    from retrieval.demo import CLIPS, build, clip_frames
    from retrieval.library import Library
    from retrieval.motion import measure

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clips"
        build(folder)
        library = Library(Path(tmp) / "lib")
        library.embed(["warm up"])  # the model load is paid once per process, not per clip
        start = time.perf_counter()
        report = library.index_folder(folder)
        whole = time.perf_counter() - start
        captions = list(CLIPS) * 20
        start = time.perf_counter()
        library.embed(captions)
        embed = len(captions) / (time.perf_counter() - start)
        frames = [clip_frames(path) for path in CLIPS.values()]
        start = time.perf_counter()
        for clip in frames:
            measure([f[::2, ::2] if f.shape[1] > 160 else f for f in clip[::1]], 12)
        motion = len(frames) / (time.perf_counter() - start)
    return [
        (f"indexing ({report.clips} clips: probe, decode, motion, embed)", f"{report.clips / whole:.1f} clips/s"),
        ("caption embedding alone", f"{embed:.0f} captions/s"),
        ("motion extraction alone (3 s clips, DIS flow)", f"{motion:.1f} clips/s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="vectors in the index")
    args = parser.parse_args()
    for name, value in [*vector_search(args.n), *indexing()]:
        print(f"{name:<60}  {value}", flush=True)


if __name__ == "__main__":
    main()
