"""What must never happen, whatever the input: an unconfirmed sensitive action, a guess between
two devices of one name, a message that unlocks through a misleading discovery config, a
command fired late, a skill that stops the daemon. The answering layer with the real sentence
templates and fake stages; no model is loaded."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant import fakes
from assistant.assemble import Given, assemble
from assistant.config import Config
from assistant.events import Event, EventBus, TurnFailed
from assistant.home.actions import MemoryPublisher
from assistant.skill import Risk, SkillCall, SkillContext, SkillResult
from assistant.turn.answer import Answerer
from assistant.turn.inbox import Ask, Cancel, Inbox, Mute, Say
from assistant.voice.audio import ArraySource, MemorySink

LOCK = {
    "domain": "lock",
    "name": "Front Door",
    "unique_id": "front_door",
    "command_topic": "z2m/front_door/set",
    "suggested_area": "Hall",
}
GARAGE = {
    "domain": "cover",
    "name": "Garage Door",
    "unique_id": "garage",
    "device_class": "garage",
    "command_topic": "garage/set",
    "suggested_area": "Garage",
}
LIGHT = {
    "domain": "light",
    "name": "Kitchen Light",
    "unique_id": "kitchen_light",
    "schema": "json",
    "command_topic": "z2m/kitchen_light/set",
    "suggested_area": "Kitchen",
}


def build(*entities: dict[str, Any], **extra: Any) -> tuple[Answerer, MemoryPublisher, list[Event]]:
    config = Config.model_validate({"entities": list(entities), "llm": {"enabled": False}, **extra})
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    publisher = MemoryPublisher()
    hearth = assemble(config, bus=bus, publisher=publisher, listen=False, speak=False)
    return hearth.answerer(), publisher, events


def codes(events: list[Event]) -> list[str]:
    return [e.code for e in events if isinstance(e, TurnFailed)]


# -- two devices, one name ------------------------------------------------------------------


def test_a_name_two_devices_answer_to_is_not_guessed() -> None:
    # Zigbee2MQTT announcing one garage twice, one copy without its device_class
    copy = {**GARAGE, "unique_id": "garage_copy", "device_class": "", "command_topic": "g2/set"}
    answerer, published, events = build(GARAGE, copy, LIGHT)
    reply = answerer.run_text("open the garage door").reply
    assert published.messages == []
    assert "two devices called Garage Door" in reply
    assert "ambiguous_name" in codes(events)
    message = next(e.message for e in events if isinstance(e, TurnFailed))
    assert "cover.garage" in message and "cover.garage_copy" in message
    # a name only one device has still works
    assert answerer.run_text("turn on the kitchen light").reply == "Turned on the Kitchen Light."


def test_namesakes_in_two_rooms_are_told_apart_by_the_room() -> None:
    hall = {**LIGHT, "unique_id": "hall_light", "suggested_area": "Hall", "command_topic": "h/set"}
    answerer, published, _ = build(LIGHT, {**hall, "name": "Kitchen Light"})
    reply = answerer.run_text("turn on the kitchen light").reply
    assert published.messages == []
    assert "in the Hall and in the Kitchen" in reply
    answerer.run_text("turn on the kitchen light in the hall")
    assert [m.topic for m in published.messages] == ["h/set"]


# -- the message is judged, not only the domain ---------------------------------------------


def test_a_switch_that_sends_unlock_to_a_locks_topic_waits_for_a_yes() -> None:
    sneaky = {
        "domain": "switch",
        "name": "Porch Switch",
        "unique_id": "porch",
        "command_topic": "z2m/front_door/set",  # the lock's own topic
        "payload_on": "UNLOCK",
        "payload_off": "LOCK",
    }
    answerer, published, _ = build(LOCK, sneaky)
    reply = answerer.run_text("turn on the porch switch").reply
    assert reply.startswith("Do you want me to")
    assert published.messages == []
    # its "off" is the lock's own lock message: that may go at once
    answerer.run_text("turn off the porch switch")
    assert [(m.topic, m.payload) for m in published.messages] == [("z2m/front_door/set", "LOCK")]


def test_a_lock_whose_lock_payload_unlocks_waits_for_a_yes() -> None:
    inverted = {**LOCK, "payload_lock": "UNLOCK"}
    answerer, published, _ = build(inverted)
    assert answerer.run_text("lock the front door").reply.startswith("Do you want me to")
    assert published.messages == []


def test_a_plain_lock_and_close_still_act_at_once() -> None:
    answerer, published, _ = build(LOCK, GARAGE)
    assert answerer.run_text("lock the front door").reply == "Locked the Front Door."
    assert answerer.run_text("close the garage door").reply == "Closed the Garage Door."
    assert [m.payload for m in published.messages] == ["LOCK", "CLOSE"]


# -- nothing fires late ---------------------------------------------------------------------


def test_a_queued_command_older_than_its_ttl_is_dropped_not_run() -> None:
    config = Config.model_validate(
        {"entities": [LIGHT], "llm": {"enabled": False}, "mqtt": {"command_ttl_s": 2}}
    )
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    publisher = MemoryPublisher()
    given = Given(
        wake=fakes.MarkedWake(), vad=fakes.LevelVad(), stt=fakes.ScriptedStt([""]), tts=None
    )
    hearth = assemble(config, bus=bus, publisher=publisher, listen=True, speak=False, given=given)
    loop = hearth.hearing_loop(MemorySink())
    stale = time.perf_counter() - 5.0
    loop.submit(Ask("turn on the kitchen light"), "hearth/x/cmd/ask", stale)
    loop.submit(Say("Dinner is ready."), "hearth/x/cmd/say", stale)
    loop.submit(Mute(True), "hearth/x/cmd/mute", stale)  # a state: applies however late
    loop.run(ArraySource(fakes.silence(0.2)))
    assert publisher.messages == []
    expired = [e.message for e in events if isinstance(e, TurnFailed)]
    assert len(expired) == 2 and all("command_ttl_s" in m for m in expired)
    assert "hearth/x/cmd/ask" in expired[0]
    assert loop.activity.muted


def test_an_action_that_comes_too_late_is_not_sent() -> None:
    answerer, published, events = build(LIGHT, mqtt={"command_ttl_s": 1})
    record = answerer.run_text("turn on the kitchen light", given_at=time.perf_counter() - 3)
    assert published.messages == []
    assert record.outcome == "command_expired"
    assert "command_expired" in codes(events)


def test_the_inbox_is_bounded_and_cancel_empties_it() -> None:
    inbox = Inbox(size=3)
    assert all(inbox.put(Say(str(n))) for n in range(3))
    assert not inbox.put(Say("one too many"))
    assert len(inbox.clear()) == 3 and inbox.empty()


def test_cancel_drops_the_waiting_commands_and_the_question() -> None:
    config = Config.model_validate({"entities": [LOCK], "llm": {"enabled": False}})
    given = Given(wake=fakes.MarkedWake(), vad=fakes.LevelVad(), stt=fakes.ScriptedStt([""]))
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=True, speak=False, given=given
    )
    loop = hearth.hearing_loop()
    loop.answerer.run_text("unlock the front door")
    assert loop.answerer.conversation.pending is not None
    loop.submit(Say("one"))
    loop.submit(Say("two"))
    loop.submit(Cancel())
    assert loop.inbox.empty()
    assert loop.answerer.conversation.pending is None


# -- a skill cannot take the daemon down ----------------------------------------------------


class _Misbehaving:
    name = "misbehaving"
    description = "Misbehaves on purpose."
    intents = ("HassGetCurrentTime",)
    risk = Risk.SAFE
    tools = ()

    def __init__(self, how: str) -> None:
        self.how = how
        self.started = threading.Event()

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        self.started.set()
        if self.how == "exit":
            sys.exit(3)
        if self.how == "raise":
            raise RuntimeError("a bug in the skill")
        if self.how == "sleep":
            time.sleep(2.0)
        return "not a result"  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("exit", "skill_failed"),
        ("raise", "skill_failed"),
        ("wrong", "skill_failed"),
        ("sleep", "skill_timeout"),
    ],
)
def test_a_skill_that_exits_raises_or_hangs_ends_only_its_turn(
    how: str, code: str, tmp_path: Path
) -> None:
    answerer, _published, events = build(LIGHT, router={"skill_timeout_s": 0.5})
    skill = _Misbehaving(how)
    answerer.skills._by_intent["HassGetCurrentTime"] = skill  # type: ignore[attr-defined]
    record = answerer.run_text("what time is it")
    assert record.outcome == "error"
    assert code in codes(events)
    assert [e.type for e in events].count("turn_end") == 1
    # the daemon lives on and the next command works
    assert answerer.run_text("turn on the kitchen light").reply == "Turned on the Kitchen Light."


def test_cancel_stops_waiting_for_a_slow_skill() -> None:
    answerer, _, _events = build(LIGHT, router={"skill_timeout_s": 30})
    skill = _Misbehaving("sleep")
    answerer.skills._by_intent["HassGetCurrentTime"] = skill  # type: ignore[attr-defined]
    threading.Thread(
        target=lambda: skill.started.wait(5) and answerer.activity.cancelled.set(), daemon=True
    ).start()
    started = time.monotonic()
    record = answerer.run_text("what time is it")
    assert time.monotonic() - started < 1.5
    assert record.outcome == "cancelled"
