"""Entity ids as Home Assistant gives them to entities it learns from MQTT discovery.

Home Assistant picks an MQTT entity's id once, when it first sees it, and keeps it in its entity
registry (keyed by ``unique_id``). The rules, as its MQTT integration and entity registry apply
them (read from Home Assistant 2025.4, 2025.10 and 2026.2):

1. ``default_entity_id`` (Home Assistant 2025.10 and later): the part after its first ``.``,
   slugified; the domain written before the dot is not checked.
2. ``object_id`` (up to 2026.3; 2025.10 to 2026.3 warn about it unless ``default_entity_id`` is
   given too, 2026.4 and later ignore it): slugified.
3. Otherwise the names: "<device name> <entity name>" when the payload has a device block
   (MQTT entities always name themselves relative to their device, whatever
   ``has_entity_name`` says); the device name alone when the entity's ``name`` is null or empty;
   when ``name`` is absent, a sensor or binary sensor with a device class is named after the
   class ("Temperature") and anything else gets the platform's default name ("MQTT Switch");
   a device without a name is left out (before 2026 it was written as "None"). An entity
   without a ``unique_id`` is not registered and is named without its device. With nothing to
   go on: ``mqtt_<unique_id>``, or ``unnamed_device`` without a unique id.

A clash with an id already taken gets ``_2``, ``_3``… (:func:`free_entity_id`). Slugs are made
the way Home Assistant makes them (``python-slugify``: transliterated to ASCII, lower case, runs
of other characters become ``_``; text that gives no slug at all becomes ``unknown``). An id
renamed by hand in Home Assistant's entity settings is not visible over MQTT.

:func:`discovery_entity_ids` returns the id Home Assistant gives first, then the other ids the
same entity has under other Home Assistant versions and the id Hearth used before it followed
these rules, so that a configuration written for any of them still matches.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from slugify import slugify as _python_slugify

__all__ = ["MAX_ENTITY_ID_LENGTH", "EntityIds", "discovery_entity_ids", "free_entity_id", "slugify"]

MAX_ENTITY_ID_LENGTH: Final = 255
_PLATFORM: Final = "mqtt"
_UNNAMED: Final = "Unnamed Device"

# The MQTT platforms' names for an entity whose payload has no "name" key.
_DEFAULT_NAMES: Final = MappingProxyType(
    {
        "binary_sensor": "MQTT Binary sensor",
        "climate": "MQTT HVAC",
        "cover": "MQTT Cover",
        "fan": "MQTT Fan",
        "lock": "MQTT Lock",
        "scene": "MQTT Scene",
        "sensor": "MQTT Sensor",
        "switch": "MQTT Switch",
    }
)
_LIGHT_DEFAULT_NAMES: Final = MappingProxyType(
    {"default": "MQTT LightEntity", "basic": "MQTT LightEntity", "json": "MQTT JSON Light"}
)
# English device-class names whose slug is not the device class itself (the others are the
# class in words: "carbon_dioxide" is "Carbon dioxide").
_CLASS_NAMES: Final = MappingProxyType(
    {
        "sensor": MappingProxyType(
            {
                "aqi": "Air quality index",
                "energy_distance": "Energy per distance",
                "energy_storage": "Stored energy",
                "monetary": "Balance",
                "pm25": "PM2.5",
                "volume_storage": "Stored volume",
            }
        ),
        "binary_sensor": MappingProxyType({"battery_charging": "Charging"}),
    }
)


@dataclass(frozen=True, slots=True)
class EntityIds:
    """The id Home Assistant gives an entity, and the other ids it may be known by."""

    entity_id: str
    other_ids: tuple[str, ...] = ()


def slugify(text: str) -> str:
    """Home Assistant's slug: ``"Küche Licht"`` → ``"kuche_licht"``; ``""`` for empty text and
    ``"unknown"`` for text that gives no slug."""
    if not text:
        return ""
    return _python_slugify(text, separator="_") or "unknown"


def free_entity_id(wanted: str, taken: Container[str]) -> str:
    """``wanted``, or with ``_2``, ``_3``… when that is taken (cut to 255 characters)."""
    candidate = wanted[:MAX_ENTITY_ID_LENGTH]
    tries = 1
    while candidate in taken:
        tries += 1
        suffix = f"_{tries}"
        candidate = wanted[: MAX_ENTITY_ID_LENGTH - len(suffix)] + suffix
    return candidate


def discovery_entity_ids(
    component: str, config: Mapping[str, Any], topic_object_id: str
) -> EntityIds:
    """The ids of the entity a discovery payload describes (abbreviations already expanded;
    ``topic_object_id`` is the ``<object_id>`` segment of its topic)."""
    candidates: list[str] = []
    default_entity_id = _text(config.get("default_entity_id"))
    object_id = _text(config.get("object_id"))
    if default_entity_id:  # 2025.10 and later
        candidates.append(_entity_id(component, default_entity_id.partition(".")[2]))
    if object_id:  # before 2025.10, and entities registered before 2026.4
        candidates.append(_entity_id(component, object_id))
    unique_id = _text(config.get("unique_id"))
    candidates.append(_entity_id(component, _names_object_id(component, config, unique_id)))
    candidates.append(_entity_id(component, _names_object_id(component, config, unique_id, 2025)))
    candidates.append(
        _earlier_hearth_id(component, default_entity_id, object_id, unique_id, topic_object_id)
    )
    ids = [c for c in dict.fromkeys(candidates) if c]
    return EntityIds(ids[0], tuple(ids[1:]))


def _entity_id(component: str, object_id: str | None) -> str:
    slug = slugify(object_id or "")
    return f"{component}.{slug}"[:MAX_ENTITY_ID_LENGTH] if slug else ""


def _text(value: Any) -> str | None:
    """A text option as Home Assistant reads it: numbers become text, anything else nothing."""
    return str(value) if isinstance(value, str | int | float) else None


def _names_object_id(
    component: str, config: Mapping[str, Any], unique_id: str | None, rules: int = 2026
) -> str:
    """The object id Home Assistant makes from the names. ``rules=2025``: the registry before
    2026, which wrote a missing device name as "None"."""
    name = _entity_name(component, config)
    device = config.get("device")
    # only an entity with a unique id is registered, and only a registered one has a device
    if (
        unique_id
        and isinstance(device, Mapping)
        and (device.get("identifiers") or device.get("connections"))
    ):
        device_name = _text(device.get("name"))
        if not name:
            if device_name:
                return device_name
        elif device_name or rules == 2025:
            return f"{device_name} {name}"
    if name:
        return name
    return f"{_PLATFORM}_{unique_id}" if unique_id else _UNNAMED


def _entity_name(component: str, config: Mapping[str, Any]) -> str | None:
    """The entity's own name as the MQTT platform sets it (``None``: the device's name)."""
    if "name" in config:
        return _text(config["name"])
    device_class = _text(config.get("device_class")) or ""
    if component in _CLASS_NAMES and device_class and device_class != "enum":
        return _CLASS_NAMES[component].get(device_class, device_class.replace("_", " "))
    if component == "light":
        return _LIGHT_DEFAULT_NAMES.get(_text(config.get("schema")) or "default")
    return _DEFAULT_NAMES.get(component)


def _earlier_hearth_id(
    component: str,
    default_entity_id: str | None,
    object_id: str | None,
    unique_id: str | None,
    topic_object_id: str,
) -> str:
    """The id Hearth gave before it followed Home Assistant's rules: the first of
    ``default_entity_id`` (same domain only), ``object_id``, ``unique_id`` and the topic's object
    id that gives a slug (lower case, runs of other characters as ``_``)."""
    domain, _, wanted = (default_entity_id or "").partition(".")
    own = wanted if domain == component else ""
    for candidate in (own, object_id, unique_id, topic_object_id):
        if slug := re.sub(r"[^a-z0-9]+", "_", (candidate or "").lower()).strip("_"):
            return f"{component}.{slug}"
    return ""
