"""Devices learned from Home Assistant MQTT discovery.

Zigbee2MQTT, Tasmota, ESPHome and many other publishers announce each device feature as a
retained JSON message on ``<prefix>/<component>/[<node_id>/]<object_id>/config``; an empty message
removes it. :func:`parse_discovery` turns one such message into a :class:`Discovered` entity, a
:class:`Removed` key or a :class:`Refused` one-line reason. It is pure and never raises.

As Home Assistant does: abbreviated keys (``cmd_t``, ``stat_t``, ``dev`` with ``ids``/``mf``/…,
see :mod:`assistant.home.abbreviations`) are expanded, an abbreviated key winning over its long
form;
``~`` at the start or end of a ``…topic`` value is replaced by the payload's ``~``; a value of the
wrong type refuses the whole message; a light's ``schema`` is ``default`` (or ``basic``), ``json``
or ``template``; numbers written as text (``"min_temp": "5"``) are read as numbers.

Where Hearth decides for itself:

- An entity of a commandable component that declares no command topic is accepted, for its
  state, but is not commandable (``Entity.commandable`` is false and every service is refused
  with ``no_command_topic``). ``payload_open``/``_close``/``_stop`` set to ``null`` disable that
  cover service, as in Home Assistant. Other ``null`` values mean "use the default".
- ``template``-schema lights and device-based discovery (``<prefix>/device/…``) are refused.
- Spoken name: with ``has_entity_name: true``, "<device name> <entity name>"; with a named device
  and a ``null`` or absent entity name, the device name; else the entity ``name`` (then the
  composed "<device name> <entity name>" is kept as an alias); else the object id in words.
- Entity id: the one Home Assistant gives (``default_entity_id``, else ``object_id``, else the
  device and entity names; see :mod:`assistant.home.entity_ids`); the ids the same entity has
  under other Home Assistant versions, and the one Hearth gave before, are kept in
  ``Entity.other_ids``.
- Area: the entity's ``suggested_area`` (``sug_area``, a Hearth extension), else the device's.
- Climate without ``min_temp``/``max_temp`` uses 7/35, or 44.6/95 when ``temperature_unit`` is F.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from .abbreviations import ABBREVIATIONS, DEVICE_ABBREVIATIONS
from .entities import DEFAULT_HVAC_MODES, DOMAINS, Entity, area_id
from .entity_ids import discovery_entity_ids

__all__ = [
    "ABBREVIATIONS",
    "COMPONENTS",
    "DEVICE_ABBREVIATIONS",
    "MAX_PAYLOAD_BYTES",
    "Discovered",
    "DiscoveryResult",
    "Refused",
    "Removed",
    "parse_discovery",
]

MAX_PAYLOAD_BYTES: Final = 64 * 1024
COMPONENTS: Final = DOMAINS

_TOPIC: Final = re.compile(
    r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config",
    re.ASCII,
)
_FAHRENHEIT: Final = frozenset({"F", "°F"})


@dataclass(frozen=True, slots=True)
class Discovered:
    """A device feature announced on ``<prefix>/<key>/config``."""

    key: str  # "<component>/[<node_id>/]<object_id>", the same for its later removal
    entity: Entity


@dataclass(frozen=True, slots=True)
class Removed:
    """An empty config message: forget the entity discovered under ``key``."""

    key: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A message Hearth does not act on; ``key`` is the topic when it isn't a discovery one."""

    key: str
    reason: str  # one line, for a log
    quiet: bool = False  # not a fault: a component Hearth has no use for (button, event, ...)


DiscoveryResult = Discovered | Removed | Refused


class _Invalid(ValueError):
    """A payload that does not fit the schema; the message says which key and why."""


def parse_discovery(topic: str, payload: bytes, prefix: str = "homeassistant") -> DiscoveryResult:
    """Read one message from ``<prefix>/#``: an entity, a removal or a reason to ignore it.

    ``payload`` is the raw message, at most :data:`MAX_PAYLOAD_BYTES` (64 KiB) of UTF-8 JSON.
    """
    base = f"{prefix}/"
    match = _TOPIC.fullmatch(topic[len(base) :]) if topic.startswith(base) else None
    if match is None:
        return Refused(topic, f"not a discovery topic ({prefix}/<component>/<object_id>/config)")
    component, object_id = match["component"], match["object_id"]
    key = topic[len(base) : -len("/config")]
    if component == "device":
        return Refused(key, "device-based discovery (several components at once) is not supported")
    if component not in COMPONENTS:
        return Refused(key, f"unsupported component {component!r}", quiet=True)
    if not payload:
        return Removed(key)
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Refused(key, f"payload of {len(payload)} bytes is over the 64 KiB limit")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return Refused(key, "payload is not UTF-8")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        return Refused(key, "payload is not JSON")
    if not isinstance(config, dict):
        return Refused(key, "payload is not a JSON object")
    try:
        return Discovered(key, _entity(component, object_id, _expand(config)))
    except _Invalid as err:
        return Refused(key, str(err))


