"""The pipeline in-process with real models: event order, endpointing modes, failures."""

from __future__ import annotations

import pytest
from speech import utterance

from assistant.assemble import assemble
from assistant.config import Config, EntityConfig, VadConfig
from assistant.errors import ActionError
from assistant.events import (
    AssistantState,
    CommandEnded,
    Event,
    EventBus,
    StateChanged,
    TurnFinished,
    event_to_json,
)
from assistant.home.actions import Delivery, MemoryPublisher
from assistant.home.entities import MqttMessage
from assistant.turn.pipeline import HearingLoop
from assistant.voice.audio import ArraySource, MemorySink

LIGHT = EntityConfig.model_validate(
    {
        "domain": "light",
        "name": "Kitchen Light",
        "unique_id": "kitchen_light",
        "schema": "json",
        "command_topic": "z/kitchen_light/set",
        "suggested_area": "Kitchen",
    }
)


class Publisher(MemoryPublisher):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def publish(self, message: MqttMessage) -> Delivery:
        if self.fail:
            raise ActionError("broker_unreachable", "I can't reach the home hub.")
        return super().publish(message)


Source = ArraySource


def build(
    vad: VadConfig | None = None, fail: bool = False
) -> tuple[HearingLoop, list[Event], Publisher]:
    config = Config.model_validate(
        {"entities": [LIGHT.model_dump(by_alias=True)], "llm": {"enabled": False}}
    ).model_copy(update={"vad": vad or VadConfig()})  # type: ignore[call-arg]
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    publisher = Publisher(fail)
    hearth = assemble(config, bus=bus, publisher=publisher, listen=True, speak=True)
    return hearth.hearing_loop(MemorySink()), events, publisher


COMMAND = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 2.0)


@pytest.mark.parametrize(("early_s", "reason"), [(0.3, "early_match"), (0.0, "silence")])
def test_event_order_and_endpoint_modes(early_s: float, reason: str) -> None:
    loaded, events, publisher = build(VadConfig(early_match_s=early_s))  # type: ignore[call-arg]
    assert loaded.run(Source(COMMAND)) == 1
    kinds = [e.type for e in events if not isinstance(e, StateChanged)]
    assert kinds == [
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
    ended = next(e for e in events if isinstance(e, CommandEnded))
    assert ended.reason.value == reason
    assert ended.endpoint_ms == pytest.approx(1000 * (early_s or 0.7), abs=90)
    assert [m.payload for m in publisher.messages] == ['{"state":"ON"}']
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert finished.outcome == "ok"
    assert finished.timings_ms["to_publish"] <= finished.timings_ms["to_first_audio"]
    sink = loaded.sink
    assert isinstance(sink, MemorySink) and sink.chunks
    assert loaded.answerer.bus.handler_errors == []
    for event in events:
        body = event_to_json(event)
        assert body["v"] == 1 and body["type"] == event.type


def test_silence_after_wake_word_ends_as_no_speech() -> None:
    loaded, events, publisher = build()
    loaded.run(Source(utterance(1.0, "Hey Jarvis.", 7.0)))
    ended = next(e for e in events if isinstance(e, CommandEnded))
    assert ended.reason.value == "no_speech"
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert finished.outcome == "no_speech" and publisher.messages == []


def test_broker_down_is_spoken_and_the_turn_still_ends() -> None:
    loaded, events, _ = build(fail=True)
    loaded.run(Source(COMMAND))
    refused = [e for e in events if e.type == "error"]
    assert [event_to_json(e)["code"] for e in refused] == ["broker_unreachable"]
    reply = next(e for e in events if e.type == "reply")
    assert event_to_json(reply)["text"] == "I can't reach the home hub."
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert finished.outcome == "action_failed"


def test_a_failing_subscriber_is_recorded_not_fatal() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    bus.emit(StateChanged(turn=None, state=AssistantState.IDLE))
    assert len(seen) == 1
    assert [kind for kind, _ in bus.handler_errors] == ["state"]


@pytest.mark.parametrize("pause_s", [0.0, 0.3, 1.5, 3.0])
def test_any_pause_after_the_wake_word_keeps_the_whole_command(pause_s: float) -> None:
    loaded, events, publisher = build()
    audio = utterance(1.0, "Hey Jarvis.", pause_s, "Set the kitchen light to twenty percent.", 2.0)
    loaded.run(Source(audio))
    transcript = next(e for e in events if e.type == "transcript")
    assert "jarvis" not in event_to_json(transcript)["text"].lower()
    assert [m.payload for m in publisher.messages] == ['{"state":"ON","brightness":51}']


class PacedSource(ArraySource):
    """Frames at real-time pace, as a microphone gives them."""

    def frames(self):  # type: ignore[no-untyped-def]
        import time

        for frame in super().frames():
            time.sleep(0.08)
            yield frame


def test_a_timer_rings_through_the_audio_loop(tmp_path: object) -> None:
    from assistant.mqtt.commands import Ask

    loaded, events, _ = build()
    pipeline = loaded
    pipeline.submit(Ask("set a timer for one second"))
    pipeline.run(PacedSource(utterance(3.0)))
    announced = [event_to_json(e)["text"] for e in events if e.type == "announcement"]
    assert announced and "timer is done" in announced[0]
    replies = [event_to_json(e)["text"] for e in events if e.type == "reply"]
    assert replies[-1] == announced[0]  # spoken, after the timer was set
