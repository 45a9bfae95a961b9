"""The router accuracy table: phrasings people use, with the intent and slots they mean."""

from __future__ import annotations

from typing import Any

ENTITIES: list[dict[str, Any]] = [
    {
        "domain": "light",
        "name": "Kitchen Light",
        "unique_id": "kitchen_light",
        "schema": "json",
        "command_topic": "k/set",
        "suggested_area": "Kitchen",
    },
    {
        "domain": "light",
        "name": "Desk Lamp",
        "unique_id": "desk_lamp",
        "command_topic": "d/set",
        "brightness_command_topic": "d/b",
        "suggested_area": "Office",
        "aliases": ["reading lamp"],
    },
    {
        "domain": "switch",
        "name": "Coffee Maker",
        "unique_id": "coffee_maker",
        "command_topic": "c/set",
        "suggested_area": "Kitchen",
    },
    {
        "domain": "fan",
        "name": "Ceiling Fan",
        "unique_id": "ceiling_fan",
        "command_topic": "f/set",
        "percentage_command_topic": "f/pct",
        "suggested_area": "Bedroom",
    },
    {
        "domain": "cover",
        "name": "Living Room Blinds",
        "unique_id": "blinds",
        "command_topic": "b/set",
        "set_position_topic": "b/pos",
        "suggested_area": "Living Room",
    },
    {
        "domain": "lock",
        "name": "Front Door",
        "unique_id": "front_door",
        "command_topic": "l/set",
        "suggested_area": "Hall",
    },
    {
        "domain": "climate",
        "name": "Thermostat",
        "unique_id": "thermostat",
        "temperature_command_topic": "t/set",
        "suggested_area": "Living Room",
    },
]

KITCHEN = "light.kitchen_light"
DESK = "light.desk_lamp"
COFFEE = "switch.coffee_maker"
FAN = "fan.ceiling_fan"
BLINDS = "cover.blinds"
DOOR = "lock.front_door"
THERMOSTAT = "climate.thermostat"

