"""A library of captioned reference clips: SQLite for what each clip is, FAISS for finding it by meaning.

Vectors are normalised caption embeddings, so inner product is cosine similarity. Ids are SQLite row
ids and stay stable. A small library is searched exactly; above `HNSW_THRESHOLD` clips the index is
HNSW. The vectors also live in SQLite, so the FAISS file can always be rebuilt from it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import logging
import re
import sqlite3
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np

from retrieval.motion import EDGE_SIZE, cuts, depth_maps, measure, structure_frames
from retrieval.reader import probe, read_frames
from storyteller.core.embedding import load_embedder as offline_embedder
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.files import file_digest, local_file
from storyteller.core.models import Structure

VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".avi"}
HNSW_THRESHOLD = 20_000
SAMPLE_FPS = 8.0  # frames per second read for cuts and motion
MAX_CLIP_SECONDS = 30.0

SCHEMA = """
create table if not exists files (path text primary key, size integer, mtime real, sha256 text);
create table if not exists clips (
    id integer primary key, path text, start real, end real, caption text, duration real,
    width integer, height integer, trajectory text, camera text, score real, edges blob, vector blob,
    depth blob
);
create table if not exists meta (key text primary key, value text);
"""


@dataclass
class Hit:
    id: int
    score: float
    caption: str
    path: str
    start: float
    duration: float
    motion_score: float
    trajectory: list[tuple[float, float]]
    camera: tuple[float, float, float]
    aspect: float
    structure: Structure | None = None  # its depth maps, else its edges, at its first, middle and last frame


@dataclass
class IndexReport:
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    clips: int = 0
    skipped_files: list[str] = field(default_factory=list)


def structure_of(edges: bytes | None, depth: bytes | None) -> Structure | None:
    """A clip's stored structure as the plan carries it: its depth maps where it has them, else its edges
    (0 or 255), each at its first, middle and last frame (`structure_frames`)."""
    width, height = EDGE_SIZE
    size = width * height
    kind: Literal["depth", "edges"]
    if depth and len(depth) % size == 0:
        maps, kind = [depth[i : i + size] for i in range(0, len(depth), size)], "depth"
    elif edges and len(edges) % (size // 8) == 0:
        packed = [edges[i : i + size // 8] for i in range(0, len(edges), size // 8)]
        maps = [(np.unpackbits(np.frombuffer(p, np.uint8))[:size] * 255).astype(np.uint8).tobytes() for p in packed]
        kind = "edges"
    else:
        return None
    times = [0.0] if len(maps) == 1 else [round(i / (len(maps) - 1), 4) for i in range(len(maps))]
    encoded = [base64.b64encode(m).decode() for m in maps]
    return Structure(kind=kind, width=width, height=height, times=times, maps=encoded)


class Library:
    def __init__(self, root: Path, embedder: str | None = None, depth_model: str | None = None) -> None:
        self.root = Path(root)
        self.db_path = self.root / "library.sqlite"
        self.index_path = self.root / "index.faiss"
        self._model: Any = None
        self._index: Any = None
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.db_path)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StorytellerError(f"{self.db_path}: not a clip library ({error})") from None
        stored = self._meta("embedder")
        if stored and embedder and stored != embedder:
            raise StorytellerError(f"{self.root} was built with the embedder '{stored}', not '{embedder}'")
        self.embedder_name = embedder or stored or "all-MiniLM-L6-v2"
        self.depth_model = depth_model  # a local depth-estimation model: depth maps beside the edges

    @classmethod
    def open_existing(cls, root: Path) -> Library:
        if not (Path(root) / "library.sqlite").exists():
            raise StorytellerError(f"{root}: no clip library here (build one with 'storyteller index DIR')")
        return cls(root)

    def __len__(self) -> int:
        return self.db.execute("select count(*) from clips").fetchone()[0]

    # --- indexing ---------------------------------------------------------------------------------

    def index_folder(
        self, folder: Path, manifest: Path | None = None, progress: Callable[[str], None] | None = None
    ) -> IndexReport:
        """Add new and changed videos under `folder`, drop entries of deleted ones."""
        folder = Path(folder)
        if not folder.is_dir():
            raise StorytellerError(f"{folder}: no such folder")
        self.index()  # the index as saved, to be changed in place
        captions = read_manifest(manifest) if manifest else {}
        report = IndexReport()
        seen = set()
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()):
            key = str(path.resolve())
            if not _storable(key):  # a name that is not valid text (not UTF-8): skipped, named, never fatal
                report.skipped += 1
                report.skipped_files.append(key.encode("utf-8", "backslashreplace").decode("ascii", "replace"))
                continue
            seen.add(key)
            stat = path.stat()
            known = self.db.execute("select size, mtime, sha256 from files where path = ?", (key,)).fetchone()
            if known and known[0] == stat.st_size and known[1] == stat.st_mtime:
                report.unchanged += 1
                continue
            digest = file_digest(path)
            if known and known[2] == digest:
                self.db.execute("update files set mtime = ? where path = ?", (stat.st_mtime, key))
                report.unchanged += 1
                continue
            self._forget(key)
            info = probe(path)
            if info is None or info.frames < 2:
                report.skipped += 1
                report.skipped_files.append(path.name)
                continue
            step = max(1, round(info.fps / SAMPLE_FPS))
            try:
                frames = list(read_frames(path, info, step=step))
            except Exception:  # a file that probes but will not decode is skipped, never fatal
                report.skipped += 1
                report.skipped_files.append(path.name)
                continue
            report.clips += self._add_clips(key, frames, info.fps / step, caption_for(path, captions), info)
            self.db.execute(
                "insert or replace into files values (?, ?, ?, ?)", (key, stat.st_size, stat.st_mtime, digest)
            )
            report.added += 1
            if progress:
                progress(path.name)
        for (key,) in self.db.execute("select path from files").fetchall():
            if key not in seen and key.startswith(str(folder.resolve())):
                self._forget(key)
                report.removed += 1
        self._embed_missing()
        self.db.commit()
        self._save_index()
        return report

    def _add_clips(self, key: str, frames: list[Any], fps: float, caption: str, info: Any) -> int:
        """The video's clips (cut at its cuts, at most MAX_CLIP_SECONDS each), measured and stored; how many."""
        added = 0
        starts = [*cuts(frames), len(frames)]
        for a, b in pairwise(starts):
            limit = max(2, int(MAX_CLIP_SECONDS * fps))
            for c in range(a, b, limit):
                piece = frames[c : min(b, c + limit)]
                if len(piece) < 2:
                    continue
                motion = measure(piece, fps)
                if self.depth_model:
                    motion.depth = depth_maps(structure_frames(piece), self.depth_model)
                self._insert(key, c / fps, len(piece) / fps, caption, info, motion)
                added += 1
        return added

    def _insert(self, key: str, start: float, duration: float, caption: str, info: Any, motion: Any) -> None:
        self.db.execute(
            "insert into clips (path, start, end, caption, duration, width, height, trajectory, camera, score, edges,"
            " depth) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, start, start + duration, caption, duration, info.width, info.height, json.dumps(motion.trajectory),
             json.dumps(motion.camera), motion.score, b"".join(motion.edges), b"".join(motion.depth) or None),
        )  # fmt: skip

    def _forget(self, key: str) -> None:
        ids = [i for (i,) in self.db.execute("select id from clips where path = ? and vector is not null", (key,))]
        self.db.execute("delete from clips where path = ?", (key,))
        self.db.execute("delete from files where path = ?", (key,))
        if ids and self._index is not None:
            try:  # flat indexes remove in place; HNSW cannot, and is rebuilt from SQLite instead
                self._index.remove_ids(np.array(ids, dtype=np.int64))
            except RuntimeError:
                self._index = None

    def _embed_missing(self) -> None:
        rows = self.db.execute("select id, caption from clips where vector is null").fetchall()
        if not rows:
            return
        vectors = self.embed([caption for _, caption in rows])
        self.db.executemany(
            "update clips set vector = ? where id = ?",
            [(v.tobytes(), i) for (i, _), v in zip(rows, vectors, strict=True)],
        )
        self._set_meta("embedder", self.embedder_name)
        if self._index is not None and self._index.d == vectors.shape[1]:  # incremental: join the loaded index
            self._index.add_with_ids(vectors, np.array([i for i, _ in rows], dtype=np.int64))
        else:
            self._index = None

    # --- the vector index -------------------------------------------------------------------------

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = load_embedder(self.embedder_name)
        vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    def index(self) -> Any:
        if self._index is None:
            import faiss

            if self.index_path.exists() and self._meta("index_of") == self.fingerprint():
                try:
                    self._index = faiss.read_index(str(self.index_path))
                except RuntimeError:
                    self._index = None
            if self._index is None:
                self._index = self._build()
        return self._index

    def _build(self) -> Any:
        import faiss

        rows = self.db.execute("select id, vector from clips where vector is not null").fetchall()
        dim = len(rows[0][1]) // 4 if rows else 384
        base = faiss.IndexFlatIP(dim) if len(rows) < HNSW_THRESHOLD else hnsw_index(dim)
        index = faiss.IndexIDMap2(base)
        if rows:
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            index.add_with_ids(np.stack([np.frombuffer(r[1], np.float32) for r in rows]), ids)
        return index

    def _save_index(self) -> None:
        import faiss

        if self._index is not None and (len(self) >= HNSW_THRESHOLD) != _is_hnsw(self._index):
            self._index = None  # crossed the size threshold: rebuild as the other kind
        faiss.write_index(self.index(), str(self.index_path))
        self._set_meta("index_of", self.fingerprint())
        self.db.commit()

    def fingerprint(self) -> str:
        """Which clips the saved FAISS file holds: a stale file is rebuilt from SQLite, never trusted."""
        ids = ",".join(str(i) for (i,) in self.db.execute("select id from clips where vector is not null order by id"))
        return hashlib.sha256(ids.encode()).hexdigest()

    # --- search -----------------------------------------------------------------------------------

    def search(
        self, text: str, k: int = 5, min_duration: float = 0.0, aspect: float | None = None, diversity: float = 0.3
    ) -> list[Hit]:
        """Top-k clips for `text`, re-ranked by maximal marginal relevance, filtered by duration and aspect."""
        if len(self) == 0:
            raise StorytellerError(f"{self.root}: the clip library is empty (add videos with 'storyteller index DIR')")
        query = self.embed([text])[0]
        scores, ids = self.index().search(query[None], min(len(self), max(4 * k, 20)))
        candidates = []
        for score, cid in zip(scores[0], ids[0], strict=True):
            if cid < 0:
                continue
            hit = self._hit(int(cid), float(score))
            if hit.duration < min_duration or (aspect and max(hit.aspect, aspect) / min(hit.aspect, aspect) > 2):
                continue  # too short, or portrait against landscape
            candidates.append(hit)
        return _mmr(candidates, self._vectors([h.id for h in candidates]), k, diversity)

    def _vectors(self, ids: list[int]) -> np.ndarray:
        rows = {i: v for i, v in self.db.execute(
            f"select id, vector from clips where id in ({','.join('?' * len(ids))})", ids)} if ids else {}  # fmt: skip
        return np.stack([np.frombuffer(rows[i], np.float32) for i in ids]) if ids else np.zeros((0, 384), np.float32)

    def _hit(self, cid: int, score: float) -> Hit:
        row = self.db.execute(
            "select caption, path, start, duration, score, trajectory, camera, width, height, edges, depth from clips"
            " where id = ?",
            (cid,),
        ).fetchone()
        caption, path, start, duration, motion, trajectory, camera, width, height, edges, depth = row
        return Hit(cid, score, caption, path, start, duration, motion, [tuple(p) for p in json.loads(trajectory)],
                   tuple(json.loads(camera)), width / height, structure_of(edges, depth))  # fmt: skip

    def remove(self, path: Path) -> int:
        key = str(Path(path).resolve())
        count = self.db.execute("select count(*) from clips where path = ?", (key,)).fetchone()[0]
        self._forget(key)
        self.db.commit()
        self._save_index()
        return count

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert or replace into meta values (?, ?)", (key, value))


