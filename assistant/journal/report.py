"""Daily figures: ``hearth report``, and Home Assistant sensors for today.

Hearth publishes today's totals retained on ``hearth/<node_id>/energy`` (JSON) after each turn
and at midnight, and announces four sensors that read it through MQTT discovery: energy today
(``device_class: energy``, kWh, ``state_class: total_increasing``, so it can go on the energy
dashboard), the electricity cost today and what the same turns would have cost through cloud
services (``device_class: monetary``), and the number of turns today.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..config import Config
from ..events import EventBus
from ..home.payloads import MqttMessage
from ..mqtt.announce import discovery_node
from .recorder import Journal
from .store import DayTotals, JournalStore

__all__ = [
    "Recording",
    "energy_state",
    "energy_topic",
    "report_lines",
    "sensor_discovery",
    "start_recording",
]

_LOGGER = logging.getLogger(__name__)


class _Publisher(Protocol):
    @property
    def connected(self) -> bool: ...

    def publish(self, message: MqttMessage) -> Any: ...


def energy_topic(node_id: str) -> str:
    return f"hearth/{node_id}/energy"


def _midnight(day: str) -> str:
    return datetime.strptime(day, "%Y-%m-%d").astimezone().isoformat()


def energy_state(totals: DayTotals, config: Config) -> dict[str, Any]:
    """The retained JSON on ``hearth/<id>/energy``."""
    kwh = totals.energy_wh / 1000
    return {
        "day": totals.day,
        "last_reset": _midnight(totals.day),
        "turns": totals.turns,
        "energy_kwh": round(kwh, 12),
        "turn_energy_kwh": round(totals.turn_wh / 1000, 12),
        "listening_energy_kwh": round(totals.listening_wh / 1000, 12),
        "cost": round(kwh * config.energy.price_per_kwh, 12),
        "cloud_cost": round(totals.cloud_cost, 9),
        "currency": config.energy.currency,
        "method": ",".join(totals.methods) or "estimate",
    }


def sensor_discovery(config: Config) -> list[tuple[str, str]]:
    """(topic, retained payload) announcing the four daily sensors."""
    node_id = config.assistant.node_id
    node = discovery_node(node_id)
    state = energy_topic(node_id)
    currency = config.energy.currency
    money = {
        "device_class": "monetary",
        "state_class": "total",
        "unit_of_measurement": currency,
        "last_reset_value_template": "{{ value_json.last_reset }}",
    }
    sensors: list[tuple[str, dict[str, Any]]] = [
        (
            "energy_today",
            {
                "name": "Energy today",
                "device_class": "energy",
                "state_class": "total_increasing",
                "unit_of_measurement": "kWh",
                "value_template": "{{ value_json.energy_kwh }}",
                "suggested_display_precision": 4,
            },
        ),
        ("cost_today", {"name": "Cost today", **money, "value_template": "{{ value_json.cost }}"}),
        (
            "cloud_cost_today",
            {
                "name": "Cloud cost avoided today",
                **money,
                "value_template": "{{ value_json.cloud_cost }}",
                "icon": "mdi:cloud-off-outline",
            },
        ),
        (
            "turns_today",
            {
                "name": "Turns today",
                "state_class": "total_increasing",
                "value_template": "{{ value_json.turns }}",
                "icon": "mdi:account-voice",
            },
        ),
    ]
    messages = []
    for object_id, fields in sensors:
        body = {
            **fields,
            "state_topic": state,
            "json_attributes_topic": state,
            "availability_topic": f"hearth/{node_id}/availability",
            "device": {"identifiers": [node]},
            "unique_id": f"{node}_{object_id}",
            "object_id": f"{node}_{object_id}",
        }
        topic = f"{config.mqtt.discovery_prefix}/sensor/{node}/{object_id}/config"
        messages.append((topic, json.dumps(body, separators=(",", ":"))))
    return messages


class _Sensors:
    """Publishes the discovery once per connection and today's state after each write."""

    def __init__(self, config: Config, link: _Publisher) -> None:
        self._config = config
        self._link = link
        self._announced = False
        self._lock = threading.Lock()

    def publish(self, totals: DayTotals) -> None:
        with self._lock:
            if not self._link.connected:
                self._announced = False  # announce again after the broker is back
                return
            if not self._announced:
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


def start_recording(
    config: Config, bus: EventBus, link: _Publisher | None, pipeline: Any = None
) -> Recording | None:
    """Subscribe the journal (unless ``journal.enabled`` is false) and, with a broker link and
    ``energy.sensors``, the daily sensors. A pipeline that listens counts the listening energy
    and can hand the command audio to the journal."""
    if not config.journal.enabled:
        return None
    sensors = _Sensors(config, link) if link is not None and config.energy.sensors else None
    listening = pipeline is not None and getattr(pipeline, "wake", None) is not None
    journal = Journal(
        config,
        emit=bus.emit,
        listening=listening,
        on_written=sensors.publish if sensors is not None else None,
    )
    bus.subscribe(journal.on_event)
    if listening:
        pipeline.audio_taps.append(journal.keep_audio)
    midnight = None
    if listening:
        midnight = _Midnight(journal.flush_listening)
        midnight.start()
        journal.flush_listening()  # today's figures at start, and the discovery
    return Recording(journal, midnight)


def report_lines(store: JournalStore, config: Config, days: int) -> list[str]:
    """One line per day for the last ``days`` days, then the total."""
    currency = config.energy.currency
    price = config.energy.price_per_kwh
    today = datetime.now().date()
    lines = [
        f"{'day':<10} {'turns':>5} {'CPU s':>8} {'turns Wh':>9} {'listen Wh':>9} "
        f"{'cost ' + currency:>12} {'cloud ' + currency:>12}  method"
    ]
    total = [0, 0.0, 0.0, 0.0, 0.0]
    for back in range(days - 1, -1, -1):
        day = (today - timedelta(days=back)).isoformat()
        t = store.day_totals(day)
        cost = t.energy_wh / 1000 * price
        lines.append(
            f"{day:<10} {t.turns:>5} {t.turn_cpu_s + t.listening_cpu_s:>8.1f} {t.turn_wh:>9.4f} "
            f"{t.listening_wh:>9.4f} {cost:>12.6f} {t.cloud_cost:>12.5f}  "
            f"{','.join(t.methods) or '-'}"
        )
        for i, value in enumerate((t.turns, t.turn_wh, t.listening_wh, cost, t.cloud_cost)):
            total[i] += value
    lines.append(
        f"{'total':<10} {int(total[0]):>5} {'':>8} {total[1]:>9.4f} {total[2]:>9.4f} "
        f"{total[3]:>12.6f} {total[4]:>12.5f}"
    )
    lines.append(
        f"Electricity at {price:g} {currency}/kWh. Listening (the always-on wake word) is "
        f"estimated from CPU time at {config.energy.watts_busy:g} W busy / "
        f"{config.energy.watts_idle:g} W idle; turns say their method (rapl: measured)."
    )
    return lines
