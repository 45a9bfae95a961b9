"""The home as Hearth knows it, live: configured and discovered entities and their latest state.

Discovery results and state messages arrive on the MQTT thread; the pipeline reads immutable
snapshots. Every change to the set of entities notifies the listeners (the router's slot lists,
the speech-recognition hints). An entity from the configuration replaces a discovered one with the
same ``unique_id`` or entity id.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import ExposeConfig
from .entities import Entity, EntityRegistry, area_id
from .entity_ids import free_entity_id

__all__ = ["EntityState", "Home", "exposure_filter", "render_value"]

_LOGGER = logging.getLogger(__name__)

_VALUE_JSON = re.compile(
    r"^\{\{\s*value_json(?:\.(\w+)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*(?:\|[^}]*)?\}\}$"
)


def render_value(template: str, payload: str) -> str:
    """The common Home Assistant value templates: ``{{ value }}``, ``{{ value_json.KEY }}`` and
    ``{{ value_json['KEY'] }}`` (filters after ``|`` are ignored). Anything else, or a payload
    that does not fit, gives the payload unchanged."""
    template = template.strip()
    if not template or re.fullmatch(r"\{\{\s*value\s*\}\}", template):
        return payload
    match = _VALUE_JSON.match(template)
    if not match:
        return payload
    key = match.group(1) or match.group(2)
    try:
        body = json.loads(payload)
    except json.JSONDecodeError:
        return payload
    if isinstance(body, dict) and key in body:
        value = body[key]
        return value if isinstance(value, str) else json.dumps(value)
    return payload


@dataclass(frozen=True, slots=True)
class EntityState:
    """The latest state of an entity: its value, JSON attributes, and when it came (monotonic)."""

    value: str
    attributes: dict[str, Any] = field(default_factory=dict)
    received: float = 0.0


Listener = Callable[[EntityRegistry], None]


class Home:
    """Configured and discovered entities, the exposure filter, and their states."""

    def __init__(
        self, configured: Iterable[Entity] = (), exposed: Callable[[Entity], bool] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._configured = {e.entity_id: e for e in configured}
        self._discovered: dict[str, Entity] = {}  # discovery key -> entity
        self._exposed = exposed or (lambda entity: True)
        self._states: dict[str, EntityState] = {}
        self._listeners: list[Listener] = []
        self._snapshot = self._build()

    def _build(self) -> EntityRegistry:
        merged: dict[str, Entity] = {}
        overridden = {e.unique_id for e in self._configured.values() if e.unique_id}
        for entity in self._discovered.values():
            if entity.unique_id not in overridden and self._exposed(entity):
                merged[entity.entity_id] = entity
        merged.update(self._configured)  # the configuration wins, and is always exposed
        return EntityRegistry(merged.values())

    def registry(self) -> EntityRegistry:
        """An immutable snapshot of the exposed entities."""
        return self._snapshot

    def known(self) -> list[tuple[Entity, bool, str]]:
        """Every entity Hearth has heard of, exposed or not: ``(entity, exposed, why)``, where
        ``why`` names what decided (for a page that lists them all)."""
        with self._lock:
            configured = list(self._configured.values())
            discovered = list(self._discovered.values())
            exposed = self._exposed
        ids = {e.entity_id for e in configured}
        unique_ids = {e.unique_id for e in configured if e.unique_id}
        found = [(e, True, "declared in [[entities]]") for e in configured]
        for entity in discovered:
            if entity.entity_id in ids or entity.unique_id in unique_ids:
                found.append((entity, False, "replaced by its [[entities]] entry"))
            elif exposed(entity):
                found.append((entity, True, "discovered; [expose] lets it through"))
            else:
                found.append((entity, False, "discovered; left out by [expose]"))
        return found

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def reconfigure(
        self, configured: Iterable[Entity], exposed: Callable[[Entity], bool] | None = None
    ) -> None:
        """New configured entities and exposure filter (a reloaded configuration); what was
        discovered, and the states seen, are kept."""
        with self._lock:
            self._configured = {e.entity_id: e for e in configured}
            self._exposed = exposed or (lambda entity: True)
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            self._snapshot = self._build()
            snapshot = self._snapshot
        for listener in list(self._listeners):
            listener(snapshot)

    def discovered(self, key: str, entity: Entity) -> None:
        """A discovered entity; an id another one already has gets ``_2``, ``_3``…, as in
        Home Assistant."""
        with self._lock:
            taken = {e.entity_id for k, e in self._discovered.items() if k != key}
            if entity.entity_id in taken:
                entity = replace(entity, entity_id=free_entity_id(entity.entity_id, taken))
            self._discovered[key] = entity
        self._changed()

    def removed(self, key: str) -> None:
        with self._lock:
            if self._discovered.pop(key, None) is None:
                return
        self._changed()

    def state_topics(self) -> set[str]:
        topics: set[str] = set()
        for entity in self._all():
            topics.update(t for t in (entity.state_topic, entity.json_attributes_topic) if t)
        return topics

    def _all(self) -> list[Entity]:
        with self._lock:
            return [*self._discovered.values(), *self._configured.values()]

    def on_message(self, topic: str, payload: str) -> None:
        """A message on a state or attributes topic updates every entity that reads it."""
        now = time.monotonic()
        for entity in self._all():
            if topic == entity.state_topic:
                value = render_value(entity.value_template, payload)
                with self._lock:
                    old = self._states.get(entity.entity_id)
                    self._states[entity.entity_id] = EntityState(
                        value, old.attributes if old else {}, now
                    )
            if topic == entity.json_attributes_topic:
                try:
                    attributes = json.loads(payload)
                except json.JSONDecodeError:
                    _LOGGER.warning("%s: attributes are not JSON; ignored", topic)
                    continue
                if isinstance(attributes, dict):
                    with self._lock:
                        old = self._states.get(entity.entity_id)
                        self._states[entity.entity_id] = EntityState(
                            old.value if old else "", attributes, now
                        )

    def state(self, entity_id: str) -> EntityState | None:
        with self._lock:
            return self._states.get(entity_id)


def exposure_filter(expose: ExposeConfig) -> Callable[[Entity], bool]:
    """Which discovered entities voice may use, from ``[expose]``."""
    areas = {area_id(a) for a in expose.areas}

    def exposed(entity: Entity) -> bool:
        ids = entity.all_ids  # Home Assistant's id, or another one the entity is known by
        return (
            not any(i in expose.exclude for i in ids)
            and (not expose.entities or any(i in expose.entities for i in ids))
            and (not areas or entity.area in areas)
            and (not expose.domains or entity.domain in expose.domains)
        )

    return exposed
