"""A ``hearth run --input -`` subprocess fed silence in real time, with speech on demand."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
from hearth_cli import HEARTH


class Daemon:
    """``hearth run --input -`` fed silence in real time, with speech injected on demand."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [HEARTH, "run", "--config", str(config), "--input", "-", "--output", "/dev/null"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._speech: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._stop = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._feed, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def _feed(self) -> None:
        assert self.process.stdin is not None
        frame = np.zeros(1280, dtype="<i2").tobytes()
        try:
            while not self._stop.is_set():
                try:
                    audio = self._speech.get_nowait()
                    self.process.stdin.write(audio.astype("<i2").tobytes())
                except queue.Empty:
                    self.process.stdin.write(frame)
                self.process.stdin.flush()
                time.sleep(0.08)
        except (BrokenPipeError, ValueError):
            return

    def say(self, audio: np.ndarray) -> None:
        self._speech.put(audio)

    def wait_line(self, text: str, after: int = 0, timeout_s: float = 60) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for index, line in enumerate(self.lines[after:], start=after):
                if text in line:
                    return index
            time.sleep(0.05)
        raise AssertionError(f"no log line with {text!r}:\n" + "\n".join(self.lines[-30:]))

    def stop(self) -> int:
        self._stop.set()
        self.process.terminate()
        code = self.process.wait(15)
        assert not [line for line in self.lines if "Traceback" in line], "\n".join(self.lines)
        return code
