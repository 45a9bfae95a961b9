"""A free answer never claims a home action: layer 3 publishes nothing, so it may not say it
did."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from assistant.config import LlmConfig
from assistant.understanding.free_answer import NOTHING_DONE, FreeAnswerer, claims_an_action

CLAIMS = [
    "The ceiling fan was turned off.",
    "I have switched on the kitchen light.",
    "I've unlocked the front door for you.",
    "Sure, turning on the fan now.",
    "Okay, I turned the lights off.",
    "Done! The door is locked.",
    "The television has been switched off.",
    "I’ll turn the heating up.",
]
NOT_CLAIMS = [
    "The capital of France is Paris.",
    "Spiders have eight legs.",
    "Is the light on?",
    "You can turn off the light with the switch by the door.",
    "Seven times eight is fifty-six.",
    "Romeo and Juliet was written by William Shakespeare.",
    "I can help you with that.",
    "A noun is a word that names a person, place or thing.",
]


@pytest.mark.parametrize("sentence", CLAIMS)
def test_claims(sentence: str) -> None:
    assert claims_an_action(sentence)


@pytest.mark.parametrize("sentence", NOT_CLAIMS)
def test_not_claims(sentence: str) -> None:
    assert not claims_an_action(sentence)


class Streaming:
    def __init__(self, pieces: Sequence[str]) -> None:
        self.pieces = list(pieces)

    def load(self) -> None:
        return None

    def complete_json(self, *args: Any) -> str:
        raise AssertionError("a free answer asks for no tool call")

    def stream(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int, deadline_s: float
    ) -> Iterator[str]:
        return iter(self.pieces)

    def prepare(
        self,
        messages: Sequence[Mapping[str, str]],
        schema: Mapping[str, Any],
        deadline_s: float,
        gives_way: bool = False,
    ) -> bool:
        return False

    def cancel(self) -> None:
        return None


def test_a_claimed_action_is_not_spoken() -> None:
    pieces = ["The ceiling fan ", "was turned off. ", "Anything else? ", "It is done, ", "I "]
    pieces += ["switched it off."]
    answerer = FreeAnswerer(Streaming(pieces), LlmConfig())
    spoken = list(answerer.answer("switch off the television", [], "", 60, 10.0))
    assert spoken == [NOTHING_DONE, "Anything else?"]
    # what the model wrote is still kept for the journal
    assert "was turned off" in answerer.last_exchange.outputs[-1]  # type: ignore[union-attr]
