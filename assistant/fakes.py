"""Stand-ins for the model stages, for tests of the turn logic that run in milliseconds.

Audio for them is made with :func:`stream`: a wake mark, then commands whose speech frames carry
their own number, so that :class:`MarkedWake` fires on the mark, :class:`LevelVad` hears speech
wherever the signal is not silent, and :class:`ScriptedStt` says which scripted text was spoken.
:class:`SilentTts` "speaks" silence of a plausible length. Nothing here loads a model; the real
adapters are tested with the real models beside these.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Final

import numpy as np

from .voice.audio import FRAME_SAMPLES, SAMPLE_RATE_HZ

__all__ = [
    "WAKE_MARK",
    "LevelVad",
    "MarkedWake",
    "ScriptedStt",
    "SilentTts",
    "silence",
    "speech",
    "stream",
    "wake_mark",
]

WAKE_MARK: Final = 23130  # every sample of a wake-mark frame
_SPEECH_BASE: Final = 1000  # speech of script line N is a constant 1000 + N
_QUIET: Final = 50  # below this level a frame is silence


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE_HZ), dtype=np.int16)


def wake_mark() -> np.ndarray:
    """One frame that :class:`MarkedWake` fires on."""
    return np.full(FRAME_SAMPLES, WAKE_MARK, dtype=np.int16)


def speech(line: int, seconds: float = 1.0) -> np.ndarray:
    """``seconds`` of "speech" that :class:`ScriptedStt` hears as script line ``line``."""
    return np.full(round(seconds * SAMPLE_RATE_HZ), _SPEECH_BASE + line, dtype=np.int16)


def stream(*parts: np.ndarray) -> np.ndarray:
    """The parts one after another, as a microphone would give them."""
    return np.concatenate([np.asarray(p, dtype=np.int16) for p in parts])


class MarkedWake:
    """A wake word detector that fires (score 1.0) on a frame of :data:`WAKE_MARK`."""

    name = "hey_jarvis"

    def load(self) -> None:
        return None

    def score(self, frame: np.ndarray) -> float:
        return 1.0 if len(frame) and int(frame[0]) == WAKE_MARK else 0.0

    def reset(self) -> None:
        return None


class LevelVad:
    """Speech wherever the frame is not near silence (and not the wake mark)."""

    def load(self) -> None:
        return None

    def reset(self) -> None:
        return None

    def speech_probability(self, frame: np.ndarray) -> float:
        level = int(np.max(np.abs(frame.astype(np.int32)))) if len(frame) else 0
        return 1.0 if level >= _QUIET and level != WAKE_MARK else 0.0


class ScriptedStt:
    """Says which script line was spoken: the most common speech level in the audio."""

    def __init__(self, script: Sequence[str]) -> None:
        self.script = list(script)
        self.calls: list[tuple[float, tuple[str, ...]]] = []  # (audio seconds, hints)

    def load(self) -> None:
        return None

    def transcribe(self, audio: np.ndarray, hints: Sequence[str] = ()) -> str:
        self.calls.append((len(audio) / SAMPLE_RATE_HZ, tuple(hints)))
        levels = audio[(audio >= _SPEECH_BASE) & (audio < _SPEECH_BASE + len(self.script))]
        if not len(levels):
            return ""
        line = int(np.bincount(levels - _SPEECH_BASE).argmax())
        return self.script[line]


class SilentTts:
    """A voice that speaks silence: 0.06 s per character, one array per sentence."""

    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def load(self) -> None:
        return None

    def keep(self, texts: list[str], stop: threading.Event | None = None) -> int:
        return 0

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        for sentence in (s.strip() for s in text.replace("!", ".").split(".")):
            if sentence:
                self.spoken.append(sentence)
                yield silence(0.06 * len(sentence))
