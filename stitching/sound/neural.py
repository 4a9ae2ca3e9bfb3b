"""Neural voices: any transformers text-to-speech model (VITS / MMS-TTS, SpeechT5, Bark ...), and Piper.

Both load on first use, by model id or local folder (transformers) or voice file (Piper); nothing is
fetched at run time that the user did not name.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from storyteller.core.backend import Speaker, Speech
from storyteller.core.errors import StorytellerError
from storyteller.core.models import Voice


class TransformersSpeaker(Speaker):
    """`--voice transformers:MODEL_OR_FOLDER`: transformers' text-to-speech pipeline.

    Args:
        model (`str`): a model id or a local folder saved with `save_pretrained`.
        device (`str`): "cpu" (default) or a torch device.
    """

    name = "transformers"
    max_workers = 1

    def __init__(self, model: str, device: str = "cpu") -> None:
        self.model, self.device = model, device
        self._pipe: Any = None

    def config(self) -> dict[str, Any]:
        return {"model": self.model, "version": 1}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pipe": None}

    def _load(self) -> Any:
        if self._pipe is None:
            try:
                import transformers
                from transformers import pipeline

                transformers.logging.set_verbosity_error()
                transformers.logging.disable_progress_bar()
                self._pipe = pipeline("text-to-speech", model=self.model, device=self.device)
            except (OSError, ValueError) as error:
                raise StorytellerError(
                    f"cannot load the speech model {self.model}: {str(error).splitlines()[0]}"
                ) from None
        return self._pipe

    def speak(self, text: str, voice: Voice) -> Speech:
        import torch

        pipe = self._load()
        # VITS draws its durations and noise at random: seeded by what is said and by whom, so a line
        # sounds the same every time it is made
        torch.manual_seed(int(hashlib.sha256(f"{text}|{voice.model_dump_json()}".encode()).hexdigest()[:15], 16))
        out = pipe(text)
        return Speech(np.asarray(out["audio"], dtype=np.float32).reshape(-1), int(out["sampling_rate"]))

    def close(self) -> None:
        self._pipe = None


class PiperSpeaker(Speaker):
    """`--voice piper:VOICE.onnx`: a Piper voice (its .onnx.json beside it); needs `pip install piper-tts`.

    A voice's `rate` sets Piper's length scale (165 words a minute: the voice's own pace); its `name` picks
    the speaker of a voice with several (a name from the voice's speaker map, a number, or any other name
    mapped to one of them, the same every time). Piper has no pitch control: `pitch` is not used.

    Args:
        model (`str`): the voice's .onnx file.
    """

    name = "piper"
    max_workers = 1

    def __init__(self, model: str) -> None:
        self.model = model
        self._voice: Any = None

    def config(self) -> dict[str, Any]:
        return {"model": self.model, "version": 2}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_voice": None}

    def _load(self) -> Any:
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError:
                raise StorytellerError("a Piper voice needs Piper: pip install piper-tts") from None
            try:
                self._voice = PiperVoice.load(self.model)
            except Exception as error:  # a missing or broken file, a config without a key, onnxruntime's own
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise StorytellerError(f"cannot load the Piper voice {self.model}: {reason}") from None
        return self._voice

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
