"""What a turn keeps while it runs: its id, how it is going, what it said, and its meter."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from .meter import TurnMeter

__all__ = ["TurnRecord"]


@dataclass(slots=True)
class TurnRecord:
    """One turn, kept while it runs.

    ``speech_end_at`` is the ``perf_counter`` time the person stopped speaking (for a typed
    command: when it arrived); "to publish" and "to first audio" are measured from it.
    ``spoken`` says the command was heard from a person in this turn, not typed; ``answers``
    that it is the turn a question opened (the only place a spoken yes confirms).
    """

    turn: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    outcome: str = "ok"
    reply: str = ""
    spoken: bool = False
    answers: bool = False
    speech_end_at: float = field(default_factory=time.perf_counter)
    meter: TurnMeter = field(default_factory=TurnMeter)

    def since_speech_end_ms(self, now: float | None = None) -> float:
        return 1000 * ((time.perf_counter() if now is None else now) - self.speech_end_at)
