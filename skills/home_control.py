"""Home control: on, off and brightness for lights, switches and fans."""

from __future__ import annotations

from assistant.entities import SWITCHABLE, Action, Entity
from assistant.skill import Risk, SkillCall, SkillContext, SkillResult

_PLURAL = {"light": "lights", "switch": "switches", "fan": "fans"}


def _targets(call: SkillCall, context: SkillContext, domains: frozenset[str]) -> list[Entity]:
    slots = call.slots
    if "name" in slots:
        entity = context.entities.get(str(slots["name"]))
        return [entity] if entity is not None and entity.domain in domains else []
    if "area" in slots:
        wanted = {str(slots["domain"])} & domains if "domain" in slots else set(domains)
        return context.entities.in_area(str(slots["area"]), wanted)
    return []


def _describe(entities: list[Entity]) -> str:
    if len(entities) == 1:
        return f"the {entities[0].name}"
    domains = {e.domain for e in entities}
    what = _PLURAL[domains.pop()] if len(domains) == 1 else "devices"
    return f"the {what} in the {entities[0].area_name.lower()}"


class HomeControlSkill:
    name = "home_control"
    description = "Turn lights, switches and fans on or off and set a light's brightness."
    intents = ("HassTurnOn", "HassTurnOff", "HassLightSet")
    risk = Risk.SAFE

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        domains = frozenset({"light"}) if call.intent == "HassLightSet" else SWITCHABLE
        entities = _targets(call, context, domains)
        if not entities:
            return SkillResult("I couldn't find that device.", success=False)
        what = _describe(entities)
        if call.intent == "HassLightSet":
            if "brightness" not in call.slots:
                return SkillResult("Sorry, I can only set the brightness.", success=False)
            pct = max(0, min(100, round(float(call.slots["brightness"]))))
            actions = tuple(
                Action(e.entity_id, "turn_on", {"brightness_pct": pct}) for e in entities
            )
            return SkillResult(f"Set {what} to {pct} percent.", actions)
        service = "turn_on" if call.intent == "HassTurnOn" else "turn_off"
        actions = tuple(Action(e.entity_id, service) for e in entities)
        verb = "Turned on" if service == "turn_on" else "Turned off"
        return SkillResult(f"{verb} {what}.", actions)


SKILLS = (HomeControlSkill(),)
