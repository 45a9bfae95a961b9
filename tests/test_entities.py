"""Payload builders: each schema gives exactly the messages the device expects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.config import EntityConfig
from assistant.entities import Action, Entity, EntityRegistry, MqttMessage, build_messages
from assistant.errors import ActionError


def entity(**fields: Any) -> Entity:
    base = {"domain": "light", "name": "Lamp", "unique_id": "lamp", "command_topic": "lamp/set"}
    return Entity.from_config(EntityConfig.model_validate({**base, **fields}))


def test_default_schema_light() -> None:
    lamp = entity(
        brightness_command_topic="lamp/brightness/set",
        brightness_scale=100,
        payload_on="on",
        payload_off="off",
    )
    assert build_messages(lamp, Action(lamp.entity_id, "turn_on")) == [
        MqttMessage("lamp/set", "on")
    ]
    assert build_messages(lamp, Action(lamp.entity_id, "turn_off")) == [
        MqttMessage("lamp/set", "off")
    ]
    assert build_messages(lamp, Action(lamp.entity_id, "turn_on", {"brightness_pct": 40})) == [
        MqttMessage("lamp/brightness/set", "40"),
        MqttMessage("lamp/set", "on"),
    ]
    assert build_messages(lamp, Action(lamp.entity_id, "turn_on", {"brightness_pct": 0})) == [
        MqttMessage("lamp/set", "off")
    ]


def test_json_schema_light() -> None:
    lamp = entity(schema="json")
    assert build_messages(lamp, Action(lamp.entity_id, "turn_on"))[0].payload == '{"state":"ON"}'
    assert build_messages(lamp, Action(lamp.entity_id, "turn_off"))[0].payload == '{"state":"OFF"}'
    assert build_messages(lamp, Action(lamp.entity_id, "turn_on", {"brightness_pct": 50})) == [
        MqttMessage("lamp/set", '{"state":"ON","brightness":128}')
    ]


def test_switch_and_fan_use_their_payloads() -> None:
    plug = entity(domain="switch", payload_on="1", payload_off="0")
    fan = entity(domain="fan", unique_id="fan", command_topic="fan/set")
    assert build_messages(plug, Action(plug.entity_id, "turn_on")) == [MqttMessage("lamp/set", "1")]
    assert build_messages(fan, Action(fan.entity_id, "turn_off")) == [MqttMessage("fan/set", "OFF")]


@pytest.mark.parametrize(
    ("fields", "action_data", "code"),
    [
        ({}, {"brightness_pct": 50}, "not_dimmable"),
        ({"schema": "json"}, {"brightness_pct": 150}, "bad_value"),
        ({"schema": "json"}, {"colour": "red"}, "bad_value"),
        ({"command_topic": ""}, {}, "no_command_topic"),
        ({"domain": "sensor"}, {}, "unsupported"),
    ],
)
def test_refusals(fields: dict[str, Any], action_data: dict[str, Any], code: str) -> None:
    target = entity(**fields)
    with pytest.raises(ActionError) as caught:
        build_messages(target, Action(target.entity_id, "turn_on", action_data))
    assert caught.value.code == code


@given(pct=st.integers(0, 100), scale=st.integers(1, 65535))
def test_json_brightness_is_in_range(pct: int, scale: int) -> None:
    lamp = entity(schema="json", brightness_scale=scale)
    (message,) = build_messages(lamp, Action(lamp.entity_id, "turn_on", {"brightness_pct": pct}))
    body = json.loads(message.payload)
    assert body["state"] == ("OFF" if pct == 0 else "ON")
    if pct:
        assert 0 <= body["brightness"] <= scale
        assert abs(body["brightness"] - pct * scale / 100) <= 0.5


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    service=st.text(max_size=12) | st.sampled_from(["turn_on", "turn_off"]),
    data=st.dictionaries(
        st.sampled_from(["brightness_pct", "x"]) | st.text(max_size=5), json_values, max_size=2
    ),
    schema=st.sampled_from(["default", "json"]),
)
def test_any_action_gives_messages_or_a_clear_refusal(
    service: str, data: dict[str, Any], schema: str
) -> None:
    lamp = entity(schema=schema, brightness_command_topic="lamp/b")
    try:
        messages = build_messages(lamp, Action(lamp.entity_id, service, data))
    except ActionError as err:
        assert err.message
        return
    assert messages and all(m.topic in ("lamp/set", "lamp/b") and m.qos == 1 for m in messages)


def test_registry_areas_and_names() -> None:
    registry = EntityRegistry(
        [
            entity(suggested_area="Living Room", aliases=("big lamp",)),
            entity(domain="switch", unique_id="tv", name="TV", suggested_area="Living Room"),
        ]
    )
    assert registry.areas() == {"living_room": "Living Room"}
    assert [e.entity_id for e in registry.in_area("living_room", {"light"})] == ["light.lamp"]
    assert registry.spoken_names() == ["Lamp", "big lamp", "TV", "Living Room"]
