"""The MQTT link against a real mosquitto: availability, Last Will, actions, refusals."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from broker import Broker, Recorder, free_port
from hearth_cli import HEARTH, run_hearth, write_config

from assistant.config import MqttConfig
from assistant.errors import ActionError, ConfigError
from assistant.events import AssistantState, StateChanged, TurnFailed
from assistant.home.entities import Action, MqttMessage
from assistant.mqtt.link import MqttLink


def test_link_publishes_availability_state_and_actions(broker: Broker, recorder: Recorder) -> None:
    link = MqttLink(MqttConfig(port=broker.port), "hall")
    link.start()
    assert link.wait_connected(5)
    assert recorder.wait_for("hearth/hall/state") == ["starting"]  # connected, not yet ready
    link.mark_ready()
    link.publish(MqttMessage("zigbee2mqtt/hall/set", '{"state":"ON"}'))
    link.mirror(Action("light.hall", "turn_on", {"brightness_pct": 20}), "t1")
    link.on_event(StateChanged(turn=None, state=AssistantState.LISTENING))
    link.on_event(TurnFailed(turn="t1", code="no_intent", message="nothing matched"))
    assert link.flush(5)
    link.stop()

    # online only once ready
    assert recorder.wait_for("hearth/hall/availability", 3) == ["offline", "online", "offline"]
    assert recorder.on("zigbee2mqtt/hall/set") == ['{"state":"ON"}']
    assert json.loads(recorder.on("hearth/hall/action")[0]) == {
        "v": 1,
        "entity_id": "light.hall",
        "service": "turn_on",
        "data": {"brightness_pct": 20},
        "turn": "t1",
    }
    assert recorder.on("hearth/hall/state") == ["starting", "idle", "listening"]
    error = json.loads(recorder.wait_for("hearth/hall/event/error")[0])
    assert error["code"] == "no_intent" and error["type"] == "error" and error["v"] == 1
    assert link.callback_errors == []

    late = Recorder(broker.port)  # retained: a newcomer sees the last availability and state
    try:
        assert late.wait_for("hearth/hall/availability") == ["offline"]
        assert late.wait_for("hearth/hall/state") == ["listening"]
    finally:
        late.close()


def test_the_mute_switch_state_is_its_own_retained_topic(
    broker: Broker, recorder: Recorder
) -> None:
    """hearth/<id>/mute follows mute, not the state: a turn taken while muted leaves it ON."""
    link = MqttLink(MqttConfig(port=broker.port), "den")
    link.start()
    assert link.wait_connected(5)
    link.mark_ready()
    for state, muted in [
        (AssistantState.MUTED, True),
        (AssistantState.LISTENING, True),  # Listen pressed while muted
        (AssistantState.THINKING, True),
        (AssistantState.MUTED, True),
        (AssistantState.IDLE, False),
    ]:
        link.on_event(StateChanged(turn=None, state=state, muted=muted))
    assert link.flush(5)
    recorder.wait_for("hearth/den/mute", 4)  # on connecting, on ready, then the changes
    mute = recorder.on("hearth/den/mute")
    assert [m for i, m in enumerate(mute) if i == 0 or m != mute[i - 1]] == ["OFF", "ON", "OFF"]
    assert recorder.on("hearth/den/state")[-4:] == ["listening", "thinking", "muted", "idle"]
    link.on_event(StateChanged(turn=None, state=AssistantState.MUTED, muted=True))
    assert link.flush(5)
    link.stop()
    late = Recorder(broker.port)  # retained: Home Assistant sees it after a restart
    try:
        assert late.wait_for("hearth/den/mute") == ["ON"]
    finally:
        late.close()
    assert link.callback_errors == []


def test_unreachable_broker_refuses_actions() -> None:
    link = MqttLink(MqttConfig(port=free_port()), "nowhere")
    link.start()
    try:
        assert not link.wait_connected(1.0)
        with pytest.raises(ActionError) as caught:
            link.publish(MqttMessage("a/set", "ON"))
        assert caught.value.message == "I can't reach the home hub."
    finally:
        link.stop()
    assert link.callback_errors == []


def test_unreadable_password_file_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mqtt\.password_file"):
        MqttLink(MqttConfig(username="u", password_file=str(tmp_path / "missing")), "x")


def test_ask_publishes_the_action(tmp_path: Path, broker: Broker, recorder: Recorder) -> None:
    config = write_config(tmp_path, broker.port)
    result = run_hearth("ask", "--config", str(config), "set the kitchen light to 30 percent")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Set the Kitchen Light to 30 percent."
    assert recorder.wait_for("zigbee2mqtt/kitchen_light/set") == ['{"state":"ON","brightness":76}']


def test_ask_without_a_broker_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    result = run_hearth("ask", "--config", str(config), "turn on the coffee maker")
    assert result.returncode == 1
    assert result.stdout.strip() == "I can't reach the home hub."


def start_daemon(config: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """``hearth run`` reading raw PCM from a pipe the test holds open."""
    return subprocess.Popen(
        [
            HEARTH,
            "run",
            "--config",
            str(config),
            "--input",
            "-",
            "--output",
            str(tmp_path / "o.wav"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_last_will_marks_a_killed_daemon_offline(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="killed")
    process = start_daemon(config, tmp_path)
    try:
        assert recorder.wait_value("hearth/killed/availability", "online", timeout_s=60)
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert recorder.wait_for("hearth/killed/availability", 3) == ["offline", "online", "offline"]


def test_sigterm_stops_cleanly_and_says_offline(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    config = write_config(tmp_path, broker.port, node_id="stopped")
    process = start_daemon(config, tmp_path)
    try:
        assert recorder.wait_value("hearth/stopped/availability", "online", timeout_s=60)
        # "starting" while the models load, "idle" once ready
        assert recorder.wait_for("hearth/stopped/state", 2, timeout_s=60)[:2] == [
            "starting",
            "idle",
        ]
        assert process.stdin is not None
        process.stdin.write(bytes(2560 * 10))  # 0.8 s of silence, then keep the pipe open
        process.stdin.flush()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert process.stderr is not None
    assert b"Traceback" not in process.stderr.read()
    assert recorder.wait_for("hearth/stopped/availability", 3) == ["offline", "online", "offline"]


def test_another_hearths_announcement_is_not_a_device() -> None:
    from types import SimpleNamespace

    from assistant.home.home import Home
    from assistant.mqtt.announce import discovery_messages

    home = Home()
    link = MqttLink(MqttConfig(), "kitchen", home=home)
    for topic, payload in discovery_messages("homeassistant", "bedroom"):
        link._on_message(None, None, SimpleNamespace(topic=topic, payload=payload.encode()))
    plug = json.dumps({"name": "Kettle", "command_topic": "k/set", "unique_id": "kettle"})
    link._on_message(
        None,
        None,
        SimpleNamespace(topic="homeassistant/switch/kettle/config", payload=plug.encode()),
    )
    assert link.settle_discovery(5)
    assert [e.name for e in home.registry()] == ["Kettle"]
    assert link.callback_errors == []


def test_a_retained_command_is_refused_and_never_run(broker: Broker, recorder: Recorder) -> None:
    recorder.client.publish("hearth/keep/cmd/ask", "turn on the kitchen light", qos=1, retain=True)
    time.sleep(0.3)
    got: list[object] = []
    errors: list[TurnFailed] = []
    link = MqttLink(
        MqttConfig(port=broker.port),
        "keep",
        emit=lambda e: errors.append(e) if isinstance(e, TurnFailed) else None,
        on_command=lambda command, topic, arrived: got.append(command),
    )
    link.start()
    try:
        assert link.wait_connected(5)
        deadline = time.monotonic() + 5
        while not errors and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == []
        assert [e.code for e in errors] == ["retained_command"]
        assert "hearth/keep/cmd/ask" in errors[0].message
        recorder.client.publish("hearth/keep/cmd/ask", "what time is it", qos=1)  # not retained
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(got) == 1
    finally:
        link.stop()
        recorder.client.publish("hearth/keep/cmd/ask", "", qos=1, retain=True)


def test_commands_that_come_while_starting_are_kept_with_their_arrival_time(
    broker: Broker, recorder: Recorder
) -> None:
    link = MqttLink(MqttConfig(port=broker.port), "early")
    link.start()
    try:
        assert link.wait_connected(5)
        assert recorder.wait_value("hearth/early/state", "starting")
        sent = time.perf_counter()
        recorder.client.publish("hearth/early/cmd/say", "Good morning.", qos=1)
        time.sleep(0.5)  # the models are still loading: nobody takes commands yet
        got: list[tuple[object, str, float]] = []
        link.on_command = lambda command, topic, arrived: got.append((command, topic, arrived))
        assert len(got) == 1
        command, topic, arrived = got[0]
        assert topic == "hearth/early/cmd/say" and command.text == "Good morning."
        assert sent <= arrived < sent + 0.5  # when it came, not when it was handed over
    finally:
        link.stop()


def test_a_client_link_never_speaks_for_the_daemon(broker: Broker, recorder: Recorder) -> None:
    daemon = MqttLink(MqttConfig(port=broker.port), "twin")
    daemon.start()
    assert daemon.wait_connected(5)
    daemon.mark_ready()
    assert recorder.wait_value("hearth/twin/availability", "online")
    ask = MqttLink(MqttConfig(port=broker.port), "twin", client=True)
    assert ask.client_id != daemon.client_id
    ask.start()
    try:
        assert ask.wait_connected(5)
        ask.on_event(StateChanged(turn=None, state=AssistantState.THINKING))
        ask.publish(MqttMessage("zigbee2mqtt/twin/set", "ON"))
        assert ask.flush(5)
    finally:
        ask.stop()
    time.sleep(0.5)
    assert daemon.connected  # the same node id did not take the daemon's connection
    assert recorder.on("hearth/twin/availability") == ["offline", "online"]
    assert "thinking" not in recorder.on("hearth/twin/state")
    assert recorder.on("zigbee2mqtt/twin/set") == ["ON"]
    daemon.stop()


def test_buttons_and_events_are_skipped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """Components that are not voice devices (a Zigbee2MQTT identify button, a remote's action
    events) are left out at debug level; a broken payload is still worth an info line."""
    import logging
    from types import SimpleNamespace

    from assistant.home.home import Home

    home = Home()
    link = MqttLink(MqttConfig(), "kitchen", home=home)
    button = {"name": "Identify", "command_topic": "z2m/remote/set", "unique_id": "r_identify"}
    event = {"name": "Action", "state_topic": "z2m/remote", "event_types": ["single"]}
    messages = [
        ("homeassistant/button/0x01/identify/config", json.dumps(button)),
        ("homeassistant/event/0x01/action/config", json.dumps(event)),
        ("homeassistant/light/0x01/light/config", "{not json"),
    ]
    with caplog.at_level(logging.DEBUG, logger="assistant.mqtt.intake"):
        for topic, payload in messages:
            link._on_message(None, None, SimpleNamespace(topic=topic, payload=payload.encode()))
        assert link.settle_discovery(5)
    levels = {r.getMessage().split()[1]: r.levelno for r in caplog.records}
    assert levels == {
        "homeassistant/button/0x01/identify/config": logging.DEBUG,
        "homeassistant/event/0x01/action/config": logging.DEBUG,
        "homeassistant/light/0x01/light/config": logging.INFO,
    }
    assert len(home.registry()) == 0
    assert link.callback_errors == []
