"""Policy outside the model: which actions need a spoken yes first, and what counts as yes.

Unlocking a lock, opening a cover whose ``device_class`` is garage, door or gate, and any
action of a skill whose risk is ``confirm`` are held back: Hearth asks, listens once more
without the wake word, and acts only on a clear yes within ``conversation.confirm_timeout_s``.
Nothing reaches MQTT before that, whichever router layer asked for the action.
"""

from __future__ import annotations

import re
from typing import Final

from .entities import Action, Entity

__all__ = [
    "SENSITIVE_COVERS",
    "confirmation_question",
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
