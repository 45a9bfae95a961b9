"""Light colour: payloads per schema and mode, discovery, "set the kitchen light to red"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.config import EntityConfig
from assistant.errors import ActionError
from assistant.home.color import rgb_to_hs, rgb_to_xy
from assistant.home.discovery import Discovered, parse_discovery
from assistant.home.entities import Action, Entity, EntityRegistry, build_messages
from assistant.skill import SkillCall, SkillContext, load_builtin_skills
from assistant.understanding.templates import TemplateRouter


def light(**fields: Any) -> Entity:
    base = {
        "domain": "light",
        "name": "Kitchen Light",
        "unique_id": "kitchen_light",
        "command_topic": "kitchen/set",
        "suggested_area": "Kitchen",
    }
    return Entity.from_config(EntityConfig.model_validate({**base, **fields}))


def messages(target: Entity, **data: Any) -> list[tuple[str, str]]:
    built = build_messages(target, Action(target.entity_id, "turn_on", data))
    return [(m.topic, m.payload) for m in built]


def refused(target: Entity, **data: Any) -> ActionError:
    with pytest.raises(ActionError) as caught:
        build_messages(target, Action(target.entity_id, "turn_on", data))
    return caught.value


def test_json_rgb_light_gets_r_g_b() -> None:
    lamp = light(schema="json", supported_color_modes=["rgb"])
    assert lamp.colourable
    assert messages(lamp, rgb_color=[255, 0, 0]) == [
        ("kitchen/set", '{"state":"ON","color":{"r":255,"g":0,"b":0}}')
    ]
    assert json.loads(messages(lamp, rgb_color=(0, 0, 255), brightness_pct=50)[0][1]) == {
        "state": "ON",
        "color": {"r": 0, "g": 0, "b": 255},
        "brightness": 128,
    }


def test_json_xy_only_light_gets_xy_as_home_assistant_converts_it() -> None:
    lamp = light(schema="json", supported_color_modes=["xy", "color_temp"])
    assert messages(lamp, rgb_color=[255, 0, 0]) == [
        ("kitchen/set", '{"state":"ON","color":{"x":0.701,"y":0.299}}')
    ]
    assert rgb_to_xy(255, 0, 0) == (0.701, 0.299)  # Home Assistant's color_RGB_to_xy
    assert rgb_to_xy(0, 0, 0) == (0.0, 0.0)


def test_json_hs_light_gets_hue_and_saturation() -> None:
    lamp = light(schema="json", supported_color_modes=["hs"])
    assert json.loads(messages(lamp, rgb_color=[255, 165, 0])[0][1])["color"] == {
        "h": 38.824,
        "s": 100.0,
    }
    assert rgb_to_hs(255, 255, 255) == (0.0, 0.0)


def test_default_schema_sends_r_g_b_then_payload_on() -> None:
    lamp = light(rgb_command_topic="kitchen/rgb/set", brightness_command_topic="kitchen/b")
    assert lamp.colourable
    assert messages(lamp, rgb_color=[255, 0, 0]) == [
        ("kitchen/rgb/set", "255,0,0"),
        ("kitchen/set", "ON"),
    ]
    assert messages(lamp, rgb_color=[1, 2, 3], brightness_pct=100) == [
        ("kitchen/rgb/set", "1,2,3"),
        ("kitchen/b", "255"),
        ("kitchen/set", "ON"),
    ]
    first = light(rgb_command_topic="kitchen/rgb/set", on_command_type="first")
    assert messages(first, rgb_color=[0, 255, 0]) == [
        ("kitchen/set", "ON"),
        ("kitchen/rgb/set", "0,255,0"),
    ]
    templated = light(
        rgb_command_topic="kitchen/rgb/set",
        rgb_command_template='{"r": {{ red }}, "g": {{ green }}, "b": {{ blue }}}',
    )
    assert messages(templated, rgb_color=[4, 5, 6])[0] == (
        "kitchen/rgb/set",
        '{"r": 4, "g": 5, "b": 6}',
    )


def test_a_light_without_colour_refuses() -> None:
    for plain in (
        light(),
        light(schema="json"),
        light(schema="json", supported_color_modes=["color_temp"]),
    ):
        assert not plain.colourable
        error = refused(plain, rgb_color=[255, 0, 0])
        assert (error.code, error.message) == (
            "not_colourable",
            "The Kitchen Light can't change colour.",
        )


@pytest.mark.parametrize(
    "value", [[256, 0, 0], [-1, 0, 0], [1, 2], [1, 2, 3, 4], "red", [1.5, 0, 0], [True, 0, 0], None]
)
def test_bad_colours_are_refused(value: Any) -> None:
    assert refused(light(schema="json", supported_color_modes=["rgb"]), rgb_color=value).code == (
        "bad_value"
    )


def test_zigbee2mqtt_colour_light_is_discovered() -> None:
    payload = {
        "name": None,
        "schema": "json",
        "brightness": True,
        "supported_color_modes": ["xy", "color_temp"],
        "command_topic": "zigbee2mqtt/Kitchen Light/set",
        "state_topic": "zigbee2mqtt/Kitchen Light",
        "unique_id": "0x0017880104e45517_light_zigbee2mqtt",
        "object_id": "kitchen_light",
        "device": {"name": "Kitchen Light", "identifiers": ["zigbee2mqtt_0x0017880104e45517"]},
    }
    result = parse_discovery(
        "homeassistant/light/0x0017880104e45517/light/config", json.dumps(payload).encode()
    )
    assert isinstance(result, Discovered)
    lamp = result.entity
    assert lamp.supported_color_modes == ("xy", "color_temp")
    assert lamp.colourable and lamp.dimmable
    assert messages(lamp, rgb_color=[255, 0, 0]) == [
        ("zigbee2mqtt/Kitchen Light/set", '{"state":"ON","color":{"x":0.701,"y":0.299}}')
    ]
    short = parse_discovery(
        "homeassistant/light/bulb/config",
        json.dumps({"name": "Bulb", "cmd_t": "b/set", "rgb_cmd_t": "b/rgb"}).encode(),
    )
    assert isinstance(short, Discovered) and short.entity.rgb_command_topic == "b/rgb"
    assert short.entity.colourable


def test_set_the_kitchen_light_to_red() -> None:
    entities = EntityRegistry(
        [light(schema="json", supported_color_modes=["xy"]), light(name="Desk Lamp", unique_id="d")]
    )
    skills = load_builtin_skills()
    router = TemplateRouter("en", skills.intents())
    router.update_entities(entities)
    router.load()
    route = router.route("set the kitchen light to red")
    assert route is not None
    assert (route.intent, route.slots) == (
        "HassLightSet",
        {"name": "light.kitchen_light", "color": "red"},
    )
    skill = skills.for_intent(route.intent)
    assert skill is not None
    result = skill.run(SkillCall(route.intent, route.slots, ""), SkillContext(entities))
    assert result.speech == "Set the Kitchen Light to red."
    assert result.actions == (Action("light.kitchen_light", "turn_on", {"rgb_color": [255, 0, 0]}),)
    area = skill.run(
        SkillCall("HassLightSet", {"area": "kitchen", "color": "blue"}, ""), SkillContext(entities)
    )
    assert [a.entity_id for a in area.actions] == ["light.kitchen_light"]  # the desk lamp can't
