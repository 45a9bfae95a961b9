"""What a conversation remembers between turns: recent history, a question waiting for its
answer, and a held-back action waiting for a yes.

A held-back action is answered only in the turn the question opened (the hearing loop listens
once more, without the wake word): a yes spoken there, within the time allowed, acts. Anything
else ends the question: silence in that turn, a typed command, a profile switch, mute, cancel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ..home.entities import Action

__all__ = ["Conversation", "PendingConfirmation"]

_MAX_TURNS: Final = 8  # history kept for the language model, in exchanges


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    """Actions held back until a yes, what to say when done, and until when (monotonic)."""

    actions: tuple[Action, ...]
    speech: str
    expires: float

    def in_time(self, now: float) -> bool:
        return now <= self.expires


@dataclass
class Conversation:
    """Shared by template and language-model turns; forgotten after ``timeout_s`` of quiet."""

    timeout_s: float
    clock: Callable[[], float] = time.monotonic
    history: list[dict[str, str]] = field(default_factory=list)
    pending: PendingConfirmation | None = None
    expecting_reply: bool = False
    _last: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def recent(self) -> list[dict[str, str]]:
        """The history, or nothing if the conversation went quiet for ``timeout_s``."""
        with self._lock:
            if self.history and self.clock() - self._last > self.timeout_s:
                self.history.clear()
            return list(self.history)

    def record(self, user: str, assistant: str) -> None:
        with self._lock:
            self.history.extend(
                [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            )
            del self.history[: -2 * _MAX_TURNS]
            self._last = self.clock()

    def hold(self, actions: tuple[Action, ...], speech: str, timeout_s: float) -> None:
        with self._lock:
            self.pending = PendingConfirmation(actions, speech, self.clock() + timeout_s)

    def take_pending(self) -> PendingConfirmation | None:
        """The held-back actions, in time or not; either way they are no longer held."""
        with self._lock:
            pending, self.pending = self.pending, None
        return pending

    def end_question(self) -> None:
        """The question is over (silence, a typed command, a profile switch, mute, cancel)."""
        with self._lock:
            self.pending = None
            self.expecting_reply = False
