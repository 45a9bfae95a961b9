"""Measurement beside the turn's logic: wall time and CPU time per stage.

A stage is a block (``with meter.stage("stt", timing="stt"):``). Its process CPU time, every
thread counted, goes to that stage's name; a stage opened inside another (a speech-to-text
attempt during the endpointer's wait, the language model generating while the voice speaks) is
counted for itself only, not again for the stage around it. With ``timing`` the block's wall
time is kept too, in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["TurnMeter"]

T = TypeVar("T")


class TurnMeter:
    """The timings (ms) and CPU seconds of one turn, by stage."""

    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self._nested_cpu_s: list[float] = []  # per open stage: CPU of the stages inside it
        self._streamed_ms: dict[str, float] = {}  # wall time producing counted items, by stage
        self._last_ms: dict[str, float] = {}  # wall time of each stage's latest block

    @contextmanager
    def stage(self, name: str, *, timing: str | None = None) -> Iterator[None]:
        """Count the block's CPU time to ``name``; with ``timing``, set that timing to the
        block's wall time."""
        started, cpu = time.perf_counter(), time.process_time()
        self._nested_cpu_s.append(0.0)
        try:
            yield
        finally:
            nested_s = self._nested_cpu_s.pop()
            spent_s = time.process_time() - cpu
            self.cpu_s[name] = self.cpu_s.get(name, 0.0) + spent_s - nested_s
            if self._nested_cpu_s:
                self._nested_cpu_s[-1] += spent_s
            self._last_ms[name] = 1000 * (time.perf_counter() - started)
            if timing is not None:
                self.timings_ms[timing] = self._last_ms[name]

    def counted(self, name: str, items: Iterator[T]) -> Iterator[T]:
        """Pass ``items`` on; producing each one counts as stage ``name``, and its wall time
        adds up in :meth:`streamed_ms` under the same name."""
        while True:
            started = time.perf_counter()
            with self.stage(name):
                try:
                    item = next(items)
                except StopIteration:
                    item = None
                    done = True
                else:
                    done = False
            spent_ms = 1000 * (time.perf_counter() - started)
            self._streamed_ms[name] = self._streamed_ms.get(name, 0.0) + spent_ms
            if done:
                return
            yield item  # type: ignore[misc]

    def streamed_ms(self, name: str) -> float:
        """The wall time spent producing the items of :meth:`counted` stage ``name``."""
        return self._streamed_ms.get(name, 0.0)

    def last_ms(self, name: str) -> float:
        """The wall time of stage ``name``'s latest block."""
        return self._last_ms.get(name, 0.0)

    def move_cpu(self, source: str, target: str, seconds: float) -> None:
        """Count ``seconds`` of ``source``'s CPU time to ``target`` instead (work another thread
        did while ``source``'s block ran); never more than ``source`` has."""
        moved = max(0.0, min(seconds, self.cpu_s.get(source, 0.0)))
        if source in self.cpu_s:
            self.cpu_s[source] -= moved
        self.cpu_s[target] = self.cpu_s.get(target, 0.0) + moved

    def set(self, timing: str, ms: float) -> None:
        self.timings_ms[timing] = ms

    def get(self, timing: str, default: float = 0.0) -> float:
        return self.timings_ms.get(timing, default)

    def timings(self) -> dict[str, float]:
        """The timings to report: to 0.1 ms, or to the microsecond below 1 ms."""
        return {k: round(v, 1) if v >= 1 else round(v, 3) for k, v in self.timings_ms.items()}

    def cpu(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.cpu_s.items()}
