"""A real mosquitto on a free loopback port, and an MQTT recorder, for the tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["Broker", "Recorder", "free_port", "publish_retained"]


def publish_retained(port: int, messages: list[tuple[str, str]]) -> None:
    """Publish retained messages (as devices do for discovery and state) and wait for them."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{time.time_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """A mosquitto process listening on 127.0.0.1:``port``."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    persistent: bool = False  # keep sessions and queued QoS 1 messages across a restart

    def start(self) -> None:
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(mosquitto).exists():
            pytest.fail("mosquitto is not installed: apt-get install mosquitto (make test does)")
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        persistence = (
            f"persistence true\npersistence_location {self.workdir}/\n"
            if self.persistent
            else "persistence false\n"
        )
        # started as root, mosquitto would switch to its own user, which cannot read pytest's
        # private temporary folders; "user root" keeps it as whoever started it
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\n{persistence}"
        )
        self.process = subprocess.Popen(
            [mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Recorder:
    """Subscribes to ``#`` and keeps every message: (topic, payload, retain).

    With ``client_id`` set, the session is persistent, so messages published while the recorder
    is reconnecting after a broker restart are still delivered to it."""

    port: int
    client_id: str = ""
    messages: list[tuple[str, str, bool]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # monotonic, one per message
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        import paho.mqtt.client as mqtt

        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id or f"rec-{time.time_ns()}",
            clean_session=not self.client_id,
        )
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        assert self._ready.wait(5), "recorder did not subscribe"

    def _on_connect(self, client, userdata, flags, reason, props) -> None:  # type: ignore[no-untyped-def]
        client.subscribe("#", qos=1)

    def _on_message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        try:
            with self._lock:
                entry = (message.topic, message.payload.decode("utf-8", "replace"))
                if message.dup and any(m[:2] == entry for m in self.messages):
                    return  # the broker redelivered what it had not seen acknowledged (QoS 1)
                self.messages.append(
                    (
                        message.topic,
                        message.payload.decode("utf-8", "replace"),
                        bool(message.retain),
                    )
                )
                self.received_at.append(time.monotonic())
        except Exception as err:  # recorded, and asserted empty by the tests
            self.errors.append(err)

    def on(self, topic: str) -> list[str]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def wait_for(self, topic: str, count: int = 1, timeout_s: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.on(topic)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.on(topic)

    def wait_value(self, topic: str, value: str, timeout_s: float = 10) -> bool:
        """Wait until ``value`` has been received on ``topic``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if value in self.on(topic):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        assert not self.errors
