"""Run the understanding tables (understanding_table.py) through a real answerer and score them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router_table import ENTITIES, matches

from assistant.assemble import Hearth, assemble
from assistant.config import Config
from assistant.events import EventBus, IntentMatched
from assistant.home.actions import MemoryPublisher

__all__ = ["Outcome", "Score", "build", "judge", "score"]


@dataclass(slots=True)
class Outcome:
    """What one command did: the intents matched, the messages sent and the reply."""

    text: str
    intents: list[IntentMatched]
    sent: int
    reply: str
    layer: str


@dataclass(slots=True)
class Score:
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    wrong: list[tuple[str, str, Any, Outcome]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return sum(self.right.values()) / max(1, sum(self.total.values()))

    def all_right(self, kind: str) -> bool:
        return self.right.get(kind, 0) == self.total.get(kind, 0)


def build(llm: dict[str, Any] | None = None) -> tuple[Hearth, EventBus, MemoryPublisher]:
    config = Config.model_validate({"entities": ENTITIES, "llm": llm or {"enabled": False}})
    bus, publisher = EventBus(), MemoryPublisher()
    hearth = assemble(config, bus=bus, publisher=publisher, listen=False, speak=False)
    return hearth, bus, publisher


def run(hearth: Hearth, bus: EventBus, publisher: MemoryPublisher, text: str) -> Outcome:
    seen: list[Any] = []
    unsubscribe = bus.subscribe(seen.append)
    before = len(publisher.messages)
    try:
        record = hearth.answerer().run_text(text)  # a new conversation each time
    finally:
        unsubscribe()
    intents = [e for e in seen if isinstance(e, IntentMatched)]
    layer = intents[-1].layer if intents else ""
    return Outcome(text, intents, len(publisher.messages) - before, record.reply, layer)


def judge(kind: str, expected: Any, outcome: Outcome) -> bool:
    if kind in ("direct", "paraphrase", "misheard"):
        intent, slots = expected
        return any(matches(e, intent, slots) for e in outcome.intents)
    if kind == "safety":
        asked = outcome.reply.startswith("Do you want me to")
        return outcome.sent == 0 and (asked if expected == "confirm" else not asked)
    if kind == "unknown":
        return outcome.sent == 0 and outcome.reply == expected
    # chat: nothing done to the home, no device named
    return outcome.sent == 0 and "I don't know a device" not in outcome.reply


def score(hearth: Hearth, bus: EventBus, publisher: MemoryPublisher, rows: list[Any]) -> Score:
    result = Score()
    for kind, text, expected in rows:
        outcome = run(hearth, bus, publisher, text)
        ok = judge(kind, expected, outcome)
        result.total[kind] = result.total.get(kind, 0) + 1
        result.right[kind] = result.right.get(kind, 0) + int(ok)
        if not ok:
            result.wrong.append((kind, text, expected, outcome))
    return result
