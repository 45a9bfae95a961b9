"""Typed events and the one in-process stream every stage publishes to.

Each step of a turn emits one frozen event. Logging, the MQTT event topics, the benchmark and the
tests subscribe to the :class:`EventBus`; nothing reaches into a stage to find out what happened.
Timings are in milliseconds and named ``*_ms``; positions in the audio stream are ``*_s``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Final

__all__ = [
    "ActionPublished",
    "ActionRefused",
    "Announcement",
    "AssistantState",
    "CommandEnded",
    "EndReason",
    "Event",
    "EventBus",
    "IntentMatched",
    "ListenStarted",
    "ModelConsulted",
    "NotesSearched",
    "ProfileChanged",
    "Reply",
    "ReplyAudioFinished",
    "ReplyAudioStarted",
    "StateChanged",
    "TimerChange",
    "TimerChanged",
    "Transcript",
    "TurnFailed",
    "TurnFinished",
    "WakeDetected",
    "WakeYielded",
    "event_to_json",
]

EVENT_SCHEMA_VERSION: Final = 1

_LOGGER = logging.getLogger(__name__)


class AssistantState(StrEnum):
    """What the assistant is doing, as published on ``hearth/<id>/state``."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    MUTED = "muted"


class EndReason(StrEnum):
    """Why the endpointer closed a command."""

    SILENCE = "silence"  # vad.silence_s of silence after speech
    EARLY_MATCH = "early_match"  # a complete sentence-template match during trailing silence
    MAX_LENGTH = "max_length"  # cut at vad.max_command_s
    NO_SPEECH = "no_speech"  # nothing said within vad.no_speech_s of the wake word
    END_OF_INPUT = "end_of_input"  # the audio source ended mid-command
    CANCELLED = "cancelled"  # cmd/cancel


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Common fields: the turn id (``None`` outside a turn), wall-clock and monotonic time."""

    type: ClassVar[str] = "event"
    turn: str | None
    ts: float = field(default_factory=time.time)
    mono: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(Event):
    """What the assistant does now, and whether its microphone is muted (a turn started with
    ``cmd/listen`` while muted is listening, and still muted)."""

    type: ClassVar[str] = "state"
    state: AssistantState
    muted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeDetected(Event):
    """The wake word was heard. ``audio_s`` is where in the input stream it fired."""

    type: ClassVar[str] = "wake"
    model: str
    score: float
    audio_s: float
    wake_ms: float  # mean detector time per 80 ms frame
    level_db: float = 0.0  # the wake word's speech over the room's noise floor
    arbitration_ms: float = 0.0  # waited for the other rooms' claims (0: none online)
    room: str = ""  # the room that heard it (its node_id, or a satellite's name)


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeYielded(Event):
    """The wake word was heard here, but another room answers it (``winner``), or it was
    ignored while another room spoke (``reason`` speaking)."""

    type: ClassVar[str] = "wake_yielded"
    room: str
    reason: str  # lost, decided, speaking
    winner: str
    score: float
    level_db: float
    arbitration_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenStarted(Event):
    """A turn opened without the wake word (``cmd/listen``)."""

    type: ClassVar[str] = "listen"
    trigger: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandEnded(Event):
    """The person's command ended: the endpointer closed it (type ``speech_end``)."""

    type: ClassVar[str] = "speech_end"
    reason: EndReason
    speech_s: float  # length of the command audio handed to speech-to-text
    endpoint_ms: float  # audio time from the last speech to the decision


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript(Event):
    type: ClassVar[str] = "transcript"
    text: str
    stt_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentMatched(Event):
    """The router decided. ``layer`` says which layer, ``sentence`` which template matched."""

    type: ClassVar[str] = "intent"
    intent: str
    slots: dict[str, Any]
    layer: str
    sentence: str
    router_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelConsulted(Event):
    """What the language model was asked and what it wrote (router layers 2 and 3).

    ``prompt`` is the messages as sent; ``outputs`` the raw text of each try; ``verdicts`` what
    Hearth made of each (``valid``, ``no tool fits``, or why it was refused); ``call`` the
    validated tool call that was used, empty if none."""

    type: ClassVar[str] = "llm"
    layer: str
    prompt: tuple[dict[str, str], ...]
    outputs: tuple[str, ...]
    verdicts: tuple[str, ...]
    call: dict[str, Any]
    llm_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionPublished(Event):
    """A home action went out on the device's own command topic."""

    type: ClassVar[str] = "action"
    entity_id: str
    service: str
    data: dict[str, Any]
    messages: tuple[tuple[str, str], ...]  # (topic, payload) in publish order
    publish_ms: float
    queued: bool = False  # the broker was away: sent when it is back, if within the TTL


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply(Event):
    type: ClassVar[str] = "reply"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement(Event):
    """Something a skill says on its own, later (a timer that rings)."""

    type: ClassVar[str] = "announcement"
    text: str


