"""Test speech made with Piper: 16 kHz mono int16, padded with silence, written as WAV."""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from assistant.config import TtsConfig
from assistant.models import resolve_tts
from assistant.voice.tts import PiperTextToSpeech

RATE_HZ = 16000


@lru_cache(maxsize=1)
def _voice() -> PiperTextToSpeech:
    # No generator noise: the same text gives the same audio, so test runs repeat exactly.
    config = TtsConfig(cache_replies=0, noise_scale=0.0, noise_w_scale=0.0)
    tts = PiperTextToSpeech(resolve_tts("en_US-joe-medium"), config)
    tts.load()
    return tts


def say(text: str) -> np.ndarray:
    """``text`` spoken by the bundled voice, at 16 kHz."""
    tts = _voice()
    audio = np.concatenate(list(tts.sentences(text))).astype(np.float32) / 32768.0
    return (np.clip(soxr.resample(audio, tts.sample_rate_hz, RATE_HZ), -1, 1) * 32767).astype(
        np.int16
    )


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE_HZ * seconds), dtype=np.int16)


def utterance(*parts: Any) -> np.ndarray:
    """Strings are spoken, numbers are seconds of silence."""
    return np.concatenate([silence(p) if isinstance(p, int | float) else say(p) for p in parts])


def write_wav(path: Path, audio: np.ndarray, rate_hz: int = RATE_HZ, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(np.asarray(audio, dtype="<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data, rate
