"""Neural voices: any transformers text-to-speech model (VITS / MMS-TTS, SpeechT5, Bark ...), and Piper.

Both load on first use, by model id or local folder (transformers) or voice file (Piper); nothing is
fetched at run time that the user did not name.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from storyteller.core.backend import Speaker, Speech
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.models import Voice


class _ModelSpeaker(Speaker):
    """A speaker with one model, named by `model`, loaded on first use (`_open`), never pickled into a worker
    (each loads its own) and dropped by `close()`."""

    max_workers = 1
    version = 1  # part of the cache key: raise it when the same model speaks differently

    def __init__(self, model: str) -> None:
        self.model = model
        self._loaded: Any = None

    def config(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}

    def _load(self) -> Any:
        if self._loaded is None:
            self._loaded = self._open()
        return self._loaded

    def _open(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self._loaded = None


class TransformersSpeaker(_ModelSpeaker):
    """`--voice transformers:MODEL_OR_FOLDER`: transformers' text-to-speech pipeline.

    Args:
        model (`str`): a model id or a local folder saved with `save_pretrained`.
        device (`str`): "cpu" (default) or a torch device.
    """

    name = "transformers"

    def __init__(self, model: str, device: str = "cpu") -> None:
        super().__init__(model)
        self.device = device

    def _open(self) -> Any:
        try:
            import transformers
            from transformers import pipeline

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            return pipeline("text-to-speech", model=self.model, device=self.device)
        except (OSError, ValueError) as error:
            raise StorytellerError(f"cannot load the speech model {self.model}: {first_line(error)}") from None

    def speak(self, text: str, voice: Voice) -> Speech:
        import torch

        pipe = self._load()
        # VITS draws its durations and noise at random: seeded by what is said and by whom, so a line
        # sounds the same every time it is made
        torch.manual_seed(int(hashlib.sha256(f"{text}|{voice.model_dump_json()}".encode()).hexdigest()[:15], 16))
        out = pipe(text)
        return Speech(np.asarray(out["audio"], dtype=np.float32).reshape(-1), int(out["sampling_rate"]))


class PiperSpeaker(_ModelSpeaker):
    """`--voice piper:VOICE.onnx`: a Piper voice (its .onnx.json beside it); needs `pip install piper-tts`.

    A voice's `rate` sets Piper's length scale (165 words a minute: the voice's own pace); its `name` picks
    the speaker of a voice with several (a name from the voice's speaker map, a number, or any other name
    mapped to one of them, the same every time). Piper has no pitch control: `pitch` is not used.

    Args:
        model (`str`): the voice's .onnx file.
    """

    name = "piper"
    version = 2

    def _open(self) -> Any:
        try:
            from piper import PiperVoice
        except ImportError:
            raise StorytellerError("a Piper voice needs Piper: pip install piper-tts") from None
        try:
            return PiperVoice.load(self.model)
        except Exception as error:  # a missing or broken file, a config without a key, onnxruntime's own
            raise StorytellerError(f"cannot load the Piper voice {self.model}: {first_line(error)}") from None

    def speaker_id(self, voice: Voice) -> int | None:
        """Which of the voice file's speakers says `voice`'s lines (None: it has one)."""
        config = self._load().config
        if config.num_speakers <= 1:
            return None
        if voice.name in config.speaker_id_map:
            return int(config.speaker_id_map[voice.name])
        if voice.name.isdigit():
            return int(voice.name) % config.num_speakers
        return int(hashlib.sha256(voice.name.encode()).hexdigest(), 16) % config.num_speakers

    def speak(self, text: str, voice: Voice) -> Speech:
        from piper import SynthesisConfig

        piper = self._load()
        settings = SynthesisConfig(speaker_id=self.speaker_id(voice), length_scale=165 / voice.rate)
        chunks = list(piper.synthesize(text, syn_config=settings))
        samples = np.concatenate([c.audio_float_array for c in chunks]) if chunks else np.zeros(0, np.float32)
        return Speech(samples.astype(np.float32), int(piper.config.sample_rate))
