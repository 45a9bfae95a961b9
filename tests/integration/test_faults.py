"""Faults the daemon must ride out: the microphone goes away, the speaker fails, the disk fills.

There is no sound card here, so ``tests/support/fake_sounddevice/sounddevice.py`` stands in for
PortAudio: its streams play Piper speech through the real callbacks from their own threads, then go
quiet, end, or refuse to open, as each test's script says. Everything else is real: the wake word,
the endpointer, whisper, Piper, mosquitto, and a tmpfs that is really full.
"""

from __future__ import annotations

import errno
import importlib.util
import itertools
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from broker import Broker, Recorder
from hearth_cli import write_config
from hearth_process import HearthProcess
from speech import say, utterance

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import Event, EventBus, TurnFailed
from assistant.home.actions import MemoryPublisher
from assistant.voice.audio import FRAME_SAMPLES
from assistant.voice.soundcard import MicrophoneSource
from assistant.voice.supervise import Backoff, Health, HealthBoard

FAKES = Path(__file__).parents[1] / "support" / "fake_sounddevice"
_fake_ids = itertools.count()


def fake_sounddevice(script: dict[str, Any]) -> ModuleType:
    """A fresh copy of the fake PortAudio module, running ``script``."""
    name = f"fake_sounddevice_{next(_fake_ids)}"
    spec = importlib.util.spec_from_file_location(name, FAKES / "sounddevice.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.configure(script)
    return module


def fake_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_until(condition: Any, timeout_s: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.02)


def blocks(audio: np.ndarray) -> list[np.ndarray]:
    """The audio as the fake stream delivers it: whole blocks, the last one zero-padded."""
    padded = np.pad(audio, (0, -len(audio) % FRAME_SAMPLES))
    return list(padded.reshape(-1, FRAME_SAMPLES))


# -- the microphone's supervised loop, in-process --------------------------------------------


def test_microphone_outages_are_reported_once_and_retried_with_growing_delays(
    tmp_path: Path,
) -> None:
    speech = say("Turn on the kitchen light.")
    raw = tmp_path / "speech.raw"
    speech.astype("<i2").tofile(raw)
    log = tmp_path / "sd.jsonl"
    unavailable = {"error": "Device unavailable"}
    sd = fake_sounddevice(
        {
            "log": str(log),
            "input": [
                {"audio": str(raw), "then": "finish"},  # PortAudio ends the stream: unplugged
                unavailable,
                unavailable,
                unavailable,
                {"audio": str(raw), "then": "hang"},  # opens, speaks, then never another block
                {"audio": str(raw), "then": "silence"},
            ],
        }
    )
    events: list[Event] = []
    board = HealthBoard(events.append)
    reports: list[tuple[Health, float, float]] = []  # with the audio thread's CPU and wall time

    def on_health(health: Health) -> None:
        reports.append((health, time.thread_time(), time.monotonic()))
        board.report(health)

    source = MicrophoneSource(
        stall_s=0.5, retry=Backoff(0.2, 30.0), on_health=on_health, sounddevice=sd
    )
    received: list[np.ndarray] = []  # audio, and the empty frames the waits yield
    consumer = threading.Thread(target=lambda: received.extend(source.frames()), daemon=True)
    consumer.start()
    expected = blocks(speech)
    try:
        wait_until(lambda: sum(h.ok for h, _, _ in reports) == 2, 60, "two recoveries")
        wait_until(
            lambda: sum(len(f) > 0 for f in received) >= 3 * len(expected), 30, "the third one"
        )
    finally:
        source.close()
    consumer.join(5)
    assert not consumer.is_alive(), "frames() did not end on close()"

    health = [h for h, _, _ in reports]
    assert [(h.ok, h.failures) for h in health] == [
        (False, 1),
        (False, 2),
        (False, 3),
        (False, 4),
        (True, 0),
        (False, 1),
        (True, 0),
    ]
    first_outage = [h.retry_in_s for h in health[:4]]
    assert all(later >= 2 * earlier for earlier, later in itertools.pairwise(first_outage))
    assert health[5].retry_in_s == first_outage[0]  # a new outage starts from the first delay
    assert "ended" in health[0].message and "Device unavailable" in health[1].message
    assert "no audio" in health[5].message
    # one error event per outage, not one per failed try
    assert [e.code for e in events if isinstance(e, TurnFailed)] == [
        "microphone_lost",
        "microphone_lost",
    ]
    # the loop really slept between tries: the gaps between opening attempts grew
    opened = [entry["t"] for entry in fake_log(log) if entry["event"] == "open_input"]
    assert len(opened) == 6
    gaps = [b - a for a, b in itertools.pairwise(opened[1:5])]
    assert gaps[0] < gaps[1] < gaps[2]
    # ... and used almost no CPU doing it
    (_, cpu_lost, wall_lost), (_, cpu_back, wall_back) = reports[0], reports[4]
    assert (cpu_back - cpu_lost) < 0.05 * (wall_back - wall_lost)
    # while waiting, the loop woke the audio thread now and then (for commands), with no audio
    frames = [f for f in received if len(f)]
    assert len(received) - len(frames) >= 2
    # the audio itself came through the callback unchanged, before and after each outage
    for start in (0, len(expected), 2 * len(expected)):
        got = frames[start : start + len(expected)]
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))


