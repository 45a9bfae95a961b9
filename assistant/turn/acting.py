"""Acting on the home for a turn: each action checked, published, and reported, never late.

An action asked for more than ``mqtt.command_ttl_s`` ago (spoken, or arrived over MQTT) is not
published, however slow the skill or the model was: a ``command_expired`` error instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..events import ActionRefused, EventBus
from ..home.actions import ActionPublisher, perform
from ..home.entities import Action
from ..home.home import Home
from .record import TurnRecord
from .replies import QUEUED_REPLY, TOO_LATE_TO_ACT

__all__ = ["Actor"]


class Actor:
    """Publishes a turn's home actions through the publisher, with their events."""

    def __init__(self, home: Home, publisher: ActionPublisher, bus: EventBus, ttl_s: float) -> None:
        self.home = home
        self.publisher = publisher
        self.bus = bus
        self.ttl_s = ttl_s

    def act_all(self, record: TurnRecord, actions: Sequence[Action], speech: str) -> str:
        """Publish the actions in order; returns what to say (the skill's reply, or why an
        action did not go out)."""
        for action in actions:
            refusal = self._act(record, action)
            if refusal is not None:
                speech = refusal
                if record.outcome != "queued":
                    break
        return speech

    def _act(self, record: TurnRecord, action: Action) -> str | None:
        """Validate and publish one action; returns what to say instead if it did not go out.
        An action asked for more than ``mqtt.command_ttl_s`` ago is never sent."""
        age_s = record.since_speech_end_ms() / 1000
        if age_s > self.ttl_s:
            record.outcome = "command_expired"
            message = (
                f"{action.entity_id} {action.service} was asked for {age_s:.1f} s ago, more "
                f"than mqtt.command_ttl_s ({self.ttl_s:g} s): not sent"
            )
            self.bus.emit(
                ActionRefused(
                    turn=record.turn,
                    entity_id=action.entity_id,
                    service=action.service,
                    code="command_expired",
                    message=message,
                )
            )
            return TOO_LATE_TO_ACT
        with record.meter.stage("action"):
            outcome = perform(
                action, self.home.registry(), self.publisher, self.bus.emit, turn=record.turn
            )
        if outcome.refusal is not None:
            record.outcome = "action_failed"
            return outcome.refusal
        record.meter.set("action", outcome.publish_ms)
        if outcome.queued:
            record.outcome = "queued"
            return QUEUED_REPLY
        if "to_publish" not in record.meter.timings_ms:
            record.meter.set("to_publish", record.since_speech_end_ms(outcome.done))
        return None
