"""Payload builders: each schema gives exactly the messages the device expects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assistant.config import EntityConfig
from assistant.errors import ActionError
from assistant.home.entities import (
    SERVICES,
    Action,
    Entity,
    EntityRegistry,
    MqttMessage,
    build_messages,
)


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


# Every other component: exact topics and payloads, as Home Assistant publishes them.


def messages(target: Entity, service: str, **data: Any) -> list[tuple[str, str]]:
    built = build_messages(target, Action(target.entity_id, service, data))
    assert all(m.qos == 1 and m.retain is False for m in built)
    return [(m.topic, m.payload) for m in built]


def refused(target: Entity, service: str, **data: Any) -> str:
    with pytest.raises(ActionError) as caught:
        build_messages(target, Action(target.entity_id, service, data))
    assert caught.value.message and "\n" not in caught.value.message
    return caught.value.code


def fan(**fields: Any) -> Entity:
    base = {"unique_id": "fan", "command_topic": "fan/set", "percentage_command_topic": "fan/pct"}
    return entity(domain="fan", **{**base, **fields})


def test_fan_percentage_is_scaled_to_the_speed_range() -> None:
    assert messages(fan(), "set_percentage", percentage=50) == [("fan/pct", "50")]
    assert messages(fan(), "set_percentage", percentage=1) == [("fan/pct", "1")]
    assert messages(fan(), "set_percentage", percentage=66.6) == [("fan/pct", "67")]
    three = fan(speed_range_max=3)
    speeds = {
        pct: messages(three, "set_percentage", percentage=pct)[0][1] for pct in (1, 33, 34, 67, 100)
    }
    assert speeds == {1: "1", 33: "1", 34: "2", 67: "3", 100: "3"}
    offset = fan(speed_range_min=10, speed_range_max=20)
    assert messages(offset, "set_percentage", percentage=1) == [("fan/pct", "10")]
    assert messages(offset, "set_percentage", percentage=50) == [("fan/pct", "15")]
    assert messages(offset, "set_percentage", percentage=100) == [("fan/pct", "20")]


def test_fan_percentage_zero_turns_it_off_and_on_off_keep_their_payloads() -> None:
    quiet = fan(payload_on="true", payload_off="false")
    assert messages(quiet, "set_percentage", percentage=0) == [("fan/set", "false")]
    assert messages(quiet, "turn_on") == [("fan/set", "true")]
    templated = fan(command_template='{"state": "{{ value }}"}')
    assert messages(templated, "turn_off") == [("fan/set", '{"state": "OFF"}')]
    assert messages(
        fan(percentage_command_template="{{ value }}%"), "set_percentage", percentage=20
    ) == [("fan/pct", "20%")]


def test_a_fan_with_only_a_percentage_topic_is_stopped_there() -> None:
    speeds_only = fan(command_topic="")
    assert messages(speeds_only, "set_percentage", percentage=0) == [("fan/pct", "0")]
    offset = fan(command_topic="", speed_range_min=10, speed_range_max=20)
    assert messages(offset, "set_percentage", percentage=0) == [("fan/pct", "9")]


@pytest.mark.parametrize("value", [101, -1, "50", True, None, float("nan"), float("inf"), [50]])
def test_fan_percentage_refuses_bad_values(value: Any) -> None:
    assert refused(fan(), "set_percentage", percentage=value) == "bad_value"


def test_fan_refusals() -> None:
    assert refused(fan(), "set_percentage") == "bad_value"
    assert refused(fan(), "set_percentage", percentage=50, oscillate=True) == "bad_value"
    assert refused(fan(percentage_command_topic=""), "set_percentage", percentage=50) == (
        "no_command_topic"
    )
    assert refused(fan(), "turn_on", brightness_pct=50) == "not_dimmable"
    assert refused(fan(), "open_cover") == "unsupported"


def cover(**fields: Any) -> Entity:
    base = {
        "unique_id": "garage",
        "name": "Garage Door",
        "command_topic": "garage/set",
        "set_position_topic": "garage/position",
        "device_class": "garage",
    }
    return entity(domain="cover", **{**base, **fields})


def test_cover_open_close_stop() -> None:
    door = cover()
    assert door.entity_id == "cover.garage"
    assert messages(door, "open_cover") == [("garage/set", "OPEN")]
    assert messages(door, "close_cover") == [("garage/set", "CLOSE")]
    assert messages(door, "stop_cover") == [("garage/set", "STOP")]
    custom = cover(payload_open="up", payload_close="down", payload_stop="halt")
    assert [messages(custom, s)[0][1] for s in ("open_cover", "close_cover", "stop_cover")] == [
        "up",
        "down",
        "halt",
    ]


def test_cover_position_is_scaled_between_closed_and_open() -> None:
    assert messages(cover(), "set_cover_position", position=40) == [("garage/position", "40")]
    wide = cover(position_open=255)
    assert messages(wide, "set_cover_position", position=50) == [("garage/position", "128")]
    assert messages(wide, "set_cover_position", position=100) == [("garage/position", "255")]
    inverted = cover(position_open=0, position_closed=100)
    assert messages(inverted, "set_cover_position", position=30) == [("garage/position", "70")]
    assert messages(inverted, "set_cover_position", position=0) == [("garage/position", "100")]
    templated = cover(set_position_template='{"position": {{ position }}, "raw": {{ value }}}')
    assert messages(templated, "set_cover_position", position=25) == [
        ("garage/position", '{"position": 25, "raw": 25}')
    ]


def test_cover_refusals() -> None:
    assert refused(cover(set_position_topic=""), "set_cover_position", position=5) == (
        "no_command_topic"
    )
    assert refused(cover(), "set_cover_position", position=101) == "bad_value"
    assert refused(cover(), "set_cover_position") == "bad_value"
    assert refused(cover(payload_stop=""), "stop_cover") == "unsupported"
    assert refused(cover(command_topic=""), "open_cover") == "no_command_topic"
    assert refused(cover(), "turn_on") == "unsupported"
    assert refused(cover(), "open_cover", position=3) == "bad_value"


def test_lock_and_unlock() -> None:
    front = entity(domain="lock", unique_id="front_door", command_topic="door/set")
    assert messages(front, "lock") == [("door/set", "LOCK")]
    assert messages(front, "unlock") == [("door/set", "UNLOCK")]
    custom = entity(
        domain="lock",
        unique_id="gate",
        command_topic="gate/set",
        payload_lock="close",
        payload_unlock="open",
        command_template='{"lock": "{{ value }}"}',
    )
    assert messages(custom, "unlock") == [("gate/set", '{"lock": "open"}')]
    assert refused(front, "turn_on") == "unsupported"
    assert refused(front, "lock", code="1234") == "bad_value"


def thermostat(**fields: Any) -> Entity:
    base = {
        "unique_id": "hall",
        "name": "Hall Thermostat",
        "command_topic": "",
        "temperature_command_topic": "hall/target/set",
        "mode_command_topic": "hall/mode/set",
    }
    return entity(domain="climate", **{**base, **fields})


def test_climate_set_temperature() -> None:
    hall = thermostat()
    assert (hall.min_temp, hall.max_temp, hall.temp_step) == (7.0, 35.0, 1.0)
    assert messages(hall, "set_temperature", temperature=21) == [("hall/target/set", "21.0")]
    assert messages(hall, "set_temperature", temperature=21.4) == [("hall/target/set", "21.0")]
    assert messages(hall, "set_temperature", temperature=7) == [("hall/target/set", "7.0")]
    assert messages(hall, "set_temperature", temperature=35) == [("hall/target/set", "35.0")]
    fine = thermostat(temp_step=0.5, min_temp=5, max_temp=30)
    assert messages(fine, "set_temperature", temperature=21.3) == [("hall/target/set", "21.5")]
    tenths = thermostat(temp_step=0.1)
    assert messages(tenths, "set_temperature", temperature=19.33) == [("hall/target/set", "19.3")]
    templated = thermostat(temperature_command_template='{"setpoint": {{ value }}}')
    assert messages(templated, "set_temperature", temperature=20) == [
        ("hall/target/set", '{"setpoint": 20.0}')
    ]


@pytest.mark.parametrize("value", [6.9, 35.1, -300, 1e400, "21", True, None, float("nan")])
def test_climate_refuses_temperatures_outside_its_range(value: Any) -> None:
    with pytest.raises(ActionError) as caught:
        build_messages(
            thermostat(), Action("climate.hall", "set_temperature", {"temperature": value})
        )
    assert caught.value.code == "bad_value"
    assert "7 to 35" in caught.value.message


def test_climate_modes_and_refusals() -> None:
    hall = thermostat(modes=("off", "heat"))
    assert messages(hall, "set_hvac_mode", hvac_mode="heat") == [("hall/mode/set", "heat")]
    assert refused(hall, "set_hvac_mode", hvac_mode="cool") == "bad_value"
    assert refused(hall, "set_hvac_mode") == "bad_value"
    assert refused(thermostat(mode_command_topic=""), "set_hvac_mode", hvac_mode="heat") == (
        "no_command_topic"
    )
    assert refused(thermostat(temperature_command_topic=""), "set_temperature", temperature=20) == (
        "no_command_topic"
    )
    assert refused(hall, "turn_on") == "unsupported"
    assert hall.services == ("set_temperature", "set_hvac_mode")


def test_scene_turn_on() -> None:
    movie = entity(domain="scene", unique_id="movie", command_topic="scenes/movie", payload_on="GO")
    assert messages(movie, "turn_on") == [("scenes/movie", "GO")]
    assert messages(entity(domain="scene", unique_id="s"), "turn_on") == [("lamp/set", "ON")]
    assert refused(movie, "turn_off") == "unsupported"
    assert refused(movie, "turn_on", brightness_pct=10) == "bad_value"


@pytest.mark.parametrize("domain", ["sensor", "binary_sensor"])
@pytest.mark.parametrize("service", ["turn_on", "turn_off", "open_cover", "lock", "read"])
def test_sensors_are_read_only(domain: str, service: str) -> None:
    reading = entity(domain=domain, unique_id="reading", state_topic="s/state")
    assert refused(reading, service) == "unsupported"
    assert not reading.commandable and reading.services == ()


def test_light_on_command_type() -> None:
    fields = {"brightness_command_topic": "lamp/b", "brightness_scale": 100}
    first = entity(on_command_type="first", **fields)
    assert messages(first, "turn_on", brightness_pct=30) == [("lamp/set", "ON"), ("lamp/b", "30")]
    only = entity(on_command_type="brightness", **fields)
    assert messages(only, "turn_on", brightness_pct=30) == [("lamp/b", "30")]
    assert messages(only, "turn_on") == [("lamp/b", "100")]
    assert messages(only, "turn_off") == [("lamp/set", "OFF")]
    templated = entity(brightness_command_template='{"dim": {{ value }}}', **fields)
    assert messages(templated, "turn_on", brightness_pct=30) == [
        ("lamp/b", '{"dim": 30}'),
        ("lamp/set", "ON"),
    ]


def test_unfillable_templates_make_the_service_unavailable() -> None:
    jinja = fan(percentage_command_template="{{ value | int }}")
    assert "set_percentage" not in jinja.services and "turn_on" in jinja.services
    assert refused(jinja, "set_percentage", percentage=10) == "unsupported"
    unknown_variable = fan(command_template="{{ brightness }}")
    assert refused(unknown_variable, "turn_on") == "unsupported"


def test_services_per_component() -> None:
    assert entity().services == ("turn_on", "turn_off")
    assert fan().services == ("turn_on", "turn_off", "set_percentage")
    assert cover().services == ("open_cover", "close_cover", "stop_cover", "set_cover_position")
    assert entity(domain="lock", unique_id="l").services == ("lock", "unlock")
    assert entity(domain="scene", unique_id="s").services == ("turn_on",)
    assert entity(command_topic="").commandable is False
    assert set(SERVICES) == {
        "light",
        "switch",
        "fan",
        "cover",
        "lock",
        "climate",
        "scene",
        "sensor",
        "binary_sensor",
    }
    assert SERVICES["climate"]["set_temperature"] == frozenset({"temperature"})
    assert thermostat().modes == Entity("climate.x", "climate", "X").modes  # one default


def test_from_config_keeps_the_new_fields() -> None:
    door = cover(unique_id="Garage-1", suggested_area="Garage", position_open=255)
    assert (door.entity_id, door.unique_id, door.source) == ("cover.garage_1", "Garage-1", "config")
    assert (door.area, door.area_name, door.device_class, door.position_open) == (
        "garage",
        "Garage",
        "garage",
        255,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"speed_range_min": 5, "speed_range_max": 5},
        {"min_temp": 30, "max_temp": 20},
        {"temp_step": 0},
        {"set_position_topic": "a/+/b"},
        {"on_command_type": "never"},
        {"min_temp": float("nan")},
    ],
)
def test_config_refuses_inconsistent_new_fields(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EntityConfig.model_validate({"domain": "fan", "name": "F", "unique_id": "f", **fields})


_TOPIC_FIELDS = (
    "command_topic",
    "brightness_command_topic",
    "percentage_command_topic",
    "set_position_topic",
    "temperature_command_topic",
    "mode_command_topic",
)


def _every_component() -> list[Entity]:
    topics = {name: f"dev/{name}" for name in _TOPIC_FIELDS}
    domains = ["light", "switch", "fan", "cover", "lock", "climate", "scene", "sensor"]
    built = [entity(domain=d, unique_id=d, **topics) for d in [*domains, "binary_sensor"]]
    built.append(entity(schema="json", unique_id="json_light", **topics))
    built.append(entity(schema="json", unique_id="xy", supported_color_modes=["xy"], **topics))
    built.append(entity(unique_id="rgb", rgb_command_topic="dev/rgb", **topics))
    built.append(entity(on_command_type="brightness", unique_id="dimmer", **topics))
    built.append(cover(unique_id="inverted", position_open=0, position_closed=255))
    built.append(thermostat(unique_id="fine", temp_step=0.5, min_temp=-10, max_temp=40.5))
    return built


_SERVICE_NAMES = sorted({s for services in SERVICES.values() for s in services})
_DATA_KEYS = sorted(
    {k for services in SERVICES.values() for keys in services.values() for k in keys}
)
_values = (
    json_values
    | st.integers(-10, 110)
    | st.floats(-1e6, 1e6)
    | st.sampled_from(["heat", "off", "auto", 50, 0, 100, 21.5, [255, 0, 0], (0, 128, 255)])
)


@st.composite
def _actions(draw: st.DrawFn) -> tuple[Entity, str, dict[str, Any]]:
    """Mostly a service of the entity's own component with its own data keys; sometimes not."""
    target = draw(st.sampled_from(_every_component()))
    own = SERVICES[target.domain]
    if own and draw(st.integers(0, 3)):
        service = draw(st.sampled_from(sorted(own)))
    else:
        service = draw(st.sampled_from(_SERVICE_NAMES) | st.text(max_size=12))
    keys = sorted(own.get(service, ()))
    if keys and draw(st.integers(0, 3)):
        names = st.sampled_from(keys)
    else:
        names = st.sampled_from(_DATA_KEYS) | st.text(max_size=5)
    data = draw(st.dictionaries(names, _values, max_size=2))
    return target, service, data


@settings(max_examples=500)
@given(action=_actions())
def test_any_service_on_any_component_gives_messages_or_a_clear_refusal(
    action: tuple[Entity, str, dict[str, Any]],
) -> None:
    target, service, data = action
    try:
        built = build_messages(target, Action(target.entity_id, service, data))
    except ActionError as err:
        assert err.code in (
            "unsupported",
            "bad_value",
            "no_command_topic",
            "not_dimmable",
            "not_colourable",
        )
        assert err.message
        return
    assert service in target.services
    assert built and all(m.qos == 1 and not m.retain for m in built)
    declared = {getattr(target, name) for name in (*_TOPIC_FIELDS, "rgb_command_topic")} - {""}
    assert all(m.topic in declared and isinstance(m.payload, str) for m in built)