def test_watchdog_spares_a_loop_waiting_for_its_microphone_but_not_a_frozen_one() -> None:
    config = Config.model_validate({"llm": {"enabled": False}})
    bus = EventBus()
    hearth = assemble(config, bus=bus, publisher=MemoryPublisher(), listen=True, speak=False)
    pipeline = hearth.hearing_loop()

    failures: list[Health] = []
    waiting = MicrophoneSource(
        stall_s=0.3,
        retry=Backoff(0.2, 0.4),
        on_health=failures.append,
        sounddevice=fake_sounddevice({"input": [{"error": "Device unavailable"}]}),
    )
    runner = threading.Thread(target=pipeline.run, args=(waiting,), daemon=True)
    runner.start()
    try:
        wait_until(lambda: len(failures) >= 5, 30, "five failed tries")
        # no audio, but the loop wakes on the empty frames of the wait (and runs commands)
        assert time.monotonic() - pipeline.activity.last_progress < 1.0
        assert pipeline.alive(stall_s=1.0)
    finally:
        waiting.close()
    runner.join(5)
    assert not runner.is_alive()

    # a stream that opens and then never delivers, with a stall limit far away: the loop is
    # stuck in one wait and shows no sign of life
    frozen = MicrophoneSource(
        stall_s=60.0, sounddevice=fake_sounddevice({"input": [{"then": "hang"}]})
    )
    runner = threading.Thread(target=pipeline.run, args=(frozen,), daemon=True)
    runner.start()
    try:
        time.sleep(1.5)
        assert not pipeline.alive(stall_s=1.0)
    finally:
        frozen.close()
    runner.join(5)
    assert not runner.is_alive()


# -- the daemon -------------------------------------------------------------------------------

DEVICE_TOPICS = (
    "zigbee2mqtt/kitchen_light/set",
    "tasmota/desk_lamp/cmnd/POWER",
    "home/coffee_maker/set",
)


