"""Trust, through the real daemon on a real broker: a typed yes never unlocks, a retained
command never runs, ``hearth ask`` beside a running daemon leaves it alone, and the files the
configuration names are read with care (a FIFO, a device) with one line and no hang."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from broker import Broker, Recorder
from daemon import Daemon
from hearth_cli import run_hearth, write_config

LOCK = """
[[entities]]
domain = "lock"
name = "Front Door"
unique_id = "front_door"
command_topic = "z2m/front_door/set"
suggested_area = "Hall"
"""


def _replies(recorder: Recorder, node: str, count: int) -> list[str]:
    found = recorder.wait_for(f"hearth/{node}/event/reply", count, timeout_s=60)
    return [json.loads(p)["text"] for p in found]


def test_a_typed_yes_does_not_unlock_and_hearth_ask_leaves_the_daemon_alone(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="porch", extra=LOCK)
    daemon = Daemon(config)
    try:
        daemon.wait_line("ready in", timeout_s=120)
        assert recorder.wait_value("hearth/porch/availability", "online", timeout_s=30)
        ask = "hearth/porch/cmd/ask"
        recorder.client.publish(ask, "unlock the front door", qos=1)
        assert _replies(recorder, "porch", 1) == ["Do you want me to unlock the Front Door?"]
        recorder.client.publish(ask, "yes", qos=1)
        assert _replies(recorder, "porch", 2)[1] == "Sorry, I didn't understand."
        time.sleep(1.0)
        assert recorder.on("z2m/front_door/set") == []  # nothing unlocked, ever

        # hearth ask with the daemon's own node_id: its own client id, no availability flaps
        before = len(recorder.on("hearth/porch/availability"))
        asked = run_hearth("ask", "--config", str(config), "lock the front door")
        assert asked.stdout.strip() == "Locked the Front Door.", asked.stderr
        assert recorder.wait_for("z2m/front_door/set") == ["LOCK"]
        time.sleep(1.0)
        assert recorder.on("hearth/porch/availability")[before:] == []
        recorder.client.publish(ask, "lock the front door", qos=1)  # the daemon still answers
        assert _replies(recorder, "porch", 4)[-1] == "Locked the Front Door."
    finally:
        assert daemon.stop() == 0
    assert "Traceback" not in "\n".join(daemon.lines)


def test_a_retained_command_is_refused_at_every_connect(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    recorder.client.publish("hearth/kept/cmd/ask", "turn on the kitchen light", retain=True, qos=1)
    config = write_config(tmp_path, broker.port, node_id="kept")
    daemon = Daemon(config)
    try:
        daemon.wait_line("ready in", timeout_s=120)
        errors = recorder.wait_for("hearth/kept/event/error", timeout_s=30)
        assert json.loads(errors[0])["code"] == "retained_command"
        assert "hearth/kept/cmd/ask" in json.loads(errors[0])["message"]
        time.sleep(1.0)
        assert recorder.on("zigbee2mqtt/kitchen_light/set") == []
    finally:
        assert daemon.stop() == 0
        recorder.client.publish("hearth/kept/cmd/ask", "", retain=True, qos=1)


def test_files_that_are_not_regular_files_are_refused_in_one_line(
    tmp_path: Path, broker: Broker
) -> None:
    fifo = tmp_path / "password.fifo"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero", str(tmp_path)):
        config = write_config(
            tmp_path, broker.port, node_id="files", extra=f'password_file = "{path}"\n'
        )
        started = time.monotonic()
        result = run_hearth("ask", "--config", str(config), "what time is it", timeout_s=60)
        assert time.monotonic() - started < 30  # refused at once, not waited on
        assert result.returncode == 78, result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("hearth: ") and path in line and "mqtt.password_file" in line


def test_the_journal_is_private(tmp_path: Path, broker: Broker) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path, broker.port, node_id="private")
    config.write_text(
        config.read_text().replace("[assistant]\n", f'[assistant]\ndata_dir = "{data}"\n')
    )
    result = run_hearth("ask", "--config", str(config), "what time is it")
    assert result.returncode == 0, result.stderr
    journal = data / "journal.sqlite"
    assert journal.is_file()
    assert oct(journal.stat().st_mode & 0o777) == oct(0o600)
    assert oct(data.stat().st_mode & 0o777) == oct(0o700)
    for companion in data.glob("journal.sqlite-*"):
        assert companion.stat().st_mode & 0o077 == 0, companion