def _is_hnsw(index: Any) -> bool:
    import faiss

    return isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW)


def hnsw_index(dim: int) -> Any:
    import faiss

    index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = 128
    return index


def _mmr(hits: list[Hit], vectors: np.ndarray, k: int, diversity: float) -> list[Hit]:
    """Maximal marginal relevance: each pick is relevant and unlike the picks before it."""
    chosen: list[int] = []
    rest = list(range(len(hits)))
    while rest and len(chosen) < k:

        def value(i: int) -> float:
            similar = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return (1 - diversity) * hits[i].score - diversity * similar

        best = max(rest, key=value)
        chosen.append(best)
        rest.remove(best)
    return [hits[i] for i in chosen]


# --- captions -------------------------------------------------------------------------------------


def caption_for(path: Path, manifest: dict[str, str]) -> str:
    """Sidecar .txt / .json / .srt, else the manifest, else the file name."""
    for suffix in (".txt", ".json", ".srt"):
        sidecar = path.with_suffix(suffix)
        if sidecar.exists():
            text = sidecar.read_text(encoding="utf-8", errors="replace")
            if suffix == ".json":
                try:
                    data = json.loads(text)
                    text = data.get("caption") or data.get("text") or data.get("name") or ""
                except (ValueError, AttributeError):
                    text = ""
            elif suffix == ".srt":
                text = " ".join(
                    line
                    for line in text.splitlines()
                    if line.strip() and "-->" not in line and not line.strip().isdigit()
                )
            if text.strip():
                return " ".join(text.split())
    for key in (path.name, path.stem):
        if key in manifest:
            return manifest[key]
    return re.sub(r"[_\-.]+", " ", path.stem).strip() or path.name


