"""A long reply through the real voice: what is spoken is bounded, memory stays flat, and a
cancel is heard at once. Piper synthesises; the sink counts the audio instead of keeping it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from assistant.config import TtsConfig
from assistant.events import EventBus
from assistant.models import resolve_tts
from assistant.turn.activity import Activity
from assistant.turn.record import TurnRecord
from assistant.turn.speech import Voice
from assistant.voice.tts import PiperTextToSpeech

STATE = json.dumps(
    {f"sensor_{n}": {"temperature": 21.5, "humidity": 40, "battery": 97} for n in range(90)}
)  # a device state read aloud: about 5 KB with no sentence ends


class CountingSink:
    def __init__(self, pace: bool = False) -> None:
        self.samples = 0
        self.rate = 1
        self._pace = pace
        self._stop = threading.Event()

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        self.rate = sample_rate_hz
        if self._pace and self._stop.wait(len(audio) / sample_rate_hz):
            return
        self.samples += len(audio)

    def drain(self) -> None:
        return None

    def cancel(self) -> None:
        self._stop.set()

    def close(self) -> None:
        return None


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_five_kilobyte_reply_is_cut_and_memory_stays_flat() -> None:
    tts = PiperTextToSpeech(resolve_tts("en_US-joe-medium"), TtsConfig(cache_replies=0))
    tts.load()
    bus = EventBus()
    sink = CountingSink()
    voice = Voice(bus, Activity(bus.emit), tts, sink)
    voice.say(TurnRecord(), "Fine.")  # warm
    before = _rss_mb()
    record = TurnRecord()
    voice.say(record, STATE)
    grown = _rss_mb() - before
    spoken_s = sink.samples / sink.rate
    assert spoken_s < 90, spoken_s  # 600 characters at most, not five thousand
    assert grown < 300, grown  # the whole text at once took gigabytes


def test_a_cancel_silences_a_long_reply_at_once() -> None:
    tts = PiperTextToSpeech(resolve_tts("en_US-joe-medium"), TtsConfig())
    tts.load()
    bus = EventBus()
    activity = Activity(bus.emit)
    sink = CountingSink(pace=True)
    voice = Voice(bus, activity, tts, sink)
    record = TurnRecord()
    ended: list[float] = []

    def speak() -> None:
        voice.say(record, "The weather today is mild, with a light breeze from the west. " * 20)
        ended.append(time.monotonic())

    speaker = threading.Thread(target=speak)
    speaker.start()
    deadline = time.monotonic() + 60
    while sink.samples == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.samples, "nothing was spoken"
    heard_at_cancel = sink.samples
    cancelled_at = time.monotonic()
    activity.cancelled.set()
    voice.stop()
    speaker.join(30)
    assert record.outcome == "cancelled"
    assert (sink.samples - heard_at_cancel) / sink.rate <= 0.5  # nothing more was heard
    # the sink went quiet at once; the turn ended when the piece being synthesised was done
    assert ended and ended[0] - cancelled_at < 10
