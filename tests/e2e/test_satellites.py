"""Wyoming satellites as rooms: a real ``hearth run`` connects to a real wyoming-satellite 1.0.0
(its own environment, scripts/setup-satellite.sh) that runs headless, its microphone and speaker
being programs that read and write files at real time. A command said at the satellite is heard,
acted on in the satellite's area and answered on the satellite's speaker; a satellite killed
mid-turn ends that turn with an error and nothing acted on, and it is taken back when it
returns; one that sends malformed or oversized events is dropped with an error while the
Hearth's own room keeps answering. A timer set at the satellite is told to it (``timer-*``
events, which the satellite forwards to its event service) and rings there."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from broker import Broker, Recorder, free_port
from house import House
from speech import utterance
from wyoming_events import EventService

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"


@pytest.fixture(scope="module")
def satellite_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    venv = ROOT / ".venv-satellite"
    done = subprocess.run(
        [str(ROOT / "scripts" / "setup-satellite.sh"), str(venv)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"scripts/setup-satellite.sh failed:\n{done.stderr[-2000:]}"
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    instance = Broker(free_port(), tmp_path_factory.mktemp("satellite-broker"))
    instance.start()
    yield instance
    instance.stop()


class Satellite:
    """wyoming-satellite 1.0.0, headless: the microphone plays files put in ``folder``, the
    speaker appends to ``folder/speaker.raw``."""

    def __init__(self, python: str, folder: Path, port: int, *extra: str) -> None:
        self.folder = folder
        self.port = port
        folder.mkdir(parents=True, exist_ok=True)
        self.speaker = folder / "speaker.raw"
        self.process = subprocess.Popen(
            [
                python,
                "-m",
                "wyoming_satellite",
                "--name",
                "hall",
                "--area",
                "Hall",
                "--uri",
                f"tcp://127.0.0.1:{port}",
                "--no-zeroconf",
                "--debug",
                "--mic-command",
                f"{sys.executable} {SUPPORT / 'paced_mic.py'} {folder}",
                "--snd-command",
                f"{sys.executable} {SUPPORT / 'paced_speaker.py'} {self.speaker} 22050",
                "--snd-command-rate",
                "22050",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("wyoming-satellite did not listen:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def say(self, audio: np.ndarray) -> None:
        staging = self.folder / "staging.raw"
        staging.write_bytes(audio.astype("<i2").tobytes())
        staging.rename(self.folder / "next.raw")

    def heard_s(self) -> float:
        return self.speaker.stat().st_size / 2 / 22050 if self.speaker.exists() else 0.0

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


def _events(recorder: Recorder, kind: str, start: int = 0) -> list[dict]:
    return [
        json.loads(p)
        for t, p, _ in recorder.messages[start:]
        if t == f"hearth/kitchen/event/{kind}"
    ]


def _wait(predicate, timeout_s: float = 40) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_satellite_is_a_room_and_its_faults_stay_in_it(
    satellite_python: str, own_broker: Broker, tmp_path: Path
) -> None:
    port = free_port()
    satellite = Satellite(satellite_python, tmp_path / "hall", port)
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    extra = (
        f'\n[[rooms.satellites]]\nname = "hall"\nhost = "127.0.0.1"\nport = {port}\narea = "Hall"\n'
    )
    try:
        house.add("kitchen", extra=extra)
        house.wait_ready("kitchen")
        kitchen = house.rooms["kitchen"]
        assert _wait(
            lambda: any("satellite hall" in line and "connected" in line for line in kitchen.lines)
        )
        command = utterance(0.5, "Hey Jarvis.", 0.6, "Turn on the lights.", 1.5)
        # 1. said at the satellite: heard there, acted on in its area, answered on its speaker
        start = len(recorder.messages)
        satellite.say(command)
        assert _wait(lambda: "home/hall_light/set" in [t for t, _, _ in recorder.messages[start:]])
        wake = _events(recorder, "wake", start)
        assert [w["room"] for w in wake] == ["hall"]
        assert _wait(lambda: satellite.heard_s() > 0.5, 20), "no reply on the satellite's speaker"
        assert _wait(lambda: bool(_events(recorder, "turn_end", start)), 20)
        assert not [t for t, _, _ in recorder.messages[start:] if t == "home/kitchen_light/set"]
        # 2. the satellite dies mid-turn: the turn ends with an error, nothing is acted on
        time.sleep(2.5)
        start = len(recorder.messages)
        satellite.say(utterance(0.5, "Hey Jarvis.", 0.6, "Turn off the lights.", 1.5))
        assert _wait(lambda: bool(_events(recorder, "wake", start)), 30)
        satellite.kill()
        assert _wait(
            lambda: any(e["code"] == "satellite_lost" for e in _events(recorder, "error", start)),
            20,
        )
        assert _wait(lambda: bool(_events(recorder, "turn_end", start)), 20)
        time.sleep(1.0)
        assert not [t for t, _, _ in recorder.messages[start:] if t.startswith("home/")]
        # 3. the Hearth's own room answered throughout; the satellite is taken back
        house.say(command, {"kitchen": 1.0})
        assert _wait(
            lambda: "home/kitchen_light/set" in [t for t, _, _ in recorder.messages[start:]]
        )
        satellite = Satellite(satellite_python, tmp_path / "hall2", port)
        assert _wait(
            lambda: (
                sum("satellite hall" in line and " connected" in line for line in kitchen.lines)
                >= 2
            ),
            60,
        )
        start = len(recorder.messages)
        satellite.say(command)
        assert _wait(
            lambda: "home/hall_light/set" in [t for t, _, _ in recorder.messages[start:]]
        ), "\n".join(kitchen.lines[-40:] + satellite.lines[-20:])
    finally:
        satellite.kill()
        bad = house.stop()
        recorder.close()
    assert bad == []


def test_a_timer_set_at_a_satellite_is_told_to_it_and_rings_there(
    satellite_python: str, own_broker: Broker, tmp_path: Path
) -> None:
    """wyoming-satellite 1.0.0 has no timers of its own, but forwards what Hearth tells it to
    its event service: here a real Wyoming server that records them."""
    port, events_port = free_port(), free_port()
    service = EventService(events_port)
    satellite = Satellite(
        satellite_python, tmp_path / "hall", port, "--event-uri", f"tcp://127.0.0.1:{events_port}"
    )
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    extra = (
        f'\n[[rooms.satellites]]\nname = "hall"\nhost = "127.0.0.1"\nport = {port}\narea = "Hall"\n'
    )
    try:
        house.add("kitchen", extra=extra)
        house.wait_ready("kitchen")
        kitchen = house.rooms["kitchen"]
        assert _wait(
            lambda: any("satellite hall" in line and "connected" in line for line in kitchen.lines)
        )
        satellite.say(utterance(0.5, "Hey Jarvis.", 0.6, "Set a timer for 3 seconds.", 1.5))
        assert _wait(lambda: bool(service.of_type("timer-started")), 40), "\n".join(
            kitchen.lines[-30:]
        )
        started = service.of_type("timer-started")[0]
        assert started.data["total_seconds"] == 3 and started.data["start_seconds"] == 3
        assert _wait(lambda: bool(service.of_type("timer-finished")), 20)
        finished = service.of_type("timer-finished")[0]
        assert finished.data["id"] == started.data["id"]
        assert 2.5 < finished.at - started.at < 6.0
        heard_at_finish = satellite.heard_s()
        # then the spoken reply, on the satellite's own speaker
        assert _wait(
            lambda: any(
                r.type == "synthesize" and "timer is done" in r.data.get("text", "")
                for r in service.received
                if r.at >= finished.at
            ),
            20,
        )
        assert _wait(lambda: satellite.heard_s() > heard_at_finish + 0.5, 20)
        assert not service.of_type("timer-cancelled")
        announced = [p for t, p, _ in recorder.messages if t == "hearth/kitchen/event/timer"]
        assert [json.loads(p)["change"] for p in announced] == ["started", "finished"]
    finally:
        satellite.kill()
        bad = house.stop()
        recorder.close()
        service.close()
    assert bad == []


def _fake_satellite(port: int, sends: list[bytes]) -> threading.Thread:
    """A server that answers describe with an info, then sends ``sends`` and hangs up."""

    def serve() -> None:
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(60)
            conn, _ = server.accept()
            with conn:
                reader = conn.makefile("rb")
                reader.readline()  # describe
                info = {"type": "info", "data": {"satellite": {"name": "bad"}}}
                conn.sendall(json.dumps(info).encode() + b"\n")
                reader.readline()  # run-satellite
                for data in sends:
                    conn.sendall(data)
                time.sleep(1.0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "sends",
    [
        [b"this is not json\n"],
        [b'{"type": "audio-chunk", "data": {}, "payload_length": 900000000}\n'],
        [b'{"data": {}}\n'],
        [b'{"type": "x", "data": "' + b"a" * 100_000 + b'"}\n'],
    ],
    ids=["not_json", "huge_payload", "no_type", "huge_header"],
)
def test_a_satellite_sending_bad_events_is_dropped_and_the_house_goes_on(
    own_broker: Broker, tmp_path: Path, sends: list[bytes]
) -> None:
    port = free_port()
    _fake_satellite(port, sends)
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    extra = f'\n[[rooms.satellites]]\nname = "bad"\nhost = "127.0.0.1"\nport = {port}\n'
    try:
        house.add("kitchen", extra=extra)
        house.wait_ready("kitchen")
        assert _wait(
            lambda: any(e["code"] == "satellite_bad_event" for e in _events(recorder, "error")), 30
        )
        start = len(recorder.messages)
        house.say(utterance(0.5, "Hey Jarvis.", 0.6, "Turn on the lights.", 1.5), {"kitchen": 1.0})
        assert _wait(
            lambda: "home/kitchen_light/set" in [t for t, _, _ in recorder.messages[start:]]
        )
        message = next(
            e["message"] for e in _events(recorder, "error") if e["code"] == "satellite_bad_event"
        )
        assert message.startswith(f"satellite bad (127.0.0.1:{port}) sent ")
    finally:
        bad = house.stop()
        recorder.close()
    assert bad == []
