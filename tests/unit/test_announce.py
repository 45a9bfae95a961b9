"""Hearth's own discovery: ids every Home Assistant version reads alike, states that fit in
Home Assistant's 255 characters, and a named device block on every entity."""

from __future__ import annotations

import json
from typing import Any

import jinja2
import pytest

from assistant.config import Config
from assistant.home.discovery import Discovered, Refused, parse_discovery
from assistant.journal.report import sensor_discovery
from assistant.mqtt.announce import MAX_STATE_CHARS, discovery_messages, hearth_device

NODE = "kitchen"


def all_messages() -> list[tuple[str, dict[str, Any]]]:
    config = Config.model_validate({"assistant": {"node_id": NODE}})
    messages = discovery_messages("homeassistant", NODE) + sensor_discovery(config)
    return [(topic, json.loads(payload)) for topic, payload in messages]


def render(template: str, payload: dict[str, Any]) -> str:
    """A value template as Home Assistant renders it (Jinja, with ``value_json``)."""
    return jinja2.Environment().from_string(template).render(value_json=payload)


def test_ten_entities_with_ids_for_every_home_assistant_version() -> None:
    messages = all_messages()
    assert len(messages) == 10
    for topic, body in messages:
        component, node, object_id = topic.split("/")[1:4]
        assert node == f"hearth_{NODE}"
        assert body["unique_id"] == body["object_id"] == f"hearth_{NODE}_{object_id}"
        assert body["default_entity_id"] == f"{component}.{body['object_id']}"
        assert body["device"] == hearth_device(NODE) and body["device"]["name"] == "Hearth kitchen"


def test_hearth_reads_its_own_entity_ids_as_home_assistant_does() -> None:
    for topic, body in all_messages():
        result = parse_discovery(topic, json.dumps(body).encode())
        if isinstance(result, Refused):  # button and event: not voice devices
            assert result.quiet and topic.split("/")[1] in ("button", "event")
            continue
        assert isinstance(result, Discovered)
        assert result.entity.entity_id == body["default_entity_id"]


@pytest.mark.parametrize("sensor", ["last_transcript", "last_reply"])
def test_a_long_text_is_cut_in_the_state_and_whole_in_an_attribute(sensor: str) -> None:
    body = next(b for t, b in all_messages() if t.endswith(f"/{sensor}/config"))
    text = "This reply is deliberately long. " * 12
    event = {"v": 1, "type": "reply", "turn": "t1", "text": text}
    assert body["json_attributes_topic"] == body["state_topic"]
    state = render(body["value_template"], event)
    assert state == text[:MAX_STATE_CHARS] and len(state) == 255
    assert json.loads(render(body["json_attributes_template"], event)) == {"text": text}
    assert render(body["value_template"], {**event, "text": "Short."}) == "Short."


def test_the_mute_switch_reads_the_mute_topic_not_the_state() -> None:
    body = next(b for t, b in all_messages() if t.startswith("homeassistant/switch/"))
    assert body["state_topic"] == f"hearth/{NODE}/mute"
    assert "value_template" not in body
    assert (body["payload_on"], body["payload_off"]) == ("ON", "OFF")
    assert body["command_topic"] == f"hearth/{NODE}/cmd/mute"
