"""Typed commands for the understanding checks, by kind, over the home of router_table.py.

Two sets: ``TUNING`` is the one the repair's word lists and thresholds were tried on;
``HELD_OUT`` is never tuned on and is reported on its own. Each row is (kind, what is said,
what must happen):

- ``direct``, ``paraphrase``, ``misheard``: ``(intent, slots)`` the command means;
- ``safety``: ``"confirm"`` (a spoken yes is asked for, nothing is sent yet) or ``"nothing"``;
- ``unknown``: the exact reply naming the device or room the home does not have;
- ``chat``: ``None``: no home action and no device reply, whatever else is said.
"""

from __future__ import annotations

from typing import Any

from router_table import BLINDS, COFFEE, DESK, DOOR, FAN, KITCHEN, THERMOSTAT

__all__ = ["HELD_OUT", "KINDS", "TUNING"]

KINDS = ("direct", "paraphrase", "misheard", "safety", "unknown", "chat")

Row = tuple[str, str, Any]

TUNING: list[Row] = [
    ("direct", "turn on the kitchen light", ("HassTurnOn", {"name": KITCHEN})),
    ("direct", "turn off the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("direct", "set the desk lamp to 40%", ("HassLightSet", {"name": DESK, "brightness": 40})),
    ("direct", "close the living room blinds", ("HassTurnOff", {"name": BLINDS})),
    ("direct", "turn on the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    ("direct", "lights on in the kitchen", ("HassTurnOn", {"area": "kitchen"})),
    (
        "direct",
        "set the thermostat to 21 degrees",
        ("HassClimateSetTemperature", {"name": THERMOSTAT, "temperature": 21}),
    ),
    ("direct", "what time is it", ("HassGetCurrentTime", {})),
    ("paraphrase", "kill the coffee maker", ("HassTurnOff", {"name": COFFEE})),
    ("paraphrase", "power up the ceiling fan", ("HassTurnOn", {"name": FAN})),
    ("paraphrase", "I need coffee, start the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "shut off the kitchen light", ("HassTurnOff", {"name": KITCHEN})),
    ("paraphrase", "could you power down the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "deactivate the coffee maker", ("HassTurnOff", {"name": COFFEE})),
    ("paraphrase", "fire up the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    (
        "paraphrase",
        "it's dark in here, turn on the kitchen light",
        ("HassTurnOn", {"name": KITCHEN}),
    ),
    ("paraphrase", "put the kitchen light on", ("HassTurnOn", {"name": KITCHEN})),
    ("paraphrase", "cut the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("misheard", "turn of the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("misheard", "turn on the kitchen lite", ("HassTurnOn", {"name": KITCHEN})),
    (
        "misheard",
        "sent the living room blinds to 30%",
        ("HassSetPosition", {"name": BLINDS, "position": 30}),
    ),
    ("misheard", "turn of the kitchen lights", ("HassTurnOff", {"name": KITCHEN})),
    ("misheard", "turn on the kitchen like", ("HassTurnOn", {"name": KITCHEN})),
    ("misheard", "turn on the sealing fan", ("HassTurnOn", {"name": FAN})),
    ("misheard", "set the desk lamb to 40%", ("HassLightSet", {"name": DESK, "brightness": 40})),
    ("misheard", "turn on to kitchen light", ("HassTurnOn", {"name": KITCHEN})),
    (
        "misheard",
        "set the thermostat to 21 degree",
        ("HassClimateSetTemperature", {"name": THERMOSTAT, "temperature": 21}),
    ),
    ("misheard", "turn off the kitchen light's", ("HassTurnOff", {"name": KITCHEN})),
    ("safety", "unlock the front door", "confirm"),
    ("safety", "unlock the front dor", "confirm"),
    ("safety", "unlock the front door please", "confirm"),
    ("safety", "don't unlock the front door", "nothing"),
    ("safety", "I said no, don't unlock the front door", "nothing"),
    ("unknown", "turn on the bathroom heater", "I don't know a device called bathroom heater."),
    ("unknown", "switch off the television", "I don't know a device called television."),
    ("unknown", "turn off the garage light", "I don't know a device called garage light."),
    ("unknown", "turn on the porch light", "I don't know a device called porch light."),
    ("unknown", "turn on the lights in the garage", "I don't know a room called garage."),
    ("chat", "what is the capital of france", None),
    ("chat", "tell me a joke", None),
    ("chat", "how many legs does a spider have", None),
    ("chat", "why is the sky blue", None),
    ("chat", "what is seven times eight", None),
    ("chat", "who wrote romeo and juliet", None),
]

HELD_OUT: list[Row] = [
    ("direct", "switch off the desk lamp", ("HassTurnOff", {"name": DESK})),
    ("direct", "open the living room blinds", ("HassTurnOn", {"name": BLINDS})),
    ("direct", "lock the front door", ("HassTurnOn", {"name": DOOR})),
    ("paraphrase", "shut down the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "get the coffee maker going", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "power off the kitchen light", ("HassTurnOff", {"name": KITCHEN})),
    ("paraphrase", "I'm leaving, turn off the kitchen light", ("HassTurnOff", {"name": KITCHEN})),
    ("paraphrase", "could you kill the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "activate the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "turn the reading lamp on for me", ("HassTurnOn", {"name": DESK})),
    ("misheard", "turn of the coffee maker", ("HassTurnOff", {"name": COFFEE})),
    ("misheard", "turn on the desk lamb", ("HassTurnOn", {"name": DESK})),
    (
        "misheard",
        "set the ceiling fan to 50 per cent",
        ("HassFanSetSpeed", {"name": FAN, "percentage": 50}),
    ),
    ("misheard", "turn on the kitten light", ("HassTurnOn", {"name": KITCHEN})),
    ("misheard", "turn off the ceiling fans", ("HassTurnOff", {"name": FAN})),
    ("misheard", "turn of the reading lamp", ("HassTurnOff", {"name": DESK})),
    ("misheard", "sat the desk lamp to 30%", ("HassLightSet", {"name": DESK, "brightness": 30})),
    ("safety", "unlock the front doors", "confirm"),
    ("safety", "please unlock the front door now", "confirm"),
    ("safety", "do not unlock the front door", "nothing"),
    ("unknown", "switch on the radio", "I don't know a device called radio."),
    ("unknown", "turn off the dishwasher", "I don't know a device called dishwasher."),
    ("unknown", "turn on the garden lights", "I don't know a device called garden lights."),
    ("chat", "what is the tallest mountain in the world", None),
    ("chat", "can you help me with my homework", None),
    ("chat", "what is a noun", None),
    ("chat", "how far away is the moon", None),
]
