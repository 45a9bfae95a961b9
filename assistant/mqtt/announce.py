"""Hearth announces itself through Home Assistant MQTT discovery, as one device.

A state sensor, the last transcript and the last reply as sensors, a mute switch, a button that
starts listening, and an ``event`` entity for wake-ups. All of them read Hearth's own topics, so
nothing here adds a topic to the MQTT API. Only Hearth's own discovery topics are written.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__

__all__ = ["discovery_messages", "discovery_node"]


def discovery_node(node_id: str) -> str:
    """The ``<node_id>`` segment of Hearth's discovery topics."""
    return f"hearth_{node_id}"


def discovery_messages(prefix: str, node_id: str) -> list[tuple[str, str]]:
    """(topic, retained JSON payload) for each of Hearth's own entities."""
    base = f"hearth/{node_id}"
    node = discovery_node(node_id)
    device = {
        "identifiers": [node],
        "name": f"Hearth {node_id}",
        "manufacturer": "Hearth",
        "model": "Local voice assistant",
        "sw_version": __version__,
    }
    common = {"availability_topic": f"{base}/availability", "device": device}
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
                "state_topic": f"{base}/event/transcript",
                "value_template": "{{ value_json.text }}",
                "icon": "mdi:text-recognition",
            },
        ),
        (
            "sensor",
            "last_reply",
            {
                "name": "Last reply",
                "state_topic": f"{base}/event/reply",
                "value_template": "{{ value_json.text }}",
                "icon": "mdi:message-reply-text",
            },
        ),
        (
            "switch",
            "mute",
            {
                "name": "Mute",
                "command_topic": f"{base}/cmd/mute",
                "state_topic": f"{base}/state",
                "value_template": "{{ 'ON' if value == 'muted' else 'OFF' }}",
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
        body = {
            **fields,
            **common,
            "unique_id": f"{node}_{object_id}",
            "object_id": f"{node}_{object_id}",
        }
        topic = f"{prefix}/{component}/{node}/{object_id}/config"
        messages.append((topic, json.dumps(body, separators=(",", ":"))))
    return messages
