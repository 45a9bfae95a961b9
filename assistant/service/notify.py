"""systemd's notify protocol: READY, STATUS, WATCHDOG and STOPPING datagrams on $NOTIFY_SOCKET.

Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing. The watchdog thread pings only
while the audio loop is alive, so systemd restarts a daemon whose audio thread froze.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

__all__ = ["Notifier", "Watchdog"]

_LOGGER = logging.getLogger(__name__)


class Notifier:
    """Sends ``KEY=value`` lines to systemd; failures are logged once and never raised."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # the abstract namespace
        self._address = address
        self._warned = False

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def send(self, *lines: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(lines).encode("utf-8"), self._address)
        except OSError as err:
            if not self._warned:
                _LOGGER.warning("cannot notify systemd at %s: %s", self._address, err)
                self._warned = True

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=stopping")


class Watchdog:
    """Pings ``WATCHDOG=1`` every half of ``$WATCHDOG_USEC`` while ``alive()`` is true."""

    def __init__(self, notifier: Notifier, alive: Callable[[], bool]) -> None:
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.interval_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else 0.0
        self._notifier = notifier
        self._alive = alive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s <= 0 or not self._notifier.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="hearth-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self._alive():
                self._notifier.send("WATCHDOG=1")
            else:
                _LOGGER.warning("the audio loop has stalled; not telling systemd it is alive")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
