"""The turn logic with fake stages at the model boundaries: a wake word that fires on a mark, a
transcriber with scripted text, a silent voice. The real sentence templates route; no model is
loaded, so each test runs in milliseconds once the module's Hearth is assembled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import fakes
from assistant.assemble import Given, Hearth, assemble
from assistant.config import Config
from assistant.events import Event, EventBus, StateChanged, TurnFinished
from assistant.home.actions import MemoryPublisher
from assistant.turn.inbox import Ask, Cancel, Listen, Mute, Say
from assistant.turn.pipeline import HearingLoop
from assistant.voice.audio import ArraySource, MemorySink

SCRIPT = [
    "Turn on the kitchen light.",  # 0
    "Unlock the front door.",  # 1
    "Yes.",  # 2
    "No.",  # 3
    "What time is it?",  # 4
    "Purple elephants sing.",  # 5
]
ENTITIES = [
    {
        "domain": "light",
        "name": "Kitchen Light",
        "unique_id": "kitchen_light",
        "schema": "json",
        "command_topic": "z2m/kitchen_light/set",
        "suggested_area": "Kitchen",
    },
    {
        "domain": "lock",
        "name": "Front Door",
        "unique_id": "front_door",
        "command_topic": "z2m/front_door/set",
        "suggested_area": "Hall",
    },
]


class Room:
    """One hearing loop on the module's Hearth, with what it emitted and published."""

    def __init__(self, hearth: Hearth, publisher: MemoryPublisher) -> None:
        self.events: list[Event] = []
        self._unsubscribe = hearth.bus.subscribe(self.events.append)
        self.publisher = publisher
        publisher.messages.clear()
        self.sink = MemorySink()
        self.loop: HearingLoop = hearth.hearing_loop(self.sink)

    def run(self, *parts: Any) -> int:
        return self.loop.run(ArraySource(fakes.stream(*parts)))

    def kinds(self) -> list[str]:
        return [e.type for e in self.events if not isinstance(e, StateChanged)]

    def payloads(self) -> list[tuple[str, str]]:
        return [(m.topic, m.payload) for m in self.publisher.messages]

    def finished(self) -> list[TurnFinished]:
        return [e for e in self.events if isinstance(e, TurnFinished)]

    def replies(self) -> list[str]:
        return [getattr(e, "text", "") for e in self.events if e.type == "reply"]

    def close(self) -> None:
        self._unsubscribe()


@pytest.fixture(scope="module")
def hearth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Hearth, MemoryPublisher]:
    data: Path = tmp_path_factory.mktemp("data")
    config = Config.model_validate(
        {"entities": ENTITIES, "llm": {"enabled": False}, "assistant": {"data_dir": str(data)}}
    )
    publisher = MemoryPublisher()
    given = Given(
        wake=fakes.MarkedWake(),
        vad=fakes.LevelVad(),
        stt=fakes.ScriptedStt(SCRIPT),
        tts=fakes.SilentTts(),
    )
    built = assemble(
        config, bus=EventBus(), publisher=publisher, listen=True, speak=True, given=given
    )
    return built, publisher


@pytest.fixture
def room(hearth: tuple[Hearth, MemoryPublisher]) -> Iterator[Room]:
    instance = Room(*hearth)
    yield instance
    instance.close()
    assert hearth[0].bus.handler_errors == []


def wake() -> Any:
    return fakes.stream(fakes.silence(0.5), fakes.wake_mark(), fakes.silence(0.16))


def test_a_spoken_command_goes_through_every_step_in_order(room: Room) -> None:
    assert room.run(wake(), fakes.speech(0, 1.2), fakes.silence(1.5)) == 1
    assert room.kinds() == [
        "wake",
        "speech_end",
        "transcript",
        "intent",
        "action",
        "reply",
        "speech_start",
        "speech_end_reply",
        "turn_end",
    ]
    assert room.payloads() == [("z2m/kitchen_light/set", '{"state":"ON"}')]
    (finished,) = room.finished()
    assert finished.outcome == "ok"
    assert {"wake", "endpoint", "stt", "router", "to_publish", "to_first_audio"} <= set(
        finished.timings_ms
    )
    assert finished.timings_ms["to_publish"] <= finished.timings_ms["to_first_audio"]
    assert room.sink.chunks  # the reply was spoken


def test_a_complete_match_ends_the_command_early(room: Room) -> None:
    room.run(wake(), fakes.speech(0, 1.0), fakes.silence(1.5))
    ended = next(e for e in room.events if e.type == "speech_end")
    assert ended.reason.value == "early_match"
    assert ended.endpoint_ms == pytest.approx(240, abs=1)  # 0.2 s, in whole 80 ms frames


def test_no_match_in_the_pause_waits_out_the_silence(room: Room) -> None:
    room.run(wake(), fakes.speech(5, 1.0), fakes.silence(1.5))
    ended = next(e for e in room.events if e.type == "speech_end")
    assert ended.reason.value == "silence"
    assert room.replies() == ["Sorry, I didn't understand."]
    assert [f.outcome for f in room.finished()] == ["no_intent"]


