"""The real-time benchmark's bookkeeping: its configuration, attribution of what Hearth said to
each utterance, and its statistics. The run itself is in tests/integration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.config.load import load_config
from assistant.tools.bench_speech import (
    BENCH_ENTITIES,
    COMMANDS,
    CONDITIONS,
    Spoken,
    speech_end_sample,
)
from assistant.tools.realtime import _bench_config, parse_setting
from assistant.tools.realtime_report import (
    Message,
    observe,
    payload_matches,
    spread,
    turns_in,
)


def test_bench_config_is_a_valid_hearth_configuration(tmp_path: Path) -> None:
    path = _bench_config(tmp_path, 18830, {"vad.early_match_s": 0.0, "stt.beam_size": 1})
    config = load_config(str(path))[0]
    assert config.mqtt.port == 18830
    assert config.vad.early_match_s == 0.0
    assert config.dashboard.enabled is False
    assert [e.unique_id for e in config.entities] == [e["unique_id"] for e in BENCH_ENTITIES]


def test_every_command_addresses_a_bench_device() -> None:
    topics = {e["command_topic"] for e in BENCH_ENTITIES}
    assert {c.topic for c in COMMANDS} <= topics
    assert any(c.paused for c in COMMANDS)


def test_parse_setting_types_values_and_refuses_bare_keys() -> None:
    assert parse_setting("vad.early_match_s=0") == ("vad.early_match_s", 0)
    assert parse_setting("vad.early_match_s=0.2") == ("vad.early_match_s", 0.2)
    assert parse_setting("llm.enabled=false") == ("llm.enabled", False)
    assert parse_setting("tts.voice=en_US-joe-medium") == ("tts.voice", "en_US-joe-medium")
    assert parse_setting("early_match_s=0") is None
    assert parse_setting("vad.early_match_s") is None


def test_payload_matches_json_subsets_and_exact_text() -> None:
    assert payload_matches({"state": "ON"}, '{"state":"ON","brightness":77}')
    assert not payload_matches({"state": "ON", "brightness": 77}, '{"state":"ON"}')
    assert not payload_matches({"state": "ON"}, "ON")
    assert payload_matches("ON", "ON\n")
    assert not payload_matches("ON", "OFF")


def test_spread_uses_the_nearest_rank_ninetieth_percentile() -> None:
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert spread(values) == {"n": 10, "median_ms": 5.5, "p90_ms": 9.0, "max_ms": 10.0}
    assert spread([7.0])["p90_ms"] == 7.0
    assert spread([])["median_ms"] is None


def test_speech_end_is_where_the_voice_stops_not_where_the_file_does() -> None:
    rate = 16000
    tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)
    audio = np.concatenate([np.zeros(rate // 2), tone, np.zeros(rate)]).astype(np.float32)
    end = speech_end_sample(audio)
    assert abs(end - (rate // 2 + rate)) <= rate // 100


def _msg(at: float, topic: str, body: object) -> Message:
    payload = body if isinstance(body, str) else json.dumps(body)
    return Message(at, topic, payload)


def test_device_messages_and_events_are_given_to_the_utterance_whose_turn_woke_in_it() -> None:
    command = COMMANDS[0]
    spoken = [
        Spoken(command, "v", CONDITIONS[0], np.zeros(16000 * 5, dtype=np.int16), 16000 * 3),
        Spoken(command, "v", CONDITIONS[0], np.zeros(16000 * 5, dtype=np.int16), 16000 * 3),
    ]
    ev = "hearth/bench/event/"
    messages = [
        _msg(1.0, ev + "wake", {"turn": "a", "audio_s": 1.5}),
        _msg(3.3, ev + "speech_end", {"turn": "a", "reason": "early_match"}),
        _msg(3.5, ev + "transcript", {"turn": "a", "text": "Turn on the porch light."}),
        _msg(3.6, command.topic, '{"state":"ON"}'),
        _msg(3.6, "hearth/bench/action", {"turn": "a"}),
        # the second utterance's turn ends late: its events arrive during the third second
        # of its own stretch, after the first turn's reply started
        _msg(3.8, ev + "speech_start", {"turn": "a"}),
        _msg(6.0, ev + "wake", {"turn": "b", "audio_s": 6.4}),
        _msg(9.9, ev + "speech_start", {"turn": "b"}),
    ]
    turns = turns_in(messages)
    first = observe(0, spoken[0], 3.0, (0, 80000), turns)
    second = observe(1, spoken[1], 8.0, (80000, 160000), turns)
    assert first.correct and first.end_reason == "early_match"
    assert round(first.to_publish_s or 0, 3) == 0.6
    assert round(first.to_first_audio_s or 0, 3) == 0.8
    assert not second.correct and second.to_publish_s is None
    assert round(second.to_first_audio_s or 0, 3) == 1.9
    nothing = observe(2, spoken[0], 12.0, (160000, 240000), turns)
    assert nothing.end_reason == "no_wake" and nothing.to_first_audio_s is None


def test_the_home_assistant_chain_understands_as_hassil_and_its_intents_do() -> None:
    from assistant.tools.ha_chain import _Intents

    intents = _Intents()
    on = intents.recognise("Turn on the Porch Light.")
    assert on is not None
    assert on[0] == [("bench/porch_light/set", '{"state": "ON"}')]
    assert on[1].startswith("Turned on")
    dim = intents.recognise("Set the Reading Lamp to 30%.")
    assert dim is not None and dim[0] == [
        ("bench/reading_lamp/set", '{"state": "ON", "brightness": 76}')
    ]
    assert dim[1] == "Brightness set"
    pump = intents.recognise("switch on the garden pump")
    assert pump is not None and pump[0] == [("bench/garden_pump/set", "ON")]
    assert intents.recognise("make it cosy in here") is None
