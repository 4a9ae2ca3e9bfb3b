"""Neural voices through transformers: any text-to-speech model (VITS / MMS-TTS, SpeechT5, Bark ...).

Loaded on first use, by model id or local folder; nothing is fetched at run time that the user did not
name. (Piper voices: stitching.sound.piper.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from storyteller.core.backend import Speaker, Speech
from storyteller.core.configs import Configured, runtime
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.models import Voice


@dataclass(frozen=True)
class SpeechModelConfig:
    """A neural voice's settings.

    Attributes:
        model: a model id or a local folder saved with `save_pretrained`.
        device: "cpu" (the default) or a torch device; not in the cache key (its speed, not its voice).
    """

    model: str
    device: str = runtime("cpu")


class TransformersSpeaker(Configured, Speaker):
    """`--voice transformers:MODEL_OR_FOLDER`: transformers' text-to-speech pipeline, loaded on first use,
    never pickled into a worker (each loads its own) and dropped by `close()`."""

    name = "transformers"
    max_workers = 1
    Config = SpeechModelConfig
    settings: SpeechModelConfig

    def __init__(self, config: SpeechModelConfig | None = None, /, **options: Any) -> None:
        super().__init__(config, **options)
        self._loaded: Any = None

    @property
    def model(self) -> str:
        return self.settings.model

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_loaded": None}

    def _load(self) -> Any:
        if self._loaded is None:
            self._loaded = self._open()
        return self._loaded

    def close(self) -> None:
        self._loaded = None

    def _open(self) -> Any:
        try:
            import transformers
            from transformers import pipeline

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            return pipeline("text-to-speech", model=self.model, device=self.settings.device)  # type: ignore[call-overload]
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
