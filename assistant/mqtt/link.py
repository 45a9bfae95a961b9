"""The MQTT link: one adapter owns the paho client and keeps it at arm's length.

It publishes home actions (QoS 1) and mirrors them on ``hearth/<id>/action``, carries the event
stream to ``hearth/<id>/event/<type>``, keeps ``state``, ``mute`` and ``availability`` retained
(``offline`` is the Last Will), announces Hearth through discovery, learns devices from discovery
and their states from their state topics, and hands ``cmd/*`` messages to the pipeline.

paho reconnects by itself (1 s doubling to 60 s). On every connect the link republishes
availability, state and its discovery, resubscribes, and sends the commands queued while the broker
was away if they are younger than ``command_ttl_s``; older ones, and unacknowledged ones paho would
resend, are dropped with an ``error`` event, never fired late. No exception escapes into paho's
thread: callbacks log it with the topic and record it in :attr:`callback_errors`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ..config import MqttConfig
from ..errors import ActionError, ConfigError
from ..events import Event, StateChanged, TurnFailed, event_to_json
from ..home.actions import Delivery
from ..home.entities import Action, EntityRegistry, MqttMessage
from ..home.home import Home
from .announce import discovery_messages, discovery_node, mute_topic
from .commands import Command, CommandError, parse_command
from .intake import DiscoveryIntake

__all__ = ["DISCOVERY_LIMIT_S", "DISCOVERY_QUIET_S", "MqttLink", "password_path"]

_LOGGER = logging.getLogger(__name__)


DISCOVERY_QUIET_S: Final = 10.0  # the retained burst is given up when the broker is this quiet
DISCOVERY_LIMIT_S: Final = 300.0  # ... or after this long in all

CREDENTIAL = "mqtt_password"  # systemd's LoadCredential=mqtt_password:... (systemd/hearth.service)


def password_path(config: MqttConfig) -> str:
    """``mqtt.password_file``; when it is empty, the ``mqtt_password`` credential that systemd
    passes in ``$CREDENTIALS_DIRECTORY`` if there is one and it is not empty (an anonymous broker
    gets an empty one: the unit's LoadCredential= needs the file to exist); else ""."""
    if config.password_file:
        return config.password_file
    folder = os.environ.get("CREDENTIALS_DIRECTORY", "")
    credential = Path(folder) / CREDENTIAL
    try:
        return str(credential) if folder and credential.stat().st_size > 0 else ""
    except OSError:
        return ""


def _read_password(path: str) -> str:
    from ..files import KIB, read_text_file

    try:
        text = read_text_file(path, 4 * KIB, "mqtt.password_file")
    except ConfigError as err:
        raise ConfigError(
            "password_unreadable", f"cannot read the MQTT password: {err.message}"
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ConfigError(
            "password_unreadable",
            f"{path}: the MQTT password file (mqtt.password_file) is empty; write the password "
            "on its first line",
        )
    return lines[0].strip()


def _retry_cap_s(command_ttl_s: float) -> int:
    """The longest wait between reconnection tries: half the command TTL, 1 to 30 s."""
    return int(max(1, min(30, command_ttl_s // 2)))


CommandHandler = Callable[[Command, str, float], None]  # (command, topic, arrival perf_counter)
Listener = Callable[[str, bytes, bool], None]  # (topic, payload, retained)
_EARLY_COMMANDS = 32  # commands kept while the daemon is starting


class MqttLink:
    """paho-mqtt (callback API v2) with ``connect_async`` and ``loop_start``.

    The daemon's link (``client=False``) is Hearth on the broker: its availability (``online``
    only once :meth:`mark_ready` is called; the last will says ``offline``), its state, its
    discovery and its command topics. ``hearth ask`` uses a client link (``client=True``): its own
    client id, no last will, and it never publishes the daemon's availability, state or
    discovery, so it can run beside a daemon of the same ``node_id``.
    """

    def __init__(
        self,
        config: MqttConfig,
        node_id: str,
        *,
        home: Home | None = None,
        emit: Callable[[Event], None] | None = None,
        on_command: CommandHandler | None = None,
        client: bool = False,
    ) -> None:
        self._config = config
        self.node_id = node_id
        self.base = f"hearth/{node_id}"
        self.availability_topic = f"{self.base}/availability"
        self.is_client = client
        own_id = config.client_id or f"hearth-{node_id}"
        self.client_id = f"{own_id}-ask-{uuid.uuid4().hex[:8]}" if client else own_id
        self.home = home
        self._on_command = on_command
        self._early: deque[tuple[Command, str, float]] = deque(maxlen=_EARLY_COMMANDS)
        self._ready = False
        self._emit = emit or (lambda event: None)
        self.callback_errors: list[tuple[str, BaseException]] = []
        password_file = password_path(config)
        self._password = _read_password(password_file) if password_file else ""
        self._connected = threading.Event()
        self._leaving = False
        self._first_attempt = threading.Event()  # the first connection succeeded or failed
        self._ever_connected = False
        self._lock = threading.RLock()
        self._state = "idle"
        self._muted = "OFF"  # retained on hearth/<id>/mute, the mute switch's own state
        self._outbox: deque[tuple[float, MqttMessage]] = deque()
        self._inflight: dict[int, tuple[float, MqttMessage, Any]] = {}
        self._pending: list[Any] = []
        self._expired: list[str] = []
        self._subscribed: set[str] = set()
        self._marker_topic = f"{self.base}/sync/{self.client_id}"
        self._client: Any = None
        self._intake: DiscoveryIntake | None = None
        self._listeners: list[tuple[tuple[str, ...], Listener]] = []
        if home is not None:
            home.subscribe(self._entities_changed)
            self._intake = DiscoveryIntake(
                home, config.discovery_prefix, self._subscribe_states, self._send_marker
            )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        import paho.mqtt.client as mqtt

        if self._config.protocol == "5":
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
            )
        else:
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=True,
            )
        if not self.is_client:
            client.will_set(self.availability_topic, "offline", qos=1, retain=True)
        if self._config.username:
            client.username_pw_set(self._config.username, self._password or None)
        if self._config.tls:
            self._set_tls(client)
        # Retry often enough that a command queued while the broker was away is still younger
        # than command_ttl_s when it comes back (paho doubles the delay up to max_delay).
        client.reconnect_delay_set(min_delay=1, max_delay=_retry_cap_s(self._config.command_ttl_s))
        client.on_connect = self._guard("on_connect", self._on_connect)
        client.on_disconnect = self._guard("on_disconnect", self._on_disconnect)
        client.on_connect_fail = self._guard("on_connect_fail", self._on_connect_fail)
        client.on_message = self._guard("on_message", self._on_message)
        self._client = client
        if self._intake is not None:
            self._intake.start()
        client.connect_async(self._config.host, self._config.port, self._config.keepalive_s)
        client.loop_start()

    def _set_tls(self, client: Any) -> None:
        for key in ("ca_file", "cert_file", "key_file"):
            value = getattr(self._config, key)
            if value and not Path(value).is_file():
                raise ConfigError("tls_file_missing", f"{value}: file not found (mqtt.{key})")
        try:
            client.tls_set(
                ca_certs=self._config.ca_file or None,
                certfile=self._config.cert_file or None,
                keyfile=self._config.key_file or None,
            )
        except (OSError, ValueError) as err:
            raise ConfigError("tls_config", f"mqtt TLS settings are unusable: {err}") from None

    def wait_first_attempt(self, timeout_s: float) -> bool:
        """Wait until the first connection attempt has an outcome; whether it connected."""
        self._first_attempt.wait(timeout_s)
        return self.connected

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Publish ``offline`` (the daemon's link), wait for in-flight QoS 1 messages, and
        disconnect."""
        if self._client is None:
            return
        if self.connected:
            if not self.is_client:
                self._send(self.availability_topic, "offline", qos=1, retain=True)
            self.flush(timeout_s)
        self._leaving = True  # the disconnect that follows is ours, not a fault
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None
        if self._intake is not None:
            self._intake.stop()

    def wait_discovered(self, quiet_s: float, limit_s: float) -> bool:
        """Wait until every retained discovery config (and the retained states of the devices
        they announce) is in and the router knows them; ``False`` when the broker went quiet
        for ``quiet_s`` first, or ``limit_s`` passed (see :mod:`assistant.mqtt.intake`)."""
        if self._intake is None or self._client is None or not self.connected:
            return False
        return self._intake.wait_complete(quiet_s, limit_s)

    def settle_discovery(self, timeout_s: float) -> bool:
        """Wait until the discovery messages received so far are applied and announced."""
        return self._intake is None or self._intake.settle(timeout_s)

    def flush(self, timeout_s: float) -> bool:
        """Wait until every QoS 1 message sent so far is acknowledged (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
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
                topic = getattr(args[2], "topic", "-") if len(args) > 2 else "-"
                _LOGGER.exception("MQTT callback %s failed (topic %s)", name, topic)
                self.callback_errors.append((name, err))

        return guarded

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._first_attempt.set()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._first_attempt.set()
            _LOGGER.warning(
                "broker %s:%s refused the connection: %s",
                self._config.host,
                self._config.port,
                reason,
            )
            return
        _LOGGER.info("connected to broker %s:%s", self._config.host, self._config.port)
        with self._lock:  # nothing newer may go out before these
            self._drop_stale_inflight(client)
            if not self.is_client:
                self._announce_self()
            self._subscribed.clear()
            commands = [] if self.is_client else [f"{self.base}/cmd/+"]
            self._subscribe([self._marker_topic, *commands])
            if self.home is not None:
                self._subscribe(sorted(self.home.state_topics()), qos=0)
            if self._intake is not None:  # discovery, one component after another
                self._intake.connected()
            for filters, _listener in self._listeners:
                self._subscribe(list(filters))
            self._send_queued()
            self._ever_connected = True
            self._connected.set()
            self._first_attempt.set()
            expired, self._expired = self._expired, []
        for text in expired:  # once connected, so the error events reach the broker too
            self._emit(TurnFailed(turn=None, code="command_expired", message=text))

    def _announce_self(self) -> None:
        """Availability (``online`` only when ready), state and discovery, retained."""
        ready = self._ready
        self._send(self.availability_topic, "online" if ready else "offline", qos=1, retain=True)
        self._send(f"{self.base}/state", self._state if ready else "starting", qos=1, retain=True)
        self._send(mute_topic(self.node_id), self._muted, qos=1, retain=True)
        if self._config.announce:
            for topic, payload in discovery_messages(self._config.discovery_prefix, self.node_id):
                self._send(topic, payload, qos=1, retain=True)

    def mark_ready(self) -> None:
        """The daemon can act: availability goes ``online`` (at once, or on connecting)."""
        with self._lock:
            self._ready = True
            if self._client is not None and self.connected:
                self._send(self.availability_topic, "online", qos=1, retain=True)
                self._send(f"{self.base}/state", self._state, qos=1, retain=True)
                self._send(mute_topic(self.node_id), self._muted, qos=1, retain=True)

    @property
    def on_command(self) -> CommandHandler | None:
        return self._on_command

    @on_command.setter
    def on_command(self, handler: CommandHandler | None) -> None:
        """Where commands go; those that came while there was none are handed over now, with
        the time they arrived."""
        with self._lock:
            self._on_command = handler
            early = list(self._early)
            self._early.clear()
        if handler is not None:
            for command, topic, arrived in early:
                handler(command, topic, arrived)

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._leaving:
            _LOGGER.info("disconnected from broker on stopping")
        elif self._connected.is_set():
            _LOGGER.warning("disconnected from broker: %s", reason)
        self._connected.clear()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        topic: str = message.topic
        payload: bytes = message.payload
        if topic == self._marker_topic:
            if self._intake is not None:
                self._intake.marker(payload.decode("ascii", "replace"))
            return
        from paho.mqtt.client import topic_matches_sub

        listeners = [
            listener
            for filters, listener in self._listeners
            if any(topic_matches_sub(wanted, topic) for wanted in filters)
        ]
        for listener in listeners:
            listener(topic, payload, bool(message.retain))
        if listeners:
            return
        if topic.startswith(f"{self.base}/cmd/"):
            self._command(topic, payload, bool(message.retain))
        elif topic.startswith(f"{self._config.discovery_prefix}/") and topic.endswith("/config"):
            self._discovery(topic, payload)
        elif self.home is not None:
            self.home.on_message(topic, payload.decode("utf-8", "replace"))

    def _command(self, topic: str, payload: bytes, retained: bool) -> None:
        arrived = time.perf_counter()
        if retained:  # it would run again on every reconnect, however old
            if not payload:
                return  # the broker clearing a retained message
            self._refuse(
                "retained_command",
                f"{topic}: a retained command is not run (it would run again on every "
                f"reconnect); publish it without retain, and clear it with an empty retained "
                f"message",
            )
            return
        try:
            command = parse_command(self.base, topic, payload)
        except CommandError as err:
            self._refuse(err.code, err.message)
            return
        with self._lock:
            handler = self._on_command
            if handler is None:  # still starting: kept, and handed over with its arrival time
                self._early.append((command, topic, arrived))
                return
        handler(command, topic, arrived)

    def _refuse(self, code: str, message: str) -> None:
        _LOGGER.warning("%s", message)
        self._emit(TurnFailed(turn=None, code=code, message=message))

    def _discovery(self, topic: str, payload: bytes) -> None:
        parts = topic[len(self._config.discovery_prefix) + 1 :].split("/")
        if self._intake is None or (len(parts) == 4 and parts[1].startswith(discovery_node(""))):
            return  # Hearth's own announcement, or another Hearth's: not devices to speak to
        self._intake.offer(topic, payload)

    def _entities_changed(self, registry: EntityRegistry) -> None:
        if self.home is not None and self._client is not None and self.connected:
            with self._lock:
                self._subscribe(sorted(self.home.state_topics()), qos=0)

    def listen(self, filters: tuple[str, ...], listener: Listener) -> None:
        """Hand every message on ``filters`` to ``listener`` (in paho's thread), subscribed
        again on every connect; call before :meth:`start`."""
        with self._lock:
            self._listeners.append((filters, listener))
            if self._client is not None and self.connected:
                self._subscribe(list(filters))

    def send(self, topic: str, payload: str) -> None:
        """A message of Hearth's own (QoS 0, not retained) if the broker is there; dropped
        otherwise, as a moment's news is worth nothing later."""
        with self._lock:
            if self._client is not None and self.connected:
                self._client.publish(topic, payload, qos=0)

    # -- publishing --------------------------------------------------------------------------

    def _subscribe(self, topics: list[str], qos: int = 1) -> None:
        new = [t for t in topics if t not in self._subscribed]
        if new:
            self._client.subscribe([(t, qos) for t in new])
            self._subscribed.update(new)

    def _subscribe_states(self, topics: list[str]) -> None:
        """Discovery and state topics (the discovery intake's thread): at QoS 0, so that a
        retained burst is not cut at the broker's QoS 1 queue limit; a repeated topic is
        subscribed again, which makes the broker send its retained messages again."""
        with self._lock:
            if self._client is None or not self.connected:
                return
            self._client.subscribe([(t, 0) for t in topics])
            self._subscribed.update(topics)

    def _send_marker(self, nonce: str) -> None:
        with self._lock:
            if self._client is not None and self.connected:
                self._send(self._marker_topic, nonce, qos=1, retain=False)

    def _send(self, topic: str, payload: str, qos: int, retain: bool) -> Any:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos > 0:
            with self._lock:
                self._pending = [p for p in self._pending if not p.is_published()]
                self._pending.append(info)
        return info

    def _send_command(self, created: float, message: MqttMessage) -> Any:
        info = self._send(message.topic, message.payload, message.qos, message.retain)
        self._inflight = {m: v for m, v in self._inflight.items() if not v[2].is_published()}
        self._inflight[info.mid] = (created, message, info)
        return info

    def _stale(self, created: float, message: MqttMessage) -> bool:
        age_s = time.monotonic() - created
        if age_s <= self._config.command_ttl_s:
            return False
        text = (
            f"dropped the command to {message.topic}: {age_s:.0f} s old, "
            f"older than mqtt.command_ttl_s ({self._config.command_ttl_s:g} s)"
        )
        _LOGGER.warning("%s", text)
        self._expired.append(text)
        return True

    def _drop_stale_inflight(self, client: Any) -> None:
        """paho resends unacknowledged QoS 1 messages on reconnect; drop the stale ones first."""
        out = getattr(client, "_out_messages", None)
        mutex = getattr(client, "_out_message_mutex", None)
        if out is None or mutex is None:
            return
        with mutex:
            for mid, (created, message, _info) in list(self._inflight.items()):
                if mid not in out:
                    del self._inflight[mid]
                elif self._stale(created, message):
                    del out[mid]
                    del self._inflight[mid]

    def _send_queued(self) -> None:
        while self._outbox:
            created, message = self._outbox.popleft()
            if not self._stale(created, message):
                self._send_command(created, message)

    def publish(self, message: MqttMessage) -> Delivery:
        if not self._ever_connected:
            self._first_attempt.wait(5.0)  # a command right at start: the connection is on its way
        created = time.monotonic()
        with self._lock:
            if self._client is not None and self.connected:
                info = self._send_command(created, message)
                # a connection that just dropped: paho keeps the message and resends it on
                # reconnect, where _drop_stale_inflight applies the TTL
                return Delivery.SENT if info.rc == 0 else Delivery.QUEUED
            if not self._ever_connected:
                raise ActionError("broker_unreachable", "I can't reach the home hub.")
            if len(self._outbox) >= self._config.queue_size:
                _old_created, dropped = self._outbox.popleft()
                text = f"dropped the command to {dropped.topic}: the offline queue is full"
                self._emit(TurnFailed(turn=None, code="queue_full", message=text))
            self._outbox.append((created, message))
            return Delivery.QUEUED

    def mirror(self, action: Action, turn: str | None) -> None:
        body = {
            "v": 1,
            "entity_id": action.entity_id,
            "service": action.service,
            "data": dict(action.data),
            "turn": turn,
        }
        message = MqttMessage(f"{self.base}/action", json.dumps(body, separators=(",", ":")))
        with contextlib.suppress(ActionError):  # the action itself was refused, and said so
            self.publish(message)

    def on_event(self, event: Event) -> None:
        """Event-stream subscriber: events to ``event/<type>``, states to ``state`` (retained;
        not from a client link, whose state is not the daemon's)."""
        if isinstance(event, StateChanged):
            if self.is_client:
                return
            muted = "ON" if event.muted else "OFF"
            with self._lock:
                self._state = event.state.value
                mute_changed, self._muted = muted != self._muted, muted
                if self._client is not None and self.connected and self._ready:
                    self._send(f"{self.base}/state", self._state, qos=1, retain=True)
                    if mute_changed:
                        self._send(mute_topic(self.node_id), muted, qos=1, retain=True)
            return
        if self._client is not None and self.connected:
            payload = json.dumps(event_to_json(event), separators=(",", ":"), default=str)
            self._client.publish(f"{self.base}/event/{event.type}", payload, qos=0)
