"""Hearth announces itself through Home Assistant MQTT discovery, as one device.

A state sensor, the last transcript and the last reply as sensors, a mute switch, a button that
starts listening, and an ``event`` entity for wake-ups. All of them read Hearth's own topics.
Only Hearth's own discovery topics are written.

Each entity gives its id twice, as ``default_entity_id`` (read by Home Assistant 2025.10 and
later) and as ``object_id`` (read up to 2026.3; when both are given, 2025.10 to 2026.3 take
``default_entity_id`` and do not warn), so it is ``<component>.hearth_<node_id>_<object>`` in
every version. Home Assistant refuses a state longer than 255 characters: the transcript and
reply sensors show the first 255 and keep the whole text in their ``text`` attribute.
"""

from __future__ import annotations

import json
from typing import Any, Final

from .. import __version__

__all__ = [
    "MAX_STATE_CHARS",
    "discovery_messages",
    "discovery_node",
    "entity_keys",
    "hearth_device",
    "mute_topic",
]

MAX_STATE_CHARS: Final = 255  # Home Assistant's longest state


def discovery_node(node_id: str) -> str:
    """The ``<node_id>`` segment of Hearth's discovery topics."""
    return f"hearth_{node_id}"


def mute_topic(node_id: str) -> str:
    """Retained ``ON``/``OFF``: whether the microphone is muted, even during a turn."""
    return f"hearth/{node_id}/mute"


def hearth_device(node_id: str) -> dict[str, Any]:
    """The device block every one of Hearth's entities carries (with its name, as Home
    Assistant asks of each entity's device block)."""
    return {
        "identifiers": [discovery_node(node_id)],
        "name": f"Hearth {node_id}",
        "manufacturer": "Hearth",
        "model": "Local voice assistant",
        "sw_version": __version__,
    }


def entity_keys(component: str, node_id: str, object_id: str) -> dict[str, str]:
    """``unique_id`` and the entity id, in both of the forms Home Assistant has read."""
    object_key = f"{discovery_node(node_id)}_{object_id}"
    return {
        "unique_id": object_key,
        "object_id": object_key,
        "default_entity_id": f"{component}.{object_key}",
    }


def _long_text(topic: str) -> dict[str, str]:
    """A sensor of an event's ``text``: its first 255 characters, the whole in an attribute."""
    return {
        "state_topic": topic,
        "value_template": f"{{{{ value_json.text[:{MAX_STATE_CHARS}] }}}}",
        "json_attributes_topic": topic,
        "json_attributes_template": '{{ {"text": value_json.text} | tojson }}',
    }


def discovery_messages(prefix: str, node_id: str) -> list[tuple[str, str]]:
    """(topic, retained JSON payload) for each of Hearth's own entities."""
    base = f"hearth/{node_id}"
    node = discovery_node(node_id)
    common = {"availability_topic": f"{base}/availability", "device": hearth_device(node_id)}
    entities: list[tuple[str, str, dict[str, Any]]] = [
        (
            "sensor",
            "state",
            {
                "name": "State",
                "state_topic": f"{base}/state",
                "icon": "mdi:account-voice",
            },
        ),
        (
            "sensor",
            "last_transcript",
            {
                "name": "Last transcript",
                **_long_text(f"{base}/event/transcript"),
                "icon": "mdi:text-recognition",
            },
        ),
        (
            "sensor",
            "last_reply",
            {
                "name": "Last reply",
                **_long_text(f"{base}/event/reply"),
                "icon": "mdi:message-reply-text",
            },
        ),
        (
            "switch",
            "mute",
            {
                "name": "Mute",
                "command_topic": f"{base}/cmd/mute",
                "state_topic": mute_topic(node_id),
                "payload_on": "ON",
                "payload_off": "OFF",
                "icon": "mdi:microphone-off",
            },
        ),
        (
            "button",
            "listen",
            {
                "name": "Listen",
                "command_topic": f"{base}/cmd/listen",
                "payload_press": "LISTEN",
                "icon": "mdi:microphone",
            },
        ),
        (
            "event",
            "wake",
            {
                "name": "Wake word",
                "state_topic": f"{base}/event/wake",
                "event_types": ["wake"],
                "value_template": '{"event_type": "{{ value_json.type }}", '
                '"score": {{ value_json.score }}}',
            },
        ),
    ]
    messages = []
    for component, object_id, fields in entities:
        body = {**fields, **common, **entity_keys(component, node_id, object_id)}
        topic = f"{prefix}/{component}/{node}/{object_id}/config"
        messages.append((topic, json.dumps(body, separators=(",", ":"))))
    return messages
