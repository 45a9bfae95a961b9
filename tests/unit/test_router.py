"""Layer 1 of the router: hassil with home-assistant-intents, slot lists from the entities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from small_home import ENTITIES

from assistant.config import EntityConfig
from assistant.errors import ConfigError
from assistant.home.entities import EntityRegistry
from assistant.skill import Risk, SkillCall, SkillContext, SkillRegistry, load_builtin_skills
from assistant.understanding.templates import TemplateRouter


@pytest.fixture(scope="module")
def router() -> TemplateRouter:
    skills = load_builtin_skills()
    instance = TemplateRouter("en", skills.intents())
    instance.update_entities(ENTITIES)
    instance.load()
    return instance


PHRASINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("turn on the kitchen light", "HassTurnOn", {"name": "light.kitchen_light"}),
    ("Turn on the Kitchen Light.", "HassTurnOn", {"name": "light.kitchen_light"}),
    ("please switch off the coffee maker", "HassTurnOff", {"name": "switch.coffee_maker"}),
    ("turn the desk lamp off", "HassTurnOff", {"name": "light.desk_lamp"}),
    ("turn on the reading lamp", "HassTurnOn", {"name": "light.desk_lamp"}),
    ("switch on the ceiling fan", "HassTurnOn", {"name": "fan.ceiling_fan"}),
    ("turn on the fan in the bedroom", "HassTurnOn", {"area": "bedroom", "domain": "fan"}),
    ("turn off the lights in the kitchen", "HassTurnOff", {"area": "kitchen", "domain": "light"}),
    ("kitchen lights on", "HassTurnOn", {"area": "kitchen", "domain": "light"}),
    ("set the desk lamp to 40%", "HassLightSet", {"name": "light.desk_lamp", "brightness": 40}),
    (
        "set kitchen light brightness to fifty percent",
        "HassLightSet",
        {"name": "light.kitchen_light", "brightness": 50},
    ),
    ("set the office to 10 percent", "HassLightSet", {"area": "office", "brightness": 10}),
    (
        "set the brightness of the office to 10%",
        "HassLightSet",
        {"area": "office", "brightness": 10},
    ),
    ("what time is it", "HassGetCurrentTime", {}),
    ("What's the time?", "HassGetCurrentTime", {}),
    ("what is the date today", "HassGetCurrentDate", {}),
    ("what's today's date", "HassGetCurrentDate", {}),
    ("never mind", "HassNevermind", {}),
    ("nevermind", "HassNevermind", {}),
]


@pytest.mark.parametrize(("text", "intent", "slots"), PHRASINGS)
def test_phrasings(router: TemplateRouter, text: str, intent: str, slots: dict[str, Any]) -> None:
    result = router.route(text)
    assert result is not None, text
    assert result.intent == intent
    for key, value in slots.items():
        assert result.slots[key] == value, (key, result.slots)
    assert result.layer == "template" and result.sentence


@pytest.mark.parametrize("text", ["paint the moon purple", "turn on the toaster", "", "on"])
def test_no_match(router: TemplateRouter, text: str) -> None:
    assert router.route(text) is None


def run_skill(router: TemplateRouter, text: str) -> Any:
    route = router.route(text)
    assert route is not None
    skill = load_builtin_skills().for_intent(route.intent)
    assert skill is not None
    context = SkillContext(ENTITIES, now=lambda: datetime(2026, 11, 26, 15, 4))
    return skill.run(SkillCall(route.intent, route.slots, text), context)


def test_home_control_replies_and_actions(router: TemplateRouter) -> None:
    result = run_skill(router, "turn off the lights in the kitchen")
    assert result.speech == "Turned off the Kitchen Light."  # the one light there, by name
    assert [(a.entity_id, a.service) for a in result.actions] == [
        ("light.kitchen_light", "turn_off")
    ]
    result = run_skill(router, "set the desk lamp to 40%")
    assert result.speech == "Set the Desk Lamp to 40 percent."
    assert result.actions[0].data == {"brightness_pct": 40}
    office = EntityRegistry(
        [
            *ENTITIES,
            *EntityRegistry.from_config(
                [
                    EntityConfig.model_validate(
                        {
                            "domain": "light",
                            "name": "Shelf Light",
                            "unique_id": "shelf",
                            "schema": "json",
                            "command_topic": "s/set",
                            "suggested_area": "Office",
                        }
                    )
                ]
            ),
        ]
    )
    route = router.route("turn on the lights in the office")
    assert route is not None
    skill = load_builtin_skills().for_intent(route.intent)
    assert skill is not None
    result = skill.run(SkillCall(route.intent, route.slots, ""), SkillContext(office))
    assert {a.entity_id for a in result.actions} == {"light.desk_lamp", "light.shelf"}
    assert result.speech == "Turned on the lights in the office."


def test_clock_and_nevermind(router: TemplateRouter) -> None:
    assert run_skill(router, "what time is it").speech == "It's 3:04 PM."
    assert run_skill(router, "what's the date").speech == "Today is Thursday, November 26, 2026."
    assert run_skill(router, "never mind").speech == ""


def test_registry_refuses_duplicates() -> None:
    class Dummy:
        name = "clock"
        description = "x"
        intents = ("Other",)
        risk = Risk.SAFE

        def run(self, call: SkillCall, context: SkillContext) -> Any:
            raise AssertionError

    registry = load_builtin_skills()
    with pytest.raises(ConfigError, match="two skills are named 'clock'"):
        SkillRegistry([*registry, Dummy()])
    Dummy.name, Dummy.intents = "other", ("HassTurnOn",)
    with pytest.raises(ConfigError, match="both handle intent HassTurnOn"):
        SkillRegistry([*registry, Dummy()])


def test_a_sentence_file_adds_a_phrasing(tmp_path: Any) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "glow.yaml").write_text(
        "language: en\nintents:\n  HassTurnOn:\n    data:\n"
        "      - sentences:\n          - make [the] {name} glow\n"
        "        requires_context:\n          domain: light\n"
    )
    skills = load_builtin_skills()
    plain = TemplateRouter("en", skills.intents())
    plain.update_entities(ENTITIES)
    plain.load()
    assert plain.route("make the desk lamp glow") is None
    custom = TemplateRouter("en", skills.intents(), [tmp_path])
    custom.update_entities(ENTITIES)
    custom.load()
    result = custom.route("make the desk lamp glow")
    assert result is not None and result.intent == "HassTurnOn"
    assert result.slots == {"name": "light.desk_lamp"}
    assert custom.route("make the coffee maker glow") is None  # a switch: the context says light


def test_a_broken_sentence_file_is_named(tmp_path: Any) -> None:
    (tmp_path / "bad.yaml").write_text("intents: [oops")
    router = TemplateRouter("en", {"HassTurnOn"}, [tmp_path])
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        router.load()
