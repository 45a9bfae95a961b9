"""Several ``hearth run --input -`` daemons on one broker, each the microphone of its own room,
fed the same sound at the same moments in real time, each at its own level over its own noise.

One thread writes every room's next 80 ms frame one after another, on a fixed schedule, so the
rooms hear a command as microphones in one house would: at once, louder in the room nearest the
speaker.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hearth_cli import HEARTH

FRAME = 1280
FRAME_S = 0.08
AREAS = {"kitchen": "Kitchen", "hall": "Hall", "bedroom": "Bedroom"}


def house_config(directory: Path, port: int, node: str, extra: str = "") -> Path:
    """A room's configuration: its node and area, the house's three lights, no language
    model, no dashboard."""
    lights = "".join(
        f'\n[[entities]]\ndomain = "light"\nname = "{area} Light"\nunique_id = "{room}_light"\n'
        f'command_topic = "home/{room}_light/set"\nsuggested_area = "{area}"\n'
        for room, area in AREAS.items()
    )
    path = directory / f"{node}.toml"
    path.write_text(
        f'[assistant]\nnode_id = "{node}"\narea = "{AREAS[node]}"\n\n[llm]\nenabled = false\n\n'
        f"[dashboard]\nenabled = false\n\n[mqtt]\nport = {port}\n{extra}\n{lights}"
    )
    return path


@dataclass
class Room:
    node: str
    process: subprocess.Popen[bytes]
    noise_rms: float
    rng: np.random.Generator
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def noise(self) -> np.ndarray:
        return self.rng.standard_normal(FRAME) * self.noise_rms


class House:
    """Rooms added one by one; :meth:`say` plays one sound in every room, at a gain each."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.rooms: dict[str, Room] = {}
        self._lock = threading.Lock()
        self._sounds: queue.SimpleQueue[dict[str, np.ndarray]] = queue.SimpleQueue()
        self._playing: dict[str, np.ndarray] = {}
        self._stop = threading.Event()
        self._feeder = threading.Thread(target=self._feed, name="house-feeder", daemon=True)
        self._feeder.start()

    def add(self, node: str, noise_dbfs: float = -55.0, extra: str = "") -> Room:
        config = house_config(self.directory, self.port, node, extra)
        process = subprocess.Popen(
            [HEARTH, "run", "--config", str(config), "--input", "-", "--output", "/dev/null"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        seed = sum(map(ord, node))
        room = Room(node, process, 32768 * 10 ** (noise_dbfs / 20), np.random.default_rng(seed))
        threading.Thread(target=room.read, daemon=True).start()
        with self._lock:
            self.rooms[node] = room
        return room

    def say(self, audio: np.ndarray, gains: dict[str, float]) -> float:
        """Play ``audio`` in every room at its gain (a room not named hears nothing of it);
        returns how long it lasts, in seconds."""
        self._sounds.put({node: audio.astype(np.float32) * gain for node, gain in gains.items()})
        return len(audio) / 16000

    def _feed(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            if not self._playing:
                with contextlib.suppress(queue.Empty):
                    self._playing = self._sounds.get_nowait()
            with self._lock:
                rooms = list(self.rooms.values())
            for room in rooms:
                frame = room.noise()
                sound = self._playing.get(room.node)
                if sound is not None and len(sound):
                    piece = sound[:FRAME]
                    frame[: len(piece)] += piece
                data = np.clip(frame, -32768, 32767).astype("<i2").tobytes()
                try:
                    assert room.process.stdin is not None
                    room.process.stdin.write(data)
                    room.process.stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    continue
            self._playing = {n: s[FRAME:] for n, s in self._playing.items() if len(s) > FRAME}
            next_at += FRAME_S
            time.sleep(max(0.0, next_at - time.monotonic()))

    def wait_ready(self, node: str, timeout_s: float = 180) -> None:
        room = self.rooms[node]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(" ready in " in line for line in room.lines):
                return
            if room.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{node} did not start:\n" + "\n".join(room.lines[-30:]))

    def kill(self, node: str) -> None:
        room = self.rooms.pop(node)
        room.process.kill()
        room.process.wait(10)

    def stop(self) -> list[str]:
        """Stop every room; the log lines with a traceback, if any."""
        self._stop.set()
        self._feeder.join(5)
        bad: list[str] = []
        for room in self.rooms.values():
            room.process.terminate()
            try:
                room.process.wait(20)
            except subprocess.TimeoutExpired:
                room.process.kill()
            bad += [f"{room.node}: {line}" for line in room.lines if "Traceback" in line]
        return bad
