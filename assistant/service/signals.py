"""Signals for the daemon: SIGTERM/SIGINT stop it gracefully, SIGHUP reloads its configuration.

On SIGTERM or SIGINT, a daemon between turns stops at once. In the middle of a turn it stops
listening and speaking but lets the turn publish its actions, for at most ``grace_s`` seconds; a
second signal, or the end of the grace, stops it regardless. Stopping is :class:`Shutdown`
raised in the main thread (the audio loop's), which the command line turns into exit 0.

SIGHUP only asks for a reload; the audio loop performs it between frames.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Final, Protocol

__all__ = ["GRACE_S", "Shutdown", "Signals"]

_LOGGER = logging.getLogger(__name__)

GRACE_S: Final = 3.0  # how long a turn in progress may take to publish its actions


class Shutdown(BaseException):
    """Raised in the main thread to stop the daemon; not an error, so not an ``Exception``."""


class _Activity(Protocol):
    in_turn: bool
    stopping: threading.Event


class Stoppable(Protocol):
    """A hearing loop: what it is doing, and how to stop it."""

    @property
    def activity(self) -> _Activity: ...

    def stop(self) -> None: ...


class Signals:
    """Installs the handlers; call :meth:`restore` when the daemon ends."""

    def __init__(
        self,
        loop: Stoppable | None = None,
        reload: Callable[[], None] | None = None,
        grace_s: float = GRACE_S,
    ) -> None:
        self.loop = loop
        self.reload = reload
        self._grace_s = grace_s
        self._previous: dict[int, Any] = {}
        self._waiter: threading.Thread | None = None
        self._done = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._on_stop)
        self._previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_hup)

    def restore(self) -> None:
        self._done.set()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_stop(self, signum: int, frame: Any) -> None:
        loop = self.loop
        if loop is None or loop.activity.stopping.is_set() or not loop.activity.in_turn:
            raise Shutdown
        _LOGGER.info(
            "stopping on %s after the turn in progress (at most %.0f s)",
            signal.Signals(signum).name,
            self._grace_s,
        )
        loop.stop()
        self._waiter = threading.Thread(
            target=self._stop_after_turn, args=(loop,), name="hearth-stop", daemon=True
        )
        self._waiter.start()

    def _stop_after_turn(self, loop: Stoppable) -> None:
        """Signal the main thread again once the turn has ended or the grace is over: the main
        thread may be blocked reading audio that will never come."""
        deadline = time.monotonic() + self._grace_s
        while loop.activity.in_turn and time.monotonic() < deadline:
            if self._done.wait(0.02):
                return
        if not self._done.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    def _on_hup(self, signum: int, frame: Any) -> None:
        if self.reload is None:
            _LOGGER.info("SIGHUP ignored: nothing to reload")
            return
        self.reload()
