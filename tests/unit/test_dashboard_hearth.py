"""The daemon's dashboard backend on a real hearing loop with fake stages (a wake word that fires
on a mark, scripted speech-to-text, a silent voice) and the real journal: what the page streams
is what the bus carried, the level tap feeds the live line, typed commands and profile switches
go through the loop, the reply audio is kept, and every device is listed with its reason."""

from __future__ import annotations

import json
import socket
import threading
import time
import wave
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dashboard_http import request, start_server

from assistant import fakes
from assistant.assemble import Given, Hearth, assemble
from assistant.config import Config
from assistant.dashboard.hearth_backend import HearthBackend
from assistant.dashboard.server import DashboardServer
from assistant.events import Event, EventBus
from assistant.home.actions import MemoryPublisher
from assistant.home.entities import Entity
from assistant.journal.recording import Recording, start_journal
from assistant.turn.pipeline import HearingLoop
from assistant.voice.audio import FRAME_SAMPLES, MemorySink

SCRIPT = ["Turn on the kitchen light.", "What time is it?"]


class LiveSource:
    """Silence at ten times real time until stopped, with audio put in on demand."""

    live = False

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._pending: list[np.ndarray] = []
        self._lock = threading.Lock()

    def put(self, audio: np.ndarray) -> None:
        with self._lock:
            self._pending.extend(
                audio[i : i + FRAME_SAMPLES] for i in range(0, len(audio), FRAME_SAMPLES)
            )

    def frames(self) -> Iterator[np.ndarray]:
        silent = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        while not self.stopped.is_set():
            with self._lock:
                frame = self._pending.pop(0) if self._pending else silent
            yield frame
            time.sleep(0.008)

    def close(self) -> None:
        self.stopped.set()


