"""The daemon's life: SIGHUP reloads the configuration, SIGTERM stops it gracefully, and a
damaged model stops it before it starts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from broker import Broker, Recorder
from daemon import Daemon
from hearth_cli import HEARTH, run_hearth, write_config

from assistant.models import resolve_llm, resolve_stt, resolve_tts, resolve_wake

GARDEN = """
[[entities]]
domain = "light"
name = "Garden Light"
unique_id = "garden_light"
command_topic = "garden/light/set"
"""

SENTENCES = """language: en
intents:
  HassTurnOn:
    data:
      - sentences:
          - "illuminate [the] {name}"
"""


def _replies(recorder: Recorder, node: str, count: int) -> list[str]:
    found = recorder.wait_for(f"hearth/{node}/event/reply", count, timeout_s=30)
    return [json.loads(p)["text"] for p in found]


def test_sighup_reloads_devices_and_sentences_and_refuses_a_bad_file(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="reloaded")
    original = config.read_text()
    daemon = Daemon(config)
    ask = "hearth/reloaded/cmd/ask"
    try:
        daemon.wait_line("ready in")
        recorder.client.publish(ask, "illuminate the garden light", qos=1)
        assert _replies(recorder, "reloaded", 1) == ["Sorry, I didn't understand."]

        sentences = tmp_path / "sentences"
        sentences.mkdir()
        (sentences / "garden.yaml").write_text(SENTENCES)
        config.write_text(
            original.replace("[mqtt]", f'[router]\nsentences_dir = "{sentences}"\n\n[mqtt]')
            + GARDEN
        )
        daemon.process.send_signal(signal.SIGHUP)
        done = daemon.wait_line("reloaded ")
        summary = daemon.lines[done]
        assert "router" in summary and "entities" in summary and "models unchanged" in summary
        recorder.client.publish(ask, "illuminate the garden light", qos=1)
        assert recorder.wait_for("garden/light/set") == ["ON"]

        good = config.read_text()
        config.write_text(good.replace("[mqtt]", '[vad]\nsilence_s = "long"\n\n[mqtt]'))
        daemon.process.send_signal(signal.SIGHUP)
        refused = daemon.wait_line("reload refused", after=done)
        assert "vad.silence_s" in daemon.lines[refused]
        errors = recorder.wait_for("hearth/reloaded/event/error", 2)
        assert [json.loads(e)["code"] for e in errors] == ["no_intent", "reload_refused"]
        recorder.client.publish(ask, "turn off the garden light", qos=1)
        assert recorder.wait_for("garden/light/set", 2) == ["ON", "OFF"]  # the old one stays

        # a YAML typo in a sentence file: one line naming the file, and the daemon lives on
        config.write_text(good)
        (sentences / "garden.yaml").write_text(SENTENCES.replace('{name}"', "{name}"))
        daemon.process.send_signal(signal.SIGHUP)
        typo = daemon.wait_line("reload refused", after=refused + 1)
        assert "garden.yaml" in daemon.lines[typo] and "YAML" in daemon.lines[typo]
        recorder.client.publish(ask, "illuminate the garden light", qos=1)
        assert recorder.wait_for("garden/light/set", 3) == ["ON", "OFF", "ON"]
    finally:
        assert daemon.stop() == 0
    assert "Traceback" not in "\n".join(daemon.lines)


def test_sighup_loads_again_only_the_model_whose_keys_changed(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="revoiced")
    daemon = Daemon(config)
    try:
        daemon.wait_line("ready in")
        config.write_text(
            config.read_text().replace("[mqtt]", "[tts]\nlength_scale = 1.3\n\n[mqtt]")
        )
        daemon.process.send_signal(signal.SIGHUP)
        line = daemon.lines[daemon.wait_line("reloaded ")]
        assert "models loaded again: tts" in line
        recorder.client.publish("hearth/revoiced/cmd/say", "Still here.", qos=1)
        assert _replies(recorder, "revoiced", 1) == ["Still here."]
    finally:
        assert daemon.stop() == 0


def test_sigterm_mid_reply_stops_within_five_seconds(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="hushed")
    daemon = Daemon(config)
    long_reply = " ".join(f"This is sentence {n} of a story." for n in range(30))[:1000]
    try:
        daemon.wait_line("ready in")
        recorder.client.publish("hearth/hushed/cmd/say", long_reply, qos=1)
        assert recorder.wait_value("hearth/hushed/state", "speaking", timeout_s=30)
        asked = time.monotonic()
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(10) == 0
        took_s = time.monotonic() - asked
    finally:
        code = daemon.stop()
    assert code == 0
    assert took_s < 5.0, took_s
    assert recorder.wait_for("hearth/hushed/availability", 3) == ["offline", "online", "offline"]
    ends = [json.loads(p) for p in recorder.wait_for("hearth/hushed/event/turn_end")]
    assert ends and ends[-1]["outcome"] == "cancelled"


def test_sigterm_lets_the_turn_in_progress_publish(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="finishing")
    daemon = Daemon(config)
    try:
        daemon.wait_line("ready in")
        recorder.client.publish("hearth/finishing/cmd/ask", "turn on the coffee maker", qos=1)
        assert recorder.wait_for("hearth/finishing/event/intent", timeout_s=30)
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(10) == 0
    finally:
        assert daemon.stop() == 0
    assert recorder.wait_for("home/coffee_maker/set") == ["1"]
    assert recorder.wait_for("hearth/finishing/availability", 3) == [
        "offline",
        "online",
        "offline",
    ]


def _truncated_copy(source: Path, target: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def _damaged_models(tmp_path: Path) -> dict[str, tuple[str, Path]]:
    """One damaged copy of each model kind: key → (config line, the file at fault)."""
    gguf = _truncated_copy(resolve_llm("smollm2-135m").paths[0], tmp_path / "model.gguf")
    voice_src = resolve_tts("en_US-joe-medium").paths[0]
    voice = _truncated_copy(voice_src, tmp_path / "voice.onnx")
    shutil.copy(voice_src.with_suffix(".onnx.json"), tmp_path / "voice.onnx.json")
    whisper = tmp_path / "whisper"
    shutil.copytree(resolve_stt("tiny.en").paths[0], whisper)
    _truncated_copy(whisper / "model.bin", whisper / "model.bin", 0.3)
    wake_src = resolve_wake("hey_jarvis").paths[0]
    wake = _truncated_copy(wake_src, tmp_path / f"hey_jarvis{wake_src.suffix}")
    return {
        "llm": (f'[llm]\nenabled = true\nmodel = "{gguf}"', gguf),
        "tts": (f'[tts]\nvoice = "{voice}"', voice),
        "stt": (f'[stt]\nmodel = "{whisper}"', whisper),
        "wake": (f'[wake]\nmodel = "{wake}"', wake),
    }


@pytest.mark.parametrize("stage", ["llm", "tts", "stt", "wake"])
def test_a_damaged_model_stops_hearth_run_with_exit_78(
    tmp_path: Path, broker: Broker, recorder: Recorder, stage: str
) -> None:
    line, at_fault = _damaged_models(tmp_path)[stage]
    node = f"damaged-{stage}"
    config = tmp_path / "config.toml"
    # write_config's [llm] section turns the model off; a damaged GGUF needs its own
    base = write_config(tmp_path, broker.port, node_id=node).read_text()
    if stage == "llm":
        base = base.replace("[llm]\nenabled = false\n", "")
    config.write_text(f"{line}\n\n{base}")
    notify = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(0.1)
        env = {**os.environ, "NOTIFY_SOCKET": str(notify)}
        result = run_hearth(
            "run", "--config", str(config), "--input", "-", stdin=b"", env=env, timeout_s=120
        )
        said = []
        while True:
            try:
                said.append(sock.recv(4096).decode())
            except TimeoutError:
                break
    assert result.returncode == 78, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("hearth: ") and str(at_fault) in message
    assert not any("READY=1" in s for s in said)  # never a half-started daemon
    published = recorder.on(f"hearth/{node}/availability")
    assert "online" not in published  # never online: it was never ready


def test_sigterm_while_loading_stops_at_once(tmp_path: Path, broker: Broker) -> None:
    config = write_config(tmp_path, broker.port, node_id="early-stop")
    process = subprocess.Popen(
        [HEARTH, "run", "--config", str(config), "--input", "-", "--output", "/dev/null"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # inside the model loading
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert process.stderr is not None and b"Traceback" not in process.stderr.read()
