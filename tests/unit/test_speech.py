"""What is spoken is bounded: long replies are cut (and Hearth says so), pieces stay small, and a
cancel stops the speech at once, whatever the sink."""

from __future__ import annotations

import threading
import time

import numpy as np

from assistant import fakes
from assistant.events import EventBus
from assistant.turn.activity import Activity
from assistant.turn.record import TurnRecord
from assistant.turn.speech import CUT_NOTE, MAX_PIECE_CHARS, MAX_SPOKEN_CHARS, Voice, speakable


def test_short_replies_pass_unchanged() -> None:
    assert list(speakable(iter(["Turned on the Kitchen Light."]), [MAX_SPOKEN_CHARS])) == [
        "Turned on the Kitchen Light."
    ]


def test_a_long_reply_is_cut_at_a_word_and_says_so() -> None:
    state = '{"temperature": 21.5, "humidity": 40, "battery": 97, "linkquality": 120} ' * 70
    pieces = list(speakable(iter([state]), [MAX_SPOKEN_CHARS]))
    assert pieces[-1] == CUT_NOTE
    assert sum(len(p) for p in pieces[:-1]) <= MAX_SPOKEN_CHARS
    assert all(len(p) <= MAX_PIECE_CHARS for p in pieces)
    assert all(not p.endswith(" ") for p in pieces)


def test_a_word_longer_than_a_piece_is_split() -> None:
    pieces = list(speakable(iter(["x" * 500]), [MAX_SPOKEN_CHARS]))
    assert all(len(p) <= MAX_PIECE_CHARS for p in pieces) and pieces[-1] != CUT_NOTE


def test_the_budget_spans_the_sentences_of_a_streamed_answer() -> None:
    sentences = iter([f"This is sentence number {n} of a long answer." for n in range(100)])
    pieces = list(speakable(sentences, [MAX_SPOKEN_CHARS]))
    assert pieces[-1] == CUT_NOTE and len(pieces) < 20


class SlowSink:
    """A sink that takes real time to play, like a speaker."""

    def __init__(self) -> None:
        self.played_s = 0.0
        self._stop = threading.Event()

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        seconds = len(audio) / sample_rate_hz
        if not self._stop.wait(seconds):
            self.played_s += seconds

    def drain(self) -> None:
        return None

    def cancel(self) -> None:
        self._stop.set()

    def close(self) -> None:
        return None


def test_a_cancel_stops_a_long_reply_within_half_a_second() -> None:
    bus = EventBus()
    activity = Activity(bus.emit)
    sink = SlowSink()
    voice = Voice(bus, activity, fakes.SilentTts(), sink)
    record = TurnRecord()
    finished: list[float] = []

    def speak() -> None:
        voice.say(record, "This goes on and on. " * 200)
        finished.append(time.monotonic())

    speaker = threading.Thread(target=speak)
    speaker.start()
    time.sleep(1.0)
    cancelled_at = time.monotonic()
    activity.cancelled.set()
    voice.stop()
    speaker.join(5)
    assert finished and finished[0] - cancelled_at < 0.5
    assert record.outcome == "cancelled"
    assert sink.played_s < 2.0
