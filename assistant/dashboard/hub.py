"""From the event bus to the browsers: inboxes the audio thread appends to, one dispatcher
thread, and a bounded queue per live page.

The bus callback (:meth:`EventHub.offer`) and the level tap (:meth:`EventHub.offer_level`)
append to a deque, nothing else: no lock, no wake-up, so the audio thread never hands the
interpreter to the dispatcher in the middle of a frame. Levels have their own short deque, so a
flood of them (a WAV file read faster than real time) never pushes an event out; while no page
is open the level tap returns at once. The dispatcher looks at the deques every ``tick_s``
(every ``idle_tick_s`` while no page is open), converts each event to JSON, keeps what a page
needs when it opens (the state, the turn in progress, the last turn), thins the audio levels to
``level_hz`` (keeping the peak of each window, so a spike is never lost), and hands each
event's text to every client. A client that does not keep up loses its oldest events and is
told how many, so its page can reload the snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .backend import EventDict

__all__ = ["Client", "EventHub", "HubStats"]

_LOGGER = logging.getLogger(__name__)

_INBOX_LIMIT: Final = 4096  # events waiting for the dispatcher; the oldest go first
_LEVEL_LIMIT: Final = 256  # levels waiting for the dispatcher (20 s of frames)
_TURN_EVENTS_LIMIT: Final = 64
LEVEL_TYPE: Final = "level"


@dataclass(slots=True)
class HubStats:
    offered: int = 0
    converted: int = 0
    convert_errors: int = 0
    levels_in: int = 0
    levels_out: int = 0
    sent: int = 0  # frames handed to clients, all clients together
    client_drops: int = 0
    refused_clients: int = 0


class Client:
    """One live page: a bounded queue of SSE frames."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._frames: deque[str] = deque()
        self._cond = threading.Condition()
        self.dropped = 0
        self.closed = False

    def push(self, frame: str) -> bool:
        """Queue a frame; returns False when the oldest had to be dropped for it."""
        with self._cond:
            kept = True
            if len(self._frames) >= self._limit:
                self._frames.popleft()
                self.dropped += 1
                kept = False
            self._frames.append(frame)
            self._cond.notify()
        return kept

    def take(self, timeout_s: float) -> tuple[list[str], int] | None:
        """The frames waiting (maybe none after ``timeout_s``) and how many were dropped since
        the last take; ``None`` once the client is closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._frames or self.closed, timeout_s)
            if self.closed:
                return None
            frames = list(self._frames)
            self._frames.clear()
            dropped, self.dropped = self.dropped, 0
        return frames, dropped

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


@dataclass(slots=True)
class _Live:
    state: str = ""
    profile: str | None = None
    turn: list[EventDict] = field(default_factory=list)  # the turn in progress
    last: list[EventDict] = field(default_factory=list)  # the last finished turn
    level: EventDict | None = None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def sse_frame(body: EventDict) -> str:
    return "data: " + json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n\n"


class EventHub:
    """See the module docstring. ``convert`` turns a bus item into an ``event_to_json`` dict."""

    def __init__(
        self,
        convert: Callable[[object], EventDict],
        *,
        max_clients: int = 8,
        client_queue: int = 256,
        level_hz: float = 5.0,
        tick_s: float = 0.05,
        idle_tick_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._convert = convert
        self._max_clients = max_clients
        self._client_queue = client_queue
        self._level_period_s = 1.0 / level_hz
        self._tick_s = tick_s
        self._idle_tick_s = idle_tick_s
        self._clock = clock
        self._inbox: deque[object] = deque(maxlen=_INBOX_LIMIT)
        self._levels: deque[tuple[float, float | None, float | None]] = deque(maxlen=_LEVEL_LIMIT)
        self._watched = False  # a page is open: levels are worth keeping
        self._stop = threading.Event()
        self._kick = threading.Event()  # a page connected, or stop: end the idle wait now
        self._lock = threading.Lock()
        self._clients: list[Client] = []
        self._live = _Live()
        self._peak: EventDict | None = None
        self._peak_due = 0.0
        self.stats = HubStats()
        self._thread = threading.Thread(target=self._run, name="dashboard-hub", daemon=True)

    # -- the emitting (audio) thread ---------------------------------------------------------

    def offer(self, item: object) -> None:
        """The bus callback: enqueue and return (a deque append is atomic)."""
        self._inbox.append(item)

    def offer_level(self, wake: float | None, vad: float | None) -> None:
        """The level tap, once per 80 ms frame: the wake word score (while waiting for it) or
        the speech probability (while listening to a command); enqueue and return."""
        if self._watched:
            self._levels.append((time.time(), wake, vad))

    # -- clients ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def connect(self) -> Client | None:
        """A new client, or ``None`` when ``max_clients`` are connected."""
        with self._lock:
            if len(self._clients) >= self._max_clients:
                self.stats.refused_clients += 1
                return None
            client = Client(self._client_queue)
            self._clients.append(client)
            self._watched = True
        self._kick.set()
        return client

    def disconnect(self, client: Client) -> None:
        client.close()
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
            self._watched = bool(self._clients)

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def snapshot(self) -> dict[str, Any]:
        """What a page shows when it opens: state, profile, turn in progress, last turn."""
        with self._lock:
            live = self._live
            return {
                "state": live.state,
                "profile": live.profile,
                "turn": list(live.turn),
                "last": list(live.last),
                "level": live.level,
            }

    # -- the dispatcher thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._kick.wait(self._tick_s if self._clients else self._idle_tick_s)
            self._kick.clear()
            while self._inbox:
                try:
                    item = self._inbox.popleft()
                except IndexError:
                    break
                self._handle(item)
            while self._levels:
                try:
                    ts, wake, vad = self._levels.popleft()
                except IndexError:
                    break
                self._add_level(
                    {
                        "v": 1,
                        "type": LEVEL_TYPE,
                        "turn": None,
                        "ts": round(ts, 3),
                        "wake": _rounded(wake),
                        "vad": _rounded(vad),
                    }
                )
            if self._peak is not None and self._clock() >= self._peak_due:
                self._flush_level()

    def _handle(self, item: object) -> None:
        self.stats.offered += 1
        try:
            body = self._convert(item)
        except Exception:
            self.stats.convert_errors += 1
            _LOGGER.exception("dashboard: cannot convert an event")
            return
        self.stats.converted += 1
        self._remember(body)
        self._broadcast(body)

    def _add_level(self, body: EventDict) -> None:
        self.stats.levels_in += 1
        if not self._clients:
            with self._lock:
                self._live.level = body
            return
        peak = self._peak
        if peak is None:
            self._peak = dict(body)
            self._peak_due = self._clock() + self._level_period_s
            return
        for key in ("wake", "vad"):
            value = body.get(key)
            if isinstance(value, int | float):
                old = peak.get(key)
                peak[key] = value if not isinstance(old, int | float) else max(old, value)
        peak["ts"] = body["ts"]

    def _flush_level(self) -> None:
        peak, self._peak = self._peak, None
        if peak is None:
            return
        with self._lock:
            self._live.level = peak
        self.stats.levels_out += 1
        self._broadcast(peak)

    def _remember(self, body: EventDict) -> None:
        kind = body.get("type")
        with self._lock:
            live = self._live
            if kind == "state":
                live.state = str(body.get("state", ""))
            elif kind == "profile":
                live.profile = str(body.get("profile", ""))
            turn = body.get("turn")
            if turn is None:
                return
            if live.turn and live.turn[0].get("turn") != turn:
                live.last, live.turn = live.turn, []
            if len(live.turn) < _TURN_EVENTS_LIMIT:
                live.turn.append(body)
            if kind == "turn_end":
                live.last, live.turn = live.turn, []

    def _broadcast(self, body: EventDict) -> None:
        with self._lock:
            clients = list(self._clients)
        if not clients:
            return
        frame = sse_frame(body)
        for client in clients:
            if not client.push(frame):
                self.stats.client_drops += 1
            self.stats.sent += 1
