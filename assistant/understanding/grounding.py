"""Grounding: a language model's tool call is acted on only if what it names was said.

A small model likes to pick a device, a value or a tool nobody mentioned. Every device must have
been said by its name or an alias, an area by its name, a number in digits or words, a text as
written; a call with no slots must share a word with its intent's name or description ("time"
for the clock). Anything else is not acted on, whichever model made the call.
"""

from __future__ import annotations

import re
from typing import Final

from ..home.entities import EntityRegistry

__all__ = ["grounded"]


def _words(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9%.]+", " ", text.lower()).split()) + " "


def _number_said(value: float, said: str) -> bool:
    from unicode_rbnf import RbnfEngine

    if value != int(value):
        return f" {value:g} " in said or f" {value:g}%" in said
    number = int(value)
    if f" {number} " in said or f" {number}% " in said:
        return True
    spelled = RbnfEngine.for_language("en").format_number(number).text.replace("-", " ")
    return f" {spelled} " in said or (number == 50 and " half" in said)


_STOP: Final = frozenset(
    [
        "say",
        "the",
        "and",
        "for",
        "with",
        "what",
        "when",
        "how",
        "now",
        "get",
        "set",
        "can",
        "you",
        "your",
        "this",
        "that",
        "else",
        "from",
        "by",
        "hass",
        "hearth",
        "latest",
    ]
)


def _mentions(description: str, said: str) -> bool:
    words = set(re.findall(r"[a-z]{3,}", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", description).lower()))
    return any(w in said for w in words - _STOP)


def grounded(
    slots: dict[str, object], text: str, entities: EntityRegistry, description: str = ""
) -> bool:
    """Whether every slot a language model filled was actually said: a device by its name or an
    alias, an area by its name, a number in digits or words, a text as written. A call with no
    slots must share a word with its intent's name or description ("time" for the clock). A small
    model likes to pick a device, a value or a tool nobody mentioned; such a call is not acted
    on."""
    said = _words(text)
    if not slots and description and not _mentions(description, said):
        return False
    areas = entities.areas()
    for key, value in slots.items():
        if key == "name":
            entity = entities.get(str(value))
            if entity is None:
                return False
            if not any(_words(n).strip() in said for n in (entity.name, *entity.aliases)):
                return False
        elif key == "area":
            if _words(areas.get(str(value), str(value))).strip() not in said:
                return False
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float):
            if not _number_said(float(value), said):
                return False
        elif (
            isinstance(value, str)
            and key not in ("domain", "state", "device_class")
            and _words(value).strip() not in said
        ):
            return False
    return True
