"""What one room's assistant is doing now, shared by its hearing loop, answerer and voice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..events import AssistantState, Event, StateChanged

__all__ = ["Activity"]


class Activity:
    """The published state (``hearth/<id>/state``), mute, and the signals that end a turn.

    ``cancelled`` ends the turn in progress (``cmd/cancel``); ``stopping`` means the daemon is
    shutting down: the turn may still publish its actions but says no more.
    """

    def __init__(self, emit: Callable[[Event], None]) -> None:
        self._emit = emit
        self.muted = False
        self.in_turn = False
        self.cancelled = threading.Event()
        self.stopping = threading.Event()
        self.last_progress = time.monotonic()

    def set(self, state: AssistantState) -> None:
        self.last_progress = time.monotonic()
        self._emit(StateChanged(turn=None, state=state, muted=self.muted))

    def idle(self) -> None:
        self.set(AssistantState.MUTED if self.muted else AssistantState.IDLE)

    def begin_turn(self) -> None:
        """A new turn starts: an earlier cancel no longer applies (unless stopping)."""
        if not self.stopping.is_set():
            self.cancelled.clear()
