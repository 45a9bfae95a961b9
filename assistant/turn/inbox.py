"""Commands waiting for a hearing loop, in the order they came: the MQTT API (``cmd/*``) and
announcements hand them over from other threads; the loop takes them between frames."""

from __future__ import annotations

import queue
from dataclasses import dataclass

__all__ = ["Ask", "Cancel", "Command", "Inbox", "Listen", "Mute", "Profile", "Say"]


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


class Inbox:
    """A thread-safe queue of commands."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()

    def put(self, command: Command) -> None:
        self._queue.put(command)

    def take(self) -> Command | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def empty(self) -> bool:
        return self._queue.empty()
