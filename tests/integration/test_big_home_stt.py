"""The speech-to-text name hint of a home of 2,000 devices, with the real tiny.en and its own
tokenizer: within the tokens faster-whisper keeps, the likeliest names kept and written last."""

from __future__ import annotations

import pytest
from speech import say

from assistant.config import SttConfig
from assistant.home.discovery import Discovered, parse_discovery
from assistant.home.entities import EntityRegistry
from assistant.models import resolve_stt
from assistant.tools.generated_home import generate_home
from assistant.turn.name_hints import hint_names
from assistant.voice.stt import PROMPT_TOKENS, WhisperSpeechToText

KEPT_BY_FASTER_WHISPER = 448 // 2 - 1  # its get_prompt() keeps previous_tokens[-223:]


@pytest.fixture(scope="module")
def stt() -> WhisperSpeechToText:
    model = WhisperSpeechToText(resolve_stt("tiny.en"), SttConfig(), "en")
    model.load()
    return model


def home_of(devices: int) -> EntityRegistry:
    found = []
    for device in generate_home(devices):
        result = parse_discovery(device.topic, device.payload.encode())
        assert isinstance(result, Discovered)
        found.append(result.entity)
    return EntityRegistry(found)


@pytest.fixture(scope="module")
def registry() -> EntityRegistry:
    return home_of(2000)


def test_the_hint_fits_what_faster_whisper_keeps(
    stt: WhisperSpeechToText, registry: EntityRegistry
) -> None:
    names = hint_names(registry, "study_9", ["cover.office_17_blinds", "light.porch_21_light"])
    prompt = stt.prompt(names)
    tokens = stt.count_tokens(" " + prompt)
    assert PROMPT_TOKENS == KEPT_BY_FASTER_WHISPER
    assert 150 < tokens <= PROMPT_TOKENS  # full, and nothing cut off its front
    said = prompt.rstrip(".").split(", ")
    assert said[-1] == "Porch 21 Light" and said[-2] == "Office 17 Blinds"  # the newest last
    assert {"Study 9 Light", "Study 9 Blinds", "Study 9"} <= set(said)  # this room
    assert len(said) == len(set(said))


def test_a_small_home_keeps_every_name(stt: WhisperSpeechToText) -> None:
    names = hint_names(home_of(10))
    assert set(stt.prompt(names).rstrip(".").split(", ")) == set(names)


def test_a_recently_used_name_is_heard_in_a_big_home(
    stt: WhisperSpeechToText, registry: EntityRegistry
) -> None:
    """Without a hint tiny.en writes "seller 9 door lock"; the hint has the name kept."""
    audio = say("Unlock the Cellar 9 Door Lock.")
    names = hint_names(registry, "", ["lock.cellar_9_door_lock"])
    assert "Cellar 9 Door Lock" in stt.transcribe(audio, names)
