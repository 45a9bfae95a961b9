"""The journal of one process, wired to the event stream, and today's figures on MQTT.

:func:`start_journal` subscribes the journal to the bus; with a broker link it also keeps the
four daily sensors (energy, cost, cloud cost avoided, turns) up to date, after each turn and just
after midnight.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..config import Config
from ..events import EventBus
from ..home.entities import MqttMessage
from .recorder import Journal
from .report import energy_state, energy_topic, sensor_discovery
from .store import DayTotals

if TYPE_CHECKING:
    from ..turn.pipeline import HearingLoop
    from ..voice.audio import AudioSink

__all__ = ["Recording", "TappedSink", "start_journal"]

_LOGGER = logging.getLogger(__name__)


class Publisher(Protocol):
    @property
    def connected(self) -> bool: ...

    def publish(self, message: MqttMessage) -> Any: ...


class _Sensors:
    """Publishes the discovery once per connection (unless ``mqtt.announce`` is false) and
    today's state after each write."""

    def __init__(self, config: Config, link: Publisher) -> None:
        self._config = config
        self._link = link
        self._announced = False
        self._lock = threading.Lock()

    def publish(self, totals: DayTotals) -> None:
        with self._lock:
            if not self._link.connected:
                self._announced = False  # announce again after the broker is back
                return
            if not self._announced and self._config.mqtt.announce:
                for topic, payload in sensor_discovery(self._config):
                    self._link.publish(MqttMessage(topic, payload, retain=True))
                self._announced = True
            state = json.dumps(energy_state(totals, self._config), separators=(",", ":"))
            self._link.publish(
                MqttMessage(energy_topic(self._config.assistant.node_id), state, retain=True)
            )


class _Midnight(threading.Thread):
    """Calls ``work`` just after each local midnight until stopped."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__(name="hearth-midnight", daemon=True)
        self._work = work
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            now = datetime.now().astimezone()
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=1)
            if self._stop_event.wait((midnight - now).total_seconds()):
                return
            try:
                self._work()
            except Exception:
                _LOGGER.exception("the midnight update failed")

    def stop(self) -> None:
        self._stop_event.set()


class TappedSink:
    """A sink that also hands each piece it plays to ``tap`` (the journal keeps the reply)."""

    def __init__(self, sink: AudioSink, tap: Callable[[np.ndarray, int], None]) -> None:
        self._sink = sink
        self._tap = tap

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        self._sink.play(audio, sample_rate_hz)
        self._tap(audio, sample_rate_hz)

    def drain(self) -> None:
        self._sink.drain()

    def close(self) -> None:
        self._sink.close()

    def cancel(self) -> None:
        stop = getattr(self._sink, "cancel", None)
        if callable(stop):
            stop()


class Recording:
    """The journal and the daily sensors of one process; ``close()`` when it ends."""

    def __init__(self, journal: Journal, midnight: _Midnight | None) -> None:
        self.journal = journal
        self._midnight = midnight

    def close(self) -> None:
        if self._midnight is not None:
            self._midnight.stop()
            self.journal.flush_listening()
        self.journal.close()


def start_journal(
    config: Config, bus: EventBus, link: Publisher | None, loop: HearingLoop | None = None
) -> Recording | None:
    """Subscribe the journal (unless ``journal.enabled`` is false) and, with a broker link and
    ``energy.sensors``, the daily sensors. With a hearing ``loop``, the listening energy is
    counted and the command audio can go to the journal."""
    if not config.journal.enabled:
        return None
    sensors = _Sensors(config, link) if link is not None and config.energy.sensors else None
    listening = loop is not None
    journal = Journal(
        config,
        emit=bus.emit,
        listening=listening,
        on_written=sensors.publish if sensors is not None else None,
    )
    bus.subscribe(journal.on_event)
    if loop is not None:
        loop.audio_taps.append(journal.keep_audio)
        voice = loop.answerer.voice
        if config.journal.keep_audio and voice.sink is not None:
            voice.sink = TappedSink(voice.sink, journal.keep_reply)  # a reload keeps loop.sink
    midnight = None
    if listening:
        midnight = _Midnight(journal.flush_listening)
        midnight.start()
        journal.flush_listening()  # today's figures at start, and the discovery
    return Recording(journal, midnight)
