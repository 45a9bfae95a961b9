"""Supervision of the audio devices: health reports, backoff, and what the daemon makes of them.

A supervised loop (the microphone's :meth:`~assistant.voice.audio.MicrophoneSource.frames`, the
speaker's player thread) never lets a device error escape. It closes the device, sends a
:class:`Health` report, waits as long as its :class:`Backoff` says (sleeping, never spinning) and
tries again; the first audio that gets through again is reported as a recovery.

The :class:`HealthBoard` keeps the latest report of each device for the daemon: one ``error``
event per outage (``microphone_lost``, ``speaker_failed``), and a phrase for the systemd status
line ("microphone lost; retrying in 8 s").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..events import Event, TurnFailed

__all__ = ["ERROR_CODES", "Backoff", "Health", "HealthBoard", "HealthCallback"]

_LOGGER = logging.getLogger(__name__)

ERROR_CODES: Final = {"microphone": "microphone_lost", "speaker": "speaker_failed"}


class Backoff:
    """Delays between tries: ``initial_s``, doubling up to ``max_s``; :meth:`reset` after a
    success."""

    def __init__(self, initial_s: float = 1.0, max_s: float = 30.0, factor: float = 2.0) -> None:
        if initial_s <= 0 or max_s < initial_s or factor < 1:
            raise ValueError("backoff needs 0 < initial_s <= max_s and factor >= 1")
        self.initial_s = initial_s
        self.max_s = max_s
        self.factor = factor
        self._next_s = initial_s

    def next_delay(self) -> float:
        """The delay before the next try, in seconds; each call lengthens the one after."""
        delay = self._next_s
        self._next_s = min(self.max_s, self._next_s * self.factor)
        return delay

    def reset(self) -> None:
        self._next_s = self.initial_s


@dataclass(frozen=True, slots=True)
class Health:
    """One device's state after a change or a failed try.

    ``failures`` counts the failed tries of the current outage (1 in the first report of an
    outage, 0 when healthy); ``retry_in_s`` is the wait before the next try.
    """

    device: str  # "microphone" or "speaker"
    ok: bool
    message: str
    retry_in_s: float = 0.0
    failures: int = 0


HealthCallback = Callable[[Health], None]


class HealthBoard:
    """The latest :class:`Health` of each device, for the event stream and the status line.

    :meth:`report` is the devices' ``on_health`` callback; it may be called from any thread.
    """

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self._emit = emit or (lambda event: None)
        self._latest: dict[str, Health] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Health], object]] = []

    def on_change(self, listener: Callable[[Health], object]) -> None:
        """Call ``listener`` after every report (the status line refreshes itself)."""
        self._listeners.append(listener)

    def report(self, health: Health) -> None:
        with self._lock:
            previous = self._latest.get(health.device)
            self._latest[health.device] = health
        was_ok = previous is None or previous.ok
        if not health.ok and was_ok:
            code = ERROR_CODES.get(health.device, f"{health.device}_failed")
            self._emit(TurnFailed(turn=None, code=code, message=health.message))
        for listener in list(self._listeners):
            try:
                listener(health)
            except Exception:  # a listener must not break the device's loop
                _LOGGER.exception("health listener failed")

    def get(self, device: str) -> Health | None:
        with self._lock:
            return self._latest.get(device)

    def problems(self) -> list[str]:
        """One phrase per device in trouble, the microphone first: "microphone lost; retrying
        in 8 s"."""
        with self._lock:
            latest = sorted(self._latest.values(), key=lambda h: h.device != "microphone")
        return [
            f"{h.device} {'lost' if h.device == 'microphone' else 'failing'}; "
            f"retrying in {h.retry_in_s:.0f} s"
            for h in latest
            if not h.ok
        ]
