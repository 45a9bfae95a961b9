"""Shared fixtures: a real mosquitto on a free loopback port, an MQTT recorder, test speech."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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


@pytest.fixture(scope="session", autouse=True)
def state_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hearth's files (journal, lists, timers) go to a test folder, never to the home folder
    of whoever runs the tests: ``$STATE_DIRECTORY`` is where Hearth keeps them when
    ``assistant.data_dir`` is not set, and subprocesses inherit it."""
    folder = tmp_path_factory.mktemp("state")
    before = os.environ.get("STATE_DIRECTORY")
    os.environ["STATE_DIRECTORY"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("STATE_DIRECTORY", None)
    else:
        os.environ["STATE_DIRECTORY"] = before


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    instance = Broker(free_port(), tmp_path_factory.mktemp("broker"))
    instance.start()
    yield instance
    instance.stop()


@dataclass
class Recorder:
    """Subscribes to ``#`` and keeps every message: (topic, payload, retain).

    With ``client_id`` set, the session is persistent, so messages published while the recorder
    is reconnecting after a broker restart are still delivered to it."""

    port: int
    client_id: str = ""
    messages: list[tuple[str, str, bool]] = field(default_factory=list)
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


@pytest.fixture
def recorder(broker: Broker) -> Iterator[Recorder]:
    rec = Recorder(broker.port)
    yield rec
    rec.close()


HEARTH = str(Path(sys.executable).parent / "hearth")

ENTITIES_TOML = """
[[entities]]
domain = "light"
name = "Kitchen Light"
unique_id = "kitchen_light"
schema = "json"
command_topic = "zigbee2mqtt/kitchen_light/set"
suggested_area = "Kitchen"

[[entities]]
domain = "light"
name = "Desk Lamp"
unique_id = "desk_lamp"
command_topic = "tasmota/desk_lamp/cmnd/POWER"
brightness_command_topic = "tasmota/desk_lamp/cmnd/Dimmer"
brightness_scale = 100
suggested_area = "Office"

[[entities]]
domain = "switch"
name = "Coffee Maker"
unique_id = "coffee_maker"
command_topic = "home/coffee_maker/set"
payload_on = "1"
payload_off = "0"
suggested_area = "Kitchen"
"""


def write_config(directory: Path, port: int, node_id: str = "kitchen", extra: str = "") -> Path:
    path = directory / "config.toml"
    # the language model stays off: these tests are about the sentence templates
    path.write_text(
        f'[assistant]\nnode_id = "{node_id}"\n\n[llm]\nenabled = false\n\n'
        f"[mqtt]\nport = {port}\n{extra}\n{ENTITIES_TOML}"
    )
    return path


def run_hearth(
    *args: str,
    timeout_s: float = 240,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hearth`` console script; stdout and stderr as text."""
    done = subprocess.run(
        [HEARTH, *args], input=stdin, capture_output=True, timeout=timeout_s, env=env
    )
    result = subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result
