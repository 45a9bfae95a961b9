"""No invented replies, with the real bundled language model: a command for a device the home
does not have is answered by a fixed sentence that names it, never by the model, and nothing
is published; the free answers the model does give never claim a home action."""

from __future__ import annotations

from typing import Any

import pytest
from router_table import ENTITIES

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus, ModelConsulted
from assistant.home.actions import MemoryPublisher
from assistant.understanding.free_answer import claims_an_action


@pytest.fixture(scope="module")
def hearth() -> Any:
    config = Config.model_validate(
        {"entities": ENTITIES, "llm": {"enabled": True, "timeout_s": 120.0}}
    )
    bus, publisher = EventBus(), MemoryPublisher()
    built = assemble(config, bus=bus, publisher=publisher, listen=False, speak=False)
    return built, bus, publisher


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("switch off the television", "I don't know a device called television."),
        ("turn on the bathroom heater", "I don't know a device called bathroom heater."),
    ],
)
def test_an_unknown_device_is_named_and_the_model_not_asked(
    hearth: Any, text: str, reply: str
) -> None:
    built, bus, publisher = hearth
    consulted: list[ModelConsulted] = []
    unsubscribe = bus.subscribe(
        lambda e: consulted.append(e) if isinstance(e, ModelConsulted) else None
    )
    try:
        record = built.answerer().run_text(text)
    finally:
        unsubscribe()
    assert record.reply == reply and record.outcome == "unknown_name"
    assert consulted == [] and publisher.messages == []


def test_free_answers_claim_no_action(hearth: Any) -> None:
    built, _, publisher = hearth
    for text in ("tell me something about ceiling fans", "what does a thermostat do"):
        record = built.answerer().run_text(text)
        assert publisher.messages == []
        assert not any(claims_an_action(s) for s in record.reply.split(". ")), record.reply
