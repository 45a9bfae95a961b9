"""The weather outside, from the home's own sensors (nothing is fetched from the internet).

Configuration, in ``[skills.weather]``::

    entity = "sensor.outside_temperature"          # required: a temperature sensor
    condition_entity = "sensor.outside_condition"  # optional: "sunny", "partlycloudy", ...
    humidity_entity = "sensor.outside_humidity"    # optional: relative humidity in percent

A state may be a plain value or, as Zigbee2MQTT publishes it, a JSON object with a
``temperature``, ``condition`` or ``humidity`` field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from assistant.skill import Risk, SkillCall, SkillContext, SkillResult, Tool

__all__ = ["NOT_CONFIGURED", "WeatherSkill"]

NOT_CONFIGURED: Final = (
    "I don't have a weather sensor. Set [skills.weather] entity in the configuration."
)
_MISSING: Final = {"", "unknown", "unavailable", "none", "null", "nan"}
_NUMBER: Final = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)")
_UNITS: Final = {
    "°c": "degrees Celsius",
    "c": "degrees Celsius",
    "celsius": "degrees Celsius",
    "°f": "degrees Fahrenheit",
    "f": "degrees Fahrenheit",
    "fahrenheit": "degrees Fahrenheit",
    "k": "kelvin",
}
_CONDITIONS: Final = {  # Home Assistant's weather states, as said after "It's 12 degrees and"
    "clear-night": "clear",
    "partlycloudy": "partly cloudy",
    "fog": "foggy",
    "hail": "hailing",
    "lightning": "stormy",
    "lightning-rainy": "stormy",
    "pouring": "pouring with rain",
    "snowy-rainy": "sleeting",
    "windy-variant": "windy",
    "exceptional": "unusual weather",
}


def _setting(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    return value.strip() if isinstance(value, str) else ""


def _reading(context: SkillContext, entity_id: str, field: str) -> str | None:
    """The entity's latest value (or ``field`` of a JSON state), ``None`` when there is none."""
    if not entity_id:
        return None
    state = context.state(entity_id)
    if state is None:
        return None
    value = state.value.strip()
    if value.startswith("{"):
        try:
            body = json.loads(value)
        except json.JSONDecodeError:
            return None
        value = str(body.get(field, "")) if isinstance(body, dict) else ""
    return None if value.strip().lower() in _MISSING else value.strip()


def _number(value: str | None) -> str | None:
    """``"12.46 °C"`` → ``"12.5"``."""
    match = _NUMBER.match(value or "")
    if match is None:
        return None
    return f"{round(float(match.group(1).replace(',', '.')), 1):g}"


def _unit(context: SkillContext, entity_id: str) -> str:
    entity = context.entities.get(entity_id)
    unit = entity.unit_of_measurement if entity is not None else ""
    if not unit:
        state = context.state(entity_id)
        unit = str(state.attributes.get("unit_of_measurement", "")) if state else ""
    return _UNITS.get(unit.strip().lower(), "degrees")


def _condition(value: str | None) -> str:
    if not value:
        return ""
    lowered = value.strip().lower()
    return _CONDITIONS.get(lowered, lowered.replace("-", " ").replace("_", " "))


class WeatherSkill:
    name = "weather"
    description = "Tell you the weather outside from your own sensors."
    intents = ("HassGetWeather",)
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = (
        Tool("HassGetWeather", "Say the weather outside: temperature, conditions, humidity."),
    )

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        entity_id = _setting(context.settings, "entity")
        if not entity_id:
            return SkillResult(NOT_CONFIGURED, success=False)
        degrees = _number(_reading(context, entity_id, "temperature"))
        if degrees is None:
            return SkillResult("The weather sensor hasn't sent a reading yet.", success=False)
        condition_id = _setting(context.settings, "condition_entity")
        condition = _condition(_reading(context, condition_id, "condition"))
        speech = f"It's {degrees} {_unit(context, entity_id)}"
        speech += f" and {condition} outside." if condition else " outside."
        humidity_id = _setting(context.settings, "humidity_entity")
        humidity = _number(_reading(context, humidity_id, "humidity"))
        if humidity is not None:
            speech += f" The humidity is {humidity} percent."
        data = {"temperature": degrees, "condition": condition, "humidity": humidity}
        return SkillResult(speech, data=data)


SKILLS = (WeatherSkill(),)
