"""Timers: start, pause, resume, lengthen, shorten, ask about and cancel them by voice.

Timers live in the skill object and are kept by one scheduler thread, started with the first
timer, which sleeps until the next deadline. When a timer ends, the skill calls the ``announce``
of the turn that started it ("Your 5 minute pasta timer is done."). Each start, change,
cancel and end is also told to that turn's room as a :class:`TimerChanged` event (a satellite
there shows its timers and rings them as Home Assistant's do). The clock is injectable
(``monotonic``, seconds) so tests can move time on and call :meth:`TimerSkill.fire_due`.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from assistant.skill import (
    Event,
    Risk,
    SkillCall,
    SkillContext,
    SkillResult,
    TimerChange,
    TimerChanged,
    Tool,
)

__all__ = ["MAX_DURATION_S", "MAX_TIMERS", "TimerSkill"]

_LOGGER = logging.getLogger(__name__)

MAX_DURATION_S: Final = 24 * 3600  # the longest timer, and the most time a timer may have left
MAX_TIMERS: Final = 20
MAX_NAME_CHARS: Final = 40
_UNITS: Final = (("hours", 3600, "hour"), ("minutes", 60, "minute"), ("seconds", 1, "second"))
_LEADING_WORDS: Final = ("the", "a", "an", "my", "our")

_DURATION_SCHEMA: Final[dict[str, Mapping[str, Any]]] = {
    "hours": {"type": "integer", "minimum": 0, "maximum": 24},
    "minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
    "seconds": {"type": "integer", "minimum": 0, "maximum": 86400},
}
_NAME_SCHEMA: Final[dict[str, Mapping[str, Any]]] = {
    "name": {"type": "string", "maxLength": MAX_NAME_CHARS, "description": "e.g. pasta"},
}
TOOLS: Final = (
    Tool("HassStartTimer", "Start a timer.", {**_DURATION_SCHEMA, **_NAME_SCHEMA}),
    Tool("HassCancelTimer", "Cancel a timer (by name, else the latest).", _NAME_SCHEMA),
    Tool("HassCancelAllTimers", "Cancel every timer."),
    Tool("HassPauseTimer", "Pause a timer.", _NAME_SCHEMA),
    Tool("HassUnpauseTimer", "Resume a paused timer.", _NAME_SCHEMA),
    Tool("HassTimerStatus", "Say how long timers have left.", _NAME_SCHEMA),
    Tool("HassIncreaseTimer", "Add time to a timer.", {**_DURATION_SCHEMA, **_NAME_SCHEMA}),
    Tool("HassDecreaseTimer", "Take time off a timer.", {**_DURATION_SCHEMA, **_NAME_SCHEMA}),
)


class _Refusal(Exception):
    """A reply that ends the request early (bad slot values, no such timer)."""

    def __init__(self, speech: str) -> None:
        super().__init__(speech)
        self.speech = speech


def _count(value: Any) -> float:
    """A slot's amount (``5``, ``5.0``, ``"5"``); raises :class:`_Refusal` unless finite, >= 0."""
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise _Refusal("I didn't catch how long.") from None
    if not math.isfinite(number) or number < 0:
        raise _Refusal("I didn't catch how long.")
    return number


@dataclass(frozen=True, slots=True)
class _Duration:
    """A length as it was said, unit by unit: ``((5.0, "minute"),)``."""

    parts: tuple[tuple[float, str], ...]

    @property
    def seconds(self) -> float:
        factor = {unit: size for _, size, unit in _UNITS}
        return sum(amount * factor[unit] for amount, unit in self.parts)

    def spoken(self) -> str:
        """``"1 hour and 30 minutes"``."""
        return _join([_amount(n, unit) for n, unit in self.parts])

    def label(self) -> str:
        """``"1 hour 30 minute"``, as in "the 1 hour 30 minute timer"."""
        return " ".join(f"{n:g} {unit}" for n, unit in self.parts)

    def whole(self, unit: str) -> int | None:
        """The amount said in ``unit``, if it was said in whole units; else ``None``."""
        amounts = [n for n, said in self.parts if said == unit]
        return int(amounts[0]) if amounts and amounts[0] == int(amounts[0]) else None


