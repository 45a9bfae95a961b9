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
from datetime import datetime, timedelta
from typing import Any

from ..config import Config
from ..mqtt.announce import discovery_node, entity_keys, hearth_device
from .store import DayTotals, JournalStore

__all__ = ["energy_state", "energy_topic", "report_lines", "sensor_discovery"]

_LOGGER = logging.getLogger(__name__)


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
    """(topic, retained payload) announcing the four daily sensors, on Hearth's device."""
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
            "device": hearth_device(node_id),
            **entity_keys("sensor", node_id, object_id),
        }
        topic = f"{config.mqtt.discovery_prefix}/sensor/{node}/{object_id}/config"
        messages.append((topic, json.dumps(body, separators=(",", ":"))))
    return messages


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