class Room:
    def __init__(self, tmp_path: Path) -> None:
        config = Config.model_validate(
            {
                "assistant": {"data_dir": str(tmp_path)},
                "llm": {"enabled": False},
                "journal": {"keep_audio": True},
                "expose": {"exclude": ["switch.garage_door"]},
                "profiles": {
                    "homework": {"description": "no lights", "expose": {"domains": ["switch"]}}
                },
                "entities": [
                    {
                        "domain": "light",
                        "name": "Kitchen Light",
                        "unique_id": "kitchen_light",
                        "schema": "json",
                        "command_topic": "z2m/kitchen_light/set",
                        "suggested_area": "Kitchen",
                    }
                ],
            }
        )
        given = Given(
            wake=fakes.MarkedWake(),
            vad=fakes.LevelVad(),
            stt=fakes.ScriptedStt(SCRIPT),
            tts=fakes.SilentTts(),
        )
        self.bus = EventBus()
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append)
        self.hearth: Hearth = assemble(
            config, bus=self.bus, publisher=MemoryPublisher(), listen=True, speak=True, given=given
        )
        self.hearth.home.discovered("a", Entity("switch.garage_door", "switch", "Garage Door"))
        self.hearth.home.discovered("b", Entity("switch.fan", "switch", "Fan", source="discovery"))
        self.loop: HearingLoop = self.hearth.hearing_loop(MemorySink())
        recording = start_journal(config, self.bus, None, self.loop)
        assert recording is not None
        self.recording: Recording = recording
        self.backend = HearthBackend(lambda: self.hearth, self.loop)
        self.server: DashboardServer = start_server(self.backend)
        self.source = LiveSource()
        self._thread = threading.Thread(target=self.loop.run, args=(self.source,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.stop()
        self.backend.close()
        self.loop.stop()
        self.source.close()
        self._thread.join(10)
        self.recording.close()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        headers = {
            "Origin": f"http://127.0.0.1:{self.server.port}",
            "Content-Type": "application/json",
        }
        return request(self.server.port, "POST", path, headers, json.dumps(body).encode())

    def wait(self, check: Any, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.02)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    instance = Room(tmp_path)
    yield instance
    instance.close()
    assert instance.bus.handler_errors == []
    assert instance.server.hub.stats.convert_errors == 0


class Stream:
    """``GET /api/events`` read in a thread, frame by frame."""

    def __init__(self, port: int) -> None:
        self.frames: list[dict[str, Any]] = []
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        try:
            while chunk := self._sock.recv(65536):
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    for line in block.split(b"\n"):
                        if line.startswith(b"data: "):
                            self.frames.append(json.loads(line[6:]))
        except OSError:
            return

    def types(self) -> list[str]:
        return [f["type"] for f in self.frames]

    def close(self) -> None:
        self._sock.close()


def test_a_spoken_turn_streams_its_events_and_levels(room: Room) -> None:
    stream = Stream(room.server.port)
    try:
        room.wait(lambda: "hello" in stream.types())
        room.source.put(fakes.stream(fakes.wake_mark(), fakes.silence(0.16), fakes.speech(0, 1.2)))
        room.wait(lambda: "turn_end" in stream.types())
        room.wait(lambda: any(f.get("vad") for f in stream.frames if f["type"] == "level"))
    finally:
        stream.close()
    spoken = [e.type for e in room.events if e.turn is not None]
    streamed = [f["type"] for f in stream.frames if f.get("turn")]
    assert streamed == spoken  # every event of the turn, in order
    levels = [f for f in stream.frames if f["type"] == "level"]
    assert any(f["wake"] == 1.0 for f in levels)  # the wake mark's score, peak-held
    assert any(f["vad"] == 1.0 for f in levels)  # speech heard while listening
    assert room.server.hub.stats.levels_in > 0


def test_the_journal_keeps_the_reply_and_the_api_serves_both_clips(room: Room) -> None:
    room.source.put(fakes.stream(fakes.wake_mark(), fakes.silence(0.16), fakes.speech(0, 1.2)))
    room.wait(lambda: room.backend.turns(5, None))
    port = room.server.port
    detail = request(port, "GET", "/api/turns/last").json()
    assert detail["audio"] == {"command": True, "reply": True}
    for which, seconds in (("command", detail["speech_s"]), ("reply", detail["reply_audio_s"])):
        reply = request(port, "GET", f"/api/turns/last/audio/{which}")
        assert reply.status == 200 and reply.headers["content-type"] == "audio/wav"
        with wave.open(BytesIO(reply.body)) as wav:
            assert wav.getnframes() / wav.getframerate() == pytest.approx(seconds, abs=0.01)


def test_a_typed_command_runs_through_the_loop_and_names_its_turn(room: Room) -> None:
    reply = room.post("/api/ask", {"text": "what time is it\u0007"})
    assert reply.status == 202, reply.body
    body = reply.json()
    assert body["text"] == "what time is it" and body["accepted"] is True
    transcript = next(e for e in room.events if e.type == "transcript")
    assert body["turn"] == transcript.turn
    room.wait(lambda: any(e.type == "turn_end" and e.turn == body["turn"] for e in room.events))
    assert room.post("/api/ask", {"text": "\u0000\u0001"}).json()["error"]["code"] == "bad_command"


def test_every_device_with_the_reason_and_the_profile_switch(room: Room) -> None:
    devices = {
        d["entity_id"]: d
        for d in request(room.server.port, "GET", "/api/devices").json()["devices"]
    }
    assert set(devices) == {"light.kitchen_light", "switch.garage_door", "switch.fan"}
    assert devices["light.kitchen_light"]["exposed"] is True
    assert devices["light.kitchen_light"]["why"] == "declared in [[entities]]"
    assert devices["switch.garage_door"]["exposed"] is False
    assert "its id is in [expose] exclude" in devices["switch.garage_door"]["why"]
    assert devices["switch.fan"]["exposed"] is True
    assert room.post("/api/profile", {"name": "nosuch"}).status == 404
    switched = room.post("/api/profile", {"name": "homework"})
    assert switched.status == 200 and switched.json()["current"] == "homework"
    room.wait(lambda: room.hearth.profiles.active == "homework")
    devices = {
        d["entity_id"]: d
        for d in request(room.server.port, "GET", "/api/devices").json()["devices"]
    }
    light = devices["light.kitchen_light"]
    assert light["exposed"] is False
    assert "the profile 'homework' hides it" in light["why"] and "domain (light)" in light["why"]
    assert devices["switch.fan"]["exposed"] is True
    assert request(room.server.port, "GET", "/api/live").json()["profile"] == "homework"
