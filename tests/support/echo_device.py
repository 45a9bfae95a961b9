"""A small MQTT light that does what it is told, as a real bulb reports its new state.

It announces itself through discovery (retained, default schema, a dimmer), and each command
on one of its command topics comes back, retained, on the matching state topic. So a home
action Hearth sends shows in Home Assistant as the light's new state.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Final

import paho.mqtt.client as mqtt

__all__ = ["EchoLight"]

_DISCOVERY: Final = "homeassistant/light/echo_{key}/light/config"


class EchoLight:
    """A dimmable light named ``name`` on the broker at 127.0.0.1:``port``."""

    def __init__(self, port: int, key: str, name: str) -> None:
        base = f"echo/{key}"
        self.discovery_topic = _DISCOVERY.format(key=key)
        self.config: dict[str, Any] = {
            "name": None,  # the device's main feature: Home Assistant calls it after the device
            "unique_id": f"echo_{key}",
            "command_topic": f"{base}/set",
            "state_topic": f"{base}/state",
            "brightness_command_topic": f"{base}/brightness/set",
            "brightness_state_topic": f"{base}/brightness",
            "brightness_scale": 255,
            "payload_on": "ON",
            "payload_off": "OFF",
            "device": {"identifiers": [f"echo_{key}"], "name": name, "manufacturer": "Echo"},
        }
        self._echo = {
            self.config["command_topic"]: self.config["state_topic"],
            self.config["brightness_command_topic"]: self.config["brightness_state_topic"],
        }
        self.commands: list[tuple[str, str]] = []
        self.errors: list[BaseException] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"echo-{key}")
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError(f"the echo light could not subscribe on port {port}")
        retained = [
            (self.discovery_topic, json.dumps(self.config)),
            (self.config["state_topic"], "OFF"),
        ]
        for topic, payload in retained:
            self._client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe([(topic, 1) for topic in self._echo])

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            payload = message.payload.decode("utf-8")
            self.commands.append((message.topic, payload))
            client.publish(self._echo[message.topic], payload, qos=1, retain=True)
        except Exception as err:  # asserted empty by the tests
            self.errors.append(err)

    def wait_commands(self, count: int, timeout_s: float = 30) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout_s
        while len(self.commands) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.commands)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