def _fake_env(tmp_path: Path, script: dict[str, Any], **extra: str) -> dict[str, str]:
    path = tmp_path / "sounddevice.json"
    path.write_text(json.dumps(script))
    python_path = os.pathsep.join(p for p in (str(FAKES), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": python_path, "FAKE_SOUNDDEVICE": str(path), **extra}


def _errors(recorder: Recorder, node: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in recorder.on(f"hearth/{node}/event/error")]


class NotifyListener:
    """Stands in for systemd's notify socket; keeps every line with its arrival time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            now = time.monotonic()
            self.lines.extend((now, line) for line in data.decode().splitlines())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def test_daemon_rides_out_a_lost_microphone(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    before = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 1.5)
    after = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the coffee maker.", 1.5)
    before.astype("<i2").tofile(tmp_path / "before.raw")
    after.astype("<i2").tofile(tmp_path / "after.raw")
    sd_log = tmp_path / "sd.jsonl"
    unavailable = {"error": "Device unavailable"}
    env = _fake_env(
        tmp_path,
        {
            "log": str(sd_log),
            "speed": 2.0,  # the speech comes twice as fast as spoken; the waits are real
            "input": [
                {"audio": str(tmp_path / "before.raw"), "then": "hang"},  # then unplugged
                unavailable,
                unavailable,
                {"audio": str(tmp_path / "after.raw"), "then": "silence"},  # plugged back in
            ],
        },
        NOTIFY_SOCKET=str(tmp_path / "notify"),
        WATCHDOG_USEC="1000000",
        STATE_DIRECTORY=str(tmp_path / "state"),
    )
    notify = NotifyListener(tmp_path / "notify")
    config = write_config(tmp_path, broker.port, node_id="mic")
    daemon = HearthProcess("--config", str(config), env=env)
    try:
        daemon.wait_for("microphone lost:", timeout_s=120)
        lost_at, cpu_at_loss = time.monotonic(), daemon.cpu_s()
        # commands from the home still run while the microphone is away
        recorder.client.publish("hearth/mic/cmd/ask", "turn on the desk lamp", qos=1)
        assert recorder.wait_for("tasmota/desk_lamp/cmnd/POWER", 1, timeout_s=30) == ["ON"]
        opened_ok = [e["ok"] for e in fake_log(sd_log) if e["event"] == "open_input"]
        assert opened_ok.count(True) == 1, "the microphone came back before the command ran"
        wait_until(
            lambda: sum(e["event"] == "open_input" for e in fake_log(sd_log)) >= 4, 60, "reopen"
        )
        back_at, cpu_at_reopen = time.monotonic(), daemon.cpu_s()
        daemon.wait_turns(3)
        recorder.wait_for("home/coffee_maker/set", 1)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        notify.close()

    devices = [(t, p) for t, p, _ in recorder.messages if t in DEVICE_TOPICS]
    assert devices == [
        ("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}'),
        ("tasmota/desk_lamp/cmnd/POWER", "ON"),
        ("home/coffee_maker/set", "1"),
    ]
    errors = _errors(recorder, "mic")
    assert [e["code"] for e in errors] == ["microphone_lost"], errors
    assert "no audio from Fake USB Audio" in errors[0]["message"]
    assert len(daemon.wait_for("microphone back:")) == 1
    assert daemon.tracebacks() == []

    # retried with growing delays, sleeping in between, using little CPU
    opened = [e["t"] for e in fake_log(sd_log) if e["event"] == "open_input"]
    assert [e["ok"] for e in fake_log(sd_log) if e["event"] == "open_input"] == [
        True,
        False,
        False,
        True,
    ]
    gaps = [b - a for a, b in itertools.pairwise(opened[1:])]
    assert gaps[0] < gaps[1]
    cpu_share = (cpu_at_reopen - cpu_at_loss) / (back_at - lost_at)
    assert cpu_share < 0.1, f"{cpu_share:.0%} of a core while waiting for the microphone"

    # systemd was told, and kept being told the daemon is alive
    statuses = [line for _, line in notify.lines if line.startswith("STATUS=")]
    lost = [i for i, s in enumerate(statuses) if s.startswith("STATUS=microphone lost;")]
    assert lost, statuses
    assert re.fullmatch(
        r"STATUS=microphone lost; retrying in \d+ s; broker connected; [12] turns? today",
        statuses[lost[0]],
    )
    assert any(s.startswith("STATUS=listening for hey jarvis;") for s in statuses[lost[-1] :])
    pings = [t for t, line in notify.lines if line == "WATCHDOG=1" and lost_at < t < back_at]
    assert len(pings) >= (back_at - lost_at) / 0.5 / 2  # every 0.5 s; at least half arrived


# -- the speaker and the disk, one daemon -----------------------------------------------------


@dataclass
class FaultyRun:
    """What a daemon with a failing speaker and a full data disk did, turn by turn."""

    daemon: HearthProcess
    recorder_messages: list[tuple[str, str, bool]]
    sd_log: list[dict[str, Any]]
    turn_ends: list[int]  # how many fake-sounddevice log entries there were at each turn's end
    data_dir: Path
    disk_full: bool
    why_not_full: str = ""
    exit_code: int = -1
    replies: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _mount_full_tmpfs(path: Path) -> str:
    """Mount a small tmpfs at ``path`` and fill it; '' on success, else why not."""
    if os.geteuid() != 0:
        return "filling a real disk needs a tmpfs mount, which needs root"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return f"cannot mount a tmpfs here: {done.stderr.strip()}"
    fd = os.open(path / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, bytes(65536))
    except OSError as err:
        assert err.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return ""


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[FaultyRun]:
    tmp_path = tmp_path_factory.mktemp("faulty")
    data_dir = tmp_path / "state"
    data_dir.mkdir()
    why_not = _mount_full_tmpfs(data_dir)
    sd_log = tmp_path / "sd.jsonl"
    env = _fake_env(
        tmp_path,
        {"log": str(sd_log), "output": [{"fail_after": 0}, {}]},  # the first stream fails
        STATE_DIRECTORY=str(data_dir),
    )
    journal = f'\n[journal]\npath = "{tmp_path / "journal.sqlite"}"\n'
    config = write_config(tmp_path, broker.port, node_id="faulty", extra=journal)
    recorder = Recorder(broker.port)
    daemon = HearthProcess("--config", str(config), "--input", "-", env=env)
    turn_ends: list[int] = []
    try:
        daemon.wait_for("ready in")
        daemon.feed(utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 1.5))
        daemon.wait_turns(1)
        turn_ends.append(len(fake_log(sd_log)))
        failing = daemon.wait_for("speaker failing:")[0]
        match = re.search(r"retrying in ([\d.]+) s", failing)
        assert match, failing
        time.sleep(float(match.group(1)) + 0.2)  # the speaker's next try is due
        daemon.feed(utterance(1.0, "Hey Jarvis.", 0.6, "Put eggs on my shopping list.", 1.5))
        daemon.wait_turns(2)
        turn_ends.append(len(fake_log(sd_log)))
        daemon.feed(utterance(1.0, "Hey Jarvis.", 0.6, "Turn off the coffee maker.", 1.5))
        daemon.wait_turns(3)
        turn_ends.append(len(fake_log(sd_log)))
        exit_code = daemon.finish()
        recorder.wait_for("home/coffee_maker/set")
        run = FaultyRun(
            daemon,
            list(recorder.messages),
            fake_log(sd_log),
            turn_ends,
            data_dir,
            disk_full=not why_not,
            why_not_full=why_not,
            exit_code=exit_code,
            replies=[json.loads(p)["text"] for p in recorder.on("hearth/faulty/event/reply")],
            errors=_errors(recorder, "faulty"),
        )
        yield run
    finally:
        daemon.kill()
        recorder.close()
        if not why_not:
            subprocess.run(["umount", str(data_dir)], check=False)


def _writes(run: FaultyRun, turn: int) -> list[dict[str, Any]]:
    start = run.turn_ends[turn - 1] if turn else 0
    return [e for e in run.sd_log[start : run.turn_ends[turn]] if e["event"] == "write"]


def _played_s(run: FaultyRun, turn: int) -> float:
    """Seconds of audio the fake speaker was given in a turn (0-based)."""
    rate = next(e["rate"] for e in run.sd_log if e["event"] == "open_output" and e["ok"])
    return sum(e["samples"] for e in _writes(run, turn)) / rate


def test_failing_speaker_still_acts_and_publishes_the_reply(faulty_run: FaultyRun) -> None:
    run = faulty_run
    assert run.exit_code == 0
    assert run.daemon.tracebacks() == []
    # turn 1: the speaker fails on its first write, the light still goes on, the reply is text
    devices = [(t, p) for t, p, _ in run.recorder_messages if t in DEVICE_TOPICS]
    assert devices == [
        ("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}'),
        ("home/coffee_maker/set", "0"),
    ]
    assert run.replies[0] == "Turned on the Kitchen Light."
    assert [e for e in run.sd_log[: run.turn_ends[0]] if e["event"] == "write_failed"]
    assert _writes(run, 0) == []
    assert [e["code"] for e in run.errors if e["code"].startswith("speaker")] == ["speaker_failed"]
    # the next turns: the speaker was opened again and the replies were played
    assert run.replies[2] == "Turned off the Coffee Maker."
    for turn in (1, 2):
        played_s = _played_s(run, turn)
        assert played_s > 0.5, f"turn {turn + 1} played only {played_s:.2f} s"
        assert {e["stream"] for e in _writes(run, turn)} == {1}
    assert len(run.daemon.wait_for("speaker back:")) == 1


def test_full_disk_for_the_lists_is_one_error_and_a_spoken_apology(
    faulty_run: FaultyRun,
) -> None:
    run = faulty_run
    if not run.disk_full:
        pytest.skip(run.why_not_full)
    lists_errors = [e for e in run.errors if e["code"] == "disk_full"]
    assert len(lists_errors) == 1, run.errors
    assert "lists.json" in lists_errors[0]["message"]
    assert run.replies[1] == "Sorry, I couldn't save your list."
    assert _played_s(run, 1) > 1.0  # the apology was spoken
    assert not (run.data_dir / "lists.json").exists()
    assert [p.name for p in run.data_dir.iterdir()] == ["filler"]  # no temporary file left
    # the voice loop kept going: the next command was heard and acted on
    assert run.replies[2] == "Turned off the Coffee Maker."
