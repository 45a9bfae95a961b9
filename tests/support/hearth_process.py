"""A long-running ``hearth run`` subprocess, driven turn by turn, watched through its own log.

The daemon logs one line per event on stderr ("INFO assistant.events: turn_end turn=… outcome=…"),
so a test can wait for a turn to end even while the broker is down. Its resident memory and CPU
time are read from ``/proc/<pid>``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
from hearth_cli import HEARTH

EVENT_LOG = "assistant.events: "


class HearthProcess:
    """``hearth run ARGS``, with raw PCM written to its standard input on demand."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [HEARTH, "run", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="hearth-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())

    # -- what it said ------------------------------------------------------------------------

    def log(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def events(self, kind: str) -> list[str]:
        """Log lines of one event type, e.g. ``turn_end`` or ``error``."""
        return [line for line in self.log() if f"{EVENT_LOG}{kind} turn=" in line]

    def wait_for(self, text: str, count: int = 1, timeout_s: float = 120) -> list[str]:
        """Wait until ``count`` log lines contain ``text``; those lines."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [line for line in self.log() if text in line]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline or self.process.poll() is not None:
                tail = "\n".join(self.log()[-40:])
                raise AssertionError(f"no {count}x {text!r} in the daemon's log:\n{tail}")
            time.sleep(0.05)

    def wait_turns(self, count: int, timeout_s: float = 120) -> None:
        self.wait_for(f"{EVENT_LOG}turn_end turn=", count, timeout_s)

    def tracebacks(self) -> list[str]:
        return [line for line in self.log() if "Traceback" in line]

    # -- what it uses ------------------------------------------------------------------------

    def rss_mb(self) -> float:
        """Resident memory (VmRSS), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS in /proc status")

    def cpu_s(self) -> float:
        """User and system CPU time of the whole process so far, in seconds."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- driving it --------------------------------------------------------------------------

    def feed(self, audio: np.ndarray) -> None:
        """Write 16 kHz mono int16 audio to its standard input."""
        assert self.process.stdin is not None
        self.process.stdin.write(np.asarray(audio, dtype="<i2").tobytes())
        self.process.stdin.flush()

    def finish(self, timeout_s: float = 120) -> int:
        """End the input; the daemon finishes its turns and exits."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        code = self.process.wait(timeout_s)
        self._reader.join(timeout=5)
        return code

    def terminate(self, timeout_s: float = 15) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout_s)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