def _duration(slots: Mapping[str, Any], prefix: str = "") -> _Duration | None:
    """The ``hours``/``minutes``/``seconds`` slots (with ``prefix``: ``start_hours`` …)."""
    parts = []
    for key, _, unit in _UNITS:
        if slots.get(prefix + key) is not None:
            amount = _count(slots[prefix + key])
            if amount > 0:
                parts.append((amount, unit))
    if parts:
        return _Duration(tuple(parts))
    if any(slots.get(prefix + key) is not None for key, _, _ in _UNITS):
        return _Duration(())  # said, but all zero
    return None


def _amount(number: float, unit: str) -> str:
    return f"{number:g} {unit}" + ("" if number == 1 else "s")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def spoken_length(seconds: float) -> str:
    """A time left, whole seconds rounded up: ``"4 minutes and 10 seconds"``."""
    left = max(0, math.ceil(seconds - 1e-6))
    if left == 0:
        return "no time"
    words = []
    for _, size, unit in _UNITS:
        amount, left = divmod(left, size)
        if amount:
            words.append(_amount(amount, unit))
    return _join(words)


def _name(slots: Mapping[str, Any]) -> str:
    """The timer's name as said, without "the"/"my" before it or "timer" after it."""
    raw = slots.get("name")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _Refusal("I didn't catch the timer's name.")
    words = raw.replace(".", " ").split()
    while words and words[0].lower() in _LEADING_WORDS:
        words.pop(0)
    if words and words[-1].lower() in ("timer", "timers"):
        words.pop()
    name = " ".join(words)
    if len(name) > MAX_NAME_CHARS:
        raise _Refusal("That timer name is too long.")
    return name


@dataclass(slots=True)
class _Timer:
    number: int  # order of starting, for "the most recent timer"
    name: str
    length: _Duration  # as set
    announce: Callable[[str], None]
    deadline: float | None  # monotonic seconds; None while paused
    left_s: float = 0.0  # while paused
    emit: Callable[[Event], None] = lambda event: None  # the room that set it
    id: str = ""

    def remaining_s(self, now: float) -> float:
        return self.left_s if self.deadline is None else max(0.0, self.deadline - now)

    @property
    def title(self) -> str:
        """``"pasta timer"`` or ``"5 minute timer"``."""
        return f"{self.name or self.length.label()} timer"

    def done_text(self) -> str:
        named = f"{self.name} " if self.name else ""
        return f"Your {self.length.label()} {named}timer is done."

    def changed(self, change: TimerChange, now: float, turn: str | None) -> TimerChanged:
        over = change in (TimerChange.CANCELLED, TimerChange.FINISHED)
        return TimerChanged(
            turn=turn,
            timer_id=self.id,
            change=change,
            name=self.name,
            length_s=self.length.seconds,
            left_s=0.0 if over else self.remaining_s(now),
            active=not over and self.deadline is not None,
            start_hours=self.length.whole("hour"),
            start_minutes=self.length.whole("minute"),
            start_seconds=self.length.whole("second"),
        )


def _tell_room(timer: _Timer, event: TimerChanged) -> None:
    try:
        timer.emit(event)
    except Exception:  # a room that cannot be told still has its timer
        _LOGGER.exception("telling the room of the %s failed", timer.title)


