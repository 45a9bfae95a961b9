"""Soak: hundreds of spoken turns through one long-running daemon, with a broker restart.

One ``hearth run --input -`` subprocess hears Piper-spoken commands ("Hey Jarvis." and a home
command, the time, or a list), fed as raw PCM turn by turn; the real broker is stopped and started
again halfway. At the end it prints the figures: turns, crashed turns, home actions expected and
delivered, resident memory at turn 50 and at the end, and the time taken.

The full run (300 turns) is marked ``soak`` (``pytest -m soak tests/soak/test_soak.py -s``); the
same test in a short form runs with the default suite.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from broker import Broker, Recorder, free_port
from hearth_cli import write_config
from hearth_process import HearthProcess
from speech import utterance

from assistant.voice.audio import FRAME_SAMPLES

FULL_TURNS = 300
SHORT_TURNS = 20
MAX_GROWTH_MB = 50.0


@dataclass(frozen=True)
class Command:
    text: str
    message: tuple[str, str] | None  # the device message it must cause, if it is a home command


COMMANDS = (
    Command("Turn on the kitchen light.", ("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')),
    Command("What time is it?", None),
    Command("Turn off the desk lamp.", ("tasmota/desk_lamp/cmnd/POWER", "OFF")),
    Command("Put eggs on my shopping list.", None),
    Command("Turn on the coffee maker.", ("home/coffee_maker/set", "1")),
    Command("What's on my shopping list?", None),
    Command("Turn off the kitchen light.", ("zigbee2mqtt/kitchen_light/set", '{"state":"OFF"}')),
    Command("Remove eggs from my shopping list.", None),
    Command("Turn on the desk lamp.", ("tasmota/desk_lamp/cmnd/POWER", "ON")),
    Command("Turn off the coffee maker.", ("home/coffee_maker/set", "0")),
)
DEVICE_TOPICS = {c.message[0] for c in COMMANDS if c.message}


def _turn_audio(command: Command) -> np.ndarray:
    """Wake word, the command, silence; whole 80 ms frames, so every repeat sounds the same."""
    audio = utterance(1.0, "Hey Jarvis.", 0.6, command.text, 1.5)
    return np.pad(audio, (0, -len(audio) % FRAME_SAMPLES))


def _soak(turns: int, tmp_path: Path) -> dict[str, object]:
    started = time.monotonic()
    audio = {c.text: _turn_audio(c) for c in COMMANDS}
    broker = Broker(free_port(), tmp_path, persistent=True)
    broker.start()
    recorder = Recorder(broker.port, client_id=f"soak-{os.getpid()}")
    config = write_config(tmp_path, broker.port, node_id="soak")
    env = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "state")}
    daemon = HearthProcess(
        "--config", str(config), "--input", "-", "--output", str(tmp_path / "out.wav"), env=env
    )
    # the broker goes away for the first home command after halfway, and comes back as soon
    # as that command has been queued: well inside mqtt.command_ttl_s
    restart_at = next(
        t for t in range(turns // 2, turns) if COMMANDS[(t - 1) % len(COMMANDS)].message
    )
    baseline_at = min(50, max(2, turns // 4))
    expected: list[tuple[str, str]] = []
    rss_mb: dict[int, float] = {}
    try:
        daemon.wait_for("ready in")
        for turn in range(1, turns + 1):
            command = COMMANDS[(turn - 1) % len(COMMANDS)]
            if command.message:
                expected.append(command.message)
            if turn == restart_at:
                _wait_delivered(recorder, len(expected) - 1)  # nothing in flight
                queued_before = sum("queued=True" in line for line in daemon.events("action"))
                broker.stop()
                daemon.feed(audio[command.text])
                daemon.wait_for("queued=True", queued_before + 1)
                broker.start()
            else:
                daemon.feed(audio[command.text])
            daemon.wait_turns(turn, timeout_s=90)
            if turn == baseline_at or turn % 25 == 0:
                rss_mb[turn] = daemon.rss_mb()
        rss_mb[turns] = daemon.rss_mb()
        exit_code = daemon.finish()
        _wait_delivered(recorder, len(expected))
    finally:
        daemon.kill()
        recorder.close()
        broker.stop()

    log = daemon.log()
    (tmp_path / "hearth.log").write_text("\n".join(log) + "\n")
    turn_ends = daemon.events("turn_end")
    outcomes = Counter(re.search(r"outcome=(\S+)", line).group(1) for line in turn_ends)  # type: ignore[union-attr]
    errors = daemon.events("error")
    crashed = [line for line in errors if "code=internal" in line]
    queued = [line for line in daemon.events("action") if "queued=True" in line]
    delivered = _delivered(recorder)
    figures: dict[str, object] = {
        "turns": len(turn_ends),
        "outcomes": dict(outcomes),
        "crashed_turns": len(crashed),
        "tracebacks": len(daemon.tracebacks()),
        "error_codes": dict(Counter(re.search(r"code=(\S+)", e).group(1) for e in errors)),  # type: ignore[union-attr]
        "actions_expected": len(expected),
        "actions_queued_while_broker_away": len(queued),
        "actions_delivered": len(delivered),
        "actions_lost": len(Counter(expected) - Counter(delivered)),
        "rss_mb": {str(k): round(v, 1) for k, v in rss_mb.items()},
        "rss_growth_mb": round(rss_mb[turns] - rss_mb[baseline_at], 1),
        "broker_restart_at_turn": restart_at,
        "total_s": round(time.monotonic() - started, 1),
        "exit_code": exit_code,
    }
    print("\nsoak figures: " + json.dumps(figures, indent=2))
    assert exit_code == 0, "\n".join(log[-30:])
    return figures | {"expected": expected, "delivered": delivered, "queued": queued}


def _delivered(recorder: Recorder) -> list[tuple[str, str]]:
    return [(t, p) for t, p, _ in recorder.messages if t in DEVICE_TOPICS]


def _wait_delivered(recorder: Recorder, count: int, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while len(_delivered(recorder)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def _check(figures: dict[str, object], turns: int) -> None:
    assert figures["turns"] == turns
    assert figures["crashed_turns"] == 0
    assert figures["tracebacks"] == 0
    # the broker was away for one home command: it was queued, then delivered
    assert figures["queued"], "no action was queued while the broker was away"
    assert "command_expired" not in figures["error_codes"]  # type: ignore[operator]
    assert Counter(figures["delivered"]) == Counter(figures["expected"])  # type: ignore[arg-type]
    assert figures["actions_lost"] == 0
    assert float(figures["rss_growth_mb"]) < MAX_GROWTH_MB  # type: ignore[arg-type]


def test_soak_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        figures = _soak(SHORT_TURNS, tmp_path)
    _check(figures, SHORT_TURNS)


@pytest.mark.soak
def test_soak_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        figures = _soak(FULL_TURNS, tmp_path)
    _check(figures, FULL_TURNS)
