"""The home as Hearth knows it, live: configured and discovered entities and their latest state.

Discovery results and state messages arrive on other threads; the pipeline reads immutable
snapshots. Changes to the set of entities are announced to the listeners (the router's slot
lists, the broker link's state subscriptions): at once for a single change, or once for a burst
of discovery configs (:mod:`assistant.mqtt.intake` applies a burst and announces it when it
settles). An entity from the configuration replaces a discovered one with the same
``unique_id`` or entity id.
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
    """Configured and discovered entities, the exposure filter, and their states.

    A discovered config costs the same in a home of 2,000 devices as in one of 10: the entity
    ids taken, the exposed entities and the topic each entity reads are kept as indexes and
    changed one entity at a time; the snapshot :meth:`registry` hands out is made again only
    when something changed and it is read.
    """

    def __init__(
        self, configured: Iterable[Entity] = (), exposed: Callable[[Entity], bool] | None = None
    ) -> None:
        self._lock = threading.RLock()
        self._configured = {e.entity_id: e for e in configured}
        self._discovered: dict[str, Entity] = {}  # discovery key -> entity
        self._discovered_ids: dict[str, str] = {}  # entity id -> discovery key
        self._usable: dict[str, Entity] = {}  # discovery key -> exposed, not overridden
        self._readers: dict[str, set[str]] = {}  # state or attributes topic -> discovery keys
        self._exposed = exposed or (lambda entity: True)
        self._overridden: set[str] = set()
        self._states: dict[str, EntityState] = {}
        self._listeners: list[Listener] = []
        self._snapshot: EntityRegistry | None = None
        self._unannounced = False  # changed since the listeners last heard
        self._reindex_configured()

    def _reindex_configured(self) -> None:
        self._overridden = {e.unique_id for e in self._configured.values() if e.unique_id}
        self._usable = {k: e for k, e in self._discovered.items() if self._usable_entity(e)}
        self._snapshot = None

    def _usable_entity(self, entity: Entity) -> bool:
        return entity.unique_id not in self._overridden and self._exposed(entity)

    def registry(self) -> EntityRegistry:
        """An immutable snapshot of the exposed entities."""
        with self._lock:
            if self._snapshot is None:
                # the configuration wins over a discovered entity of the same id, and is
                # always exposed
                self._snapshot = EntityRegistry(
                    [*self._usable.values(), *self._configured.values()]
                )
            return self._snapshot

    def count(self) -> int:
        """How many entities Hearth has heard of, exposed or not."""
        with self._lock:
            return len(self._discovered) + len(self._configured)

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
            self._reindex_configured()
            self._unannounced = True
        self.announce()

    def announce(self) -> None:
        """Tell the listeners (the router's slot lists, the broker link) about what changed
        since they last heard; nothing if nothing did."""
        with self._lock:
            if not self._unannounced:
                return
            self._unannounced = False
        snapshot = self.registry()
        for listener in list(self._listeners):
            listener(snapshot)

    @property
    def unannounced(self) -> bool:
        """Whether something changed that the listeners have not heard about yet."""
        return self._unannounced

    def discovered(self, key: str, entity: Entity, *, announce: bool = True) -> list[str]:
        """A discovered entity; an id another one already has gets ``_2``, ``_3``…, as in
        Home Assistant. Returns the topics no entity read before (to subscribe to). With
        ``announce=False`` the listeners hear of it at the next :meth:`announce`."""
        with self._lock:
            self._forget(key)
            if self._discovered_ids.get(entity.entity_id, key) != key:
                entity = replace(
                    entity, entity_id=free_entity_id(entity.entity_id, self._discovered_ids)
                )
            self._discovered[key] = entity
            self._discovered_ids[entity.entity_id] = key
            if self._usable_entity(entity):
                self._usable[key] = entity
            fresh = []
            for topic in _topics(entity):
                readers = self._readers.setdefault(topic, set())
                if not readers:
                    fresh.append(topic)
                readers.add(key)
            self._snapshot = None
            self._unannounced = True
        if announce:
            self.announce()
        return fresh

    def removed(self, key: str, *, announce: bool = True) -> None:
        with self._lock:
            if not self._forget(key):
                return
            self._snapshot = None
            self._unannounced = True
        if announce:
            self.announce()

    def _forget(self, key: str) -> bool:
        entity = self._discovered.pop(key, None)
        if entity is None:
            return False
        if self._discovered_ids.get(entity.entity_id) == key:
            del self._discovered_ids[entity.entity_id]
        self._usable.pop(key, None)
        for topic in _topics(entity):
            readers = self._readers.get(topic)
            if readers is not None:
                readers.discard(key)
                if not readers:
                    del self._readers[topic]
        return True

    def state_topics(self) -> set[str]:
        """Every state and attributes topic an entity reads."""
        with self._lock:
            topics = set(self._readers)
            for entity in self._configured.values():
                topics.update(_topics(entity))
            return topics

    def _reading(self, topic: str) -> list[Entity]:
        with self._lock:
            found = [self._discovered[k] for k in self._readers.get(topic, ())]
            found.extend(e for e in self._configured.values() if topic in _topics(e))
            return found

    def on_message(self, topic: str, payload: str) -> None:
        """A message on a state or attributes topic updates every entity that reads it."""
        now = time.monotonic()
        for entity in self._reading(topic):
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


def _topics(entity: Entity) -> tuple[str, ...]:
    """The topics an entity reads its state and attributes from."""
    return tuple(t for t in (entity.state_topic, entity.json_attributes_topic) if t)


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