MAX_MANIFEST_BYTES = 2_000_000_000  # WebVid-10M's captions are about 2 GB


def read_manifest(path: Path) -> dict[str, str]:
    """A CSV in the WebVid (videoid, name) or MSR-VTT (video_id, caption / sentence) layout."""
    path = local_file(path, "manifest", MAX_MANIFEST_BYTES)  # a pipe would hang the index, a device never end
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise StorytellerError(f"{path}: cannot read the manifest ({error})") from None
    captions: dict[str, str] = {}
    for row in rows:
        vid = row.get("videoid") or row.get("video_id") or row.get("video") or row.get("file")
        text = row.get("name") or row.get("caption") or row.get("sentence") or row.get("text")
        if vid and text:
            captions.setdefault(str(vid), text.strip())
            captions.setdefault(Path(str(vid)).stem, text.strip())
    return captions


@lru_cache(maxsize=2)
def load_embedder(name: str) -> Any:
    """The default is the offline MiniLM the animatic uses; anything else is a model id or a local path."""
    if name == "all-MiniLM-L6-v2":
        return offline_embedder()
    if name.startswith(("/", "./", "../", "~")) and not Path(name).expanduser().exists():
        raise StorytellerError(f"cannot load the embedder '{name}': no such folder")
    from sentence_transformers import SentenceTransformer

    # the library's own log lines and warnings ("no model found, creating one with mean pooling") would
    # come before, or instead of, the one line the user needs
    quiet = [logging.getLogger(n) for n in ("sentence_transformers", "transformers", "huggingface_hub")]
    levels = [logger.level for logger in quiet]
    try:
        for logger in quiet:
            logger.setLevel(logging.ERROR + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SentenceTransformer(name, device="cpu")
    except Exception as error:
        raise StorytellerError(f"cannot load the embedder '{name}': {first_line(error)[:200]}") from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def _storable(text: str) -> bool:
    """Whether a path can be stored as text: file names that are not UTF-8 come back with surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
