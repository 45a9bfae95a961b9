"""A home of 2,000 discovered devices on a real mosquitto with its default limits (at most 20
QoS 1 messages in flight and 1,000 queued per client): every config is learned, ``hearth ask``
waits for the whole retained burst, and commands are answered during a flood of new configs."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from broker import Broker, Recorder, free_port
from daemon import Daemon
from hearth_cli import run_hearth, write_config

from assistant.config import MqttConfig
from assistant.home.home import Home
from assistant.mqtt.link import MqttLink
from assistant.tools.generated_home import GeneratedDevice, generate_home

DEVICES = 2000


def publish_all(port: int, devices: list[GeneratedDevice], retain: bool = True) -> None:
    """Publish every config at QoS 1, as a bridge does, and wait until the broker has them."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bridge-{time.time_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = [client.publish(d.topic, d.payload, qos=1, retain=retain) for d in devices]
        for info in sent:
            info.wait_for_publish(60)
            assert info.is_published()
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.fixture
def big_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker with mosquitto's default limits, holding the retained configs of a big home."""
    broker = Broker(free_port(), tmp_path)
    broker.start()
    publish_all(broker.port, generate_home(DEVICES))
    yield broker
    broker.stop()


def test_every_retained_config_of_2000_devices_is_learned(big_broker: Broker) -> None:
    home = Home()
    link = MqttLink(MqttConfig(port=big_broker.port), "big", home=home)
    link.start()
    try:
        assert link.wait_first_attempt(5)
        assert link.wait_discovered(quiet_s=10, limit_s=120)
        expected = generate_home(DEVICES)
        learned = {e.name: e for e in home.registry()}
        assert len(learned) == DEVICES
        assert Counter(e.domain for e in learned.values()) == Counter(d.domain for d in expected)
        for device in expected:  # each one as announced, commandable where it should be
            entity = learned[device.name]
            assert (entity.domain, entity.area_name) == (device.domain, device.area)
            assert entity.commandable == bool(device.command_topic)
        assert link.callback_errors == []
    finally:
        link.stop()


def test_hearth_ask_waits_for_the_whole_burst(tmp_path: Path, big_broker: Broker) -> None:
    """A cover announced near the end of the burst (covers were the first to go missing)."""
    recorder = Recorder(big_broker.port)
    try:
        config = write_config(tmp_path, big_broker.port, node_id="bigask")
        result = run_hearth("ask", "--config", str(config), "close the Office 17 Blinds")
        assert result.stdout.strip() == "Closed the Office 17 Blinds.", result.stderr
        assert "did not finish" not in result.stderr
        assert recorder.wait_value("zigbee2mqtt/Office 17 Blinds/set", "CLOSE")
    finally:
        recorder.close()


def test_a_command_during_a_flood_of_new_configs_is_answered(tmp_path: Path) -> None:
    broker = Broker(free_port(), tmp_path)
    broker.start()
    recorder = Recorder(broker.port)
    daemon = Daemon(write_config(tmp_path, broker.port, node_id="flood"))
    try:
        daemon.wait_line("ready in", timeout_s=180)
        home = generate_home(DEVICES)
        flood = threading.Thread(target=publish_all, args=(broker.port, home), daemon=True)
        flood.start()
        while len(recorder.on(home[DEVICES // 10].topic)) == 0:  # the flood is under way
            time.sleep(0.01)
        recorder.client.publish("hearth/flood/cmd/ask", "turn on the kitchen light", qos=1)
        assert recorder.wait_value("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}', 30)
        replies = recorder.wait_for("hearth/flood/event/reply", 1, 30)
        assert any("Turned on the Kitchen Light." in r for r in replies), replies
        flood.join(120)
        # and every config of the flood was learned: the last one announced can be commanded
        last = next(d for d in reversed(home) if d.domain == "cover")
        recorder.client.publish("hearth/flood/cmd/ask", f"open the {last.name}", qos=1)
        assert recorder.wait_value(last.command_topic, "OPEN", 30)
    finally:
        daemon.stop()
        recorder.close()
        broker.stop()
