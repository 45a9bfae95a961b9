"""A small home of four devices in three rooms, for the router and language-model tests."""

from __future__ import annotations

from assistant.config import EntityConfig
from assistant.home.entities import EntityRegistry

__all__ = ["ENTITIES"]

ENTITIES = EntityRegistry.from_config(
    EntityConfig.model_validate(e)
    for e in [
        {
            "domain": "light",
            "name": "Kitchen Light",
            "unique_id": "kitchen_light",
            "schema": "json",
            "command_topic": "k/set",
            "suggested_area": "Kitchen",
        },
        {
            "domain": "light",
            "name": "Desk Lamp",
            "unique_id": "desk_lamp",
            "command_topic": "d/set",
            "brightness_command_topic": "d/b",
            "suggested_area": "Office",
            "aliases": ["reading lamp"],
        },
        {
            "domain": "switch",
            "name": "Coffee Maker",
            "unique_id": "coffee_maker",
            "command_topic": "c/set",
            "suggested_area": "Kitchen",
        },
        {
            "domain": "fan",
            "name": "Ceiling Fan",
            "unique_id": "ceiling_fan",
            "command_topic": "f/set",
            "suggested_area": "Bedroom",
        },
    ]
)