class TimerChange(StrEnum):
    """What happened to a timer (the Wyoming ``timer-*`` events name the same four)."""

    STARTED = "started"
    UPDATED = "updated"  # paused, resumed, lengthened or shortened
    CANCELLED = "cancelled"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerChanged(Event):
    """A timer of the room that set it started, changed, was cancelled or finished (type
    ``timer``); that room's satellite is told of it. ``start_hours`` … are the length as said,
    where it was said in whole units."""

    type: ClassVar[str] = "timer"
    timer_id: str
    change: TimerChange
    name: str  # "" for a timer with no name
    length_s: float  # as set
    left_s: float  # seconds left (0 once cancelled or finished)
    active: bool  # running, not paused
    start_hours: int | None = None
    start_minutes: int | None = None
    start_seconds: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotesSearched(Event):
    """A profile's notes were searched for the question: the folder and the passages found
    (``file#heading``), best first; none when the notes do not cover it."""

    type: ClassVar[str] = "notes"
    folder: str
    passages: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileChanged(Event):
    type: ClassVar[str] = "profile"
    profile: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyAudioStarted(Event):
    """Hearth started speaking: the first synthesised audio of a reply reached the sink (type
    ``speech_start``)."""

    type: ClassVar[str] = "speech_start"
    tts_ms: float  # synthesis time of the first sentence


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyAudioFinished(Event):
    """Hearth finished speaking a reply (type ``speech_end_reply``)."""

    type: ClassVar[str] = "speech_end_reply"
    audio_s: float  # length of the spoken reply


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFailed(Event):
    """Something went wrong in a turn; ``code`` is machine-readable, ``message`` for people."""

    type: ClassVar[str] = "error"
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRefused(TurnFailed):
    """A home action was not published, and why: an ``error`` event that also names the action."""

    entity_id: str
    service: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFinished(Event):
    """Every turn ends with exactly one of these, whatever happened."""

    type: ClassVar[str] = "turn_end"
    outcome: str
    timings_ms: dict[str, float]
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU time by stage, all threads


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON body of ``hearth/<id>/event/<type>``: ``{"v":1,"type":…,"turn":…,"ts":…, …}``."""
    body: dict[str, Any] = {"v": EVENT_SCHEMA_VERSION, "type": event.type}
    for f in dataclasses.fields(event):
        if f.name == "mono":
            continue
        value = getattr(event, f.name)
        if isinstance(value, float):
            value = round(value, 3)
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        body[f.name] = value
    return body


Handler = Callable[[Event], None]


class EventBus:
    """A synchronous publish/subscribe stream.

    Handlers run in the emitting thread, in subscription order. A handler that raises is logged with
    the event type and recorded in :attr:`handler_errors`; it never breaks the turn.
    """

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self.handler_errors: list[tuple[str, BaseException]] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; returns a function that removes it again."""
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception as err:
                _LOGGER.exception("event handler failed on %s event", event.type)
                self.handler_errors.append((event.type, err))
