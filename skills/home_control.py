"""Home control: lights, switches and fans on and off, brightness, light colour, fan speed,
covers, locks, thermostats and scenes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from assistant.skill import (
    AREA,
    ENTITY,
    Action,
    Entity,
    Risk,
    SkillCall,
    SkillContext,
    SkillResult,
    Tool,
)

_PLURAL = {"light": "lights", "switch": "switches", "fan": "fans", "cover": "covers"}

# intent -> the domains it may act on
_DOMAINS = {
    "HassTurnOn": frozenset({"light", "switch", "fan", "cover", "lock", "scene"}),
    "HassTurnOff": frozenset({"light", "switch", "fan", "cover", "lock"}),
    "HassLightSet": frozenset({"light"}),
    "HassSetPosition": frozenset({"cover"}),
    "HassFanSetSpeed": frozenset({"fan"}),
    "HassClimateSetTemperature": frozenset({"climate"}),
}
# with no name and no domain in the sentence, an area means these
_AREA_DEFAULT = frozenset({"light", "switch", "fan"})

_ON = {
    "cover": ("open_cover", "Opened"),
    "lock": ("lock", "Locked"),
    "scene": ("turn_on", "Activated"),
}
_OFF = {"cover": ("close_cover", "Closed"), "lock": ("unlock", "Unlocked")}

# home-assistant-intents' ``color`` list -> RGB, as Home Assistant's color_name_to_rgb gives it
_COLORS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "orange": (255, 165, 0),
    "yellow": (255, 255, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "purple": (128, 0, 128),
    "brown": (165, 42, 42),
    "pink": (255, 192, 203),
    "turquoise": (64, 224, 208),
}


def _targets(call: SkillCall, context: SkillContext, domains: frozenset[str]) -> list[Entity]:
    slots = call.slots
    if "name" in slots:
        entity = context.entities.get(str(slots["name"]))
        return [entity] if entity is not None and entity.domain in domains else []
    if "area" in slots:
        if "domain" in slots:
            wanted = {str(slots["domain"])} & domains
        else:
            wanted = set(domains if len(domains) == 1 else _AREA_DEFAULT & domains)
        found = context.entities.in_area(str(slots["area"]), wanted)
        if "device_class" in slots:
            found = [e for e in found if e.device_class == slots["device_class"]]
        return found
    return []


def _describe(entities: list[Entity]) -> str:
    if len(entities) == 1:
        return f"the {entities[0].name}"
    domains = {e.domain for e in entities}
    what = _PLURAL.get(domains.pop(), "devices") if len(domains) == 1 else "devices"
    return f"the {what} in the {entities[0].area_name.lower()}"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class HomeControlSkill:
    name = "home_control"
    description = (
        "Turn lights, switches and fans on or off, set brightness, light colour and fan speed, "
        "open, close and position covers, lock doors, set a thermostat, activate scenes."
    )
    intents = tuple(_DOMAINS)
    risk = Risk.SAFE  # unlocking and opening garage doors are held back by assistant.home.policy
    tools: tuple[Tool, ...] = (
        Tool(
            "HassTurnOn",
            "Turn on, open, lock or activate one device.",
            {"name": {ENTITY: sorted(_DOMAINS["HassTurnOn"])}},
            ("name",),
        ),
        Tool(
            "HassTurnOn",
            "Turn on or open the devices of one kind in an area (lights if no kind is said).",
            {
                "area": {AREA: True},
                "domain": {"type": "string", "enum": ["light", "switch", "fan", "cover"]},
            },
            ("area",),
        ),
        Tool(
            "HassTurnOff",
            "Turn off, close or unlock one device.",
            {"name": {ENTITY: sorted(_DOMAINS["HassTurnOff"])}},
            ("name",),
        ),
        Tool(
            "HassTurnOff",
            "Turn off or close the devices of one kind in an area (lights if no kind is said).",
            {
                "area": {AREA: True},
                "domain": {"type": "string", "enum": ["light", "switch", "fan", "cover"]},
            },
            ("area",),
        ),
        Tool(
            "HassLightSet",
            "Set the brightness of a light, in percent.",
            {
                "name": {ENTITY: ["light"]},
                "brightness": {"type": "integer", "minimum": 0, "maximum": 100},
            },
            ("name", "brightness"),
        ),
        Tool(
            "HassLightSet",
            "Set the brightness of the lights in an area, in percent.",
            {"area": {AREA: True}, "brightness": {"type": "integer", "minimum": 0, "maximum": 100}},
            ("area", "brightness"),
        ),
        Tool(
            "HassLightSet",
            "Set the colour of a light.",
            {"name": {ENTITY: ["light"]}, "color": {"type": "string", "enum": sorted(_COLORS)}},
            ("name", "color"),
        ),
        Tool(
            "HassSetPosition",
            "Open a cover (blind, curtain, garage door) to a position, in percent open.",
            {
                "name": {ENTITY: ["cover"]},
                "position": {"type": "integer", "minimum": 0, "maximum": 100},
            },
            ("name", "position"),
        ),
        Tool(
            "HassFanSetSpeed",
            "Set the speed of a fan, in percent.",
            {
                "name": {ENTITY: ["fan"]},
                "percentage": {"type": "integer", "minimum": 0, "maximum": 100},
            },
            ("name", "percentage"),
        ),
        Tool(
            "HassClimateSetTemperature",
            "Set a thermostat's target temperature, in degrees.",
            {
                "name": {ENTITY: ["climate"]},
                "temperature": {"type": "number", "minimum": 5, "maximum": 35},
            },
            ("name", "temperature"),
        ),
    )

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        entities = _targets(call, context, _DOMAINS[call.intent])
        if not entities:
            return SkillResult("I couldn't find that device.", success=False)
        what = _describe(entities)
        planned = self._plan(call, entities)
        if isinstance(planned, str):
            return SkillResult(planned, success=False)
        actions, speech = planned
        return SkillResult(speech.format(what=what), actions)

    def _plan(
        self, call: SkillCall, entities: list[Entity]
    ) -> tuple[tuple[Action, ...], str] | str:
        slots = call.slots
        if call.intent == "HassLightSet" and "color" in slots:
            return _set_color(str(slots["color"]), entities)
        if call.intent == "HassLightSet":
            pct = _number(slots.get("brightness"))
            if pct is None:
                return "Sorry, I can only set the brightness so far."
            pct = max(0, min(100, round(pct)))
            data = {"brightness_pct": pct}
            return tuple(Action(e.entity_id, "turn_on", data) for e in entities), (
                f"Set {{what}} to {pct} percent."
            )
        if call.intent == "HassFanSetSpeed":
            pct = _number(slots.get("percentage"))
            if pct is None:
                return "Sorry, I didn't catch the speed."
            pct = max(0, min(100, round(pct)))
            data = {"percentage": pct}
            return tuple(Action(e.entity_id, "set_percentage", data) for e in entities), (
                f"Set {{what}} to {pct} percent."
            )
        if call.intent == "HassSetPosition":
            pct = _number(slots.get("position"))
            if pct is None:
                return "Sorry, I didn't catch the position."
            pct = max(0, min(100, round(pct)))
            data = {"position": pct}
            return tuple(Action(e.entity_id, "set_cover_position", data) for e in entities), (
                f"Set {{what}} to {pct} percent open."
            )
        if call.intent == "HassClimateSetTemperature":
            degrees = _number(slots.get("temperature"))
            if degrees is None:
                return "Sorry, I didn't catch the temperature."
            climate: dict[str, Any] = {"temperature": degrees}
            shown = f"{degrees:g}"
            return tuple(Action(e.entity_id, "set_temperature", climate) for e in entities), (
                f"Set {{what}} to {shown} degrees."
            )
        table = _ON if call.intent == "HassTurnOn" else _OFF
        default = (
            ("turn_on", "Turned on") if call.intent == "HassTurnOn" else ("turn_off", "Turned off")
        )
        services = {table.get(e.domain, default) for e in entities}
        if len(services) != 1:
            return "Please ask for those devices one at a time."
        service, verb = services.pop()
        return tuple(Action(e.entity_id, service) for e in entities), f"{verb} {{what}}."


def _set_color(name: str, entities: list[Entity]) -> tuple[tuple[Action, ...], str] | str:
    """``turn_on`` with ``rgb_color``; in an area, only the lights that take a colour."""
    rgb = _COLORS.get(name.lower())
    if rgb is None:
        return f"Sorry, I don't know the colour {name}."
    if len(entities) > 1:
        entities = [e for e in entities if e.colourable]
        if not entities:
            return "None of those lights can change colour."
    data = {"rgb_color": list(rgb)}
    return tuple(Action(e.entity_id, "turn_on", data) for e in entities), (
        f"Set {{what}} to {name.lower()}."
    )


SKILLS = (HomeControlSkill(),)


_SWITCHED: Final = frozenset({"light", "switch", "fan"})  # the devices people switch most


def likely_replies(entities: Iterable[Entity]) -> list[str]:
    """The fixed replies to switching each light, switch or fan on and off, word for word as
    this skill gives them, so the voice can have them ready before they are needed."""
    replies = []
    for entity in entities:
        if entity.domain in _SWITCHED:
            replies += [f"Turned on {_describe([entity])}.", f"Turned off {_describe([entity])}."]
    return replies