# (what is said, the intent meant, the slots that must be there)
TABLE: list[tuple[str, str, dict[str, Any]]] = [
    ("turn on the kitchen light", "HassTurnOn", {"name": KITCHEN}),
    ("switch the kitchen light on", "HassTurnOn", {"name": KITCHEN}),
    ("kitchen light on", "HassTurnOn", {"name": KITCHEN}),
    ("please turn on the kitchen light", "HassTurnOn", {"name": KITCHEN}),
    ("could you turn on the kitchen light please", "HassTurnOn", {"name": KITCHEN}),
    ("would you mind switching on the kitchen light", "HassTurnOn", {"name": KITCHEN}),
    ("the kitchen light, turn it on", "HassTurnOn", {"name": KITCHEN}),
    ("lights on in the kitchen", "HassTurnOn", {"area": "kitchen"}),
    ("turn off the kitchen light", "HassTurnOff", {"name": KITCHEN}),
    ("kill the kitchen light", "HassTurnOff", {"name": KITCHEN}),
    ("turn off all the lights in the kitchen", "HassTurnOff", {"area": "kitchen"}),
    ("switch off the lights in the office", "HassTurnOff", {"area": "office"}),
    ("turn on the reading lamp", "HassTurnOn", {"name": DESK}),
    ("desk lamp off", "HassTurnOff", {"name": DESK}),
    ("set the desk lamp to 40%", "HassLightSet", {"name": DESK, "brightness": 40}),
    ("set the desk lamp to forty percent", "HassLightSet", {"name": DESK, "brightness": 40}),
    (
        "set the desk lamp brightness to thirty five percent",
        "HassLightSet",
        {"name": DESK, "brightness": 35},
    ),
    ("dim the desk lamp to 10 percent", "HassLightSet", {"name": DESK, "brightness": 10}),
    ("make the desk lamp 70 percent", "HassLightSet", {"name": DESK, "brightness": 70}),
    (
        "set the brightness of the kitchen light to 100%",
        "HassLightSet",
        {"name": KITCHEN, "brightness": 100},
    ),
    (
        "set the office lights to fifty percent",
        "HassLightSet",
        {"area": "office", "brightness": 50},
    ),
    ("start the coffee maker", "HassTurnOn", {"name": COFFEE}),
    ("turn on the coffee maker", "HassTurnOn", {"name": COFFEE}),
    ("switch off the coffee maker please", "HassTurnOff", {"name": COFFEE}),
    ("turn the coffee maker off", "HassTurnOff", {"name": COFFEE}),
    ("turn on the ceiling fan", "HassTurnOn", {"name": FAN}),
    ("turn on the fan in the bedroom", "HassTurnOn", {"area": "bedroom"}),
    ("set the ceiling fan to 50 percent", "HassFanSetSpeed", {"name": FAN, "percentage": 50}),
    (
        "set the ceiling fan speed to twenty five percent",
        "HassFanSetSpeed",
        {"name": FAN, "percentage": 25},
    ),
    ("turn off the ceiling fan", "HassTurnOff", {"name": FAN}),
    ("open the living room blinds", "HassTurnOn", {"name": BLINDS}),
    ("close the living room blinds", "HassTurnOff", {"name": BLINDS}),
    (
        "set the living room blinds to 30 percent",
        "HassSetPosition",
        {"name": BLINDS, "position": 30},
    ),
    ("open the living room blinds halfway", "HassSetPosition", {"name": BLINDS, "position": 50}),
    ("lock the front door", "HassTurnOn", {"name": DOOR}),
    ("unlock the front door", "HassTurnOff", {"name": DOOR}),
    ("is the front door locked", "HassGetState", {"name": DOOR}),
    (
        "set the thermostat to 21 degrees",
        "HassClimateSetTemperature",
        {"name": THERMOSTAT, "temperature": 21},
    ),
    (
        "set the temperature in the living room to twenty degrees",
        "HassClimateSetTemperature",
        {"area": "living_room", "temperature": 20},
    ),
    (
        "what is the temperature in the living room",
        "HassClimateGetTemperature",
        {"area": "living_room"},
    ),
    ("how warm is it in the living room", "HassClimateGetTemperature", {"area": "living_room"}),
    ("is the kitchen light on", "HassGetState", {"name": KITCHEN}),
    ("are any lights on in the kitchen", "HassGetState", {"area": "kitchen"}),
    ("what time is it", "HassGetCurrentTime", {}),
    ("what's the time", "HassGetCurrentTime", {}),
    ("tell me the time please", "HassGetCurrentTime", {}),
    ("what is the date today", "HassGetCurrentDate", {}),
    ("what day is it", "HassGetCurrentDate", {}),
    ("set a timer for five minutes", "HassStartTimer", {"minutes": 5}),
    ("set a pasta timer for 10 minutes", "HassStartTimer", {"minutes": 10}),
    ("start a timer for one hour", "HassStartTimer", {"hours": 1}),
    ("how much time is left on my timer", "HassTimerStatus", {}),
    ("cancel the timer", "HassCancelTimer", {}),
    ("add milk to my shopping list", "HassShoppingListAddItem", {}),
    ("put eggs on the shopping list", "HassShoppingListAddItem", {}),
    ("what's on my shopping list", "HearthListRead", {}),
    ("what's the weather like", "HassGetWeather", {}),
    ("what can you do", "HearthWhatCanYouDo", {}),
    ("never mind", "HassNevermind", {}),
    ("forget it", "HassNevermind", {}),
]


def matches(result: Any, intent: str, slots: dict[str, Any]) -> bool:
    """The router's answer means what the phrasing means (numbers compared as numbers)."""
    if result is None or result.intent != intent:
        return False
    for key, value in slots.items():
        got = result.slots.get(key)
        if isinstance(value, int | float):
            try:
                if float(got) != float(value):
                    return False
            except (TypeError, ValueError):
                return False
        elif got != value:
            return False
    return True
