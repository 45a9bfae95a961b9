"""Questions about the home, answered from the latest retained state of each device:
"is the garage door open?", "are any lights on in the kitchen?", "what is the temperature in
the living room?"."""

from __future__ import annotations

import json

from assistant.skill import (
    AREA,
    ENTITY,
    Entity,
    EntityState,
    Risk,
    SkillCall,
    SkillContext,
    SkillResult,
    Tool,
)

_SPOKEN = {
    "on": "on",
    "off": "off",
    "open": "open",
    "closed": "closed",
    "opening": "opening",
    "closing": "closing",
    "locked": "locked",
    "unlocked": "unlocked",
    "locking": "locking",
    "unlocking": "unlocking",
    "jammed": "jammed",
}


def _json_field(value: str, key: str) -> str | None:
    try:
        body = json.loads(value)
    except json.JSONDecodeError:
        return None
    if isinstance(body, dict) and key in body:
        return str(body[key])
    return None


def normalise(entity: Entity, state: EntityState | None) -> str | None:
    """The state in Home Assistant's words (``on``, ``closed``, ``locked`` …), or ``None``."""
    if state is None or not state.value:
        return None
    raw = _json_field(state.value, "state") or state.value
    value = raw.strip()
    if entity.domain in ("light", "switch", "fan", "binary_sensor"):
        if value == entity.payload_on or value.lower() == "on":
            return "on"
        if value == entity.payload_off or value.lower() == "off":
            return "off"
        return None
    lowered = value.lower()
    if entity.domain == "cover":
        return {"close": "closed", "stop": "stopped"}.get(lowered, lowered)
    return lowered


def _matches(entity: Entity, wanted: str, actual: str) -> bool:
    if entity.domain == "binary_sensor":
        return (actual == "on") == (wanted == "on")
    return actual == wanted


def _say_state(entity: Entity, actual: str) -> str:
    if entity.domain == "binary_sensor" and entity.device_class in (
        "door",
        "window",
        "garage_door",
        "opening",
    ):
        return "open" if actual == "on" else "closed"
    return _SPOKEN.get(actual, actual)


def _temperature(entity: Entity, state: EntityState | None) -> float | None:
    if state is None:
        return None
    for source in (
        state.attributes.get("current_temperature"),
        _json_field(state.value, "temperature"),
        state.value,
    ):
        try:
            return float(source)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return None


class StateSkill:
    name = "state"
    description = "Answer questions about devices and sensors from their latest state."
    intents = ("HassGetState", "HassClimateGetTemperature")
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = (
        Tool(
            "HassGetState",
            "Say whether a device is on, off, open, closed, locked or unlocked.",
            {
                "name": {
                    ENTITY: [
                        "light",
                        "switch",
                        "fan",
                        "cover",
                        "lock",
                        "climate",
                        "sensor",
                        "binary_sensor",
                    ]
                },
                "state": {
                    "type": "string",
                    "enum": ["on", "off", "open", "closed", "locked", "unlocked"],
                },
            },
            ("name",),
        ),
        Tool(
            "HassClimateGetTemperature",
            "Say the temperature a thermostat or temperature sensor measures.",
            {"name": {ENTITY: ["climate", "sensor"]}},
            ("name",),
        ),
        Tool(
            "HassClimateGetTemperature",
            "Say the temperature in an area.",
            {"area": {AREA: True}},
            ("area",),
        ),
    )

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        if call.intent == "HassClimateGetTemperature":
            return self._temperature(call, context)
        slots = call.slots
        if "name" in slots:
            entity = context.entities.get(str(slots["name"]))
            if entity is None:
                return SkillResult("I couldn't find that device.", success=False)
            actual = normalise(entity, context.state(entity.entity_id))
            if actual is None:
                return SkillResult(f"I don't know the state of the {entity.name} yet.")
            spoken = _say_state(entity, actual)
            if "state" not in slots:
                return SkillResult(f"The {entity.name} is {spoken}.")
            yes = _matches(entity, str(slots["state"]), actual)
            return SkillResult(f"{'Yes' if yes else 'No'}, the {entity.name} is {spoken}.")
        domain = str(slots.get("domain", ""))
        wanted = str(slots.get("state", ""))
        candidates = [e for e in context.entities if e.domain == domain]
        if "area" in slots:
            candidates = [e for e in candidates if e.area == slots["area"]]
        if "device_class" in slots:
            candidates = [e for e in candidates if e.device_class == slots["device_class"]]
        if not candidates:
            return SkillResult("I don't know of any such devices.", success=False)
        known = [(e, normalise(e, context.state(e.entity_id))) for e in candidates]
        matching = [
            e.name for e, actual in known if actual is not None and _matches(e, wanted, actual)
        ]
        if not matching:
            return SkillResult(f"No, none are {wanted}.")
        names = ", ".join(matching[:-1]) + (" and " if len(matching) > 1 else "") + matching[-1]
        verb = "is" if len(matching) == 1 else "are"
        return SkillResult(f"Yes, {names} {verb} {wanted}.")

    def _temperature(self, call: SkillCall, context: SkillContext) -> SkillResult:
        slots = call.slots
        if "name" in slots:
            entity = context.entities.get(str(slots["name"]))
            sources = [entity] if entity is not None else []
            where = f"the {entity.name}" if entity is not None else ""
        elif "area" in slots:
            in_area = [e for e in context.entities if e.area == slots["area"]]
            sources = [e for e in in_area if e.domain == "climate"] + [
                e for e in in_area if e.domain == "sensor" and e.device_class == "temperature"
            ]
            where = f"in the {sources[0].area_name.lower()}" if sources else ""
        else:
            return SkillResult("Which room? Say, for example, the temperature in the kitchen.")
        for entity in sources:
            degrees = _temperature(entity, context.state(entity.entity_id))
            if degrees is not None:
                return SkillResult(f"It's {degrees:g} degrees {where}.".replace("  ", " "))
        return SkillResult("I don't have a temperature reading for that yet.", success=False)


SKILLS = (StateSkill(),)
