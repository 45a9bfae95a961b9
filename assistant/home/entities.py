"""The devices Hearth may act on.

Each entity keeps the fields of Home Assistant MQTT discovery, with Home Assistant's defaults,
whether it was declared in ``[[entities]]`` or learned from discovery
(:mod:`assistant.home.discovery`). A home action is a validated (entity, service, data) triple;
:func:`build_messages` (in :mod:`assistant.home.payloads`, re-exported here) turns it into messages
on the device's own command topics, in the device's own payload schema. Nothing else builds topics
or payloads.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..config import EntityConfig
from .color import COLOR_MODES
from .payloads import SERVICES, Action, MqttMessage, available_services, build_messages

__all__ = [
    "DEFAULT_HVAC_MODES",
    "DOMAINS",
    "SERVICES",
    "SWITCHABLE",
    "Action",
    "Entity",
    "EntityRegistry",
    "MqttMessage",
    "area_id",
    "build_messages",
]

SWITCHABLE: Final = frozenset({"light", "switch", "fan"})
DOMAINS: Final = frozenset(
    {"light", "switch", "fan", "cover", "lock", "climate", "scene", "sensor", "binary_sensor"}
)
DEFAULT_HVAC_MODES: Final = ("auto", "off", "cool", "heat", "dry", "fan_only")


def area_id(name: str) -> str:
    """``"Living Room"`` → ``"living_room"``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True, slots=True)
class Entity:
    """One device feature Hearth knows: its id, how people name it, and how to command it.

    Field names and defaults are Home Assistant's MQTT ones; an empty string means "not
    declared" (for a topic: that service is unavailable; for ``payload_open``/``_close``/
    ``_stop``: the cover can't do that). Temperatures are in the device's own unit.
    """

    entity_id: str  # "<domain>.<object_id>"
    domain: str  # light, switch, fan, cover, lock, climate, scene, sensor, binary_sensor
    name: str  # what people say
    aliases: tuple[str, ...] = ()
    area: str = ""  # area id, e.g. "living_room"
    area_name: str = ""  # e.g. "Living Room"
    command_topic: str = ""
    state_topic: str = ""
    payload_on: str = "ON"  # light, switch, fan, scene; binary_sensor state
    payload_off: str = "OFF"
    schema: str = "default"  # light: "default" or "json"
    brightness_command_topic: str = ""  # light, default schema
    brightness_scale: int = 255  # the device's full brightness
    device_class: str = ""  # e.g. garage, door, temperature
    unique_id: str = ""
    source: Literal["config", "discovery"] = "config"
    json_attributes_topic: str = ""
    brightness: bool = True  # light, json schema: takes a brightness
    on_command_type: str = "last"  # light, default schema: "last", "first" or "brightness"
    brightness_command_template: str = ""
    supported_color_modes: tuple[str, ...] = ()  # light, json schema: e.g. ("xy", "color_temp")
    rgb_command_topic: str = ""  # light, default schema: takes "R,G,B"
    rgb_command_template: str = ""  # may use {{ red }}, {{ green }}, {{ blue }}
    command_template: str = ""  # switch, fan, lock: shapes payload_on/_off/_lock/_unlock
    percentage_command_topic: str = ""  # fan
    percentage_command_template: str = ""
    speed_range_min: int = 1  # fan speed sent for 1 %
    speed_range_max: int = 100  # fan speed sent for 100 %
    payload_open: str = "OPEN"  # cover
    payload_close: str = "CLOSE"
    payload_stop: str = "STOP"
    set_position_topic: str = ""
    set_position_template: str = ""
    position_open: int = 100  # device position when fully open
    position_closed: int = 0  # device position when closed
    payload_lock: str = "LOCK"  # lock
    payload_unlock: str = "UNLOCK"
    temperature_command_topic: str = ""  # climate
    temperature_command_template: str = ""
    min_temp: float = 7.0  # lowest target temperature accepted, device unit
    max_temp: float = 35.0  # highest target temperature accepted, device unit
    temp_step: float = 1.0  # target temperatures are multiples of this, device unit
    mode_command_topic: str = ""
    mode_command_template: str = ""
    modes: tuple[str, ...] = DEFAULT_HVAC_MODES
    unit_of_measurement: str = ""  # sensor; climate: the temperature unit when declared
    value_template: str = ""  # kept as text, never rendered
    other_ids: tuple[str, ...] = ()  # the same entity's ids in other Home Assistant versions

    @classmethod
    def from_config(cls, cfg: EntityConfig) -> Entity:
        """An entity from ``[[entities]]``: the fields both share by name are copied (lists as
        tuples); the id comes from ``unique_id`` and the area from ``suggested_area``."""
        shared = {f.name for f in dataclasses.fields(cls)}
        copied: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in cfg.model_dump().items()
            if key in shared
        }
        return cls(
            **copied,
            entity_id=f"{cfg.domain}.{area_id(cfg.unique_id)}",
            area=area_id(cfg.suggested_area),
            area_name=cfg.suggested_area,
            schema=cfg.schema_,
            source="config",
        )

    @property
    def all_ids(self) -> tuple[str, ...]:
        """Its id, then the other ids it is known by (``[expose]`` accepts any of them)."""
        return (self.entity_id, *self.other_ids)

    @property
    def dimmable(self) -> bool:
        if self.domain != "light":
            return False
        return self.brightness if self.schema == "json" else bool(self.brightness_command_topic)

    @property
    def colourable(self) -> bool:
        """Whether the light takes a colour: json schema with an rgb, rgbw, rgbww, hs or xy
        colour mode, or default schema with an ``rgb_command_topic``."""
        if self.domain != "light":
            return False
        if self.schema == "json":
            return not COLOR_MODES.isdisjoint(self.supported_color_modes)
        return bool(self.rgb_command_topic)

    @property
    def services(self) -> tuple[str, ...]:
        """The services this entity can carry out, given the topics it declares."""
        return available_services(self)

    @property
    def commandable(self) -> bool:
        """Whether any service can reach the device (a sensor, or an entity declared
        without a command topic, can't)."""
        return bool(self.services)


