"""Home Assistant MQTT discovery: real publishers' messages become entities that act correctly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from discovery_fixtures import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.errors import ActionError
from assistant.home.discovery import (
    ABBREVIATIONS,
    MAX_PAYLOAD_BYTES,
    Discovered,
    Refused,
    Removed,
    parse_discovery,
)
from assistant.home.entities import SERVICES, Action, Entity, MqttMessage, build_messages


def discover(topic: str, payload: dict[str, Any] | bytes, prefix: str = "homeassistant") -> Entity:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = parse_discovery(topic, raw, prefix)
    assert isinstance(result, Discovered), result
    return result.entity


def fixture(name: str) -> Entity:
    return discover(*FIXTURES[name])


def refusal(topic: str, payload: dict[str, Any] | bytes) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = parse_discovery(topic, raw)
    assert isinstance(result, Refused), result
    return result.reason


def act(entity: Entity, service: str, **data: Any) -> list[tuple[str, str]]:
    messages = build_messages(entity, Action(entity.entity_id, service, data))
    assert all(m.qos == 1 and not m.retain for m in messages)
    return [(m.topic, m.payload) for m in messages]


# name → (expected entity fields, [(service, data, expected (topic, payload) list)])
EXPECTED: dict[str, tuple[dict[str, Any], list[tuple[str, dict[str, Any], list[Any]]]]] = {
    "z2m_light": (
        {
            "entity_id": "light.kitchen_ceiling",
            "name": "Kitchen ceiling",
            "aliases": (),
            "schema": "json",
            "brightness_scale": 254,
            "state_topic": "zigbee2mqtt/Kitchen ceiling",
            "json_attributes_topic": "zigbee2mqtt/Kitchen ceiling",
            "unique_id": "0x0017880104e45517_light_zigbee2mqtt",
        },
        [
            ("turn_on", {}, [("zigbee2mqtt/Kitchen ceiling/set", '{"state":"ON"}')]),
            (
                "turn_on",
                {"brightness_pct": 50},
                [("zigbee2mqtt/Kitchen ceiling/set", '{"state":"ON","brightness":127}')],
            ),
            ("turn_off", {}, [("zigbee2mqtt/Kitchen ceiling/set", '{"state":"OFF"}')]),
        ],
    ),
    "z2m_lock": (
        {"entity_id": "lock.front_door_lock", "name": "Front door lock"},
        [
            ("lock", {}, [("zigbee2mqtt/Front door lock/set/state", "LOCK")]),
            ("unlock", {}, [("zigbee2mqtt/Front door lock/set/state", "UNLOCK")]),
        ],
    ),
    "z2m_thermostat": (
        {
            "entity_id": "climate.hallway_thermostat",
            "name": "Hallway thermostat",
            "min_temp": 5.0,
            "max_temp": 30.0,
            "temp_step": 0.5,
            "modes": ("off", "heat", "auto"),
            "unit_of_measurement": "°C",
        },
        [
            (
                "set_temperature",
                {"temperature": 21.3},
                [("zigbee2mqtt/Hallway thermostat/set/current_heating_setpoint", "21.5")],
            ),
            (
                "set_temperature",
                {"temperature": 19},
                [("zigbee2mqtt/Hallway thermostat/set/current_heating_setpoint", "19.0")],
            ),
            (
                "set_hvac_mode",
                {"hvac_mode": "heat"},
                [("zigbee2mqtt/Hallway thermostat/set/system_mode", "heat")],
            ),
        ],
    ),
    "z2m_temperature": (
        {
            "entity_id": "sensor.living_room_climate_temperature",
            "name": "Temperature",
            "aliases": ("Living room climate Temperature",),
            "device_class": "temperature",
            "unit_of_measurement": "°C",
            "value_template": "{{ value_json.temperature }}",
            "state_topic": "zigbee2mqtt/Living room climate",
            "commandable": False,
        },
        [],
    ),
    "z2m_door": (
        {
            "entity_id": "binary_sensor.back_door_sensor_contact",
            "name": "Contact",
            "aliases": ("Back door sensor Contact",),
            "device_class": "door",
            "payload_on": "False",
            "payload_off": "True",
            "commandable": False,
        },
        [],
    ),
    "tasmota_relay": (
        {
            "entity_id": "switch.coffee_machine_coffee_machine",
            "name": "Coffee Machine",
            "aliases": (),
            "command_topic": "tasmota_8A1B2C/cmnd/POWER",
            "state_topic": "tasmota_8A1B2C/tele/STATE",
            "value_template": "{{value_json.POWER}}",
        },
        [
            ("turn_on", {}, [("tasmota_8A1B2C/cmnd/POWER", "ON")]),
            ("turn_off", {}, [("tasmota_8A1B2C/cmnd/POWER", "OFF")]),
        ],
    ),
    "tasmota_dimmer": (
        {
            "entity_id": "light.bedroom_dimmer_bedside_lamp",
            "name": "Bedside Lamp",
            "aliases": ("Bedroom Dimmer Bedside Lamp",),
            "schema": "default",
            "brightness_command_topic": "tasmota_5C3D9E/cmnd/Dimmer",
            "brightness_scale": 100,
            "on_command_type": "brightness",
        },
        [
            ("turn_on", {"brightness_pct": 40}, [("tasmota_5C3D9E/cmnd/Dimmer", "40")]),
            ("turn_on", {}, [("tasmota_5C3D9E/cmnd/Dimmer", "100")]),
            ("turn_on", {"brightness_pct": 0}, [("tasmota_5C3D9E/cmnd/POWER", "OFF")]),
            ("turn_off", {}, [("tasmota_5C3D9E/cmnd/POWER", "OFF")]),
        ],
    ),
    "esphome_garage": (
        {
            "entity_id": "cover.garage_door_garage_door",
            "name": "Garage Door",
            "aliases": (),
            "area": "garage",
            "area_name": "Garage",
            "device_class": "garage",
            "services": ("open_cover", "close_cover", "stop_cover", "set_cover_position"),
        },
        [
            ("open_cover", {}, [("garage-door/cover/garage_door/command", "OPEN")]),
            ("close_cover", {}, [("garage-door/cover/garage_door/command", "CLOSE")]),
            ("stop_cover", {}, [("garage-door/cover/garage_door/command", "STOP")]),
            (
                "set_cover_position",
                {"position": 30},
                [("garage-door/cover/garage_door/position/command", "30")],
            ),
        ],
    ),
    "esphome_fan": (
        {
            "entity_id": "fan.bedroom_fan_ceiling_fan",
            "name": "Ceiling Fan",
            "aliases": ("bedroom-fan Ceiling Fan",),
            "area": "bedroom",
            "speed_range_min": 1,
            "speed_range_max": 3,
        },
        [
            ("turn_on", {}, [("bedroom-fan/fan/ceiling_fan/command", "ON")]),
            (
                "set_percentage",
                {"percentage": 50},
                [("bedroom-fan/fan/ceiling_fan/speed_level/command", "2")],
            ),
            (
                "set_percentage",
                {"percentage": 34},
                [("bedroom-fan/fan/ceiling_fan/speed_level/command", "2")],
            ),
            (
                "set_percentage",
                {"percentage": 100},
                [("bedroom-fan/fan/ceiling_fan/speed_level/command", "3")],
            ),
            ("set_percentage", {"percentage": 0}, [("bedroom-fan/fan/ceiling_fan/command", "OFF")]),
        ],
    ),
    "ha_motion": (
        {
            "entity_id": "binary_sensor.garden",
            "name": "Garden",
            "device_class": "motion",
            "commandable": False,
        },
        [],
    ),
    "ha_kitchen_light": (
        {
            "entity_id": "light.kitchen",
            "name": "Kitchen",
            "command_topic": "homeassistant/light/kitchen/set",
            "state_topic": "homeassistant/light/kitchen/state",
            "schema": "json",
            "dimmable": True,
        },
        [
            (
                "turn_on",
                {"brightness_pct": 100},
                [("homeassistant/light/kitchen/set", '{"state":"ON","brightness":255}')],
            )
        ],
    ),
    "ha_hvac": (
        {
            "entity_id": "climate.livingroom",
            "name": "Livingroom",
            "min_temp": 15.0,
            "max_temp": 25.0,
            "temp_step": 0.5,
            "modes": ("off", "heat"),
        },
        [
            (
                "set_temperature",
                {"temperature": 22.5},
                [("homeassistant/climate/livingroom/targetTempCmd", "22.5")],
            ),
            (
                "set_hvac_mode",
                {"hvac_mode": "off"},
                [("homeassistant/climate/livingroom/thermostatModeCmd", "off")],
            ),
        ],
    ),
    "nodered_scene": (
        {
            "entity_id": "scene.living_room_movie_night",
            "name": "Living room Movie night",
            "area": "living_room",
            "area_name": "Living room",
        },
        [("turn_on", {}, [("nodered/scenes/living_room/movie_night/activate", "ACTIVATE")])],
    ),
}


def test_every_fixture_has_expectations() -> None:
    assert set(EXPECTED) == set(FIXTURES)
    assert 10 <= len(FIXTURES) <= 15
    components = {topic.split("/")[1] for topic, _ in FIXTURES.values()}
    assert components == {
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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_the_expected_entity(name: str) -> None:
    topic, payload = FIXTURES[name]
    result = parse_discovery(topic, json.dumps(payload).encode())
    assert isinstance(result, Discovered), result
    assert result.key == topic.removeprefix("homeassistant/").removesuffix("/config")
    entity = result.entity
    fields, actions = EXPECTED[name]
    assert entity.domain == topic.split("/")[1]
    assert entity.source == "discovery"
    assert {key: getattr(entity, key) for key in fields} == fields
    for service, data, messages in actions:
        assert act(entity, service, **data) == messages, (service, data)


def test_fixtures_survive_a_round_trip_through_the_wire_format() -> None:
    """Compact JSON, as the publishers send it, parses the same as pretty JSON."""
    for topic, payload in FIXTURES.values():
        compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        pretty = json.dumps(payload, indent=2).encode()
        assert parse_discovery(topic, compact) == parse_discovery(topic, pretty)


def test_climate_refuses_temperatures_outside_its_range() -> None:
    thermostat = fixture("z2m_thermostat")
    for temperature in (4.5, 30.5, float("nan"), "21", True, None):
        with pytest.raises(ActionError) as caught:
            act(thermostat, "set_temperature", temperature=temperature)
        assert caught.value.code == "bad_value"
    with pytest.raises(ActionError) as caught:
        act(thermostat, "set_hvac_mode", hvac_mode="cool")
    assert caught.value.code == "bad_value"
    assert "off, heat, auto" in caught.value.message


def test_empty_payload_removes() -> None:
    assert parse_discovery("homeassistant/light/0x0017880104e45517/light/config", b"") == Removed(
        "light/0x0017880104e45517/light"
    )
    assert parse_discovery("homeassistant/sensor/garden/config", b"") == Removed("sensor/garden")
    assert parse_discovery("hass/switch/x/config", b"", prefix="hass") == Removed("switch/x")


def test_abbreviations_and_the_base_topic() -> None:
    entity = discover(
        "homeassistant/cover/blind/config",
        {
            "~": "home/blind",
            "name": "Blind",
            "cmd_t": "~/set",
            "stat_t": "~/state",
            "json_attr_t": "~/attributes",
            "set_pos_t": "~/position/set",
            "pos_open": 0,
            "pos_clsd": 255,
            "pl_open": "up",
            "pl_cls": "down",
            "pl_stop": None,
            "uniq_id": "blind-01",
            "dev": {
                "ids": ["blind01"],
                "name": "Blind motor",
                "mf": "Acme",
                "mdl": "B1",
                "sa": "Study",
            },
        },
    )
    assert entity.command_topic == "home/blind/set"
    assert entity.state_topic == "home/blind/state"
    assert entity.json_attributes_topic == "home/blind/attributes"
    assert entity.entity_id == "cover.blind_motor_blind"  # Home Assistant's: device + entity name
    assert "cover.blind_01" in entity.other_ids  # the id Hearth gave before
    assert (entity.area, entity.area_name) == ("study", "Study")
    assert act(entity, "open_cover") == [("home/blind/set", "up")]
    assert act(entity, "close_cover") == [("home/blind/set", "down")]
    # position_open 0, position_closed 255: the device counts the other way round.
    assert act(entity, "set_cover_position", position=100) == [("home/blind/position/set", "0")]
    assert act(entity, "set_cover_position", position=0) == [("home/blind/position/set", "255")]
    assert act(entity, "set_cover_position", position=40) == [("home/blind/position/set", "153")]
    assert "stop_cover" not in entity.services  # pl_stop: null disables stop
    with pytest.raises(ActionError) as caught:
        act(entity, "stop_cover")
    assert caught.value.code == "unsupported"


def test_base_topic_at_the_end_and_abbreviation_precedence() -> None:
    entity = discover(
        "homeassistant/switch/node1/plug/config",
        {
            "~": "plug_7",
            "name": "Plug",
            "cmd_t": "cmnd/~",
            "command_topic": "ignored/because/the/short/key/wins",
            "stat_t": "~",
        },
    )
    assert entity.command_topic == "cmnd/plug_7"
    assert entity.state_topic == "plug_7"
    assert entity.entity_id == "switch.plug"  # the topic's object id


def test_every_abbreviation_expands() -> None:
    """Each short key reaches the entity exactly as its long form does."""
    long_keys = {
        "command_topic": "a/set",
        "state_topic": "a/state",
        "json_attributes_topic": "a/attrs",
        "unique_id": "abbr_light",
        "brightness_command_topic": "a/bri",
        "brightness_scale": 100,
        "payload_on": "1",
        "payload_off": "0",
        "on_command_type": "first",
        "device_class": "light",
        "value_template": "{{ value }}",
    }
    short = {k: v for k, v in ABBREVIATIONS.items() if v in long_keys}
    assert sorted(short.values()) == sorted(long_keys)  # each has exactly one short form
    with_long = discover("homeassistant/light/abbr/config", {"name": "A", **long_keys})
    with_short = discover(
        "homeassistant/light/abbr/config",
        {"name": "A", **{k: long_keys[v] for k, v in short.items()}},
    )
    assert with_short == with_long
    assert act(with_short, "turn_on", brightness_pct=30) == [("a/set", "1"), ("a/bri", "30")]


@pytest.mark.parametrize(
    ("payload", "name", "aliases"),
    [
        # has_entity_name: the device name, then the entity name.
        ({"name": "Humidity", "has_entity_name": True}, "Attic sensor Humidity", ()),
        # Modern style without the flag: a null or absent name means the device's main feature.
        ({"name": None}, "Attic sensor", ()),
        ({}, "Attic sensor", ()),
        ({"name": None, "has_entity_name": True}, "Attic sensor", ()),
        # Legacy style: the entity's own name; the composed one is kept as an alias.
        ({"name": "Humidity"}, "Humidity", ("Attic sensor Humidity",)),
        ({"name": "Attic sensor humidity"}, "Attic sensor humidity", ()),
        ({"name": "  Attic\n humidity "}, "Attic humidity", ("Attic sensor Attic humidity",)),
    ],
)
def test_naming_follows_has_entity_name(
    payload: dict[str, Any], name: str, aliases: tuple[str, ...]
) -> None:
    device = {"ids": ["attic01"], "name": "Attic sensor"}
    entity = discover(
        "homeassistant/sensor/attic01/humidity/config",
        {"stat_t": "attic/state", **payload, "dev": device},
    )
    assert (entity.name, entity.aliases) == (name, aliases)


def test_naming_without_a_device() -> None:
    topic = "homeassistant/sensor/attic01/outdoor_humidity/config"
    assert discover(topic, {"name": "Humidity", "has_entity_name": True}).name == "Humidity"
    assert discover(topic, {"name": None}).name == "outdoor humidity"


def ids(topic: str, payload: dict[str, Any]) -> tuple[str, ...]:
    return discover(topic, payload).all_ids


def test_entity_id_follows_home_assistant_default_entity_id_then_object_id_then_names() -> None:
    topic = "homeassistant/switch/node/topic_object/config"
    device = {"identifiers": ["pump01"], "name": "Garden pump"}
    named = {"name": "Power", "unique_id": "uid-9", "device": device}
    assert discover(topic, named).entity_id == "switch.garden_pump_power"
    with_object_id = {**named, "object_id": "Porch Light"}
    assert discover(topic, with_object_id).entity_id == "switch.porch_light"
    newest = {**with_object_id, "default_entity_id": "switch.pump"}
    # 2025.10 and later read default_entity_id, earlier versions object_id, and 2026.4 and
    # later name new entities after the device and entity names
    assert ids(topic, newest) == (
        "switch.pump",
        "switch.porch_light",
        "switch.garden_pump_power",
    )
    # Home Assistant takes the part after the dot whatever domain is written before it
    assert discover(topic, {**named, "default_entity_id": "light.pump"}).entity_id == "switch.pump"
    assert "switch.uid_9" in ids(topic, named)  # Hearth's earlier id, from the unique id
    assert "switch.topic_object" in ids(topic, {"name": "Power"})  # ... or the topic


@pytest.mark.parametrize(
    ("payload", "entity_id"),
    [
        # the device's main feature: the device name alone
        ({"name": None, "unique_id": "u1", "device": {"ids": ["d"], "name": "Desk lamp"}}, ""),
        ({"name": "", "unique_id": "u1", "device": {"ids": ["d"], "name": "Desk lamp"}}, ""),
        # has_entity_name false makes no difference to MQTT entities
        (
            {
                "name": "Light",
                "has_entity_name": False,
                "unique_id": "u1",
                "device": {"ids": ["d"], "name": "Desk lamp"},
            },
            "_light",
        ),
        # no name key: the platform's default name
        ({"unique_id": "u1", "device": {"ids": ["d"], "name": "Desk lamp"}}, "_mqtt_lightentity"),
        (
            {"unique_id": "u1", "schema": "json", "device": {"ids": ["d"], "name": "Desk lamp"}},
            "_mqtt_json_light",
        ),
    ],
)
def test_entity_id_from_the_names(payload: dict[str, Any], entity_id: str) -> None:
    topic = "homeassistant/light/desk/config"
    assert discover(topic, {"cmd_t": "desk/set", **payload}).entity_id == (
        f"light.desk_lamp{entity_id}"
    )


def test_entity_id_edge_cases_as_home_assistant_has_them() -> None:
    topic = "homeassistant/sensor/probe/value/config"
    device = {"identifiers": ["probe"], "name": "Probe"}
    # a sensor without a name key is named after its device class, else the platform default
    assert discover(
        topic, {"unique_id": "t", "device_class": "temperature", "dev": device}
    ).entity_id == ("sensor.probe_temperature")
    assert discover(topic, {"unique_id": "t", "device_class": "pm25", "dev": device}).entity_id == (
        "sensor.probe_pm2_5"
    )
    assert (
        discover(topic, {"unique_id": "t", "dev": device}).entity_id == "sensor.probe_mqtt_sensor"
    )
    # a device without a name: Home Assistant 2026 leaves it out, 2025 wrote "None"
    nameless = {"name": "Value", "unique_id": "t", "device": {"identifiers": ["probe"]}}
    assert ids(topic, nameless)[:2] == ("sensor.value", "sensor.none_value")
    # without a unique id an entity has no device in Home Assistant
    assert discover(topic, {"name": "Value", "device": device}).entity_id == "sensor.value"
    # nothing to name it by: mqtt_<unique id>, else "unnamed device"
    assert discover(topic, {"name": None, "unique_id": "T 1"}).entity_id == "sensor.mqtt_t_1"
    assert discover(topic, {"name": None}).entity_id == "sensor.unnamed_device"
    # Home Assistant's slugs: transliterated, and text without letters or digits is "unknown"
    assert discover(topic, {"name": "Küche Straße", "uniq_id": "k"}).entity_id == (
        "sensor.kuche_strasse"
    )
    assert discover(topic, {"object_id": "!!!", "name": "x"}).entity_id == "sensor.unknown"
    long = discover(topic, {"object_id": "x" * 300, "name": "x"}).entity_id
    assert len(long) == 255


def test_area_prefers_the_entity_over_the_device() -> None:
    topic = "homeassistant/light/hall/config"
    device = {"name": "Hall lights", "sa": "Hallway"}
    assert discover(topic, {"cmd_t": "h/set", "dev": device}).area == "hallway"
    own = {"cmd_t": "h/set", "dev": device, "suggested_area": "Upstairs Landing"}
    assert discover(topic, own).area_name == "Upstairs Landing"
    assert discover(topic, {**own, "sug_area": "Porch"}).area == "porch"


def test_light_schemas() -> None:
    topic = "homeassistant/light/strip/config"
    assert discover(topic, {"cmd_t": "s/set", "schema": "basic"}).schema == "default"
    onoff = discover(
        topic, {"cmd_t": "s/set", "schema": "json", "supported_color_modes": ["onoff"]}
    )
    assert not onoff.dimmable
    with pytest.raises(ActionError) as caught:
        act(onoff, "turn_on", brightness_pct=20)
    assert caught.value.code == "not_dimmable"
    rgb = discover(topic, {"cmd_t": "s/set", "schema": "json", "supported_color_modes": ["rgb"]})
    assert rgb.dimmable
    assert "template" in refusal(topic, {"cmd_t": "s/set", "schema": "template"})
    assert "schema" in refusal(topic, {"cmd_t": "s/set", "schema": "yaml"})


def test_commandable_component_without_a_command_topic_is_read_only() -> None:
    """Accepted, for its state; every service is refused with no_command_topic."""
    entity = discover("homeassistant/switch/meter/config", {"name": "Meter", "stat_t": "m/state"})
    assert entity.state_topic == "m/state"
    assert not entity.commandable
    assert entity.services == ()
    with pytest.raises(ActionError) as caught:
        act(entity, "turn_on")
    assert caught.value.code == "no_command_topic"


def test_simple_command_templates_are_filled_and_others_refused() -> None:
    topic = "homeassistant/cover/bedroom_blind/config"
    z2m_style = {
        "command_topic": "zigbee2mqtt/Bedroom blind/set",
        "set_position_topic": "zigbee2mqtt/Bedroom blind/set",
        "set_position_template": '{ "position": {{ position }} }',
    }
    blind = discover(topic, z2m_style)
    assert act(blind, "set_cover_position", position=65) == [
        ("zigbee2mqtt/Bedroom blind/set", '{ "position": 65 }')
    ]
    jinja = discover(topic, {**z2m_style, "set_position_template": "{{ position | int * 2 }}"})
    assert "set_cover_position" not in jinja.services
    with pytest.raises(ActionError) as caught:
        act(jinja, "set_cover_position", position=65)
    assert caught.value.code == "unsupported"
    assert act(jinja, "open_cover") == [("zigbee2mqtt/Bedroom blind/set", "OPEN")]
    lock = discover(
        "homeassistant/lock/gate/config",
        {
            "name": "Gate",
            "cmd_t": "gate/set",
            "cmd_tpl": '{"action":"{{ value }}","id":"{{ entity_id }}"}',
        },
    )
    assert act(lock, "unlock") == [("gate/set", '{"action":"UNLOCK","id":"lock.gate"}')]


def test_fahrenheit_thermostat_defaults() -> None:
    entity = discover(
        "homeassistant/climate/den/config", {"temp_cmd_t": "den/target", "temp_unit": "F"}
    )
    assert (entity.min_temp, entity.max_temp, entity.unit_of_measurement) == (44.6, 95.0, "°F")
    assert act(entity, "set_temperature", temperature=68) == [("den/target", "68.0")]


LIGHT = "homeassistant/light/lamp/config"


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (LIGHT, b"\xff\xfe{}", "not UTF-8"),
        (LIGHT, b"{not json", "not JSON"),
        (LIGHT, b"[" * 50_000, "not JSON"),
        (LIGHT, b'["a", "list"]', "not a JSON object"),
        (LIGHT, b'"text"', "not a JSON object"),
        (LIGHT, b"   ", "not JSON"),
        (LIGHT, b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "64 KiB"),
        ("homeassistant/vacuum/robot/config", b"{}", "unsupported component 'vacuum'"),
        ("homeassistant/alarm_control_panel/x/config", b"", "unsupported component"),
        ("homeassistant/device/hub/config", b"{}", "device-based discovery"),
        ("homeassistant/light/lamp/state", b"{}", "not a discovery topic"),
        ("homeassistant/light/a/b/c/config", b"{}", "not a discovery topic"),
        ("homeassistant/light/bad id/config", b"{}", "not a discovery topic"),
        ("zigbee2mqtt/light/lamp/config", b"{}", "not a discovery topic"),
        (LIGHT, b'{"cmd_t": "lamp/+/set"}', "wildcards"),
        (LIGHT, b'{"cmd_t": ["lamp/set"]}', "'command_topic' must be a topic"),
        (LIGHT, b'{"name": {"en": "Lamp"}}', "'name' must be text"),
        (LIGHT, b'{"dev": "lamp"}', "'device' must be an object"),
        (LIGHT, b'{"bri_scl": "bright"}', "'brightness_scale' must be a whole number"),
        (LIGHT, b'{"bri_scl": 0}', "'brightness_scale' must be from 1"),
        (LIGHT, b'{"~": 5, "cmd_t": "~/set"}', "'~' must be text"),
        (LIGHT, b'{"name": "\\ud800"}', "'name' is not valid text"),
        ("homeassistant/fan/f/config", b'{"spd_rng_min": 5, "spd_rng_max": 5}', "speed_range"),
        ("homeassistant/climate/c/config", b'{"min_temp": 30, "max_temp": 10}', "min_temp"),
        ("homeassistant/climate/c/config", b'{"temp_step": "NaN"}', "'temp_step' must be from"),
    ],
)
def test_refusals(topic: str, payload: bytes, reason: str) -> None:
    result = parse_discovery(topic, payload)
    assert isinstance(result, Refused), result
    assert reason in result.reason
    assert "\n" not in result.reason


def test_refusal_key_is_the_discovery_key_or_the_topic() -> None:
    assert parse_discovery(LIGHT, b"nope") == Refused("light/lamp", "payload is not JSON")
    assert parse_discovery("other/topic", b"{}").key == "other/topic"


# Hypothesis: whatever arrives on the discovery prefix, the parser answers and never raises.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
_KEYS = sorted(
    {*ABBREVIATIONS, *ABBREVIATIONS.values(), "~", "device", "has_entity_name", "schema"}
)
_topic_values = st.sampled_from(["a/set", "~/set", "b/~", "~", "x/+/y", ""]) | st.text(max_size=6)
_numbers = st.integers(-5, 300) | st.floats(-1e3, 1e3) | st.sampled_from(["5", "0.5", "x", "1e999"])
_templates = st.sampled_from(
    ["", "{{ value }}", '{"p": {{ position }}}', "{{ value | int }}", "{% if x %}", "{{ nope }}"]
)
_TOPIC_KEYS = ["cmd_t", "command_topic", "bri_cmd_t", "pct_cmd_t", "set_pos_t", "temp_cmd_t"]
_NUMBER_KEYS = ["bri_scl", "spd_rng_min", "spd_rng_max", "pos_open", "pos_clsd", "temp_step"]
_PLAUSIBLE = {
    **dict.fromkeys([*_TOPIC_KEYS, "mode_cmd_t", "stat_t", "json_attr_t"], _topic_values),
    **dict.fromkeys([*_NUMBER_KEYS, "min_temp", "max_temp"], _numbers),
    **dict.fromkeys(["cmd_tpl", "pct_cmd_tpl", "set_pos_tpl", "temp_cmd_tpl"], _templates),
    **dict.fromkeys(["pl_on", "pl_off", "pl_open", "pl_stop", "pl_lock"], st.none() | st.text()),
    "modes": st.lists(st.text(max_size=5), max_size=3) | json_values,
    "~": st.sampled_from(["base", "a/b/", ""]) | st.text(max_size=5),
    "schema": st.sampled_from(["json", "default", "basic", "template", "yaml"]),
    "on_cmd_type": st.sampled_from(["last", "first", "brightness", "never"]),
    "has_entity_name": st.booleans(),
    "brightness": st.booleans(),
    "name": st.none() | st.text(max_size=10),
    "dev": st.fixed_dictionaries({}, optional={"name": st.text(max_size=8), "sa": st.text()}),
}
discovery_like = st.builds(
    lambda plausible, anything: {**anything, **plausible},
    st.fixed_dictionaries({}, optional=_PLAUSIBLE),
    st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), json_values, max_size=2),
)
action_data = st.dictionaries(
    st.sampled_from(["brightness_pct", "percentage", "position", "temperature", "hvac_mode"])
    | st.text(max_size=5),
    json_values | _numbers | st.sampled_from(["heat", "off"]),
    max_size=2,
)
discovery_topics = st.builds(
    "homeassistant/{}/{}config".format,
    st.sampled_from(
        ["light", "switch", "fan", "cover", "lock", "climate", "scene", "sensor", "binary_sensor"]
    ),
    st.from_regex(r"([a-zA-Z0-9_-]{1,8}/){1,2}", fullmatch=True),
)
topics = st.text(max_size=60) | discovery_topics | st.just("homeassistant/vacuum/v/config")


def _is_result(result: object) -> bool:
    return isinstance(result, Discovered | Removed | Refused)


@given(topic=topics, value=json_values)
def test_any_json_value_gives_a_result(topic: str, value: Any) -> None:
    assert _is_result(parse_discovery(topic, json.dumps(value).encode()))


@settings(max_examples=300)
@given(topic=discovery_topics, payload=discovery_like, data=st.data())
def test_any_discovery_like_object_gives_a_result_and_a_usable_entity(
    topic: str, payload: dict[str, Any], data: st.DataObject
) -> None:
    result = parse_discovery(topic, json.dumps(payload).encode())
    assert _is_result(result)
    if not isinstance(result, Discovered):
        return
    entity = result.entity
    assert entity.entity_id.startswith(f"{entity.domain}.")
    assert entity.name and "\n" not in entity.name
    services = (*SERVICES[entity.domain], "turn_on", "set_percentage", "set_temperature")
    for service in services:
        action = Action(entity.entity_id, service, data.draw(action_data))
        try:
            messages = build_messages(entity, action)
        except ActionError as err:
            assert err.message
            assert service not in entity.services or err.code in ("bad_value", "not_dimmable")
        else:
            assert service in entity.services
            assert messages and all(isinstance(m, MqttMessage) and m.topic for m in messages)


@given(topic=topics, payload=st.binary(max_size=200))
def test_any_bytes_give_a_result(topic: str, payload: bytes) -> None:
    assert _is_result(parse_discovery(topic, payload))


@given(topic=st.text(), payload=st.binary(max_size=50), prefix=st.text(max_size=20))
def test_any_prefix_gives_a_result(topic: str, payload: bytes, prefix: str) -> None:
    assert _is_result(parse_discovery(topic, payload, prefix))
