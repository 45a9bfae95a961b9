"""Router layer 2 without a model: the tool catalogue, the tool-call parser (fuzzed), and the
language-model router's retry, grounding and streaming logic over a scripted fake model."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_layers import ModelLayers
from small_home import ENTITIES

from assistant.config import EntityConfig, LlmConfig
from assistant.errors import ConfigError, RouterError, ToolCallError
from assistant.home.entities import EntityRegistry
from assistant.skill import SkillCall, SkillContext, Tool
from assistant.turn.skills import load_builtin_skills
from assistant.understanding.free_answer import split_sentences
from assistant.understanding.templates import TemplateRouter
from assistant.understanding.tool_catalog import NoToolCall, ToolCall, ToolCatalog
from assistant.understanding.tool_parse import parse_tool_call
from skills.clock import ClockSkill
from skills.home_control import HomeControlSkill
from skills.state import StateSkill

TOOLS = [*HomeControlSkill.tools, *StateSkill.tools, *ClockSkill.tools]
CATALOG = ToolCatalog.build(TOOLS, ENTITIES)
EXPOSED = {e.entity_id: e for e in ENTITIES}


def call(intent: str, **slots: Any) -> str:
    return json.dumps({"intent": intent, "slots": slots})


def parsed(text: str) -> ToolCall:
    result = parse_tool_call(text, CATALOG)
    assert isinstance(result, ToolCall), result
    return result


# -- the catalogue -----------------------------------------------------------------------------


def test_schema_is_one_object_per_tool_variant_and_none() -> None:
    schema = CATALOG.schema()
    branches = schema["anyOf"]
    assert branches[-1] == {
        "type": "object",
        "properties": {"intent": {"const": "none"}},
        "required": ["intent"],
        "additionalProperties": False,
    }
    light_set = [b for b in branches if b["properties"]["intent"] == {"const": "HassLightSet"}]
    assert len(light_set) == 3  # brightness by name or by area, colour by name
    by_name = light_set[0]
    assert by_name["required"] == ["intent", "slots"] and not by_name["additionalProperties"]
    slots = by_name["properties"]["slots"]
    assert slots["required"] == ["name", "brightness"] and not slots["additionalProperties"]
    assert slots["properties"]["name"] == {
        "type": "string",
        "enum": ["Kitchen Light", "Desk Lamp", "reading lamp"],
    }
    assert slots["properties"]["brightness"] == {"type": "integer", "minimum": 0, "maximum": 100}
    area = light_set[1]["properties"]["slots"]["properties"]["area"]
    assert area == {"type": "string", "enum": ["Bedroom", "Kitchen", "Office"]}
    turn_off = next(b for b in branches if b["properties"]["intent"] == {"const": "HassTurnOff"})
    names = turn_off["properties"]["slots"]["properties"]["name"]["enum"]
    assert set(names) == {
        "Kitchen Light",
        "Desk Lamp",
        "reading lamp",
        "Coffee Maker",
        "Ceiling Fan",
    }
    assert len(json.dumps(schema)) < 8000  # small: llama.cpp turns it into a grammar per call


def test_tools_without_anything_to_name_are_left_out() -> None:
    # no cover, no climate device: those tools can't be called
    assert "HassSetPosition" not in CATALOG.intents()
    assert "HassClimateSetTemperature" not in CATALOG.intents()
    with pytest.raises(ToolCallError, match="unknown intent 'HassSetPosition'"):
        parse_tool_call(call("HassSetPosition", name="Desk Lamp", position=10), CATALOG)
    empty = ToolCatalog.build(TOOLS, EntityRegistry())
    assert empty.intents() == ["HassGetCurrentTime", "HassGetCurrentDate"]
    assert '"none"' in json.dumps(empty.schema())


def test_prompt_lists_tools_devices_and_areas_the_same_way_every_time() -> None:
    prompt = CATALOG.prompt()
    assert '{"intent": "HassLightSet", "slots": {"name": "Kitchen Light", "brightness": 50}}' in (
        prompt
    )
    assert "Desk Lamp, reading lamp (light, Office)" in prompt
    assert "Areas: Bedroom, Kitchen, Office" in prompt
    assert prompt == ToolCatalog.build(TOOLS, ENTITIES).prompt()


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        (Tool("none", "x"), "may not be named 'none'"),
        (Tool("X", "x", {"a": {"type": "integer"}}, ("b",)), "required slot 'b'"),
        (Tool("X", "x", {"a": {"minimum": 1}}), "slot 'a' needs a type"),
    ],
)
def test_bad_declarations_are_config_errors(tool: Tool, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ToolCatalog.build([tool], ENTITIES)


# -- valid calls -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> TemplateRouter:
    router = TemplateRouter("en", load_builtin_skills().intents())
    router.update_entities(ENTITIES)
    router.load()
    return router


@pytest.mark.parametrize(
    ("sentence", "model_answer"),
    [
        ("set the desk lamp to 40%", call("HassLightSet", name="Desk Lamp", brightness=40)),
        ("turn on the reading lamp", call("HassTurnOn", name="reading lamp")),
        ("switch off the coffee maker", call("HassTurnOff", name="coffee maker")),
        ("turn off the lights in the kitchen", call("HassTurnOff", area="Kitchen", domain="light")),
        ("turn on the fan in the bedroom", call("HassTurnOn", area="bedroom", domain="fan")),
        ("set the office to 10 percent", call("HassLightSet", area="Office", brightness=10)),
        ("what time is it", call("HassGetCurrentTime")),
    ],
)
def test_a_valid_call_gives_the_slots_a_template_gives(
    templates: TemplateRouter, sentence: str, model_answer: str
) -> None:
    route = templates.route(sentence)
    assert route is not None
    result = parsed(model_answer)
    assert result.intent == route.intent and result.text == model_answer
    # the same values; a template may add fixed context (HassLightSet by area: domain light)
    assert {k: route.slots[k] for k in result.slots} == result.slots
    skill = load_builtin_skills().for_intent(route.intent)
    assert skill is not None
    context = SkillContext(ENTITIES, now=lambda: datetime(2026, 11, 26, 15, 4))
    by_template = skill.run(SkillCall(route.intent, route.slots, sentence), context)
    by_model = skill.run(SkillCall(result.intent, result.slots, sentence), context)
    assert (by_model.speech, by_model.actions) == (by_template.speech, by_template.actions)


def test_the_skill_runs_unchanged_on_a_parsed_call() -> None:
    result = parsed(call("HassLightSet", name="Desk Lamp", brightness=40))
    assert result.slots == {"name": "light.desk_lamp", "brightness": 40}
    assert result.slot_text == {"name": "Desk Lamp", "brightness": "40"}
    reply = HomeControlSkill().run(
        SkillCall(result.intent, result.slots, "make the desk lamp 40"), SkillContext(ENTITIES)
    )
    assert reply.speech == "Set the Desk Lamp to 40 percent."
    assert [(a.entity_id, a.data) for a in reply.actions] == [
        ("light.desk_lamp", {"brightness_pct": 40})
    ]


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        (call("HassLightSet", name="DESK LAMP", brightness=40.0), {"brightness": 40}),
        (call("HassGetState", name="Coffee Maker", state="ON"), {"state": "on"}),
        (call("HassTurnOn", name="light.desk_lamp"), {"name": "light.desk_lamp"}),
        ('{"intent": "HassGetCurrentDate"}', {}),
    ],
)
def test_lenient_where_meaning_is_clear(text: str, slots: dict[str, Any]) -> None:
    result = parsed(text)
    for key, value in slots.items():
        assert result.slots[key] == value and type(result.slots[key]) is type(value)


def test_none_means_no_tool() -> None:
    assert parse_tool_call('{"intent": "none"}', CATALOG) == NoToolCall('{"intent": "none"}')


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("turn on the light", "must be one JSON object"),
        ('{"intent": "HassTurnOn"', "must be one JSON object"),
        ("[1, 2]", "must be a JSON object"),
        ('{"intent": 3}', "'intent' must be the name of a tool"),
        (call("HassOpenPodBayDoors"), "unknown intent 'HassOpenPodBayDoors'"),
        (call("HassTurnOn", name="Toaster"), "'Toaster' is not a known device for 'name'"),
        # exists, but a switch is not a light
        (call("HassLightSet", name="Coffee Maker", brightness=5), "not a known device"),
        (call("HassTurnOn", area="Garage"), "'Garage' is not a known area"),
        (call("HassLightSet", name="Desk Lamp", brightness=140), "must be from 0 to 100"),
        (call("HassLightSet", name="Desk Lamp", brightness=-1), "must be from 0 to 100"),
        (call("HassLightSet", name="Desk Lamp", brightness="40"), "must be a whole number"),
        (call("HassLightSet", name="Desk Lamp", brightness=True), "must be a whole number"),
        (call("HassLightSet", name="Desk Lamp", brightness=40.5), "whole number, not 40.5"),
        ('{"intent": "HassLightSet", "slots": {"name": "Desk Lamp", "brightness": NaN}}', "finite"),
        (call("HassLightSet", name="Desk Lamp"), "HassLightSet needs the slot 'brightness'"),
        (call("HassTurnOn", name="Desk Lamp", colour="red"), "has no slot 'colour'"),
        (call("HassTurnOn", name=["Desk Lamp"]), "must be a name in quotes"),
        (call("HassGetState", name="Desk Lamp", state="purple"), "must be one of: on, off"),
        ('{"intent": "HassTurnOn", "slots": [], "x": 1}', "unexpected key 'x'"),
        ('{"intent": "HassTurnOn", "slots": "Desk Lamp"}', "'slots' must be a JSON object"),
    ],
)
def test_refusals_say_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(ToolCallError, match=message) as caught:
        parse_tool_call(text, CATALOG)
    assert isinstance(caught.value, RouterError) and caught.value.code == "tool_call_invalid"
    assert len(caught.value.message) < 300


def test_a_name_or_an_area_not_both() -> None:
    with pytest.raises(ToolCallError, match="no slot 'area'"):
        parse_tool_call(call("HassTurnOn", name="Desk Lamp", area="Office"), CATALOG)


# -- fuzzing -----------------------------------------------------------------------------------

SLOT_NAMES = ["name", "area", "domain", "brightness", "state", "position", "x", ""]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["Desk Lamp", "desk lamp", "Toaster", "Kitchen", "light.desk_lamp", "on"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
CALLS = (
    st.fixed_dictionaries(
        {
            "intent": st.sampled_from([*CATALOG.intents(), "none", "Hass", ""]) | JSON_VALUES,
            "slots": st.dictionaries(st.sampled_from(SLOT_NAMES) | st.text(max_size=5), JSON_VALUES)
            | JSON_VALUES,
        }
    )
    | JSON_VALUES
)


def allowed_target(result: ToolCall, slot: str) -> bool:
    value = result.slots[slot]
    if slot == "area":
        return value in ENTITIES.areas()
    entity = EXPOSED.get(value)
    variants = [t for t in TOOLS if t.intent == result.intent and slot in t.parameters]
    return entity is not None and any(
        entity.domain in t.parameters[slot]["$entity"] for t in variants
    )


@settings(max_examples=400, deadline=None)
@given(st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        result = parse_tool_call(text, CATALOG)
    except ToolCallError as err:
        assert err.message
        return
    assert isinstance(result, ToolCall | NoToolCall)


@settings(max_examples=600, deadline=None)
@given(CALLS)
def test_any_json_parses_or_is_refused_and_names_only_catalogued_devices(value: Any) -> None:
    text = json.dumps(value)
    try:
        result = parse_tool_call(text, CATALOG)
    except ToolCallError as err:
        assert err.message and len(err.message) < 400
        return
    if isinstance(result, NoToolCall):
        return
    assert result.intent in CATALOG.intents()
    for slot in result.targets:
        assert allowed_target(result, slot), (text, result)
    assert parse_tool_call(text, CATALOG) == result  # pure: the same answer every time


@given(st.sampled_from(["Desk Lamp", "reading lamp", "Kitchen Light"]), st.integers(0, 100))
def test_every_name_and_level_in_range_is_accepted(name: str, level: int) -> None:
    result = parsed(call("HassLightSet", name=name, brightness=level))
    assert result.slots["brightness"] == level
    assert result.slots["name"] in ("light.desk_lamp", "light.kitchen_light")


# -- the router over a scripted model ----------------------------------------------------------


class ScriptedModel:
    """Answers with the next scripted text; records every request."""

    def __init__(self, answers: Sequence[str], pieces: Sequence[str] = ()) -> None:
        self.answers = list(answers)
        self.pieces = list(pieces)
        self.requests: list[list[Mapping[str, str]]] = []

    def load(self) -> None:
        return None

    def complete_json(
        self,
        messages: Sequence[Mapping[str, str]],
        schema: Mapping[str, Any],
        max_tokens: int,
        deadline_s: float,
    ) -> str:
        assert "anyOf" in schema and deadline_s > 0
        self.requests.append(list(messages))
        if not self.answers:
            raise RouterError("llm_timeout", "too slow")
        return self.answers.pop(0)

    def stream(
        self, messages: Sequence[Mapping[str, str]], max_tokens: int, deadline_s: float
    ) -> Iterator[str]:
        self.requests.append(list(messages))
        return iter(self.pieces)

    def prepare(
        self,
        messages: Sequence[Mapping[str, str]],
        schema: Mapping[str, Any],
        deadline_s: float,
        gives_way: bool = False,
    ) -> bool:
        return False


def router(*answers: str, pieces: Sequence[str] = ()) -> tuple[ModelLayers, ScriptedModel]:
    model = ScriptedModel(answers, pieces)
    return ModelLayers(model, LlmConfig()), model


def test_decide_gives_a_route_result_with_template_slots() -> None:
    answer = call("HassLightSet", name="Desk Lamp", brightness=70)
    llm, model = router(answer)
    result = llm.decide("make the desk lamp brighter, like 70", CATALOG, [])
    assert result is not None
    assert (result.intent, result.slots, result.layer) == (
        "HassLightSet",
        {"name": "light.desk_lamp", "brightness": 70},
        "llm",
    )
    assert result.sentence == answer and result.slot_text["name"] == "Desk Lamp"
    assert model.requests[0][-1] == {
        "role": "user",
        "content": "make the desk lamp brighter, like 70",
    }


def test_an_invalid_call_is_fed_back_at_most_twice() -> None:
    bad = call("HassLightSet", name="Desk Lamp", brightness=140)
    good = call("HassLightSet", name="Desk Lamp", brightness=100)
    llm, model = router(bad, good)
    result = llm.decide("desk lamp as bright as it goes", CATALOG, [])
    assert result is not None and result.slots["brightness"] == 100
    retry = model.requests[1]
    assert retry[-2] == {"role": "assistant", "content": bad}
    assert "'brightness' must be from 0 to 100" in retry[-1]["content"]
    llm, model = router(bad, "nonsense", bad, good)
    assert llm.decide("desk lamp as bright as it goes", CATALOG, []) is None
    assert len(model.requests) == 3


def test_none_and_timeouts_give_no_decision() -> None:
    llm, _ = router('{"intent": "none"}')
    assert llm.decide("tell me a joke", CATALOG, []) is None
    llm, _ = router()  # the model runs out of time
    assert llm.decide("turn on the desk lamp", CATALOG, []) is None
    llm, model = router(call("HassTurnOn", name="Desk Lamp"))
    assert llm.decide("turn on the desk lamp", CATALOG, [], deadline_s=0.0) is None
    assert model.requests == []


def test_a_device_nobody_mentioned_is_refused() -> None:
    # asked for a toaster, the model picks something that exists
    llm, model = router(*[call("HassTurnOn", name="Coffee Maker")] * 3)
    assert llm.decide("turn on the toaster", CATALOG, []) is None
    assert "I did not say 'Coffee Maker'" in model.requests[1][-1]["content"]
    # the area, an alias, or the earlier turns count as mentioning it
    for text, history in [
        ("it's too dark in the office", []),
        ("turn on the reading lamps", []),
        ("and now off", [{"role": "assistant", "content": "Turned on the Desk Lamp."}]),
    ]:
        llm, _ = router(call("HassTurnOn", name="Desk Lamp"))
        assert llm.decide(text, CATALOG, history) is not None, text


def test_free_text_must_come_from_what_was_said() -> None:
    lists = Tool(
        "HassListAddItem",
        "Add to a list.",
        {"item": {"type": "string"}, "name": {"type": "string", "enum": ["shopping"]}},
        ("item", "name"),
    )
    catalog = ToolCatalog.build([lists], ENTITIES)
    copied = json.dumps(
        {"intent": "HassListAddItem", "slots": {"item": "text", "name": "shopping"}}
    )
    meant = json.dumps({"intent": "HassListAddItem", "slots": {"item": "Eggs", "name": "shopping"}})
    llm = ModelLayers(ScriptedModel([copied, meant]), LlmConfig())
    result = llm.decide("put eggs on the shopping list", catalog, [])
    assert result is not None and result.slots == {"item": "Eggs", "name": "shopping"}
    assert catalog.schema()["anyOf"][0]["properties"]["slots"]["properties"]["item"] == {
        "type": "string",
        "maxLength": 100,  # bounded, so that the grammar can't run on
    }


def test_the_system_prompt_is_built_once_per_catalogue() -> None:
    llm, model = router(*[call("HassGetCurrentTime")] * 3)
    llm.decide("time?", CATALOG, [])
    llm.decide("the time please", CATALOG, [{"role": "user", "content": "hi"}])
    first, second = model.requests[0][0], model.requests[1][0]
    assert first["role"] == "system" and first["content"] is second["content"]
    assert CATALOG.prompt() in first["content"]
    other = ToolCatalog.build(TOOLS, ENTITIES)
    llm.decide("time?", other, [])
    assert model.requests[2][0]["content"] is not first["content"]
    assert model.requests[2][0]["content"] == first["content"]


def test_prepare_evaluates_the_same_system_prompt_as_decide() -> None:
    llm, model = router("{", call("HassGetCurrentTime"))
    llm.prepare(CATALOG)
    llm.decide("what's the hour", CATALOG, [])
    assert model.requests[0][0] == model.requests[1][0]
    llm.prepare(CATALOG)  # a model error is logged, not raised: preparing is an optimisation


def test_answer_streams_sentences_with_its_instructions_first() -> None:
    pieces = ["The moon", " is about 384,000 km", " away. It has", " no air!", " Really? Y", "es"]
    llm, model = router(pieces=pieces)
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello."}]
    said = list(llm.answer("how far is the moon", history, "Talk like a pirate.", 60, 5.0))
    assert said == ["The moon is about 384,000 km away.", "It has no air!", "Really?", "Yes"]
    system = model.requests[0][0]
    assert system["role"] == "system" and system["content"].endswith("Talk like a pirate.")
    assert model.requests[0][1:] == [*history, {"role": "user", "content": "how far is the moon"}]


@given(st.lists(st.text(max_size=8), max_size=12))
def test_sentence_splitting_keeps_every_word(pieces: list[str]) -> None:
    sentences = list(split_sentences(iter(pieces)))
    assert "".join("".join(pieces).split()) == "".join("".join(sentences).split())
    assert all(s and s == s.strip() for s in sentences)


def test_duplicate_names_resolve_to_the_first_entity() -> None:
    twin = EntityRegistry(
        [
            *ENTITIES,
            *EntityRegistry.from_config(
                [
                    EntityConfig.model_validate(
                        {
                            "domain": "switch",
                            "name": "Desk Lamp",
                            "unique_id": "desk_plug",
                            "command_topic": "p/set",
                        }
                    )
                ]
            ),
        ]
    )
    catalog = ToolCatalog.build(TOOLS, twin)
    result = parse_tool_call(call("HassTurnOn", name="Desk Lamp"), catalog)
    assert isinstance(result, ToolCall) and result.slots == {"name": "light.desk_lamp"}
    result = parse_tool_call(call("HassTurnOn", name="switch.desk_plug"), catalog)
    assert isinstance(result, ToolCall) and result.slots == {"name": "switch.desk_plug"}
