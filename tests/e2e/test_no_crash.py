"""No run ends on a signal: the language model timing out, or the process stopping while
llama.cpp is inside a call, on a machine whose two cores are kept busy by other processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import Broker, Recorder
from daemon import Daemon
from hearth_cli import run_hearth, write_config

LLM = "\n[llm]\nenabled = true\ntimeout_s = 0.4\nthinking_cue_s = 0.0\n"


@pytest.fixture
def cpu_hog() -> Iterator[None]:
    """Two busy processes, one per core, as a home server that also runs other things."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _config(tmp_path: Path, port: int, node: str) -> Path:
    config = write_config(tmp_path, port, node_id=node)
    # the language model on, with a deadline it cannot meet on a busy machine
    config.write_text(config.read_text().replace("[llm]\nenabled = false\n", LLM))
    return config


@pytest.mark.parametrize("run", range(3))
def test_a_model_that_times_out_ends_the_turn_not_the_process(
    run: int, tmp_path: Path, broker: Broker, cpu_hog: None
) -> None:
    config = _config(tmp_path, broker.port, f"hog{run}")
    result = run_hearth("ask", "--config", str(config), "tell me a long story about a dragon")
    assert result.returncode in (0, 1), (result.returncode, result.stderr[-2000:])
    assert "couldn't work that out in time" in result.stdout or result.returncode == 0


def test_stopping_while_the_model_thinks_exits_cleanly(
    tmp_path: Path, broker: Broker, recorder: Recorder, cpu_hog: None
) -> None:
    config = _config(tmp_path, broker.port, "hogrun")
    config.write_text(config.read_text().replace("timeout_s = 0.4", "timeout_s = 60.0"))
    daemon = Daemon(config)
    try:
        daemon.wait_line("ready in", timeout_s=300)
        recorder.client.publish("hearth/hogrun/cmd/ask", "tell me a long story about a dragon")
        # the tool prompt read behind READY gives way; the question reads it at its own priority
        assert recorder.wait_for("hearth/hogrun/event/intent", timeout_s=300)
        time.sleep(0.5)  # inside llama.cpp now
        daemon.process.send_signal(signal.SIGTERM)
        code = daemon.process.wait(30)
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0, "\n".join(daemon.lines[-20:])
    assert "Traceback" not in "\n".join(daemon.lines)