def _expand(config: Mapping[str, Any]) -> dict[str, Any]:
    """Abbreviations expanded (in the ``device`` block too) and ``~`` substituted."""
    full = _unabbreviate(config, ABBREVIATIONS)
    if isinstance(full.get("device"), dict):
        full["device"] = _unabbreviate(full["device"], DEVICE_ABBREVIATIONS)
    if "~" in full:
        base = full.pop("~")
        if not isinstance(base, str):
            raise _Invalid("'~' must be text")
        for key, value in full.items():
            if key.endswith("topic") and isinstance(value, str):
                full[key] = _with_base(value, base)
    return full


def _with_base(value: str, base: str) -> str:
    """``~`` at the start or end of a topic replaced by ``base``: ``~/set`` → ``base/set``."""
    if value == "~":
        return base
    lead, trail = value.startswith("~"), value.endswith("~")
    core = value[(1 if lead else 0) : (len(value) - 1 if trail else len(value))]
    return (base if lead else "") + core + (base if trail else "")


def _unabbreviate(config: Mapping[str, Any], table: Mapping[str, str]) -> dict[str, Any]:
    full = {key: value for key, value in config.items() if key not in table}
    full.update((table[key], value) for key, value in config.items() if key in table)
    return full


def _text(config: Mapping[str, Any], key: str, default: str = "") -> str:
    """A string option; ``null`` gives the default, and numbers and booleans become text as in
    Home Assistant (Zigbee2MQTT's contact sensors send ``"payload_on": false``, matched as
    ``"False"``)."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise _Invalid(f"{key!r} must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Invalid(f"{key!r} is not valid text") from None
    return value


def _topic(config: Mapping[str, Any], key: str, publish: bool = True) -> str:
    """A topic option: text without NUL, at most 65535 bytes; no wildcards to publish to."""
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{key!r} must be a topic")
    topic = _text(config, key)
    if "\0" in topic or len(topic.encode("utf-8")) > 65535:
        raise _Invalid(f"{key!r} is not a valid topic")
    if publish and ("+" in topic or "#" in topic):
        raise _Invalid(f"{key!r} cannot contain MQTT wildcards")
    return topic


def _payload(config: Mapping[str, Any], key: str, default: str) -> str:
    """A cover payload: ``null`` disables the service (empty string)."""
    return "" if key in config and config[key] is None else _text(config, key, default)


def _number(config: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    """A number (or a number written as text, as Z2M sends ``min_temp``) in ``low..high``."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(f"{key!r} must be a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _Invalid(f"{key!r} must be a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _Invalid(f"{key!r} must be from {low:g} to {high:g}")
    return number


def _integer(config: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole number in ``low..high``; a fraction is cut off, as Home Assistant's int() does."""
    value = config.get(key)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise _Invalid(f"{key!r} must be a whole number") from None
    return int(_number({key: value}, key, default, low, high))


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "on", "yes", "1")
    return value is True or (type(value) is int and value == 1)


def _strings(config: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = config.get(key)
    if value is None:
        return default
    items = value if isinstance(value, list) else [value]
    return tuple(_text({key: item}, key) for item in items)


def _names(
    config: Mapping[str, Any], device: Mapping[str, Any], object_id: str
) -> tuple[str, tuple[str, ...]]:
    """The spoken name and aliases, from the entity name, the device name and the object id."""
    own = " ".join(_text(config, "name").split())
    device_name = " ".join(_text(device, "name").split())
    if device_name and (_flag(config, "has_entity_name") or not own):
        return (f"{device_name} {own}" if own else device_name), ()
    if own:
        composed = f"{device_name} {own}"
        redundant = not device_name or area_id(own).startswith(area_id(device_name))
        return own, (() if redundant else (composed,))
    return " ".join(re.split(r"[_\-\s]+", object_id)).strip(), ()


def _entity(component: str, object_id: str, config: Mapping[str, Any]) -> Entity:
    """The entity a discovery payload (abbreviations already expanded) describes."""
    device = config.get("device") or {}
    if not isinstance(device, dict):
        raise _Invalid("'device' must be an object")
    name, aliases = _names(config, device, object_id)
    if not name:
        raise _Invalid("no name, device name or topic object id to call it by")
    for key in ("default_entity_id", "object_id", "unique_id"):
        _text(config, key)  # refuse a value of the wrong type before deriving ids from it
    ids = discovery_entity_ids(component, config, object_id)
    area_name = _text(config, "suggested_area") or _text(device, "suggested_area")
    fields: dict[str, Any] = {
        "entity_id": ids.entity_id,
        "other_ids": ids.other_ids,
        "domain": component,
        "name": name,
        "aliases": aliases,
        "area": area_id(area_name),
        "area_name": area_name,
        "unique_id": _text(config, "unique_id"),
        "source": "discovery",
        "command_topic": _topic(config, "command_topic"),
        "state_topic": _topic(config, "state_topic", publish=False),
        "json_attributes_topic": _topic(config, "json_attributes_topic", publish=False),
        "device_class": _text(config, "device_class"),
        "value_template": _text(config, "value_template"),
        "payload_on": _text(config, "payload_on", "ON"),
        "payload_off": _text(config, "payload_off", "OFF"),
    }
    fields.update(_COMPONENT_FIELDS.get(component, _no_fields)(config))
    return Entity(**fields)


def _no_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _light(config: Mapping[str, Any]) -> dict[str, Any]:
    schema = _text(config, "schema", "default")
    if schema == "template":
        raise _Invalid("template-schema lights are not supported yet")
    if schema not in ("default", "basic", "json"):
        raise _Invalid(f"unknown light schema {schema[:40]!r}")
    on_command_type = _text(config, "on_command_type", "last")
    if on_command_type not in ("last", "first", "brightness"):
        raise _Invalid("'on_command_type' must be last, first or brightness")
    color_modes = _strings(config, "supported_color_modes", ())
    return {
        "schema": "json" if schema == "json" else "default",
        "brightness": _flag(config, "brightness") or any(m != "onoff" for m in color_modes),
        "brightness_command_topic": _topic(config, "brightness_command_topic"),
        "brightness_command_template": _text(config, "brightness_command_template"),
        "brightness_scale": _integer(config, "brightness_scale", 255, 1, 1_000_000),
        "on_command_type": on_command_type,
        "supported_color_modes": color_modes,
        "rgb_command_topic": _topic(config, "rgb_command_topic"),
        "rgb_command_template": _text(config, "rgb_command_template"),
    }


def _fan(config: Mapping[str, Any]) -> dict[str, Any]:
    low = _integer(config, "speed_range_min", 1, 1, 1_000_000)
    high = _integer(config, "speed_range_max", 100, 1, 1_000_000)
    if low >= high:
        raise _Invalid("'speed_range_min' must be below 'speed_range_max'")
    return {
        "command_template": _text(config, "command_template"),
        "percentage_command_topic": _topic(config, "percentage_command_topic"),
        "percentage_command_template": _text(config, "percentage_command_template"),
        "speed_range_min": low,
        "speed_range_max": high,
    }


def _cover(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payload_open": _payload(config, "payload_open", "OPEN"),
        "payload_close": _payload(config, "payload_close", "CLOSE"),
        "payload_stop": _payload(config, "payload_stop", "STOP"),
        "set_position_topic": _topic(config, "set_position_topic"),
        "set_position_template": _text(config, "set_position_template"),
        "position_open": _integer(config, "position_open", 100, -1_000_000, 1_000_000),
        "position_closed": _integer(config, "position_closed", 0, -1_000_000, 1_000_000),
    }


def _lock(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payload_lock": _text(config, "payload_lock", "LOCK"),
        "payload_unlock": _text(config, "payload_unlock", "UNLOCK"),
        "command_template": _text(config, "command_template"),
    }


def _climate(config: Mapping[str, Any]) -> dict[str, Any]:
    unit = _text(config, "temperature_unit")
    low, high = (44.6, 95.0) if unit in _FAHRENHEIT else (7.0, 35.0)
    low, high = (
        _number(config, "min_temp", low, -1000, 1000),
        _number(config, "max_temp", high, -1000, 1000),
    )
    if low > high:
        raise _Invalid("'min_temp' must not be above 'max_temp'")
    return {
        "temperature_command_topic": _topic(config, "temperature_command_topic"),
        "temperature_command_template": _text(config, "temperature_command_template"),
        "min_temp": low,
        "max_temp": high,
        "temp_step": _number(config, "temp_step", 1.0, 0.001, 100),
        "mode_command_topic": _topic(config, "mode_command_topic"),
        "mode_command_template": _text(config, "mode_command_template"),
        "modes": _strings(config, "modes", DEFAULT_HVAC_MODES),
        "unit_of_measurement": f"°{unit[-1]}" if unit in ("C", "°C", *_FAHRENHEIT) else "",
    }


def _sensor(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"unit_of_measurement": _text(config, "unit_of_measurement")}


_COMPONENT_FIELDS: Final = MappingProxyType(
    {
        "light": _light,
        "switch": lambda config: {"command_template": _text(config, "command_template")},
        "fan": _fan,
        "cover": _cover,
        "lock": _lock,
        "climate": _climate,
        "sensor": _sensor,
    }
)