class EntityRegistry:
    """The known entities, by id, name and area."""

    def __init__(self, entities: Iterable[Entity] = ()) -> None:
        self._by_id = {entity.entity_id: entity for entity in entities}
        self._spoken: list[str] | None = None
        self._by_name: dict[str, list[Entity]] | None = None

    @classmethod
    def from_config(cls, configs: Iterable[EntityConfig]) -> EntityRegistry:
        return cls(Entity.from_config(cfg) for cfg in configs)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def get(self, entity_id: str) -> Entity | None:
        return self._by_id.get(entity_id)

    def areas(self) -> dict[str, str]:
        """Area id → the name people say."""
        return {e.area: e.area_name for e in self._by_id.values() if e.area}

    def in_area(self, area: str, domains: Iterable[str]) -> list[Entity]:
        wanted = set(domains)
        return [e for e in self._by_id.values() if e.area == area and e.domain in wanted]

    def spoken_names(self) -> list[str]:
        """Names, aliases and areas, for biasing speech recognition. A registry never changes
        (a new one is made when devices change), so this is worked out once per registry, not
        on every transcription."""
        if self._spoken is None:
            names: list[str] = []
            for entity in self._by_id.values():
                names.extend([entity.name, *entity.aliases])
            names.extend(self.areas().values())
            self._spoken = list(dict.fromkeys(n for n in names if n))
        return list(self._spoken)

    def namesakes(self, entity_id: str) -> list[Entity]:
        """Every entity answering to one of the names of ``entity_id`` (itself included), in a
        stable order; more than one means the name alone does not say which device."""
        entity = self._by_id.get(entity_id)
        if entity is None:
            return []
        if self._by_name is None:
            index: dict[str, list[Entity]] = {}
            for each in self._by_id.values():
                for key in {_name_key(n) for n in (each.name, *each.aliases) if n}:
                    index.setdefault(key, []).append(each)
            self._by_name = index
        found: dict[str, Entity] = {}
        for name in (entity.name, *entity.aliases):
            for each in self._by_name.get(_name_key(name), []):
                found[each.entity_id] = each
        return sorted(found.values(), key=lambda e: e.entity_id)


def _name_key(name: str) -> str:
    """How a name sounds, for telling namesakes: case, punctuation and spacing aside."""
    return " ".join(re.sub(r"[^\w]+", " ", name.casefold()).split())
