"""When a frame was heard: the wall-clock time its audio was captured, for a loop that may be
behind its source (frames wait in the source while a turn runs, then are read in a burst)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["StreamClock"]

_DRIFT: Final = 0.001  # the estimate may rise this much per second of audio (clock drift)


class StreamClock:
    """Wall-clock time of a position in a stream read at real time.

    The stream's start is estimated as the earliest ``read time - position`` seen: a frame read
    late (the loop was busy) gives a later estimate and is ignored, so positions map to the
    times they were captured. The estimate may creep later by 0.1 % of the audio, to follow a
    sound card clock that runs a little slow.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._start: float | None = None
        self._position_s = 0.0

    def reset(self) -> None:
        self._start = None

    def tick(self, position_s: float) -> None:
        """A frame ending at ``position_s`` was just read."""
        estimate = self._clock() - position_s
        if self._start is None:
            self._start = estimate
        else:
            crept = self._start + _DRIFT * max(0.0, position_s - self._position_s)
            self._start = min(crept, estimate)
        self._position_s = position_s

    def at(self, position_s: float) -> float:
        """When the audio at ``position_s`` was captured (now, before any frame)."""
        return self._clock() if self._start is None else self._start + position_s
