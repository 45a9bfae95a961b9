"""What the dashboard needs from Hearth: one small Protocol, and the shapes it returns.

The server knows nothing else of Hearth. The daemon implements :class:`DashboardBackend` with
its live parts (the event bus, the hearing loop, the home:
:class:`~assistant.dashboard.hearth_backend.HearthBackend`); ``hearth dashboard`` uses
:class:`~assistant.dashboard.journal_backend.JournalBackend`, which reads the journal file alone.
Every value a backend returns is plain JSON data (``dict``, ``list``, ``str``, numbers,
``bool``, ``None``); times are Unix seconds, durations ``*_ms`` or ``*_s``, energy ``*_wh`` or
``*_kwh``, money in ``currency``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

__all__ = [
    "AskResult",
    "AudioClip",
    "BackendError",
    "BackendInfo",
    "DashboardBackend",
    "DayFigures",
    "Device",
    "EventCallback",
    "EventDict",
    "LevelCallback",
    "NotFound",
    "ProfileList",
    "Unavailable",
]

EventDict = dict[str, Any]  # as assistant.events.event_to_json gives it: {"v":1,"type":…,…}
EventCallback = Callable[[object], None]
LevelCallback = Callable[[float | None, float | None], None]  # (wake score, speech probability)
AudioWhich = Literal["command", "reply"]


class BackendError(Exception):
    """A request the backend refuses; ``code`` is machine-readable, ``message`` for people."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(BackendError):
    """No such turn, profile or audio."""

    status = 404


class Unavailable(BackendError):
    """The backend cannot do this now (``hearth dashboard`` without the daemon: ask, switch)."""

    status = 503


class BackendInfo(TypedDict):
    name: str  # assistant.name
    node_id: str
    live: bool  # True: events stream from the daemon; False: the journal alone
    keep_audio: bool  # journal.keep_audio
    currency: str
    wake_threshold: float
    vad_threshold: float
    note: str  # one sentence for the page header ("" when nothing to say)


class DayFigures(TypedDict):
    day: str  # YYYY-MM-DD, local
    turns: int
    energy_kwh: float  # turns plus listening
    turn_energy_kwh: float
    listening_energy_kwh: float
    cost: float  # electricity, currency
    cloud_cost: float  # the same turns through cloud services, currency
    currency: str
    method: str  # rapl, estimate, or both


class Device(TypedDict):
    entity_id: str
    name: str
    domain: str
    area: str
    source: str  # config or discovery
    exposed: bool
    why: str  # why it is (or is not) exposed to voice, in plain words
    command_topic: str
    state: str | None  # latest state value, None when unknown
    state_age_s: float | None
    last_action: dict[str, Any] | None  # {"turn", "ended", "service", "messages"} from the journal


class ProfileList(TypedDict):
    current: str  # "" for none
    switchable: bool
    profiles: list[dict[str, str]]  # {"name", "description"}


class AskResult(TypedDict):
    accepted: bool
    text: str  # the command as it will run (cleaned)
    turn: str | None  # the turn it started, when it started within a moment; else None
    note: str


class AudioClip(TypedDict):
    content_type: str
    data: bytes


@runtime_checkable
class DashboardBackend(Protocol):
    """The daemon's side of the dashboard. Methods other than :meth:`subscribe`'s callback run
    on the dashboard's request threads and may block briefly (a SQLite read); they raise
    :class:`BackendError` (or a subclass) for anything a person can fix."""

    def info(self) -> BackendInfo: ...

    def subscribe(self, on_event: EventCallback, on_level: LevelCallback) -> Callable[[], None]:
        """Call ``on_event(item)`` for every event and ``on_level(wake, vad)`` for every 80 ms
        audio frame, on the emitting (audio) thread; returns an unsubscribe function. ``item`` is
        anything :meth:`event_json` accepts (a bus event, or an already converted dict); both
        callbacks only enqueue."""
        ...

    def event_json(self, item: object) -> EventDict:
        """``item`` as an ``event_to_json`` dict; called on the dashboard's own thread."""
        ...

    def turns(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        """The newest ``limit`` turns with a journal number below ``before``, newest first."""
        ...

    def turn(self, key: str) -> dict[str, Any]:
        """One turn by journal number, turn id (or prefix) or ``last``; :class:`NotFound`."""
        ...

    def days(self, n: int) -> list[DayFigures]:
        """The last ``n`` days, oldest first, today last; days without turns included."""
        ...

    def devices(self) -> list[Device]: ...

    def profiles(self) -> ProfileList: ...

    def switch_profile(self, name: str) -> ProfileList:
        """Make ``name`` current (``""``: none); :class:`NotFound` or :class:`Unavailable`."""
        ...

    def ask(self, text: str) -> AskResult:
        """Run ``text`` as a turn, as ``cmd/ask`` would; the turn's events follow on the
        stream. :class:`BackendError` for bad text, :class:`Unavailable` without a daemon."""
        ...

    def stats(self) -> dict[str, Any]:
        """This home's own numbers for the How-it-works page (see API.md)."""
        ...

    def audio(self, key: str, which: AudioWhich) -> AudioClip:
        """The command or reply audio of a turn as WAV; :class:`NotFound` when not kept."""
        ...
