"""End to end: `hearth run` on spoken WAV files, a real mosquitto, real models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from broker import Broker, Recorder
from hearth_cli import run_hearth, write_config
from speech import read_wav, utterance, write_wav

COMMAND_TOPICS = (
    "zigbee2mqtt/kitchen_light/set",
    "tasmota/desk_lamp/cmnd/POWER",
    "tasmota/desk_lamp/cmnd/Dimmer",
    "home/coffee_maker/set",
)


def _device_messages(recorder: Recorder) -> list[tuple[str, str]]:
    return [(t, p) for t, p, _ in recorder.messages if t in COMMAND_TOPICS]


def _assert_spoken(path: Path, min_s: float = 0.5) -> None:
    audio, rate = read_wav(path)
    assert len(audio) / rate >= min_s, f"reply is only {len(audio) / rate:.2f} s"
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms > 300, f"reply is near silent (RMS {rms:.0f})"


def _run(
    tmp_path: Path, broker: Broker, audio: np.ndarray, rate_hz: int = 16000, channels: int = 1
) -> Path:
    wav_in = write_wav(tmp_path / "in.wav", audio, rate_hz, channels)
    wav_out = tmp_path / "out.wav"
    config = write_config(tmp_path, broker.port)
    result = run_hearth(
        "run", "--config", str(config), "--input", str(wav_in), "--output", str(wav_out)
    )
    assert result.returncode == 0, result.stderr
    return wav_out


def test_command_after_wake_word_publishes_and_answers(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    audio = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 2.0)
    wav_out = _run(tmp_path, broker, audio)

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == [("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')]
    mirror = [json.loads(p) for p in recorder.on("hearth/kitchen/action")]
    assert [(m["entity_id"], m["service"], m["data"]) for m in mirror] == [
        ("light.kitchen_light", "turn_on", {})
    ]
    for kind in ("wake", "transcript", "intent", "action", "reply"):
        bodies = [json.loads(p) for p in recorder.on(f"hearth/kitchen/event/{kind}")]
        assert len(bodies) == 1, kind
        assert bodies[0]["v"] == 1 and bodies[0]["type"] == kind and bodies[0]["turn"]
    intent = json.loads(recorder.on("hearth/kitchen/event/intent")[0])
    assert intent["intent"] == "HassTurnOn" and intent["router_ms"] >= 0
    transcript = json.loads(recorder.on("hearth/kitchen/event/transcript")[0])
    assert "jarvis" not in transcript["text"].lower()
    reply = json.loads(recorder.on("hearth/kitchen/event/reply")[0])
    assert reply["text"] == "Turned on the Kitchen Light."
    live = [
        p for t, p, retained in recorder.messages if t.endswith("/availability") and not retained
    ]
    # online only once ready (a retained one may come first from an earlier test)
    assert live == ["offline", "online", "offline"]
    states = recorder.on("hearth/kitchen/state")
    assert {"listening", "thinking", "speaking"} <= set(states) and states[-1] == "idle"
    _assert_spoken(wav_out)


def test_command_in_one_breath_with_the_wake_word(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    audio = utterance(1.0, "Hey Jarvis turn off the desk lamp.", 2.0)
    wav_out = _run(tmp_path, broker, audio)

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == [("tasmota/desk_lamp/cmnd/POWER", "OFF")]
    _assert_spoken(wav_out)


def test_two_commands_in_a_row_from_a_stereo_44k_file(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    import soxr

    mono = utterance(
        1.0,
        "Hey Jarvis.",
        0.5,
        "Set the desk lamp to forty percent.",
        2.0,
        "Hey Jarvis.",
        0.5,
        "Turn on the coffee maker.",
        2.0,
    )
    resampled = soxr.resample(mono.astype(np.float32), 16000, 44100).astype(np.int16)
    stereo = np.stack([resampled, resampled], axis=1).reshape(-1)
    wav_out = _run(tmp_path, broker, stereo, rate_hz=44100, channels=2)

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == [
        ("tasmota/desk_lamp/cmnd/Dimmer", "40"),
        ("tasmota/desk_lamp/cmnd/POWER", "ON"),
        ("home/coffee_maker/set", "1"),
    ]
    assert len(recorder.on("hearth/kitchen/event/wake")) == 2
    _assert_spoken(wav_out, min_s=2.0)


def test_unmatched_command_says_sorry_and_publishes_nothing(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    audio = utterance(1.0, "Hey Jarvis.", 0.6, "Paint the moon purple.", 2.0)
    wav_out = _run(tmp_path, broker, audio)

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == []
    assert recorder.on("hearth/kitchen/action") == []
    errors = [json.loads(p) for p in recorder.on("hearth/kitchen/event/error")]
    assert [e["code"] for e in errors] == ["no_intent"]
    reply = json.loads(recorder.on("hearth/kitchen/event/reply")[0])
    assert reply["text"] == "Sorry, I didn't understand."
    _assert_spoken(wav_out)


def test_no_wake_word_publishes_nothing(tmp_path: Path, broker: Broker, recorder: Recorder) -> None:
    audio = utterance(
        1.0, "Turn on the kitchen light.", 1.0, "Set the desk lamp to ten percent.", 2.0
    )
    wav_out = _run(tmp_path, broker, audio)

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == []
    assert recorder.on("hearth/kitchen/event/wake") == []
    audio_out, _ = read_wav(wav_out)
    assert len(audio_out) == 0


@pytest.mark.parametrize("chunked", [False])
def test_raw_pcm_on_standard_input(
    tmp_path: Path, broker: Broker, recorder: Recorder, chunked: bool
) -> None:
    audio = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the coffee maker.", 2.0)
    config = write_config(tmp_path, broker.port)
    wav_out = tmp_path / "out.wav"
    result = run_hearth(
        "run",
        "--config",
        str(config),
        "--input",
        "-",
        "--output",
        str(wav_out),
        stdin=audio.astype("<i2").tobytes(),
    )
    assert result.returncode == 0, result.stderr

    recorder.wait_for("hearth/kitchen/availability", 2)
    assert _device_messages(recorder) == [("home/coffee_maker/set", "1")]
    _assert_spoken(wav_out)
