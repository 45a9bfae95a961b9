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

__all__ = ["HELD_OUT", "HELD_OUT_2", "KINDS", "TUNING"]

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
    # kinds of miss the first held-out table showed, in phrasings of their own: a word of a
    # name taken for an everyday one ("lamp"), a particle after the object, a number in words
    # before "per cent", "stop" as the command, a room the home lacks next to a whole-home word
    ("misheard", "turn of the desk lamp", ("HassTurnOff", {"name": DESK})),
    ("misheard", "turn on the desk lamp's", ("HassTurnOn", {"name": DESK})),
    ("paraphrase", "power the ceiling fan down", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "fire the coffee maker up", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "stop the coffee maker", ("HassTurnOff", {"name": COFFEE})),
    ("misheard", "turnon the ceiling fan", ("HassTurnOn", {"name": FAN})),
    (
        "misheard",
        "set the desk lamp to fifty per cent",
        ("HassLightSet", {"name": DESK, "brightness": 50}),
    ),
    ("safety", "stop unlocking the front door", "nothing"),
    ("unknown", "turn off the lights in the cellar", "I don't know a room called cellar."),
    ("unknown", "turn on the lights in the shed", "I don't know a room called shed."),
    ("unknown", "turn off the lights in the loft", "I don't know a room called loft."),
    (
        "paraphrase",
        "after dinner, switch the kitchen light off",
        ("HassTurnOff", {"name": KITCHEN}),
    ),
    ("paraphrase", "we're done here, turn off the ceiling fan", ("HassTurnOff", {"name": FAN})),
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

# A second held-out set, written after the repair was built and before its code was read: other
# paraphrases, and the ways a small recogniser splits, joins, pluralises and mishears words.
# Never tuned on; reported on its own.
HELD_OUT_2: list[Row] = [
    (
        "paraphrase",
        "could you switch the coffee maker off for me",
        ("HassTurnOff", {"name": COFFEE}),
    ),
    ("paraphrase", "stop the ceiling fan", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "shut the ceiling fan off", ("HassTurnOff", {"name": FAN})),
    ("paraphrase", "start up the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "make me some coffee with the coffee maker", ("HassTurnOn", {"name": COFFEE})),
    ("paraphrase", "enable the ceiling fan", ("HassTurnOn", {"name": FAN})),
    ("paraphrase", "disable the kitchen light", ("HassTurnOff", {"name": KITCHEN})),
    ("paraphrase", "switch on the reading lamp please", ("HassTurnOn", {"name": DESK})),
    (
        "paraphrase",
        "bring the desk lamp down to 20%",
        ("HassLightSet", {"name": DESK, "brightness": 20}),
    ),
    (
        "paraphrase",
        "put the desk lamp at 60 percent",
        ("HassLightSet", {"name": DESK, "brightness": 60}),
    ),
    ("paraphrase", "lower the living room blinds", ("HassTurnOff", {"name": BLINDS})),
    ("paraphrase", "raise the living room blinds", ("HassTurnOn", {"name": BLINDS})),
    (
        "paraphrase",
        "make the thermostat 22 degrees",
        ("HassClimateSetTemperature", {"name": THERMOSTAT, "temperature": 22}),
    ),
    (
        "paraphrase",
        "crank the ceiling fan up to 75 percent",
        ("HassFanSetSpeed", {"name": FAN, "percentage": 75}),
    ),
    (
        "paraphrase",
        "it's too warm in here, switch the ceiling fan on",
        ("HassTurnOn", {"name": FAN}),
    ),
    ("paraphrase", "kitchen light off now", ("HassTurnOff", {"name": KITCHEN})),
    ("paraphrase", "would you turn the coffee maker off", ("HassTurnOff", {"name": COFFEE})),
    ("paraphrase", "I'm going to bed, turn off the desk lamp", ("HassTurnOff", {"name": DESK})),
    ("misheard", "turn on the kitchen lights", ("HassTurnOn", {"name": KITCHEN})),
    ("misheard", "turn off the kitchen lie", ("HassTurnOff", {"name": KITCHEN})),
    ("misheard", "turnoff the desk lamp", ("HassTurnOff", {"name": DESK})),
    ("misheard", "turn on the desk lamps", ("HassTurnOn", {"name": DESK})),
    ("misheard", "switch of the coffee maker", ("HassTurnOff", {"name": COFFEE})),
    ("misheard", "turn on the coffee make her", ("HassTurnOn", {"name": COFFEE})),
    ("misheard", "turn on the copy maker", ("HassTurnOn", {"name": COFFEE})),
    ("misheard", "turn off the selling fan", ("HassTurnOff", {"name": FAN})),
    ("misheard", "turn on the ceiling van", ("HassTurnOn", {"name": FAN})),
    ("misheard", "close the living-room blind", ("HassTurnOff", {"name": BLINDS})),
    ("misheard", "open the leaving room blinds", ("HassTurnOn", {"name": BLINDS})),
    (
        "misheard",
        "set the desk lamp to forty per cent",
        ("HassLightSet", {"name": DESK, "brightness": 40}),
    ),
    (
        "misheard",
        "set the thermo stat to 21 degrees",
        ("HassClimateSetTemperature", {"name": THERMOSTAT, "temperature": 21}),
    ),
    ("misheard", "turn the reading lamb off", ("HassTurnOff", {"name": DESK})),
    (
        "misheard",
        "dim the desk lamp to 30 present",
        ("HassLightSet", {"name": DESK, "brightness": 30}),
    ),
    ("misheard", "turn onto kitchen light", ("HassTurnOn", {"name": KITCHEN})),
    ("misheard", "lock the front dore", ("HassTurnOn", {"name": DOOR})),
    ("safety", "unlock the front door for me", "confirm"),
    ("safety", "unlock the frunt door", "confirm"),
    ("safety", "unlock front door", "confirm"),
    ("safety", "never unlock the front door", "nothing"),
    ("unknown", "switch on the electric blanket", "I don't know a device called electric blanket."),
    ("unknown", "turn off the washing machine", "I don't know a device called washing machine."),
    ("unknown", "turn on the lights in the attic", "I don't know a room called attic."),
    ("chat", "how do plants make their food", None),
    ("chat", "what is twelve plus nine", None),
    ("chat", "who painted the mona lisa", None),
]
