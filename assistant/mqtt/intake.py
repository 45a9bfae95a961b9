"""Discovery intake: every retained config of a big home, learned off the MQTT thread.

On connecting, a broker sends every retained message that matches a new subscription at once.
mosquitto's defaults (``max_inflight_messages 20``, ``max_queued_messages 1000``) drop what a
QoS 1 subscription cannot hold beyond about 1,020 messages, and at QoS 0 whatever finds the
client's outgoing queue full. So discovery is subscribed at QoS 0, one component at a time
(lights, then switches, …), each burst ended by a marker Hearth publishes to itself: the broker
answers one client in order, so the marker comes back after that component's retained configs.
A marker that never comes means the broker dropped part of the burst (the marker with it), and
that component is asked for again. MQTT's own thread only queues what arrives; a worker thread
parses each config and adds it to the home alone (:meth:`Home.discovered`), subscribes to the
state topics of the new devices, and announces the changes (the router's slot lists are rebuilt)
once the burst is in, or once a later flood has paused for :data:`SETTLE_S`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Final

from ..home.discovery import COMPONENTS, Discovered, Refused, Removed, parse_discovery
from ..home.home import Home

__all__ = ["SETTLE_S", "DiscoveryIntake"]

_LOGGER = logging.getLogger(__name__)

SETTLE_S: Final = 0.25  # a flood that pauses this long is announced
MAX_UNANNOUNCED_S: Final = 5.0  # a flood that never pauses is still announced this often
MARKER_QUIET_S: Final = 5.0  # no message and no marker for this long: the burst was cut
_MARKER_TRIES: Final = 3
_BATCH: Final = 200  # configs applied before the new state topics are subscribed
_RESTART: Final = "\0restart"  # the queue item for a new connection (never a nonce)

Subscribe = Callable[[list[str]], None]  # topics, subscribed at QoS 0
SendMarker = Callable[[str], None]  # a nonce, published to the link's own marker topic


class DiscoveryIntake:
    """Takes discovery messages from the MQTT thread and applies them to ``home`` in order."""

    def __init__(
        self, home: Home, prefix: str, subscribe: Subscribe, send_marker: SendMarker
    ) -> None:
        self.home = home
        self._prefix = prefix
        self._subscribe = subscribe
        self._send_marker = send_marker
        groups = [*sorted(COMPONENTS), "device"]  # "device": refused with a reason, logged
        self._steps = [[f"{prefix}/{c}/+/config", f"{prefix}/{c}/+/+/config"] for c in groups]
        self._queue: deque[tuple[str, bytes] | str] = deque()  # a message, or a marker nonce
        lock = threading.Lock()
        self._wake = threading.Condition(lock)  # the worker waits for messages
        self._idle = threading.Condition(lock)  # settle() waits for the worker
        self._busy = False
        self._step = -1  # the step whose marker is awaited; len(steps): the states' marker
        self._nonce = ""
        self._tries = 0
        self._last_progress = time.monotonic()
        self._unannounced_since: float | None = None
        self._complete = threading.Event()
        self._stopping = False
        self.applied = 0  # discovery messages applied since the start
        self._thread = threading.Thread(target=self._run, name="hearth-discovery", daemon=True)

    # -- from other threads ------------------------------------------------------------------

    def start(self) -> None:
        with self._wake:
            if not self._thread.is_alive() and not self._stopping:
                self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def connected(self) -> None:
        """A (re)connection: the retained configs come again, one component after another."""
        with self._wake:
            self._complete.clear()
            self._queue.append(_RESTART)
            self._wake.notify()

    def offer(self, topic: str, payload: bytes) -> None:
        """A message on a discovery topic (MQTT's thread: queued, nothing more)."""
        self.start()
        with self._wake:
            self._queue.append((topic, payload))
            self._wake.notify()

    def marker(self, nonce: str) -> None:
        """One of our markers came back (MQTT's thread)."""
        with self._wake:
            self._queue.append(nonce)
            self._wake.notify()

    @property
    def complete(self) -> bool:
        """Whether the retained configs of the last connection are all in, and announced."""
        return self._complete.is_set()

    def settle(self, timeout_s: float) -> bool:
        """Wait until every message queued so far is applied, and announce the changes;
        whether that happened within ``timeout_s``."""
        self.start()
        deadline = time.monotonic() + timeout_s
        with self._wake:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        self.home.announce()
        return True

    def wait_complete(self, quiet_s: float, limit_s: float) -> bool:
        """Wait until the retained burst is complete; ``False`` when nothing new came for
        ``quiet_s`` or ``limit_s`` passed first."""
        deadline = time.monotonic() + limit_s
        while not self._complete.wait(0.05):
            now = time.monotonic()
            if now >= deadline or now - self._last_progress >= quiet_s:
                return self._complete.is_set()
        return True

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._queue and not self._stopping:
                    self._wake.wait(SETTLE_S)
                if self._stopping:
                    return
                items = [self._queue.popleft() for _ in range(min(_BATCH, len(self._queue)))]
                self._busy = True
            try:
                self._handle(items)
            except Exception:  # the intake goes on; the fault is in the log with its cause
                _LOGGER.exception("discovery intake failed on a batch of %d message(s)", len(items))
            finally:
                with self._wake:
                    self._busy = False
                    if not self._queue:
                        self._idle.notify_all()

    def _handle(self, items: list[tuple[str, bytes] | str]) -> None:
        now = time.monotonic()
        fresh: list[str] = []
        for item in items:
            if item is _RESTART:
                self._step, self._tries = -1, 0
                self._advance()
            elif isinstance(item, str):
                if item == self._nonce:
                    self._advance()
            else:
                fresh.extend(self._apply(*item))
        if items:
            self._last_progress = now
        if fresh:
            self._subscribe(fresh)
        if self.home.unannounced:
            self._unannounced_since = self._unannounced_since or now
        settled = not items and self.complete
        overdue = self._unannounced_since is not None and (
            now - self._unannounced_since >= MAX_UNANNOUNCED_S
        )
        if self._unannounced_since is not None and (settled or overdue):
            self._announce()
        waiting = not items and not self.complete and self._step >= 0
        if waiting and now - self._last_progress >= MARKER_QUIET_S:
            self._ask_again()

    def _apply(self, topic: str, payload: bytes) -> list[str]:
        result = parse_discovery(topic, payload, self._prefix)
        self.applied += 1
        if isinstance(result, Discovered):
            return self.home.discovered(result.key, result.entity, announce=False)
        if isinstance(result, Removed):
            self.home.removed(result.key, announce=False)
        elif isinstance(result, Refused):
            level = logging.DEBUG if result.quiet else logging.INFO
            _LOGGER.log(level, "discovery %s ignored: %s", topic, result.reason)
        return []

    def _advance(self) -> None:
        """The awaited marker came: ask for the next component, or finish."""
        self._step += 1
        self._tries = 0
        if self._step < len(self._steps):
            self._subscribe(self._steps[self._step])
            self._mark()
        elif self._step == len(self._steps):
            self._mark()  # after the retained states of every device subscribed so far
        else:
            self._nonce = ""
            self._announce()
            self._complete.set()
            _LOGGER.info("discovery: %d entities known", self.home.count())

    def _mark(self) -> None:
        self._nonce = uuid.uuid4().hex
        self._last_progress = time.monotonic()
        self._send_marker(self._nonce)

    def _ask_again(self) -> None:
        """The marker is overdue: the broker dropped messages (its queue for us was full)."""
        self._tries += 1
        if self._tries > _MARKER_TRIES:
            _LOGGER.warning(
                "discovery: no answer from the broker to step %d after %d tries; going on "
                "(a broker that drops messages: raise max_queued_messages in mosquitto.conf)",
                self._step,
                _MARKER_TRIES,
            )
            self._advance()
            return
        if self._step < len(self._steps):
            _LOGGER.warning(
                "discovery: the broker dropped part of the retained configs of %s; asking again",
                self._steps[self._step][0],
            )
            self._subscribe(self._steps[self._step])  # resubscribing sends them all again
        self._mark()

    def _announce(self) -> None:
        self._unannounced_since = None
        self.home.announce()
