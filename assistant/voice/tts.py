"""Speech synthesis with Piper, one sentence at a time so playback starts early."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from ..config import TtsConfig
from ..errors import ModelError, TtsError
from ..models import ModelFile

__all__ = ["PiperTextToSpeech", "TextToSpeech"]


class TextToSpeech(Protocol):
    sample_rate_hz: int

    def load(self) -> None: ...

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        """int16 mono audio at :attr:`sample_rate_hz`, one array per sentence, as synthesised."""
        ...

    def keep(self, texts: list[str], stop: threading.Event | None = None) -> int:
        """Synthesise replies that are likely to come, ahead of time, where the voice keeps
        replies, until ``stop`` is set; returns how many were made."""
        ...


class PiperTextToSpeech:
    """A Piper voice on onnxruntime with an explicit thread count.

    Replies that repeat ("Turned on the kitchen light.") are kept as audio, up to
    ``cache_replies`` of them, so they cost nothing the second time.
    """

    def __init__(self, model: ModelFile, config: TtsConfig) -> None:
        self._files = model
        self._config = config
        self._voice: Any = None
        self._synthesis: Any = None
        self._cache: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self._cache_lock = threading.Lock()  # replies are kept ahead from another thread
        self.sample_rate_hz = 22050

    def load(self) -> None:
        import onnxruntime
        from piper import PiperConfig, PiperVoice, SynthesisConfig

        model_path, config_path = self._files.paths
        try:
            voice_config = PiperConfig.from_dict(json.loads(config_path.read_text("utf-8")))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._config.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # json, KeyError and onnxruntime's own exception types
            raise ModelError(
                "model_load",
                f"{model_path}: cannot load the voice ({self._files.key}): {str(err)[:200]}",
            ) from None
        self._voice = PiperVoice(config=voice_config, session=session)
        self._synthesis = SynthesisConfig(
            speaker_id=self._config.speaker_id,
            length_scale=self._config.length_scale,
            noise_scale=self._config.noise_scale,
            noise_w_scale=self._config.noise_w_scale,
        )
        self.sample_rate_hz = int(voice_config.sample_rate)
        for _ in self._synthesise("Ready."):
            pass

    def _synthesise(self, text: str) -> Iterator[np.ndarray]:
        try:
            for chunk in self._voice.synthesize(text, syn_config=self._synthesis):
                yield np.asarray(chunk.audio_int16_array, dtype=np.int16).reshape(-1)
        except Exception as err:  # phonemiser and onnxruntime errors
            raise TtsError("tts_failed", f"speech synthesis failed: {str(err)[:200]}") from None

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
        if cached is not None:
            yield from cached
            return
        produced = []
        for audio in self._synthesise(text):
            produced.append(audio)
            yield audio
        self._store(text, produced)

    def keep(self, texts: list[str], stop: threading.Event | None = None) -> int:
        """Synthesise ``texts`` into the reply cache (at most half of ``cache_replies``, so the
        replies actually given keep their room), skipping those already there; stops between
        two replies once ``stop`` is set."""
        made = 0
        for text in texts[: self._config.cache_replies // 2]:
            if stop is not None and stop.is_set():
                break
            with self._cache_lock:
                if text in self._cache:
                    continue
            self._store(text, list(self._synthesise(text)), fresh=False)
            made += 1
        return made

    def _store(self, text: str, audio: list[np.ndarray], fresh: bool = True) -> None:
        """Keep ``audio`` for ``text``; a reply kept ahead goes in as the oldest, so a reply
        actually given is never pushed out by one that might come."""
        if not self._config.cache_replies:
            return
        with self._cache_lock:
            self._cache[text] = audio
            if not fresh:
                self._cache.move_to_end(text, last=False)
            while len(self._cache) > self._config.cache_replies:
                self._cache.popitem(last=False)
