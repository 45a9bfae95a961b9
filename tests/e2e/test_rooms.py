"""Rooms of one house: real ``hearth run`` daemons (real wake word, endpointer, speech-to-text
and voice) on a real mosquitto, each the microphone of its own room, fed the same spoken command
at the same moment, louder in one room. Exactly one answers, the loudest, and "turn on the
lights" turns on the lights of the room that answered.

The long run (``-m rooms``) repeats it over many trials with several voices and levels and
prints how often the loudest room answered and how long the rooms waited for each other.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from broker import Broker, Recorder, free_port
from house import AREAS, House
from speech import utterance

COMMANDS = ("Turn on the lights.", "Switch on the lights.", "Turn the lights on.")


@dataclass
class Trial:
    loudest: str
    woke: list[str]  # rooms that took the turn
    yielded: list[str]
    lights: list[str]  # light command topics published
    wait_ms: list[float]  # arbitration wait of every room that heard it
    reasons: list[str]  # why each room that yielded did


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    instance = Broker(free_port(), tmp_path_factory.mktemp("house-broker"))
    instance.start()
    yield instance
    instance.stop()


def _trial(house: House, recorder: Recorder, audio: np.ndarray, gains: dict[str, float]) -> Trial:
    start = len(recorder.messages)
    house.say(audio, gains)
    deadline = time.monotonic() + len(audio) / 16000 + 25
    heard = [n for n, g in gains.items() if g > 0 and n in house.rooms]
    while time.monotonic() < deadline:
        new = recorder.messages[start:]
        decided = [t for t, _, _ in new if t.endswith(("/event/wake", "/event/wake_yielded"))]
        ended = [t for t, _, _ in new if t.endswith("/event/turn_end")]
        if len(decided) >= len(heard) and ended:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    new = recorder.messages[start:]
    woke = [t.split("/")[1] for t, _, _ in new if t.endswith("/event/wake")]
    yielded = [t.split("/")[1] for t, _, _ in new if t.endswith("/event/wake_yielded")]
    waits = [
        float(json.loads(p)["arbitration_ms"])
        for t, p, _ in new
        if t.endswith(("/event/wake", "/event/wake_yielded"))
    ]
    lights = [t for t, _, _ in new if t.startswith("home/") and t.endswith("_light/set")]
    reasons = [json.loads(p)["reason"] for t, p, _ in new if t.endswith("/event/wake_yielded")]
    return Trial(max(gains, key=lambda n: gains[n]), woke, yielded, lights, waits, reasons)


def test_one_room_alone_answers_with_no_wait(own_broker: Broker, tmp_path: Path) -> None:
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    try:
        house.add("kitchen")
        house.wait_ready("kitchen")
        recorder.wait_value("hearth/kitchen/availability", "online", 30)
        audio = utterance(0.5, "Hey Jarvis.", 0.6, "Turn on the lights.", 1.5)
        trial = _trial(house, recorder, audio, {"kitchen": 1.0})
        assert trial.woke == ["kitchen"] and trial.yielded == []
        assert trial.wait_ms == [0.0]
        assert trial.lights == ["home/kitchen_light/set"]
    finally:
        assert house.stop() == []
        recorder.close()


def test_of_three_rooms_the_loudest_answers_and_a_killed_room_holds_nobody(
    own_broker: Broker, tmp_path: Path
) -> None:
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    try:
        for node in AREAS:
            house.add(node)
        for node in AREAS:
            house.wait_ready(node)
            assert recorder.wait_value(f"hearth/{node}/availability", "online", 30)
        audio = utterance(0.5, "Hey Jarvis.", 0.6, "Turn on the lights.", 1.5)
        loudest_answered = 0
        for loudest in ("hall", "bedroom", "kitchen"):
            gains = {n: 1.0 if n == loudest else 0.4 for n in AREAS}  # 8 dB nearer
            trial = _trial(house, recorder, audio, gains)
            assert len(trial.woke) == 1, trial  # exactly one room answers, every time
            assert sorted(trial.woke + trial.yielded) == sorted(AREAS)
            assert trial.lights == [f"home/{trial.woke[0]}_light/set"]  # its own lights
            loudest_answered += trial.woke == [loudest]
            time.sleep(2.0)  # past the wake word's refractory time
        # the nearest room answers (97.5 % of the held-out trials of -m rooms); a machine busy
        # enough to delay one room's claim may cost one trial here, not two
        assert loudest_answered >= 2
        house.kill("hall")  # its last will says offline; the others go on without it
        assert recorder.wait_value("hearth/hall/availability", "offline", 10)
        trial = _trial(house, recorder, audio, {"kitchen": 0.5, "bedroom": 1.0})
        assert trial.woke == ["bedroom"] and trial.yielded == ["kitchen"]
        assert trial.lights == ["home/bedroom_light/set"]
    finally:
        assert house.stop() == []
        recorder.close()


VOICES = ("piper", "en-us", "en-gb", "en-us+f3")


def _spoken(voice: str, text: str) -> np.ndarray:
    """``text`` in one voice: the bundled Piper voice or an espeak-ng one."""
    if voice == "piper":
        return utterance(text)
    import subprocess

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "--stdout", text], capture_output=True, check=True
    ).stdout
    import io
    import wave

    import soxr

    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    audio = soxr.resample(samples.astype(np.float32) / 32768, rate, 16000)
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16)


@pytest.mark.rooms
def test_many_trials_the_loudest_room_answers(own_broker: Broker, tmp_path: Path) -> None:
    """Trials with voices, commands and level differences drawn at random (seeded); prints the
    figures for the README."""
    rng = random.Random(int(os.environ.get("HEARTH_ROOMS_SEED", "16")))
    trials = int(os.environ.get("HEARTH_ROOMS_TRIALS", "40"))
    recorder = Recorder(own_broker.port)
    house = House(tmp_path, own_broker.port)
    results: list[tuple[Trial, float, str]] = []
    try:
        for node in AREAS:
            house.add(node, noise_dbfs=rng.uniform(-60, -45))
        for node in AREAS:
            house.wait_ready(node)
            assert recorder.wait_value(f"hearth/{node}/availability", "online", 30)
        for _ in range(trials):
            voice, command = rng.choice(VOICES), rng.choice(COMMANDS)
            pause = np.zeros(int(16000 * 0.6), dtype=np.int16)
            quiet = np.zeros(8000, dtype=np.int16)
            audio = np.concatenate(
                [quiet, _spoken(voice, "Hey Jarvis."), pause, _spoken(voice, command), 3 * quiet]
            )
            loudest = rng.choice(list(AREAS))
            gap_db = rng.uniform(3.0, 12.0)
            gains = {
                n: 1.0 if n == loudest else 10 ** (-(gap_db + rng.uniform(0, 6)) / 20)
                for n in AREAS
            }
            scale = rng.uniform(0.3, 1.0)
            results.append(
                (
                    _trial(house, recorder, audio, {n: g * scale for n, g in gains.items()}),
                    gap_db,
                    voice,
                )
            )
            time.sleep(2.0)
    finally:
        bad = house.stop()
        recorder.close()
    heard = [t for t, _, _ in results if t.woke or t.yielded]
    one = [t for t in heard if len(t.woke) == 1]
    right = [t for t in one if t.woke == [t.loudest]]
    lit = [t for t in right if t.lights == [f"home/{t.loudest}_light/set"]]
    waits = sorted(w for t in heard for w in t.wait_ms)
    missed = [(t, g, v) for t, g, v in results if not (t.woke or t.yielded)]
    print(
        f"\ntrials {len(results)}; heard by the wake word {len(heard)}; exactly one answered "
        f"{len(one)}; the loudest answered {len(right)}"
        f" ({100 * len(right) / max(1, len(heard)):.1f} % of those heard), and its own light "
        f"came on in {len(lit)}; "
        f"arbitration wait median {statistics.median(waits):.0f} ms, "
        f"p90 {waits[int(0.9 * (len(waits) - 1))]:.0f} ms, max {waits[-1]:.0f} ms"
    )
    for trial, gap, voice in results:
        if trial not in right:
            print(f"  not right: {trial} gap {gap:.1f} dB voice {voice}")
    print(f"  not heard: {[(round(g, 1), v) for _, g, v in missed]}")
    assert bad == []
    assert all(len(t.woke) <= 1 for t, _, _ in results)
    assert len(right) >= 0.95 * len(heard)
