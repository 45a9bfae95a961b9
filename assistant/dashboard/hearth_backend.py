"""The daemon's backend: live events from the bus, audio levels from the hearing loop, commands
into the loop, history from the journal file (through
:class:`~assistant.dashboard.journal_backend.JournalBackend`).

It reads the assembled Hearth through a callable, so a reload (SIGHUP) is followed: the new
profiles, configuration and model. Typed commands and profile switches go through the hearing
loop's ``submit``, the same door as ``cmd/ask`` and ``cmd/profile``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..events import Event, ModelConsulted, Transcript, event_to_json
from ..mqtt.commands import CommandError, command_text
from ..turn.inbox import Ask, Profile
from .backend import (
    AskResult,
    AudioClip,
    AudioWhich,
    BackendError,
    BackendInfo,
    DayFigures,
    Device,
    EventCallback,
    EventDict,
    LevelCallback,
    NotFound,
    ProfileList,
)
from .home_view import device_rows
from .journal_backend import JournalBackend
from .stats import TokenRates

if TYPE_CHECKING:
    from ..assemble import Hearth
    from ..turn.pipeline import HearingLoop

__all__ = ["HearthBackend"]

_RATES_KEPT: Final = 200
_ASK_WAIT_S: Final = 1.5  # how long POST /api/ask waits to name the turn it started


@dataclass(slots=True)
class _Asked:
    text: str
    turn: str | None = None
    seen: threading.Event = field(default_factory=threading.Event)


class HearthBackend:
    """:class:`~assistant.dashboard.backend.DashboardBackend` for ``hearth run``.
    :meth:`close` when the dashboard stops."""

    def __init__(self, hearth: Callable[[], Hearth], loop: HearingLoop) -> None:
        self._hearth = hearth
        self._loop = loop
        self._rates: deque[float] = deque(maxlen=_RATES_KEPT)
        self._last_stats: object = None
        self._asked: list[_Asked] = []
        self._lock = threading.Lock()
        self._journal = JournalBackend(lambda: self._hearth().config, self.token_rates)
        self._unwatch = hearth().bus.subscribe(self._watch)

    def close(self) -> None:
        self._unwatch()

    # -- events --------------------------------------------------------------------------------

    def subscribe(self, on_event: EventCallback, on_level: LevelCallback) -> Callable[[], None]:
        unsubscribe_bus = self._hearth().bus.subscribe(on_event)  # Event objects
        loop = self._loop
        loop.level_taps = [*loop.level_taps, on_level]  # a new list: the audio thread reads it

        def unsubscribe() -> None:
            unsubscribe_bus()
            loop.level_taps = [tap for tap in loop.level_taps if tap is not on_level]

        return unsubscribe

    def event_json(self, item: object) -> EventDict:
        if isinstance(item, dict):
            return item
        if isinstance(item, Event):
            return event_to_json(item)
        raise TypeError(f"not an event: {type(item).__name__}")

    def _watch(self, event: Event) -> None:
        """On the emitting thread, for two events a turn at most: the model's own token count
        after each consultation, and the turn a typed command started."""
        if isinstance(event, ModelConsulted):
            stats = getattr(self._hearth().model, "last", None)
            if stats is not None and stats is not self._last_stats:
                self._last_stats = stats
                rate = getattr(stats, "tokens_per_s", 0.0)
                if isinstance(rate, float) and rate > 0:
                    self._rates.append(rate)
        elif isinstance(event, Transcript) and event.stt_ms == 0.0 and self._asked:
            with self._lock:
                for asked in self._asked:
                    if asked.turn is None and asked.text == event.text:
                        asked.turn = event.turn
                        asked.seen.set()
                        break

    def token_rates(self) -> TokenRates:
        """The model's speed over its recent calls, as llama.cpp counted the tokens."""
        return TokenRates(tuple(self._rates))

    # -- history: the journal ------------------------------------------------------------------

    def info(self) -> BackendInfo:
        return {**self._journal.info(), "live": True}

    def turns(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        return self._journal.turns(limit, before)

    def turn(self, key: str) -> dict[str, Any]:
        return self._journal.turn(key)

    def days(self, n: int) -> list[DayFigures]:
        return self._journal.days(n)

    def stats(self) -> dict[str, Any]:
        return self._journal.stats()

    def audio(self, key: str, which: AudioWhich) -> AudioClip:
        return self._journal.audio(key, which)

    # -- the home and the profiles -------------------------------------------------------------

    def devices(self) -> list[Device]:
        hearth = self._hearth()
        last = self._journal.last_actions()
        return device_rows(hearth.config, hearth.home, hearth.profiles.active, last, True)

    def profiles(self) -> ProfileList:
        hearth = self._hearth()
        return {
            "current": hearth.profiles.active,
            "switchable": True,
            "profiles": [
                {"name": name, "description": hearth.config.profiles[name].description}
                for name in hearth.profiles.names
            ],
        }

    def switch_profile(self, name: str) -> ProfileList:
        hearth = self._hearth()
        if name and name not in hearth.config.profiles:
            known = ", ".join(hearth.profiles.names) or "none"
            raise NotFound("no_profile", f"no profile {name!r}; known: {known}")
        self._loop.submit(Profile(name), "dashboard profile")
        result = self.profiles()
        result["current"] = name  # switched between audio frames; a profile event confirms it
        return result

    def ask(self, text: str) -> AskResult:
        try:
            cleaned = command_text("dashboard ask", text)
        except CommandError as err:
            raise BackendError(err.code, err.message) from None
        asked = _Asked(cleaned)
        with self._lock:
            self._asked.append(asked)
        try:
            self._loop.submit(Ask(cleaned), "dashboard ask")
            asked.seen.wait(_ASK_WAIT_S)
        finally:
            with self._lock:
                self._asked.remove(asked)
        started = "It has started" if asked.turn else "It runs after the turn in progress"
        return {
            "accepted": True,
            "text": cleaned,
            "turn": asked.turn,
            "note": f"{started}; its events follow on the live page.",
        }
