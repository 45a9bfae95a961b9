"""A slow or stuck language model: the turn says it is still thinking, and gives up cleanly at
its deadline. The helpers first, then the real default model through the Answerer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import Event, EventBus
from assistant.home.actions import MemoryPublisher
from assistant.turn.answer import STILL_THINKING, TOO_SLOW, Answerer
from assistant.understanding.patience import TimedOut, call_within, stream_within


def test_a_quick_result_comes_back_without_a_cue() -> None:
    cues: list[int] = []
    assert call_within(lambda: 42, 5.0, 1.0, lambda: cues.append(1)) == 42
    assert cues == []


def test_the_work_s_own_error_is_raised_in_the_waiting_thread() -> None:
    def fail() -> int:
        raise ValueError("broken model")

    with pytest.raises(ValueError, match="broken model"):
        call_within(fail, 5.0, 1.0, lambda: None)


def test_a_stuck_call_is_cued_once_then_abandoned() -> None:
    release = threading.Event()
    finished = threading.Event()

    def stuck() -> str:
        release.wait(30)
        finished.set()
        return "too late"

    cues: list[int] = []
    with pytest.raises(TimedOut):
        call_within(stuck, 0.4, 0.1, lambda: cues.append(1))
    assert cues == [1]
    assert not finished.is_set()  # the turn moved on while the call was still stuck
    release.set()
    assert finished.wait(5)


def test_a_slow_stream_is_cued_then_read_to_its_end() -> None:
    def pieces() -> Iterator[str]:
        time.sleep(0.3)
        yield "First."
        yield "Second."

    cues: list[int] = []
    assert list(stream_within(pieces, 10.0, 0.05, lambda: cues.append(1))) == [
        "First.",
        "Second.",
    ]
    assert cues == [1]


def test_a_silent_stream_times_out_and_a_late_one_is_cut() -> None:
    gate = threading.Event()

    def silent() -> Iterator[str]:
        gate.wait(30)
        yield "never heard"

    with pytest.raises(TimedOut):
        list(stream_within(silent, 0.2, 0, lambda: None))
    gate.set()

    def dawdling() -> Iterator[str]:
        yield "Quick."
        gate2.wait(30)
        yield "Far too late."

    gate2 = threading.Event()
    assert list(stream_within(dawdling, 0.3, 0, lambda: None)) == ["Quick."]
    gate2.set()


@pytest.fixture(scope="module")
def responder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Answerer]:
    data: Path = tmp_path_factory.mktemp("data")
    config = Config.model_validate({"assistant": {"data_dir": str(data)}})
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    hearth.prepare()  # as `hearth run` does once it listens
    yield hearth.answerer()


def _with_llm(responder: Answerer, **llm: float) -> list[Event]:
    router = responder.router
    router.config = router.config.model_copy(update=llm)
    events: list[Event] = []
    responder.bus.subscribe(events.append)
    return events


def test_the_real_model_past_its_deadline_gives_up_cleanly(responder: Answerer) -> None:
    events = _with_llm(responder, timeout_s=0.01, thinking_cue_s=0.0)
    record = responder.run_text("why do cats purr so much")
    assert record.outcome == "timeout"
    assert record.reply == TOO_SLOW
    errors = [e for e in events if e.type == "error"]
    assert [getattr(e, "code", "") for e in errors] == ["llm_timeout"]
    assert "llm.timeout_s" in getattr(errors[0], "message", "")
    assert [e.type for e in events].count("turn_end") == 1
    # the model is not left broken: a later turn with time to spare gets its answer
    events = _with_llm(responder, timeout_s=300.0, thinking_cue_s=0.0)
    again = responder.run_text("why do cats purr so much")
    assert again.outcome == "ok" and again.reply and again.reply != TOO_SLOW


def test_the_real_model_says_it_is_still_thinking(responder: Answerer) -> None:
    events = _with_llm(responder, timeout_s=300.0, thinking_cue_s=0.001)
    record = responder.run_text("tell me something about the moon")
    replies = [getattr(e, "text", "") for e in events if e.type == "reply"]
    assert replies[0] == STILL_THINKING
    assert record.outcome == "ok"
    assert record.reply and record.reply != STILL_THINKING
