"""How loud the wake word was over the room's own noise: what rooms compare to decide which of
them is nearest to the person who spoke."""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np

from .audio import FRAME_MS

__all__ = ["LevelMeter", "frame_dbfs"]

_FULL_SCALE: Final = 32768.0
_SILENCE_DBFS: Final = -96.0  # the quietest a 16-bit frame can be; digital silence reads as this
_FLOOR_PERCENTILE: Final = 10.0


def frame_dbfs(frame: np.ndarray) -> float:
    """The RMS level of int16 samples in dB below full scale (at least -96)."""
    if not len(frame):
        return _SILENCE_DBFS
    samples = frame.astype(np.float32) / _FULL_SCALE
    rms = float(np.sqrt(np.mean(samples * samples)))
    return max(_SILENCE_DBFS, 20.0 * np.log10(rms)) if rms > 0 else _SILENCE_DBFS


class LevelMeter:
    """Per-frame levels of one audio source: the loudest frame of the last ``speech_s`` (the
    wake word) over the noise floor (the 10th percentile of the last ``floor_s``).

    One RMS per frame is all it costs while listening; the percentile is worked out only when
    asked, at a wake-up.
    """

    def __init__(self, speech_s: float = 1.2, floor_s: float = 10.0) -> None:
        self._speech_frames = max(1, round(1000 * speech_s / FRAME_MS))
        kept = max(self._speech_frames, round(1000 * floor_s / FRAME_MS))
        self._levels: deque[float] = deque(maxlen=kept)

    def add(self, frame: np.ndarray) -> None:
        self._levels.append(frame_dbfs(frame))

    def clear(self) -> None:
        self._levels.clear()

    def over_floor_db(self) -> float:
        """Speech over noise, in dB, for the wake word just heard (0.0 before any audio)."""
        return self.peak()[0]

    def peak(self) -> tuple[float, float]:
        """The wake word's loudest frame over the noise floor (dB), and how long ago it ended
        (s): the same moment of sound in every room that heard it, however late each one's
        detector fired."""
        if not self._levels:
            return 0.0, 0.0
        levels = np.fromiter(self._levels, dtype=np.float32)
        floor = float(np.percentile(levels, _FLOOR_PERCENTILE))
        recent = levels[-self._speech_frames :]
        loudest = int(recent.argmax())
        ago_s = (len(recent) - 1 - loudest) * FRAME_MS / 1000
        return max(0.0, float(recent[loudest]) - floor), ago_s
