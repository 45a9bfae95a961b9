"""A timer is told to the room that set it (its satellite shows and rings it): the timer skill's
``TimerChanged`` events, each in the room of the turn that started the timer, whichever room
changes it; and each as the Wyoming ``timer-*`` event a satellite is sent, read back with the
wyoming package itself."""

from __future__ import annotations

from typing import Any

import pytest
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated

from assistant.events import Event, TimerChange, TimerChanged
from assistant.home.entities import EntityRegistry
from assistant.rooms.timers import wyoming_timer_event
from assistant.skill import SkillCall, SkillContext
from skills.timers import TimerSkill


class Clock:
    def __init__(self) -> None:
        self.now_s = 500.0

    def __call__(self) -> float:
        return self.now_s


class Room:
    """A room's skill context, and the events told to it."""

    def __init__(self) -> None:
        self.events: list[TimerChanged] = []
        self.announced: list[str] = []
        self.context = SkillContext(
            EntityRegistry(), announce=self.announced.append, emit=self._emit
        )

    def _emit(self, event: Event) -> None:
        assert isinstance(event, TimerChanged)
        self.events.append(event)

    def changes(self) -> list[tuple[str, float, bool]]:
        return [(e.change.value, e.left_s, e.active) for e in self.events]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def skill(clock: Clock) -> Any:
    timers = TimerSkill(monotonic=clock)
    yield timers
    timers.close()


def run(skill: TimerSkill, room: Room, intent: str, turn: str = "t", **slots: Any) -> str:
    return skill.run(SkillCall(intent, slots, "", turn=turn), room.context).speech


def test_a_timer_tells_its_room_of_each_change_and_its_end(skill: TimerSkill, clock: Clock) -> None:
    hall = Room()
    run(skill, hall, "HassStartTimer", turn="t1", name="pasta", minutes=10)
    clock.now_s += 60
    run(skill, hall, "HassPauseTimer")
    run(skill, hall, "HassUnpauseTimer")
    run(skill, hall, "HassIncreaseTimer", minutes=1)
    run(skill, hall, "HassTimerStatus")  # asking changes nothing
    assert hall.changes() == [
        ("started", 600.0, True),
        ("updated", 540.0, False),
        ("updated", 540.0, True),
        ("updated", 600.0, True),
    ]
    started = hall.events[0]
    assert started.turn == "t1" and started.name == "pasta" and started.start_minutes == 10
    assert len({e.timer_id for e in hall.events}) == 1
    clock.now_s += 600
    assert skill.fire_due() == 1
    assert hall.changes()[-1] == ("finished", 0.0, False)
    assert hall.announced == ["Your 10 minute pasta timer is done."]


def test_a_timer_changed_from_another_room_is_told_to_the_room_that_set_it(
    skill: TimerSkill,
) -> None:
    hall, kitchen = Room(), Room()
    run(skill, hall, "HassStartTimer", seconds=90)
    run(skill, kitchen, "HassStartTimer", name="tea", minutes=3)
    run(skill, kitchen, "HassCancelAllTimers")
    assert [e.change for e in hall.events] == [TimerChange.STARTED, TimerChange.CANCELLED]
    assert [e.change for e in kitchen.events] == [TimerChange.STARTED, TimerChange.CANCELLED]
    assert hall.events[0].timer_id != kitchen.events[0].timer_id
    assert skill.fire_due() == 0 and hall.announced == kitchen.announced == []


def test_a_refused_change_tells_nobody(skill: TimerSkill) -> None:
    hall = Room()
    assert run(skill, hall, "HassCancelTimer") == "You don't have any timers."
    run(skill, hall, "HassStartTimer", seconds=0)
    assert hall.events == []


def test_a_room_that_cannot_be_told_keeps_its_timer(skill: TimerSkill, clock: Clock) -> None:
    def broken(event: Event) -> None:
        raise OSError("satellite away")

    announced: list[str] = []
    context = SkillContext(EntityRegistry(), announce=announced.append, emit=broken)
    said = skill.run(SkillCall("HassStartTimer", {"seconds": 5}, ""), context).speech
    assert said == "Timer set for 5 seconds."
    clock.now_s += 5
    assert skill.fire_due() == 1 and announced == ["Your 5 second timer is done."]


def changed(change: TimerChange, **fields: Any) -> TimerChanged:
    values: dict[str, Any] = {
        "turn": None,
        "timer_id": "abc",
        "change": change,
        "name": "",
        "length_s": 90.0,
        "left_s": 90.0,
        "active": True,
    }
    values.update(fields)
    return TimerChanged(**values)


def test_each_change_is_the_wyoming_event_a_satellite_reads() -> None:
    started = TimerStarted.from_event(
        wyoming_timer_event(changed(TimerChange.STARTED, name="tea", start_seconds=90))
    )
    assert started == TimerStarted(id="abc", total_seconds=90, name="tea", start_seconds=90)
    nameless = TimerStarted.from_event(
        wyoming_timer_event(changed(TimerChange.STARTED, length_s=4.2))
    )
    assert nameless.name is None and nameless.total_seconds == 5  # whole seconds, rounded up
    updated = TimerUpdated.from_event(
        wyoming_timer_event(changed(TimerChange.UPDATED, left_s=12.5, active=False))
    )
    assert updated == TimerUpdated(id="abc", is_active=False, total_seconds=13)
    cancelled = wyoming_timer_event(changed(TimerChange.CANCELLED, left_s=0.0))
    assert TimerCancelled.is_type(cancelled.type) and cancelled.data == {"id": "abc"}
    finished = wyoming_timer_event(changed(TimerChange.FINISHED, left_s=0.0))
    assert TimerFinished.is_type(finished.type) and finished.data == {"id": "abc"}