def _new_id() -> str:
    return uuid.uuid4().hex


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class TimerSkill:
    name = "timers"
    description = "Set, pause, resume and cancel timers, and say how long they have left."
    intents = tuple(tool.intent for tool in TOOLS)
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = TOOLS

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._timers: dict[int, _Timer] = {}
        self._numbers = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._told: list[tuple[_Timer, TimerChanged]] = []  # to tell once the lock is free
        self._turn: str | None = None  # the turn being run, under the lock

    # -- turns -------------------------------------------------------------------------------

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        self.fire_due()  # a timer that has ended is announced, never reported as running
        handler = {
            "HassStartTimer": self._start,
            "HassCancelTimer": self._cancel,
            "HassCancelAllTimers": self._cancel_all,
            "HassPauseTimer": self._pause,
            "HassUnpauseTimer": self._resume,
            "HassTimerStatus": self._status,
            "HassIncreaseTimer": self._increase,
            "HassDecreaseTimer": self._decrease,
        }.get(call.intent)
        if handler is None:
            return SkillResult("I can't do that with timers.", success=False)
        try:
            with self._cond:
                self._turn = call.turn
                result = handler(call.slots, context)
                self._cond.notify_all()
        except _Refusal as refusal:
            return SkillResult(refusal.speech, success=False)
        finally:
            self._tell()
        return result

    def _changed(self, timer: _Timer, change: TimerChange) -> None:
        """Tell the timer's room (under the lock; sent by :meth:`_tell`)."""
        self._told.append((timer, timer.changed(change, self._monotonic(), self._turn)))

    def _tell(self) -> None:
        with self._cond:
            told, self._told = self._told, []
        for timer, event in told:
            _tell_room(timer, event)

    def _start(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        if slots.get("conversation_command"):
            raise _Refusal("I can't carry out commands later yet, only set timers.")
        length = _duration(slots)
        name = _name(slots)
        if length is None:
            raise _Refusal("For how long? Say, for example, set a timer for 5 minutes.")
        if length.seconds < 1:
            raise _Refusal("A timer needs at least one second.")
        if length.seconds > MAX_DURATION_S:
            raise _Refusal("Timers can run for at most 24 hours.")
        if len(self._timers) >= MAX_TIMERS:
            raise _Refusal(f"You have {MAX_TIMERS} timers already. Cancel one first.")
        number = next(self._numbers)
        deadline = self._monotonic() + length.seconds
        timer = _Timer(
            number, name, length, context.announce, deadline, emit=context.emit, id=_new_id()
        )
        self._timers[number] = timer
        self._changed(timer, TimerChange.STARTED)
        self._ensure_thread()
        return SkillResult(_capital(f"{name} timer set for {length.spoken()}.".lstrip()))

    def _cancel(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        timer = self._one(slots)
        del self._timers[timer.number]
        self._changed(timer, TimerChange.CANCELLED)
        return SkillResult(f"Cancelled the {timer.title}.")

    def _cancel_all(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        count = len(self._timers)
        if count == 0:
            raise _Refusal("You don't have any timers.")
        for timer in sorted(self._timers.values(), key=lambda t: t.number):
            self._changed(timer, TimerChange.CANCELLED)
        self._timers.clear()
        return SkillResult(
            "Cancelled your timer." if count == 1 else f"Cancelled all {count} timers."
        )

    def _pause(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        timer = self._one(slots, prefer=lambda t: t.deadline is not None)
        if timer.deadline is None:
            return SkillResult(f"The {timer.title} is already paused.")
        timer.left_s, timer.deadline = timer.remaining_s(self._monotonic()), None
        self._changed(timer, TimerChange.UPDATED)
        return SkillResult(f"Paused the {timer.title}.")

    def _resume(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        timer = self._one(slots, prefer=lambda t: t.deadline is None)
        if timer.deadline is not None:
            return SkillResult(f"The {timer.title} is already running.")
        timer.deadline = self._monotonic() + timer.left_s
        self._changed(timer, TimerChange.UPDATED)
        return SkillResult(f"Resumed the {timer.title}.")

    def _status(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        now = self._monotonic()
        if not self._timers:
            return SkillResult("You don't have any timers.")
        found = self._matching(slots)
        if len(found) == 1:
            return SkillResult("Your " + self._left(found[0], now))
        found.sort(key=lambda t: t.remaining_s(now))
        said = [f"The {self._left(timer, now)}" for timer in found[:3]]
        more = f" And {len(found) - 3} more." if len(found) > 3 else ""
        return SkillResult(f"You have {len(found)} timers. " + " ".join(said) + more)

    @staticmethod
    def _left(timer: _Timer, now: float) -> str:
        left = spoken_length(timer.remaining_s(now))
        if timer.deadline is None:
            return f"{timer.title} is paused with {left} left."
        return f"{timer.title} has {left} left."

    def _increase(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        return self._change(slots, +1)

    def _decrease(self, slots: Mapping[str, Any], context: SkillContext) -> SkillResult:
        return self._change(slots, -1)

    def _change(self, slots: Mapping[str, Any], sign: int) -> SkillResult:
        change = _duration(slots)
        if change is None or change.seconds < 1:
            raise _Refusal("By how much? Say, for example, add 5 minutes to the timer.")
        timer = self._one(slots, prefer=lambda t: t.deadline is not None)
        left = timer.remaining_s(self._monotonic()) + sign * change.seconds
        if left > MAX_DURATION_S:
            raise _Refusal("Timers can run for at most 24 hours.")
        if left < 1:
            left_now = spoken_length(timer.remaining_s(self._monotonic()))
            raise _Refusal(f"The {timer.title} only has {left_now} left.")
        if timer.deadline is None:
            timer.left_s = left
        else:
            timer.deadline += sign * change.seconds
        self._changed(timer, TimerChange.UPDATED)
        if sign > 0:
            return SkillResult(f"Added {change.spoken()} to the {timer.title}.")
        return SkillResult(f"Took {change.spoken()} off the {timer.title}.")

    # -- finding timers (under the lock) -----------------------------------------------------

    def _matching(self, slots: Mapping[str, Any]) -> list[_Timer]:
        """The timers the slots describe (``name``, ``start_minutes`` …), oldest first;
        a description that fits none is a refusal."""
        name = _name(slots).casefold()
        started = _duration(slots, "start_")
        found = sorted(self._timers.values(), key=lambda t: t.number)
        if name:
            found = [t for t in found if t.name.casefold() == name]
        if started is not None:
            found = [t for t in found if abs(t.length.seconds - started.seconds) < 0.5]
        if not found:
            if not self._timers:
                raise _Refusal("You don't have any timers.")
            what = f"{name} timer" if name else f"{started.label() if started else ''} timer"
            raise _Refusal(f"You don't have a {what.strip()}.")
        return found

    def _one(
        self, slots: Mapping[str, Any], prefer: Callable[[_Timer], bool] | None = None
    ) -> _Timer:
        """The timer meant: the most recent that fits the slots, preferring ``prefer``."""
        found = self._matching(slots)
        preferred = [t for t in found if prefer(t)] if prefer else []
        return (preferred or found)[-1]

    # -- ringing -----------------------------------------------------------------------------

    def fire_due(self) -> int:
        """Announce and forget every timer whose time is up; returns how many."""
        with self._cond:
            now = self._monotonic()
            due = [t for t in self._timers.values() if t.deadline is not None and t.deadline <= now]
            for timer in due:
                del self._timers[timer.number]
        for timer in sorted(due, key=lambda t: t.deadline or 0.0):
            _tell_room(timer, timer.changed(TimerChange.FINISHED, now, None))
            try:
                timer.announce(timer.done_text())
            except Exception:  # the scheduler thread must outlive a failing announcer
                _LOGGER.exception("announcing the end of the %s failed", timer.title)
        return len(due)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._closed = False
            self._thread = threading.Thread(target=self._loop, name="hearth-timers", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                deadlines = [t.deadline for t in self._timers.values() if t.deadline is not None]
                wait_s = min(deadlines) - self._monotonic() if deadlines else None
                if wait_s is None or wait_s > 0:
                    self._cond.wait(wait_s)  # a start, pause or change wakes it early
                    continue
            self.fire_due()

    def close(self) -> None:
        """Stop the scheduler thread; pending timers never ring."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=2.0)


SKILLS = (TimerSkill(),)
