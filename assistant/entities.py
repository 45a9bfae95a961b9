"""The devices Hearth may act on, and the MQTT messages that act on them.

Each entity keeps the fields of Home Assistant MQTT discovery. A home action is a validated
(entity, service, data) triple; :func:`build_messages` turns it into messages on the device's own
command topics, in the device's own payload schema. Nothing else builds topics or payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import EntityConfig
from .errors import ActionError

__all__ = [
    "Action",
    "Entity",
    "EntityRegistry",
    "MqttMessage",
    "area_id",
    "build_messages",
]

SWITCHABLE = frozenset({"light", "switch", "fan"})


def area_id(name: str) -> str:
    """``"Living Room"`` → ``"living_room"``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True, slots=True)
class Entity:
    entity_id: str
    domain: str
    name: str
    aliases: tuple[str, ...] = ()
    area: str = ""  # area id, e.g. "living_room"
    area_name: str = ""
    command_topic: str = ""
    state_topic: str = ""
    payload_on: str = "ON"
    payload_off: str = "OFF"
    schema: str = "default"
    brightness_command_topic: str = ""
    brightness_scale: int = 255
    device_class: str = ""

    @classmethod
    def from_config(cls, cfg: EntityConfig) -> Entity:
        return cls(
            entity_id=f"{cfg.domain}.{area_id(cfg.unique_id)}",
            domain=cfg.domain,
            name=cfg.name,
            aliases=tuple(cfg.aliases),
            area=area_id(cfg.suggested_area),
            area_name=cfg.suggested_area,
            command_topic=cfg.command_topic,
            state_topic=cfg.state_topic,
            payload_on=cfg.payload_on,
            payload_off=cfg.payload_off,
            schema=cfg.schema_,
            brightness_command_topic=cfg.brightness_command_topic,
            brightness_scale=cfg.brightness_scale,
            device_class=cfg.device_class,
        )

    @property
    def dimmable(self) -> bool:
        return self.domain == "light" and (
            self.schema == "json" or bool(self.brightness_command_topic)
        )


class EntityRegistry:
    """The known entities, by id, name and area."""

    def __init__(self, entities: Iterable[Entity] = ()) -> None:
        self._by_id = {entity.entity_id: entity for entity in entities}

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
        """Names, aliases and areas, for biasing speech recognition."""
        names: list[str] = []
        for entity in self._by_id.values():
            names.extend([entity.name, *entity.aliases])
        names.extend(self.areas().values())
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True, slots=True)
class Action:
    """A validated home action, as mirrored on ``hearth/<id>/action``."""

    entity_id: str
    service: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: str
    qos: int = 1
    retain: bool = False


def _compact(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _brightness_pct(entity: Entity, data: Mapping[str, Any]) -> int | None:
    if "brightness_pct" not in data:
        return None
    value = data["brightness_pct"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ActionError(
            "bad_value", f"brightness for {entity.name} must be 0 to 100 percent, not {value!r}"
        )
    if not entity.dimmable:
        raise ActionError("not_dimmable", f"The {entity.name} can't be dimmed.")
    return round(value)


def build_messages(entity: Entity, action: Action) -> list[MqttMessage]:
    """The messages that carry out ``action`` on ``entity``, in publish order.

    Light, default schema: ``payload_on``/``payload_off`` on ``command_topic``; a brightness goes
    to ``brightness_command_topic`` scaled by ``brightness_scale``, then ``payload_on`` (Home
    Assistant's ``on_command_type: last``). Light, ``json`` schema: ``{"state":"ON",
    "brightness":…}`` on ``command_topic``. Switch and fan: ``payload_on``/``payload_off``.
    """
    if entity.entity_id != action.entity_id:
        raise ActionError("entity_mismatch", f"action for {action.entity_id} on {entity.entity_id}")
    if entity.domain not in SWITCHABLE:
        raise ActionError("unsupported", f"Hearth can't control the {entity.name} yet.")
    if action.service not in ("turn_on", "turn_off"):
        raise ActionError("unsupported", f"{entity.name} has no service {action.service!r}.")
    if not entity.command_topic:
        raise ActionError("no_command_topic", f"The {entity.name} has no command topic.")
    unknown = set(action.data) - {"brightness_pct"}
    if unknown:
        raise ActionError("bad_value", f"unknown action data {sorted(unknown)} for {entity.name}")
    pct = _brightness_pct(entity, action.data) if action.service == "turn_on" else None
    turn_on = action.service == "turn_on" and pct != 0
    if entity.domain == "light" and entity.schema == "json":
        body: dict[str, Any] = {"state": "ON" if turn_on else "OFF"}
        if turn_on and pct is not None:
            body["brightness"] = round(pct * entity.brightness_scale / 100)
        return [MqttMessage(entity.command_topic, _compact(body))]
    if not turn_on:
        return [MqttMessage(entity.command_topic, entity.payload_off)]
    messages = []
    if pct is not None:
        level = round(pct * entity.brightness_scale / 100)
        messages.append(MqttMessage(entity.brightness_command_topic, str(level)))
    messages.append(MqttMessage(entity.command_topic, entity.payload_on))
    return messages
