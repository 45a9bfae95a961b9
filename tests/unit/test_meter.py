"""The turn meter's CPU bookkeeping: work a worker thread did while another stage's block ran
is counted to the stage it belongs to, never more than that block spent."""

from __future__ import annotations

import time

from assistant.turn.meter import TurnMeter


def _spin(seconds: float) -> None:
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_cpu_moves_from_the_block_that_ran_to_the_stage_it_belongs_to() -> None:
    meter = TurnMeter()
    with meter.stage("endpoint"):
        _spin(0.05)
    spent = meter.cpu_s["endpoint"]
    meter.move_cpu("endpoint", "stt", 0.02)
    assert abs(meter.cpu_s["stt"] - 0.02) < 1e-9
    assert abs(meter.cpu_s["endpoint"] - (spent - 0.02)) < 1e-9


def test_never_more_than_the_block_spent() -> None:
    meter = TurnMeter()
    with meter.stage("endpoint"):
        _spin(0.01)
    spent = meter.cpu_s["endpoint"]
    meter.move_cpu("endpoint", "stt", 5.0)
    assert meter.cpu_s["endpoint"] == 0.0 and meter.cpu_s["stt"] == spent
    meter.move_cpu("wake", "router", 1.0)
    assert meter.cpu_s["router"] == 0.0
