"""Speech from eSpeak NG, offline: the library and its data ship in the `espeakng-loader` wheel.

Bound through ctypes to the library's own C API (speak_lib.h): synchronous synthesis into a callback that
collects the samples, 22,050 Hz mono.

eSpeak carries state from one utterance into the next (its wave generator's phase and flutter), so the
same line sounds slightly different depending on what was said before it. A film must be the same
every time it is made, so each line is spoken in a forked child of a process whose engine has never
spoken: every line starts from the same state. The forks are made by a small server process (numpy,
ctypes and the engine, nothing else), started while the story is planned: forking it costs about a
millisecond, where forking the orchestrator, with a language model and a parser loaded, costs ten.
(Where there is no fork, lines are spoken in place.)
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storyteller.core.backend import Speaker, Speech
from storyteller.core.errors import StorytellerError
from storyteller.core.executors.local import QuietSpawn, run_guarded
from storyteller.core.files import code_digest
from storyteller.core.models import Voice

_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS
_CHARS_UTF8 = 1  # espeakCHARS_UTF8
_RATE, _VOLUME, _PITCH, _RANGE, _PUNCTUATION, _CAPITALS, _WORDGAP = 1, 2, 3, 4, 5, 6, 7  # espeak_PARAMETER
_DATA_PATH_LIMIT = 160  # espeak-ng copies its data path into a buffer of this size (and exits if it is longer)
_IPA = 0x02  # espeak_TextToPhonemes' phonememode: IPA, no separators
_OVERRUN = " \t\n\"'”“’‘»«)]" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SEED = 1  # the breath noise's seed, the same for every line (see _Engine.__init__)
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _EspeakVoice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _Engine:
    """The loaded library, initialised once per process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise StorytellerError("the espeak voice needs espeakng-loader: pip install espeakng-loader") from None
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        self.lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        # the noise of breathy voices (en+f2, en+f5 ...) comes from the library's own generator, which it
        # seeds from the clock when it starts: reseeded before every line, the same line is the same sound
        self.reseed = getattr(self.lib, "espeak_ng_SetRandSeed", None)
        if self.reseed is not None:
            self.reseed.argtypes = [ctypes.c_long]
        data = _short_data_path(espeakng_loader.get_data_path())
        self.rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, str(Path(data).parent).encode(), 0)
        if self.rate <= 0:
            raise StorytellerError("espeak-ng could not start (its data was not found)")
        self.samples: list[np.ndarray] = []
        self.callback = _CALLBACK(self._collect)  # kept alive here: the library holds only a raw pointer
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lock = threading.Lock()

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self.samples.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # 0: go on

    def has(self, language: str) -> bool:
        return language in self.languages() or language.split("-")[0] in {x.split("-")[0] for x in self.languages()}

    def languages(self) -> set[str]:
        found: set[str] = set()
        voices, index = self.lib.espeak_ListVoices(None), 0
        while voices[index]:
            raw = ctypes.string_at(voices[index].contents.languages, 64)
            found.update(part[1:].decode(errors="ignore") for part in raw.split(b"\0") if len(part) > 1)
            index += 1
        return {lang for lang in found if lang}

    def clauses(self, text: str, language: str) -> list[tuple[str, str]]:
        """The text's clauses as (IPA phonemes, the punctuation that ended the clause, or ""): the phonemes a
        neural voice reads (stitching.sound.piper). Nothing is spoken, so no line's sound depends on it."""
        with self.lock:
            if self.lib.espeak_SetVoiceByName(language.encode()) != 0:
                raise StorytellerError(f"espeak has no phonemes for the language '{language}'")
            data = text.encode("utf-8")
            buffer = ctypes.create_string_buffer(data)
            pointer = ctypes.c_void_p(ctypes.addressof(buffer))
            found = []
            while pointer.value is not None:
                start = pointer.value - ctypes.addressof(buffer)
                phonemes = self.lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _IPA)
                end = len(data) if pointer.value is None else pointer.value - ctypes.addressof(buffer)
                # the pointer runs a character or two into the next clause: what ended this one is the last
                # mark before the letters, spaces and quotes it ran over
                consumed = data[start:end].decode("utf-8", errors="ignore").rstrip(_OVERRUN)
                ending = consumed[-1] if consumed and consumed[-1] in ".!?,:;" else ""
                found.append(((phonemes or b"").decode("utf-8", errors="ignore"), ending))
        return found

    def speak(self, text: str, voice: Voice) -> np.ndarray:
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise StorytellerError(f"espeak has no voice '{voice.name}' (a language, e.g. en, en+f3, de, pl)")
            # every setting, every time: the library keeps what the last line set (a line must sound the
            # same whatever was said before it)
            for parameter, value in (
                (_RATE, voice.rate), (_VOLUME, 100), (_PITCH, voice.pitch), (_RANGE, 50),
                (_PUNCTUATION, 0), (_CAPITALS, 0), (_WORDGAP, 0),
            ):  # fmt: skip
                self.lib.espeak_SetParameter(parameter, value, 0)
            if self.reseed is not None:
                self.reseed(_SEED)
            self.samples = []
            data = text.encode("utf-8") + b"\0"
            self.lib.espeak_Synth(data, len(data), 0, 1, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            samples = np.concatenate(self.samples) if self.samples else np.zeros(0, np.int16)
        return samples.astype(np.float32) / 32768.0


@lru_cache(maxsize=1)
def _short_data_path(path: str) -> str:
    """The data folder by a path espeak-ng can hold: the wheel's own if short, else a link to it in a
    private folder of this process's (made by mkdtemp: its name unpredictable, only this user may enter it,
    removed at exit), so no other user of the machine can plant voice data where the engine looks."""
    if len(path) < _DATA_PATH_LIMIT - 20 and path.isascii():
        return path
    private = Path(tempfile.mkdtemp(prefix="storyteller-espeak-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    link = private / "espeak-ng-data"
    try:
        link.symlink_to(path, target_is_directory=True)
    except OSError:
        shutil.copytree(path, link)
    return str(link)


_ENGINE: list[_Engine] = []
_STARTING = threading.Lock()


def engine() -> _Engine:
    """The process's one engine (the library is one global state: two would corrupt it), made by whichever
    thread asks first."""
    with _STARTING:
        if not _ENGINE:
            _ENGINE.append(_Engine())
        return _ENGINE[0]


@lru_cache(maxsize=256)
def _known_voice(name: str) -> bool:
    """Whether espeak has the voice: its language (and variant, if one is given) exist in its data."""
    import espeakng_loader

    language, _, variant = name.partition("+")
    data = Path(_short_data_path(espeakng_loader.get_data_path()))
    variants = {p.name for p in (data / "voices" / "!v").iterdir()} if variant else set()
    return engine().has(language) and (not variant or variant in variants)


def speak_afresh(text: str, voice: Voice) -> np.ndarray:
    """`text` spoken by an engine in the state of one that has just started (see the module's note)."""
    if not hasattr(os, "fork"):
        return engine().speak(text, voice)
    engine()  # loaded and initialised here, before the fork: the children share it, untouched
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: C calls and raw writes only, then leave without running any Python cleanup
        status = 1
        try:
            loaded = _ENGINE[0]  # not through engine(): a lock another thread held at the fork stays held here
            loaded.lock = threading.Lock()  # (this child has one thread: a fresh lock)
            samples = loaded.speak(text, voice).astype(np.float32).tobytes()
            view = memoryview(samples)
            while view:
                view = view[os.write(write, view) :]
            status = 0
        except BaseException:  # anything: the parent sees the status and says so
            pass
        finally:
            os._exit(status)
    os.close(write)
    chunks = []
    with os.fdopen(read, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise StorytellerError(f"espeak could not speak the line {text[:40]!r} in the voice '{voice.name}'")
    return np.frombuffer(b"".join(chunks), dtype=np.float32).copy()


class _ServerGone(Exception):
    """The speech process is not there to answer."""


class _Server:
    """The small process that forks a fresh engine per line (see the module's note)."""

    def __init__(self) -> None:
        context = QuietSpawn()  # Ctrl-C is the parent's to answer: the server ignores it, and dies with it
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=run_guarded, args=("stitching.sound.espeak:serve", theirs), daemon=True, name="storyteller-espeak"
        )
        self.process.start()
        theirs.close()
        self.lock = threading.Lock()

    def speak(self, text: str, voice: Voice) -> np.ndarray:
        with self.lock:
            try:
                self.connection.send((text, voice.model_dump(mode="json")))
                ok, payload = self.connection.recv()
            except (EOFError, OSError):
                raise _ServerGone from None
        if not ok:
            raise StorytellerError(payload)
        return np.frombuffer(payload, dtype=np.float32).copy()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()


def serve(connection: Any) -> None:
    """The speech server's loop (started through run_guarded: it dies with its parent, ignores Ctrl-C)."""
    engine()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        text, voice = request
        try:
            connection.send((True, speak_afresh(text, Voice(**voice)).tobytes()))
        except StorytellerError as error:
            connection.send((False, str(error)))


class EspeakSpeaker(Speaker):
    """eSpeak NG (the default): about a hundred languages, offline, fast; robotic, but every word clear."""

    name = "espeak"

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._serverless = False  # the server could not run here: lines are forked from this process

    def __getstate__(self) -> dict[str, Any]:  # a copy elsewhere starts its own server
        return {**self.__dict__, "_server": None}

    def prepare(self) -> None:
        """Start the speech process now (it loads while the story is planned)."""
        if self._server is None and not self._serverless and hasattr(os, "fork"):
            self._server = _Server()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def config(self) -> dict[str, Any]:
        return {"engine": "espeak-ng", "code": code_digest("stitching.sound")}  # how it speaks

    def speak(self, text: str, voice: Voice) -> Speech:
        if not _known_voice(voice.name):
            raise StorytellerError(f"espeak has no voice '{voice.name}' (a language and a variant: en, en+f3, de, pl)")
        self.prepare()
        if self._server is not None:
            try:
                return Speech(self._server.speak(text, voice), engine().rate)
            except _ServerGone:  # it could not start (a script run from stdin cannot spawn): fork from here
                self._server, self._serverless = None, True
        return Speech(speak_afresh(text, voice), engine().rate)

    def has_language(self, language: str) -> bool:
        return language.split("-")[0] in {lang.split("-")[0] for lang in engine().languages()}

    def spec(self) -> str:
        return "espeak"

    def voice_name(self, language: str, female: bool | None, draw: int) -> str:
        """The language and one of espeak's variants: f1 to f5 for a woman, m1 to m7 for a man."""
        if female is None:
            return language
        return f"{language}+f{1 + draw % 5}" if female else f"{language}+m{1 + draw % 7}"
