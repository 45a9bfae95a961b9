"""The words the repair (:mod:`assistant.understanding.repair`) knows, and how it reads a
command: lower case, numbers as digits, "per cent" as "%", and which words decide what a command
does (on or off, the whole home or one room) so that a repair never changes them."""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "FUNCTION_WORDS",
    "GENERIC_DEVICES",
    "NEGATIONS",
    "POLAR_WORDS",
    "POLITE",
    "SCOPE_WORDS",
    "SYNONYMS",
    "VERBS",
    "digits",
    "negated",
    "normalise",
]

# everyday words for the templates' own, longest first when applied
SYNONYMS: Final = {
    "kill": "turn off",
    "cut": "turn off",
    "shut off": "turn off",
    "shut down": "turn off",
    "switch off": "turn off",
    "power off": "turn off",
    "power down": "turn off",
    "deactivate": "turn off",
    "disable": "turn off",
    "stop": "turn off",
    "put off": "turn off",
    "power up": "turn on",
    "power on": "turn on",
    "switch on": "turn on",
    "fire up": "turn on",
    "start up": "turn on",
    "start": "turn on",
    "activate": "turn on",
    "enable": "turn on",
    "put on": "turn on",
    "light up": "turn on",
    # a recogniser writes a verb and its particle as one word
    "turnoff": "turn off",
    "turnon": "turn on",
    "switchoff": "turn off",
    "switchon": "turn on",
    "dim": "set",
    "make": "set",
    "change": "set",
    "put": "turn",
    "adjust": "set",
    "lamp": "light",
    "lamps": "lights",
}
# words that carry no command: dropped before matching
POLITE: Final = (
    "could you please",
    "can you please",
    "would you please",
    "could you",
    "can you",
    "would you",
    "will you",
    "i want you to",
    "i'd like you to",
    "go ahead and",
    "please",
    "for me",
    "right now",
    "thank you",
    "thanks",
    "now",
    "just",
    "quickly",
)
NEGATIONS: Final = frozenset({"don't", "dont", "not", "never", "no", "without", "stop"})
VERBS: Final = frozenset(
    {"turn", "switch", "set", "open", "close", "lock", "unlock", "run", "brighten", "raise"}
    | {"kill", "cut", "start", "stop", "activate", "deactivate", "enable", "disable", "power"}
    | {"shut", "fire", "dim", "make", "change", "put", "adjust"}
)
# what a device is, not what it is called: "the lights in the garage" names no device
GENERIC_DEVICES: Final = frozenset(
    {"light", "lights", "lamp", "lamps", "fan", "fans", "switch", "switches", "device", "devices"}
)
# words a name rarely begins or ends with: a span that does is not taken for a name
FUNCTION_WORDS: Final = frozenset(
    {"the", "a", "an", "in", "on", "off", "to", "of", "at", "for", "and", "it", "is", "all"}
)
# what a command does: a word of these that was said is never repaired into another
POLAR_WORDS: Final = frozenset({"on", "off", "open", "close", "lock", "unlock"})
# the whole home: a repair never widens a command to it when it was not said
SCOPE_WORDS: Final = frozenset({"house", "home", "flat", "apartment", "everywhere", "all"})
# the particle of a verb that may come after its object ("shut the fan off")
PARTICLES: Final = frozenset({"on", "off", "up", "down"})

_UNITS: Final = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS: Final = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
_TENS_MORE: Final = {"seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORD: Final = re.compile(
    r"\b(?:(?P<hundred>(?:a|one) hundred)|(?P<tens>"
    + "|".join([*_TENS, *_TENS_MORE])
    + r")(?:[ -](?P<unit>"
    + "|".join(_UNITS[1:10])
    + r"))?|(?P<small>"
    + "|".join(_UNITS)
    + r"))\b"
)


def digits(text: str) -> str:
    """Number words from zero to a hundred as digits ("twenty five" → "25"); lower case in."""

    def value(match: re.Match[str]) -> str:
        if match.group("hundred"):
            return "100"
        if match.group("small"):
            return str(_UNITS.index(match.group("small")))
        tens = {**_TENS, **_TENS_MORE}[match.group("tens")]
        unit = match.group("unit")
        return str(tens + (_UNITS.index(unit) if unit else 0))

    return _NUMBER_WORD.sub(value, text)


def normalise(text: str) -> str:
    """Lower case, apostrophes straightened, numbers as digits and "percent" or "per cent"
    after one as ``%``, punctuation except ``%`` and clause marks gone, "my", "our" and "your"
    as "the" (the templates allow each where they allow one)."""
    text = digits(text.lower().replace("\u2019", "'"))
    text = re.sub(r"(\d)\s*(?:percent|per cent)\b", r"\1%", text)
    text = re.sub(r"[^a-z0-9%',;:.!?' ]+", " ", text)
    text = re.sub(r"\b(?:my|our|your)\b", "the", text)
    return " ".join(text.split())


def negated(words: list[str]) -> bool:
    """Whether ``words`` say not to do something. "stop" does, unless it is the command
    itself: "stop the ceiling fan" turns it off, "stop unlocking the door" stops an action."""
    for index, word in enumerate(words):
        if word == "stop" and index + 1 < len(words) and words[index + 1] == "the":
            continue
        if word in NEGATIONS:
            return True
    return False
