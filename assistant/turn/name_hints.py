"""The names speech-to-text is told to expect, most likely first.

A recogniser's prompt holds only so many words (Whisper keeps its last 223 tokens), and a big
home has thousands of names, so the names are ranked by how likely they are to be said next:
the devices named in the last commands (the newest first), then this room's devices and the
room itself, then the other rooms, then the other devices that can be commanded, then sensors.
The speech-to-text adapter takes from the front of this list what fits its own budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..home.entities import Entity, EntityRegistry

__all__ = ["hint_names"]


def hint_names(registry: EntityRegistry, area: str = "", recent: Sequence[str] = ()) -> list[str]:
    """Spoken names and area names of the exposed entities, most likely to be said first;
    ``area`` is this room's area id, ``recent`` the entity ids used lately (newest last)."""
    ordered: list[str] = []
    for entity_id in reversed(recent):
        entity = registry.get(entity_id)
        if entity is not None:
            ordered.extend(_names(entity))
    entities = list(registry)
    here = [e for e in entities if area and e.area == area]
    here_ids = {e.entity_id for e in here}
    for entity in here:
        ordered.extend(_names(entity))
    areas = registry.areas()
    if area in areas:
        ordered.append(areas[area])
    ordered.extend(name for key, name in sorted(areas.items()) if key != area)
    for entity in entities:
        if entity.commandable and entity.entity_id not in here_ids:
            ordered.extend(_names(entity))
    for entity in entities:
        if not entity.commandable and entity.entity_id not in here_ids:
            ordered.extend(_names(entity))
    return list(dict.fromkeys(name for name in ordered if name))


def _names(entity: Entity) -> list[str]:
    return [entity.name, *entity.aliases]
