"""Speech-to-text with faster-whisper (CTranslate2), language fixed by configuration."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Final, Protocol

import numpy as np

from ..config import SttConfig
from ..errors import ModelError, SttError
from ..models import ModelFile

__all__ = ["PROMPT_TOKENS", "SpeechToText", "WhisperSpeechToText", "strip_wake_phrase", "token_cap"]

_PAD_S: Final = 0.25  # Whisper loses a first word that starts at sample 0
_SAMPLE_RATE_HZ: Final = 16000
# A decode may write this many tokens per second of audio, plus a few: fast speech is about four
# words (five or six tokens) a second, so a loop that repeats itself stops within a second or so
# of text instead of running to Whisper's 448 tokens.
_TOKENS_PER_S: Final = 8.0
_TOKENS_SPARE: Final = 10
# a loop repeats a long run of tokens; a command may repeat four ("light to fifty percent")
_NO_REPEAT_NGRAM: Final = 6
# faster-whisper keeps only the last max_length // 2 - 1 = 223 tokens of the prompt (Whisper's
# max_length is 448); a longer prompt loses its beginning
PROMPT_TOKENS: Final = 223


def token_cap(audio_s: float) -> int:
    """The most tokens a decode of ``audio_s`` seconds of speech may write."""
    return _TOKENS_SPARE + math.ceil(_TOKENS_PER_S * max(0.0, audio_s))


class SpeechToText(Protocol):
    def load(self) -> None: ...

    def transcribe(self, audio: np.ndarray, hints: Sequence[str] = ()) -> str:
        """Text of 16 kHz mono int16 audio; ``hints`` are names to bias recognition toward."""
        ...


class WhisperSpeechToText:
    """faster-whisper on the CPU; the model is loaded and warmed once in :meth:`load`."""

    def __init__(self, model: ModelFile, config: SttConfig, language: str) -> None:
        self._files = model
        self._config = config
        self._language = language
        self._model: Any = None
        self._prompt: tuple[tuple[str, ...], str] | None = None  # the last hints, as a prompt

    def load(self) -> None:
        from faster_whisper import WhisperModel

        path = self._files.paths[0]
        try:
            self._model = WhisperModel(
                str(path),
                device="cpu",
                compute_type=self._config.compute_type,
                cpu_threads=self._config.threads,
                num_workers=1,
            )
        except (RuntimeError, ValueError, OSError) as err:
            raise ModelError(
                "model_load",
                f"{path}: cannot load the speech-to-text model ({self._files.key}): "
                f"{str(err).splitlines()[0][:200]}",
            ) from None
        self.transcribe(np.zeros(_SAMPLE_RATE_HZ, dtype=np.int16))

    def transcribe(self, audio: np.ndarray, hints: Sequence[str] = ()) -> str:
        pad = np.zeros(int(_SAMPLE_RATE_HZ * _PAD_S), dtype=np.float32)
        samples = np.concatenate([pad, audio.astype(np.float32) / 32768.0, pad])
        try:
            segments, _info = self._model.transcribe(
                samples,
                language=self._language,
                beam_size=self._config.beam_size,
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
                # one greedy pass, bounded: no fallback to higher temperatures (each fallback is
                # another whole decode), a token cap fitted to the audio, no looping n-grams
                temperature=0.0,
                max_new_tokens=token_cap(len(audio) / _SAMPLE_RATE_HZ),
                no_repeat_ngram_size=_NO_REPEAT_NGRAM,
                # the names as a prompt: 100/100 commands right on noisy test speech, against
                # 98 with faster-whisper's hotwords and 96 with no hint (see the README)
                initial_prompt=self.prompt(hints) or None,
            )
            return " ".join(segment.text.strip() for segment in segments).strip()
        except (RuntimeError, ValueError) as err:
            raise SttError("stt_failed", f"speech-to-text failed: {err}") from None

    def prompt(self, hints: Sequence[str]) -> str:
        """The names as Whisper's prompt, within :data:`PROMPT_TOKENS` of its own tokens:
        taken from the front of ``hints`` (the most likely first) while they fit, and written
        with the most likely last, nearest the speech, where a cut would never reach."""
        key = tuple(hints)
        if self._prompt is not None and self._prompt[0] == key:
            return self._prompt[1]
        chosen: list[str] = []
        used = 1  # the full stop
        for name in key:
            cost = self.count_tokens(f" {name},")
            if used + cost > PROMPT_TOKENS:
                break
            chosen.append(name)
            used += cost
        chosen.reverse()
        while chosen and self.count_tokens(" " + ", ".join(chosen) + ".") > PROMPT_TOKENS:
            chosen.pop(0)  # pieces counted apart can merge differently: the least likely goes
        text = (", ".join(chosen) + ".") if chosen else ""
        self._prompt = (key, text)
        return text

    def count_tokens(self, text: str) -> int:
        """How many tokens of Whisper's own tokenizer ``text`` is."""
        tokenizer = getattr(self._model, "hf_tokenizer", None)
        if tokenizer is None:
            return -(-len(text) // 3)
        return len(tokenizer.encode(text, add_special_tokens=False).ids)


def strip_wake_phrase(text: str, wake_name: str) -> str:
    """Drop a wake phrase ("Hey Jarvis,") that the recogniser heard at the start of a command."""
    words = [w for w in wake_name.lower().split("_") if w]
    if not words:
        return text
    pattern = r"^\W*(?:" + r"\W+".join(re.escape(w) for w in words) + r"|" + re.escape(words[-1])
    pattern += r")\b\W*"
    stripped = re.sub(pattern, "", text, flags=re.IGNORECASE)
    return stripped[:1].upper() + stripped[1:] if stripped != text else text
