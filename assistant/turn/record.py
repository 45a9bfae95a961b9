"""What a turn keeps while it runs, and where Hearth keeps its files."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config

__all__ = ["TurnRecord", "counted", "data_dir"]


@dataclass(slots=True)
class TurnRecord:
    """What one turn did, kept while it runs; timings in milliseconds."""

    turn: str
    outcome: str = "ok"
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    processing_started: float = 0.0  # perf_counter when work after the endpoint began
    cpu_s: dict[str, float] = field(default_factory=dict)  # process CPU time by stage

    def add_cpu(self, stage: str, since_s: float) -> None:
        """Count the process CPU time since ``since_s`` (a ``time.process_time()``) to a stage;
        it covers every thread, so the models' worker threads are included."""
        self.cpu_s[stage] = self.cpu_s.get(stage, 0.0) + time.process_time() - since_s


def counted(
    record: TurnRecord, stage: str, items: Iterator[str], wall_s: list[float]
) -> Iterator[str]:
    """Pass ``items`` on, counting the CPU time (to ``stage``) and the wall time (added to
    ``wall_s[0]``) spent producing them."""
    while True:
        cpu, started = time.process_time(), time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            record.add_cpu(stage, cpu)
            wall_s[0] += time.perf_counter() - started
        yield item


def data_dir(config: Config) -> Path:
    """``assistant.data_dir``, else systemd's ``$STATE_DIRECTORY``, else ~/.local/state/hearth."""
    if config.assistant.data_dir:
        return Path(config.assistant.data_dir).expanduser()
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "state" / "hearth"