def test_silence_after_the_wake_word_is_no_speech(room: Room) -> None:
    room.run(wake(), fakes.silence(6.0))
    assert [f.outcome for f in room.finished()] == ["no_speech"]
    assert room.payloads() == []


def test_unlock_asks_then_acts_on_a_spoken_yes_without_a_second_wake_word(room: Room) -> None:
    room.run(
        wake(), fakes.speech(1, 1.0), fakes.silence(0.8), fakes.speech(2, 0.5), fakes.silence(1.5)
    )
    assert room.replies()[0] == "Do you want me to unlock the Front Door?"
    assert room.payloads() == [("z2m/front_door/set", "UNLOCK")]
    assert [e.type for e in room.events].count("listen") == 1  # the follow-up, no wake word


def test_a_spoken_no_publishes_nothing(room: Room) -> None:
    room.run(
        wake(), fakes.speech(1, 1.0), fakes.silence(0.8), fakes.speech(3, 0.5), fakes.silence(1.5)
    )
    assert room.payloads() == []
    assert room.replies()[-1] == "Okay, I won't."


def test_commands_run_between_frames_in_order(room: Room) -> None:
    room.loop.submit(Say("Dinner is ready."))
    room.loop.submit(Ask("turn on the kitchen light"))
    room.loop.submit(Mute(True))
    room.run(fakes.silence(0.5), fakes.wake_mark(), fakes.speech(0, 1.0), fakes.silence(1.0))
    assert room.replies() == ["Dinner is ready.", "Turned on the Kitchen Light."]
    assert room.payloads() == [("z2m/kitchen_light/set", '{"state":"ON"}')]
    assert "wake" not in room.kinds()  # muted: the wake mark is not heard
    states = [e.state.value for e in room.events if isinstance(e, StateChanged)]
    assert states[-1] == "muted"
    room.loop.submit(Mute(False))
    room.run(fakes.silence(0.2))


def test_listen_opens_a_turn_without_the_wake_word(room: Room) -> None:
    room.loop.submit(Listen())
    room.run(fakes.silence(0.2), fakes.speech(4, 1.0), fakes.silence(1.0))
    assert "wake" not in room.kinds() and "listen" in room.kinds()
    assert room.replies() and room.replies()[0].startswith("It's")


def test_listen_while_muted_listens_and_stays_muted(room: Room) -> None:
    """Pressing Listen while muted takes one turn; the mute switch shows on all the while."""
    room.loop.submit(Mute(True))
    room.loop.submit(Listen())
    room.run(fakes.silence(0.2), fakes.speech(4, 1.0), fakes.silence(1.0))
    changes = [e for e in room.events if isinstance(e, StateChanged)]
    seen = [(e.state.value, e.muted) for e in changes]
    assert ("listening", True) in seen and ("thinking", True) in seen
    assert all(e.muted for e in changes[1:])  # after the first (idle, before the Mute ran)
    assert seen[-1] == ("muted", True)
    assert room.replies() and room.replies()[0].startswith("It's")
    room.loop.submit(Mute(False))
    room.run(fakes.silence(0.2))
    assert [e for e in room.events if isinstance(e, StateChanged)][-1].muted is False


def test_cancel_ends_the_turn_and_says_no_more(room: Room) -> None:
    class CancelOnWake:
        def __init__(self, loop: HearingLoop) -> None:
            self.loop = loop

        def __call__(self, event: Event) -> None:
            if event.type == "wake":
                self.loop.submit(Cancel())

    room.loop.answerer.bus.subscribe(CancelOnWake(room.loop))
    room.run(wake(), fakes.speech(0, 1.0), fakes.silence(1.5))
    assert [f.outcome for f in room.finished()] == ["cancelled"]
    assert room.payloads() == [] and room.sink.chunks == []


def test_every_turn_ends_once_even_when_a_stage_fails(
    hearth: tuple[Hearth, MemoryPublisher],
) -> None:
    class Broken(fakes.ScriptedStt):
        def transcribe(self, audio: Any, hints: Any = ()) -> str:
            raise RuntimeError("decoder exploded")

    built, _publisher = hearth
    loop = built.hearing_loop(MemorySink())
    loop.swap(
        type(loop.stages)(
            loop.stages.config,
            type(loop.hearing)(loop.hearing.wake, loop.hearing.endpointer, Broken(SCRIPT)),
            loop.answerer,
        )
    )
    events: list[Event] = []
    unsubscribe = built.bus.subscribe(events.append)
    try:
        loop.run(ArraySource(fakes.stream(wake(), fakes.speech(0, 1.0), fakes.silence(1.5))))
    finally:
        unsubscribe()
    finished = [e for e in events if isinstance(e, TurnFinished)]
    assert [f.outcome for f in finished] == ["error"]
    assert [getattr(e, "code", "") for e in events if e.type == "error"] == ["internal"]
