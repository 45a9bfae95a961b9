"""Carrying out one home action: check the entity, build its messages, publish, report.

The router and the skills only name an intent, an entity and values; here the entity must exist
and be exposed, the payload builders check the values, and only then does anything reach MQTT.
Every action ends in an ``action`` event (``queued`` when the broker is away) or an ``error``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ..errors import ActionError
from ..events import ActionPublished, ActionRefused, Event
from .entities import Action, EntityRegistry, MqttMessage, build_messages

__all__ = ["ActionOutcome", "ActionPublisher", "Delivery", "MemoryPublisher", "perform"]


class Delivery(StrEnum):
    SENT = "sent"  # handed to the broker connection
    QUEUED = "queued"  # kept until the broker is back, for at most command_ttl_s


class ActionPublisher(Protocol):
    """Where home actions go. ``publish`` raises :class:`ActionError` if it cannot deliver."""

    def publish(self, message: MqttMessage) -> Delivery: ...

    def mirror(self, action: Action, turn: str | None) -> None: ...


class MemoryPublisher:
    """Keeps published messages in a list instead of sending them (benchmark, tests)."""

    def __init__(self) -> None:
        self.messages: list[MqttMessage] = []
        self.mirrored: list[tuple[Action, str | None]] = []

    def publish(self, message: MqttMessage) -> Delivery:
        self.messages.append(message)
        return Delivery.SENT

    def mirror(self, action: Action, turn: str | None) -> None:
        self.mirrored.append((action, turn))


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    refusal: str | None  # what to say instead, when the action was refused
    queued: bool = False  # kept until the broker is back
    publish_ms: float = 0.0
    done: float = 0.0  # perf_counter when the last message was handed over


def perform(
    action: Action,
    entities: EntityRegistry,
    publisher: ActionPublisher,
    emit: Callable[[Event], None],
    *,
    turn: str | None,
) -> ActionOutcome:
    started = time.perf_counter()
    entity = entities.get(action.entity_id)
    try:
        if entity is None:
            raise ActionError("unknown_entity", f"There is no device {action.entity_id}.")
        messages = build_messages(entity, action)
        deliveries = [publisher.publish(message) for message in messages]
        publisher.mirror(action, turn)
    except ActionError as err:
        emit(
            ActionRefused(
                turn=turn,
                entity_id=action.entity_id,
                service=action.service,
                code=err.code,
                message=err.message,
            )
        )
        return ActionOutcome(refusal=err.message)
    done = time.perf_counter()
    queued = Delivery.QUEUED in deliveries
    publish_ms = 1000 * (done - started)
    emit(
        ActionPublished(
            turn=turn,
            entity_id=action.entity_id,
            service=action.service,
            data=dict(action.data),
            messages=tuple((m.topic, m.payload) for m in messages),
            publish_ms=publish_ms,
            queued=queued,
        )
    )
    return ActionOutcome(refusal=None, queued=queued, publish_ms=publish_ms, done=done)
