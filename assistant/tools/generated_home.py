"""A home of any size, announced the way real publishers announce one: retained discovery configs.

Each room holds eight devices, in the shapes Zigbee2MQTT (JSON-schema lights, covers, locks,
thermostats, sensors with ``name: null`` main features and ``object_id``) and Tasmota
(``SetOption19``: abbreviated keys, ``~`` as the base topic, a ``dev`` block) publish. Rooms are
named ``Kitchen``, ``Office``, … and, once those are used, ``Kitchen 2``, ``Office 2``, …; a
device is called ``<room> <kind>`` ("Office 17 Blinds"). Used by ``hearth bench --devices`` and
the tests of a big home; every name and identifier is made up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["KINDS", "ROOMS", "GeneratedDevice", "generate_home"]

ROOMS: Final = (
    "Kitchen",
    "Office",
    "Bedroom",
    "Hall",
    "Garage",
    "Study",
    "Lounge",
    "Attic",
    "Cellar",
    "Porch",
    "Nursery",
    "Pantry",
)

_ORIGIN: Final = {"name": "Zigbee2MQTT", "sw": "1.40.2", "url": "https://www.zigbee2mqtt.io"}


@dataclass(frozen=True, slots=True)
class GeneratedDevice:
    """One announced entity: where its config goes, the config, and what Hearth should learn."""

    topic: str
    config: dict[str, Any]
    domain: str
    name: str  # the spoken name Hearth should give it
    area: str  # the room's name
    command_topic: str  # "" for a sensor

    @property
    def payload(self) -> str:
        return json.dumps(self.config, separators=(",", ":"))


def _z2m(ieee: str, friendly: str, room: str, model: str) -> dict[str, Any]:
    return {
        "availability": [
            {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"},
            {"topic": f"zigbee2mqtt/{friendly}/availability"},
        ],
        "device": {
            "identifiers": [f"zigbee2mqtt_{ieee}"],
            "manufacturer": "Generated",
            "model": model,
            "name": friendly,
            "suggested_area": room,
            "via_device": "zigbee2mqtt_bridge_0x00124b0022ecd1ab",
        },
        "origin": _ORIGIN,
        "state_topic": f"zigbee2mqtt/{friendly}",
        "json_attributes_topic": f"zigbee2mqtt/{friendly}",
    }


def _slug(text: str) -> str:
    return text.lower().replace(" ", "_")


def _light(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "LED1545G12")
    config.update(
        {
            "brightness": True,
            "brightness_scale": 254,
            "command_topic": f"zigbee2mqtt/{friendly}/set",
            "name": None,
            "object_id": _slug(friendly),
            "schema": "json",
            "supported_color_modes": ["color_temp"],
            "unique_id": f"{ieee}_light_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/light/{ieee}/light/config"
    return GeneratedDevice(topic, config, "light", friendly, room, config["command_topic"])


def _tasmota_switch(serial: int, room: str, kind: str) -> GeneratedDevice:
    mac = f"{serial:012X}"
    base = f"tasmota_{mac[-6:]}/"
    name = f"{room} {kind}"
    config = {
        "name": name,
        "stat_t": "~tele/STATE",
        "avty_t": "~tele/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
        "cmd_t": "~cmnd/POWER",
        "val_tpl": "{{value_json.POWER}}",
        "pl_off": "OFF",
        "pl_on": "ON",
        "uniq_id": f"{mac}_RL_1",
        "dev": {"ids": [mac], "sa": room, "mf": "Tasmota", "mdl": "Sonoff Basic"},
        "~": base,
    }
    topic = f"homeassistant/switch/{mac}_RL_1/config"
    return GeneratedDevice(topic, config, "switch", name, room, f"{base}cmnd/POWER")


def _sensor(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "WSDCGQ11LM")
    config.update(
        {
            "device_class": "temperature",
            "name": None,
            "object_id": _slug(friendly),
            "state_class": "measurement",
            "unit_of_measurement": "°C",
            "value_template": "{{ value_json.temperature }}",
            "unique_id": f"{ieee}_temperature_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/sensor/{ieee}/temperature/config"
    return GeneratedDevice(topic, config, "sensor", friendly, room, "")


def _contact(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "MCCGQ11LM")
    config.update(
        {
            "device_class": "window",
            "name": None,
            "object_id": _slug(friendly),
            "payload_off": True,
            "payload_on": False,
            "value_template": "{{ value_json.contact }}",
            "unique_id": f"{ieee}_contact_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/binary_sensor/{ieee}/contact/config"
    return GeneratedDevice(topic, config, "binary_sensor", friendly, room, "")


def _cover(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "E1757")
    config.update(
        {
            "command_topic": f"zigbee2mqtt/{friendly}/set",
            "name": None,
            "object_id": _slug(friendly),
            "position_template": "{{ value_json.position }}",
            "position_topic": f"zigbee2mqtt/{friendly}",
            "set_position_template": '{ "position": {{ position }} }',
            "set_position_topic": f"zigbee2mqtt/{friendly}/set",
            "value_template": "{{ value_json.state }}",
            "unique_id": f"{ieee}_cover_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/cover/{ieee}/cover/config"
    return GeneratedDevice(topic, config, "cover", friendly, room, config["command_topic"])


def _lock(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "YRD256HA20BP")
    config.update(
        {
            "command_topic": f"zigbee2mqtt/{friendly}/set/state",
            "name": None,
            "object_id": _slug(friendly),
            "payload_lock": "LOCK",
            "payload_unlock": "UNLOCK",
            "value_template": "{{ value_json.state }}",
            "unique_id": f"{ieee}_lock_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/lock/{ieee}/lock/config"
    return GeneratedDevice(topic, config, "lock", friendly, room, config["command_topic"])


def _climate(serial: int, room: str, kind: str) -> GeneratedDevice:
    ieee, friendly = f"0x{serial:016x}", f"{room} {kind}"
    config = _z2m(ieee, friendly, room, "SPZB0001")
    config.update(
        {
            "current_temperature_template": "{{ value_json.local_temperature }}",
            "current_temperature_topic": f"zigbee2mqtt/{friendly}",
            "max_temp": "30",
            "min_temp": "5",
            "mode_command_topic": f"zigbee2mqtt/{friendly}/set/system_mode",
            "mode_state_template": "{{ value_json.system_mode }}",
            "mode_state_topic": f"zigbee2mqtt/{friendly}",
            "modes": ["off", "auto", "heat"],
            "name": None,
            "object_id": _slug(friendly),
            "temp_step": 0.5,
            "temperature_command_topic": f"zigbee2mqtt/{friendly}/set/current_heating_setpoint",
            "temperature_unit": "C",
            "unique_id": f"{ieee}_climate_zigbee2mqtt",
        }
    )
    topic = f"homeassistant/climate/{ieee}/climate/config"
    command = config["temperature_command_topic"]
    return GeneratedDevice(topic, config, "climate", friendly, room, command)


_Maker = Callable[[int, str, str], GeneratedDevice]

KINDS: Final[tuple[tuple[str, _Maker], ...]] = (
    ("Light", _light),
    ("Lamp", _light),
    ("Plug", _tasmota_switch),
    ("Temperature", _sensor),
    ("Window", _contact),
    ("Blinds", _cover),
    ("Door Lock", _lock),
    ("Thermostat", _climate),
)


def room_name(index: int) -> str:
    """``Kitchen``, ``Office``, …, then ``Kitchen 2``, ``Office 2``, …"""
    base, lap = ROOMS[index % len(ROOMS)], index // len(ROOMS)
    return base if lap == 0 else f"{base} {lap + 1}"


def generate_home(devices: int) -> list[GeneratedDevice]:
    """``devices`` entities, eight to a room, each announced by its own retained config."""
    home: list[GeneratedDevice] = []
    for serial in range(devices):
        room = room_name(serial // len(KINDS))
        kind, make = KINDS[serial % len(KINDS)]
        home.append(make(0x00158D0000000000 + serial, room, kind))
    return home
