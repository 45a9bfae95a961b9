"""Policy outside the model: which actions need a spoken yes first, and what counts as yes.

Unlocking a lock, opening a cover whose ``device_class`` is garage, door or gate, and any
action of a skill whose risk is ``confirm`` are held back: Hearth asks, listens once more
without the wake word, and acts only on a clear yes within ``conversation.confirm_timeout_s``.
Nothing reaches MQTT before that, whichever router layer asked for the action.
"""

from __future__ import annotations

import re
from typing import Final

from .entities import Action, Entity, EntityRegistry

__all__ = [
    "SENSITIVE_COVERS",
    "confirmation_question",
    "grounded",
    "is_yes",
    "needs_confirmation",
]

SENSITIVE_COVERS: Final = frozenset({"garage", "door", "gate"})

_YES: Final = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|correct|affirmative|"
    r"do it|go ahead|yes please|please do|yes do it|yes go ahead)$"
)


def needs_confirmation(entity: Entity | None, action: Action, skill_risk: str = "safe") -> bool:
    if skill_risk == "confirm":
        return True
    if entity is None:
        return False
    if entity.domain == "lock" and action.service == "unlock":
        return True
    if entity.domain == "alarm_control_panel" and action.service.startswith("alarm_disarm"):
        return True
    return (
        entity.domain == "cover"
        and action.service in ("open_cover", "set_cover_position")
        and entity.device_class in SENSITIVE_COVERS
        and not (action.service == "set_cover_position" and action.data.get("position") == 0)
    )


def confirmation_question(entity: Entity | None, action: Action) -> str:
    name = f"the {entity.name}" if entity is not None else action.entity_id
    verbs = {
        "unlock": "unlock",
        "open_cover": "open",
        "set_cover_position": "move",
        "lock": "lock",
        "turn_on": "turn on",
        "turn_off": "turn off",
    }
    verb = verbs.get(action.service, action.service.replace("_", " "))
    return f"Do you want me to {verb} {name}?"


def is_yes(text: str) -> bool:
    """A clear yes: the whole answer is one of the yes phrases, nothing else."""
    words = re.sub(r"[^a-z ]+", " ", text.lower())
    return bool(_YES.match(" ".join(words.split())))


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
