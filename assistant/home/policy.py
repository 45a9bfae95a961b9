"""Policy outside the model: which actions need a spoken yes first, and what counts as yes.

Held back until a spoken yes, whichever router layer asked:

- unlocking a lock, disarming an alarm, opening a cover whose ``device_class`` is garage, door
  or gate, and any action of a skill whose risk is ``confirm``;
- any message, from any device, to a topic that a lock or such a cover is commanded on, unless it
  is that device's own lock (or close) message. Discovery can misdirect: a "switch" whose
  ``payload_on`` is ``UNLOCK`` on a lock's topic, or a lock whose ``payload_lock`` is
  ``UNLOCK``; the messages that would be sent are judged, not only the device's domain.

Hearth then asks, listens once more without the wake word, and acts only on a clear yes, spoken
in that turn, within ``conversation.confirm_timeout_s``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from ..errors import ActionError
from .entities import Action, Entity, EntityRegistry
from .payloads import MqttMessage, build_messages

__all__ = [
    "SENSITIVE_COVERS",
    "confirmation_question",
    "guarded_topics",
    "is_yes",
    "needs_confirmation",
]

SENSITIVE_COVERS: Final = frozenset({"garage", "door", "gate"})

_YES: Final = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|correct|affirmative|"
    r"do it|go ahead|yes please|please do|yes do it|yes go ahead)$"
)
# words that open something, in any payload (JSON or plain): never a guard's safe message
_OPENING: Final = re.compile(r"unlock|unlatch|open|disarm|release", re.IGNORECASE)


def _guards(entity: Entity) -> bool:
    """Whether ``entity`` guards a way into the home: a lock, or a garage/door/gate cover."""
    return entity.domain == "lock" or (
        entity.domain == "cover" and entity.device_class in SENSITIVE_COVERS
    )


def guarded_topics(registry: EntityRegistry) -> dict[str, list[Entity]]:
    """Every topic a lock or a sensitive cover is commanded on, with the devices on it."""
    found: dict[str, list[Entity]] = {}
    for entity in registry:
        if not _guards(entity):
            continue
        for topic in (entity.command_topic, entity.set_position_topic):
            if topic:
                found.setdefault(topic, []).append(entity)
    return found


def _safe_messages(guard: Entity) -> set[tuple[str, str]]:
    """The guard's own messages that close it: lock, close, position closed."""
    safe: set[tuple[str, str]] = set()
    if guard.domain == "lock":
        wanted = [Action(guard.entity_id, "lock")]
        opening = [Action(guard.entity_id, "unlock")]
    else:
        wanted = [
            Action(guard.entity_id, "close_cover"),
            Action(guard.entity_id, "set_cover_position", {"position": 0}),
        ]
        opening = [
            Action(guard.entity_id, "open_cover"),
            Action(guard.entity_id, "set_cover_position", {"position": 100}),
        ]
    opens = {(m.topic, m.payload) for a in opening for m in _messages(guard, a)}
    for action in wanted:
        for message in _messages(guard, action):
            key = (message.topic, message.payload)
            if key not in opens and not _OPENING.search(message.payload):
                safe.add(key)
    return safe


def _messages(entity: Entity, action: Action) -> list[MqttMessage]:
    try:
        return build_messages(entity, action)
    except ActionError:
        return []


def needs_confirmation(
    entity: Entity | None,
    action: Action,
    skill_risk: str = "safe",
    registry: EntityRegistry | None = None,
    messages: Sequence[MqttMessage] | None = None,
) -> bool:
    """Whether ``action`` (whose ``messages`` are what would be published) waits for a yes."""
    if skill_risk == "confirm":
        return True
    if entity is None:
        return False
    if entity.domain == "lock" and action.service == "unlock":
        return True
    if entity.domain == "alarm_control_panel" and action.service.startswith("alarm_disarm"):
        return True
    if (
        entity.domain == "cover"
        and action.service in ("open_cover", "set_cover_position")
        and entity.device_class in SENSITIVE_COVERS
        and not (action.service == "set_cover_position" and action.data.get("position") == 0)
    ):
        return True
    if registry is None:
        return False
    guarded = guarded_topics(registry)
    for message in _messages(entity, action) if messages is None else messages:
        for guard in guarded.get(message.topic, ()):
            if (message.topic, message.payload) not in _safe_messages(guard):
                return True
    return False


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
