"""The MQTT link: one adapter owns the paho client and keeps it at arm's length.

It publishes home actions (QoS 1), mirrors them on ``hearth/<id>/action``, carries the event stream
to ``hearth/<id>/event/<type>``, keeps ``hearth/<id>/state`` and ``availability`` (retained, with
``offline`` as the Last Will), and reconnects by itself with backoff. No exception escapes into
paho's thread: callbacks log it with the topic and record it in :attr:`callback_errors`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .config import MqttConfig
from .entities import Action, MqttMessage
from .errors import ActionError, ConfigError
from .events import Event, StateChanged, event_to_json

__all__ = ["ActionPublisher", "MemoryPublisher", "MqttLink"]

_LOGGER = logging.getLogger(__name__)


class ActionPublisher(Protocol):
    """Where home actions go. ``publish`` raises :class:`ActionError` if it cannot deliver."""

    def publish(self, message: MqttMessage) -> None: ...

    def mirror(self, action: Action, turn: str | None) -> None: ...


class MemoryPublisher:
    """Keeps published messages in a list instead of sending them (benchmark, tests)."""

    def __init__(self) -> None:
        self.messages: list[MqttMessage] = []
        self.mirrored: list[tuple[Action, str | None]] = []

    def publish(self, message: MqttMessage) -> None:
        self.messages.append(message)

    def mirror(self, action: Action, turn: str | None) -> None:
        self.mirrored.append((action, turn))


def _read_password(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError) as err:
        raise ConfigError(
            "password_unreadable",
            f"{path}: cannot read the MQTT password (mqtt.password_file): "
            f"{getattr(err, 'strerror', None) or 'empty file'}",
        ) from None


class MqttLink:
    """paho-mqtt (callback API v2) with ``connect_async`` and ``loop_start``."""

    def __init__(self, config: MqttConfig, node_id: str) -> None:
        self._config = config
        self.base = f"hearth/{node_id}"
        self.availability_topic = f"{self.base}/availability"
        self.callback_errors: list[tuple[str, BaseException]] = []
        self._connected = threading.Event()
        self._pending: list[Any] = []
        self._pending_lock = threading.Lock()
        self._state = "idle"
        self._state_lock = threading.Lock()
        self._client: Any = None
        self._password = _read_password(config.password_file) if config.password_file else ""
        self.client_id = config.client_id or f"hearth-{node_id}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.will_set(self.availability_topic, "offline", qos=1, retain=True)
        if self._config.username:
            client.username_pw_set(self._config.username, self._password or None)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._guard("on_connect", self._on_connect)
        client.on_disconnect = self._guard("on_disconnect", self._on_disconnect)
        self._client = client
        client.connect_async(self._config.host, self._config.port, self._config.keepalive_s)
        client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Publish ``offline``, wait for in-flight QoS 1 messages, and disconnect."""
        if self._client is None:
            return
        if self.connected:
            self._send(self.availability_topic, "offline", qos=1, retain=True)
            self.flush(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None

    def flush(self, timeout_s: float) -> bool:
        """Wait until every QoS 1 message sent so far is acknowledged (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        with self._pending_lock:
            pending, self._pending = self._pending, []
        for info in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.connected:
                return False
            try:
                info.wait_for_publish(remaining)
            except (RuntimeError, ValueError):
                return False
            if not info.is_published():
                return False
        return True

    # -- callbacks (paho's thread) -----------------------------------------------------------

    def _guard(self, name: str, callback: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as err:
                _LOGGER.exception("MQTT callback %s failed", name)
                self.callback_errors.append((name, err))

        return guarded

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            _LOGGER.warning(
                "broker %s:%s refused the connection: %s",
                self._config.host,
                self._config.port,
                reason,
            )
            return
        _LOGGER.info("connected to broker %s:%s", self._config.host, self._config.port)
        with self._state_lock:  # nothing newer may be published before these two
            self._send(self.availability_topic, "online", qos=1, retain=True)
            self._send(f"{self.base}/state", self._state, qos=1, retain=True)
            self._connected.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            _LOGGER.warning("disconnected from broker: %s", reason)
        self._connected.clear()

    # -- publishing --------------------------------------------------------------------------

    def _send(self, topic: str, payload: str, qos: int, retain: bool) -> Any:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            with self._pending_lock:
                self._pending = [p for p in self._pending if not p.is_published()]
                self._pending.append(info)
        return info

    def publish(self, message: MqttMessage) -> None:
        if self._client is None or not self.connected:
            raise ActionError("broker_unreachable", "I can't reach the home hub.")
        info = self._send(message.topic, message.payload, message.qos, message.retain)
        if info.rc != 0:
            raise ActionError("publish_failed", "I can't reach the home hub.")

    def mirror(self, action: Action, turn: str | None) -> None:
        body = {
            "v": 1,
            "entity_id": action.entity_id,
            "service": action.service,
            "data": dict(action.data),
            "turn": turn,
        }
        if self._client is not None and self.connected:
            self._send(f"{self.base}/action", json.dumps(body, separators=(",", ":")), 1, False)

    def on_event(self, event: Event) -> None:
        """Event-stream subscriber: events to ``event/<type>``, states to ``state`` (retained)."""
        if isinstance(event, StateChanged):
            with self._state_lock:
                self._state = event.state.value
                if self._client is not None and self.connected:
                    self._send(f"{self.base}/state", self._state, qos=1, retain=True)
            return
        if self._client is not None and self.connected:
            payload = json.dumps(event_to_json(event), separators=(",", ":"), default=str)
            self._client.publish(f"{self.base}/event/{event.type}", payload, qos=0)
