"""Hearth in an MQTT home: devices from retained discovery only, state questions, the cmd/*
API, and a broker that is stopped and restarted mid-run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import Broker, Recorder, free_port, publish_retained
from daemon import Daemon
from hearth_cli import run_hearth
from speech import utterance

LAMP = (  # Zigbee2MQTT: JSON schema, name null (the device's name is the entity's name)
    "homeassistant/light/0x00158d0001a2b3c4/light/config",
    {
        "availability": [
            {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
        ],
        "brightness": True,
        "brightness_scale": 254,
        "command_topic": "zigbee2mqtt/Living Room Lamp/set",
        "device": {
            "identifiers": ["zigbee2mqtt_0x00158d0001a2b3c4"],
            "manufacturer": "IKEA",
            "model": "LED1545G12",
            "name": "Living Room Lamp",
            "suggested_area": "Living Room",
        },
        "name": None,
        "object_id": "living_room_lamp",
        "schema": "json",
        "state_topic": "zigbee2mqtt/Living Room Lamp",
        "unique_id": "0x00158d0001a2b3c4_light_zigbee2mqtt",
    },
)
COFFEE = (  # Tasmota (SetOption19): abbreviated keys
    "homeassistant/switch/1A2B3C_RL_1/config",
    {
        "name": "Coffee Maker",
        "stat_t": "tele/tasmota_1A2B3C/STATE",
        "avty_t": "tele/tasmota_1A2B3C/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
        "cmd_t": "cmnd/tasmota_1A2B3C/POWER",
        "val_tpl": "{{value_json.POWER}}",
        "pl_off": "OFF",
        "pl_on": "ON",
        "uniq_id": "1A2B3C_RL_1",
        "dev": {
            "ids": ["1A2B3C"],
            "name": "Coffee Maker",
            "mdl": "Sonoff Basic",
            "sw": "13.1.0",
            "mf": "Tasmota",
            "sa": "Kitchen",
        },
    },
)
GARAGE = (
    "homeassistant/cover/garage/door/config",
    {
        "name": "Garage Door",
        "unique_id": "esp_garage_door",
        "device_class": "garage",
        "command_topic": "garage/door/command",
        "state_topic": "garage/door/state",
        "device": {
            "identifiers": ["esp-garage"],
            "name": "Garage Controller",
            "suggested_area": "Garage",
        },
    },
)
THERMOMETER = (
    "homeassistant/sensor/0x00124b0022ab3344/temperature/config",
    {
        "device_class": "temperature",
        "state_topic": "zigbee2mqtt/Living Room Sensor",
        "unit_of_measurement": "°C",
        "value_template": "{{ value_json.temperature }}",
        "unique_id": "0x00124b0022ab3344_temperature_zigbee2mqtt",
        "object_id": "living_room_sensor_temperature",
        "name": "Temperature",
        "has_entity_name": True,
        "device": {
            "identifiers": ["zigbee2mqtt_0x00124b0022ab3344"],
            "name": "Living Room Sensor",
            "suggested_area": "Living Room",
        },
    },
)
STATES = [
    ("zigbee2mqtt/Living Room Lamp", '{"state":"OFF","brightness":0}'),
    ("tele/tasmota_1A2B3C/STATE", '{"POWER":"OFF","Uptime":"0T01:00:00"}'),
    ("garage/door/state", "closed"),
    ("zigbee2mqtt/Living Room Sensor", '{"temperature":21.5,"humidity":48,"battery":97}'),
]


def announce(port: int, *devices: tuple[str, dict[str, object]]) -> None:
    publish_retained(port, [(topic, json.dumps(body)) for topic, body in devices])


def config_file(tmp_path: Path, port: int, node_id: str, extra: str = "") -> Path:
    path = tmp_path / f"{node_id}.toml"
    path.write_text(
        f'[assistant]\nnode_id = "{node_id}"\n\n[llm]\nenabled = false\n\n'
        f"[mqtt]\nport = {port}\n{extra}"
    )
    return path


@pytest.fixture
def home_broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(free_port(), tmp_path, persistent=True)
    broker.start()
    announce(broker.port, LAMP, COFFEE, GARAGE, THERMOMETER)
    publish_retained(broker.port, STATES)
    yield broker
    broker.stop()


@pytest.mark.parametrize(
    ("question", "reply", "messages"),
    [
        (
            "turn off the coffee maker",
            "Turned off the Coffee Maker.",
            [("cmnd/tasmota_1A2B3C/POWER", "OFF")],
        ),
        (
            "set the living room lamp to 50 percent",
            "Set the Living Room Lamp to 50 percent.",
            [("zigbee2mqtt/Living Room Lamp/set", '{"state":"ON","brightness":127}')],
        ),
        ("what is the temperature in the living room", "It's 21.5 degrees in the living room.", []),
        ("is the garage door open", "No, the Garage Door is closed.", []),
        ("is the coffee maker on", "No, the Coffee Maker is off.", []),
    ],
)
def test_discovered_devices_answer_ask(
    tmp_path: Path,
    home_broker: Broker,
    question: str,
    reply: str,
    messages: list[tuple[str, str]],
) -> None:
    recorder = Recorder(home_broker.port)
    try:
        result = run_hearth(
            "ask", "--config", str(config_file(tmp_path, home_broker.port, "a1")), question
        )
        assert result.stdout.strip() == reply, result.stderr
        assert result.returncode == 0
        recorder.wait_for("hearth/a1/event/turn_end")  # hearth ask is done
        device_topics = {t for t, _ in STATES} | {
            "cmnd/tasmota_1A2B3C/POWER",
            "zigbee2mqtt/Living Room Lamp/set",
            "garage/door/command",
        }
        sent = [
            (t, p) for t, p, retained in recorder.messages if t in device_topics and not retained
        ]
        assert sent == messages
    finally:
        recorder.close()


def test_opening_the_garage_is_not_done_without_confirmation(
    tmp_path: Path, home_broker: Broker
) -> None:
    recorder = Recorder(home_broker.port)
    try:
        result = run_hearth(
            "ask",
            "--config",
            str(config_file(tmp_path, home_broker.port, "a2")),
            "open the garage door",
        )
        assert result.stdout.strip() == "Do you want me to open the Garage Door?"
        recorder.wait_for("hearth/a2/event/turn_end")  # hearth ask is done
        assert recorder.on("garage/door/command") == []
    finally:
        recorder.close()


def test_discovery_removal_and_exposure(tmp_path: Path, home_broker: Broker) -> None:
    config = config_file(tmp_path, home_broker.port, "a3", '\n[expose]\nareas = ["Kitchen"]\n')
    hidden = run_hearth("ask", "--config", str(config), "turn on the living room lamp")
    assert hidden.stdout.strip() == "I don't know a device called living room lamp."
    shown = run_hearth("ask", "--config", str(config), "turn on the coffee maker")
    assert shown.stdout.strip() == "Turned on the Coffee Maker."

    publish_retained(home_broker.port, [(COFFEE[0], "")])  # the device is removed
    gone = run_hearth("ask", "--config", str(config), "turn on the coffee maker")
    assert gone.stdout.strip() == "I don't know a device called coffee maker."


def test_cmd_api_and_a_broker_restart(tmp_path: Path, home_broker: Broker) -> None:
    recorder = Recorder(home_broker.port, client_id="restart-recorder")
    daemon = Daemon(config_file(tmp_path, home_broker.port, "hall", "command_ttl_s = 8\n"))
    try:
        daemon.wait_line("ready in")
        # Hearth announces itself
        assert recorder.wait_for("homeassistant/switch/hearth_hall/mute/config")
        # cmd/ask acts at once; bad payloads are refused by name and change nothing
        publish = recorder.client.publish
        publish("hearth/hall/cmd/ask", "turn on the coffee maker", qos=1)
        assert recorder.wait_for("cmnd/tasmota_1A2B3C/POWER") == ["ON"]
        publish("hearth/hall/cmd/ask", b"\xff\xfe", qos=1)
        publish("hearth/hall/cmd/say", "x" * 5000, qos=1)
        errors = [json.loads(p) for p in recorder.wait_for("hearth/hall/event/error", 2)]
        assert [e["code"] for e in errors] == ["bad_encoding", "payload_too_large"]
        assert errors[0]["message"].startswith("hearth/hall/cmd/ask")
        publish("hearth/hall/cmd/mute", "ON", qos=1)
        assert recorder.wait_value("hearth/hall/state", "muted")
        publish("hearth/hall/cmd/mute", "OFF", qos=1)
        publish("hearth/hall/cmd/say", "The laundry is done.", qos=1)
        replies = [json.loads(p)["text"] for p in recorder.wait_for("hearth/hall/event/reply", 2)]
        assert replies == ["Turned on the Coffee Maker.", "The laundry is done."]

        # the broker goes away; a spoken command waits for it, within the TTL
        home_broker.stop()
        mark = daemon.wait_line("disconnected from broker")
        daemon.say(utterance("Hey Jarvis.", 0.5, "Turn off the coffee maker.", 1.0))
        daemon.wait_line("queued=True", after=mark)
        home_broker.start()
        delivered = recorder.wait_for("cmnd/tasmota_1A2B3C/POWER", 2, timeout_s=30)
        assert delivered == ["ON", "OFF"], "\n".join(daemon.lines[mark:])

        # gone longer than the TTL: the command is dropped, never fired late
        home_broker.stop()
        mark = daemon.wait_line("disconnected from broker", after=mark + 1)
        daemon.say(utterance("Hey Jarvis.", 0.5, "Turn on the coffee maker.", 1.0))
        daemon.wait_line("queued=True", after=mark)
        time.sleep(9)
        home_broker.start()
        daemon.wait_line("command_expired", after=mark, timeout_s=90)
        time.sleep(1)
        assert recorder.on("cmnd/tasmota_1A2B3C/POWER") == ["ON", "OFF"]
        assert daemon.stop() == 0
        assert recorder.wait_for("hearth/hall/availability")[-1] == "offline"
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
        recorder.close()


def test_configured_entity_overrides_discovery(tmp_path: Path, home_broker: Broker) -> None:
    override = (
        '\n[[entities]]\ndomain = "switch"\nname = "Espresso Machine"\nunique_id = "1A2B3C_RL_1"\n'
        'command_topic = "cmnd/tasmota_1A2B3C/POWER"\npayload_on = "1"\npayload_off = "0"\n'
    )
    config = config_file(tmp_path, home_broker.port, "a4", override)
    recorder = Recorder(home_broker.port)
    try:
        old = run_hearth("ask", "--config", str(config), "turn on the coffee maker")
        assert old.stdout.strip() == "I don't know a device called coffee maker."
        new = run_hearth("ask", "--config", str(config), "turn on the espresso machine")
        assert new.stdout.strip() == "Turned on the Espresso Machine."
        assert recorder.wait_for("cmnd/tasmota_1A2B3C/POWER") == ["1"]
    finally:
        recorder.close()


def test_spoken_command_to_a_discovered_device(tmp_path: Path, home_broker: Broker) -> None:
    from speech import write_wav

    wav = write_wav(
        tmp_path / "in.wav",
        utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the living room lamp.", 2.0),
    )
    recorder = Recorder(home_broker.port)
    try:
        result = run_hearth(
            "run",
            "--config",
            str(config_file(tmp_path, home_broker.port, "a5")),
            "--input",
            str(wav),
            "--output",
            str(tmp_path / "out.wav"),
        )
        assert result.returncode == 0, result.stderr
        assert recorder.wait_for("zigbee2mqtt/Living Room Lamp/set") == ['{"state":"ON"}']
    finally:
        recorder.close()


def test_broker_down_at_start(tmp_path: Path) -> None:
    port = free_port()
    kettle = (
        '\n[[entities]]\ndomain = "switch"\nname = "Kettle"\nunique_id = "kettle"\n'
        'command_topic = "home/kettle/set"\n'
    )
    daemon = Daemon(config_file(tmp_path, port, "late", kettle))
    broker = Broker(port, tmp_path)
    try:
        daemon.wait_line("ready in")
        daemon.say(utterance("Hey Jarvis.", 0.5, "Turn on the kettle.", 1.0))
        daemon.wait_line("I can't reach the home hub.")
        broker.start()
        recorder = Recorder(port)
        try:
            assert recorder.wait_value("hearth/late/availability", "online", timeout_s=30)
            mark = len(daemon.lines)
            daemon.say(utterance("Hey Jarvis.", 0.5, "Turn on the kettle.", 1.0))
            daemon.wait_line("Turned on the Kettle.", after=mark)
            assert recorder.wait_for("home/kettle/set") == ["ON"]
        finally:
            recorder.close()
        assert daemon.stop() == 0
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
        broker.stop()
