"""A room's timers as a Wyoming satellite is told of them, as Home Assistant tells it:
``timer-started`` (its length, in whole seconds, and as said), ``timer-updated`` (paused,
resumed, lengthened or shortened: whether it runs and the seconds left), ``timer-cancelled``
and ``timer-finished``. The spoken "your timer is done" follows the finish as the room's
announcement."""

from __future__ import annotations

import math
from typing import Any

from ..events import TimerChange, TimerChanged

__all__ = ["wyoming_timer_event"]


def wyoming_timer_event(event: TimerChanged) -> Any:
    """The Wyoming event (``wyoming.event.Event``) for a change of one of the room's timers."""
    from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated

    if event.change is TimerChange.STARTED:
        return TimerStarted(
            id=event.timer_id,
            total_seconds=math.ceil(event.length_s),
            name=event.name or None,
            start_hours=event.start_hours,
            start_minutes=event.start_minutes,
            start_seconds=event.start_seconds,
        ).event()
    if event.change is TimerChange.UPDATED:
        return TimerUpdated(
            id=event.timer_id, is_active=event.active, total_seconds=math.ceil(event.left_s)
        ).event()
    if event.change is TimerChange.CANCELLED:
        return TimerCancelled(id=event.timer_id).event()
    return TimerFinished(id=event.timer_id).event()
