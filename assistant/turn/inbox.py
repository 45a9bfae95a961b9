"""Commands waiting for a hearing loop, in the order they came: the MQTT API (``cmd/*``) and
announcements hand them over from other threads; the loop takes them between frames.

Every command keeps the time it arrived, so nothing runs late: one that waited longer than
``mqtt.command_ttl_s`` is dropped with a ``command_expired`` error instead of being run (only
mute and profile switches, which are states, not acts, still apply). The queue is bounded, and
``cmd/cancel`` empties it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Ask", "Cancel", "Command", "Inbox", "Listen", "Mute", "Profile", "Queued", "Say"]

QUEUE_SIZE: Final = 32  # commands waiting at most; more are refused


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Ask:
    text: str


@dataclass(frozen=True, slots=True)
class Listen:
    pass


@dataclass(frozen=True, slots=True)
class Mute:
    on: bool


@dataclass(frozen=True, slots=True)
class Cancel:
    pass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # "" for none


Command = Say | Ask | Listen | Mute | Cancel | Profile


@dataclass(frozen=True, slots=True)
class Queued:
    """A command, where it came from (a topic, or "announcement"), and when (``perf_counter``)."""

    command: Command
    origin: str = ""
    arrived: float = field(default_factory=time.perf_counter)

    def age_s(self) -> float:
        return time.perf_counter() - self.arrived

    @property
    def lasting(self) -> bool:
        """A state (mute, profile) rather than an act: it applies however late."""
        return isinstance(self.command, Mute | Profile)


class Inbox:
    """A thread-safe, bounded queue of commands with their arrival times."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._queue: deque[Queued] = deque()
        self._size = size
        self._lock = threading.Lock()

    def put(self, command: Command, origin: str = "", arrived: float | None = None) -> bool:
        """Queue ``command``; ``False`` (and nothing queued) when the queue is full."""
        queued = Queued(command, origin, time.perf_counter() if arrived is None else arrived)
        with self._lock:
            if len(self._queue) >= self._size:
                return False
            self._queue.append(queued)
            return True

    def take(self) -> Queued | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> list[Queued]:
        """Empty the queue; returns what was waiting."""
        with self._lock:
            dropped = list(self._queue)
            self._queue.clear()
            return dropped

    def empty(self) -> bool:
        with self._lock:
            return not self._queue

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)
