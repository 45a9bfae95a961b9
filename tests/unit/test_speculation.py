"""Speculative transcription during the trailing silence (capture_command): the frames keep
flowing while a worker transcribes; speech that comes back drops the attempt; a finished,
complete attempt ends the command; an incomplete one is kept for its transcript."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np

from assistant.config import VadConfig
from assistant.events import EndReason
from assistant.voice.endpoint import Endpointer, capture_command

SPEECH = np.full(1280, 1000, dtype=np.int16)
QUIET = np.zeros(1280, dtype=np.int16)


class _MarkVad:
    """Speech wherever the frame is not silent."""

    def load(self) -> None: ...

    def reset(self) -> None: ...

    def speech_probability(self, frame: np.ndarray) -> float:
        return 1.0 if np.any(frame) else 0.0


class _Worker:
    """Attempts that finish only when the test says so, after a given frame."""

    def __init__(self, result: str, finish_after: int) -> None:
        self.result = result
        self.finish_after = finish_after
        self.attempts: list[tuple[int, Future[str]]] = []  # (frames read when it began, attempt)
        self.read = 0

    def speculate(self, command: list[np.ndarray]) -> Future[str]:
        attempt: Future[str] = Future()
        self.attempts.append((self.read, attempt))
        return attempt

    def frames(self, pattern: list[np.ndarray]) -> Iterator[np.ndarray]:
        for frame in pattern:
            for began, attempt in self.attempts:
                if not attempt.done() and self.read >= began + self.finish_after:
                    attempt.set_result(self.result)
            self.read += 1
            yield frame


def _capture(worker: _Worker, pattern: list[np.ndarray], early_s: float = 0.16):
    config = VadConfig(silence_s=0.7, early_match_s=early_s)  # type: ignore[call-arg]
    return capture_command(
        Endpointer(_MarkVad(), config),
        worker.frames(pattern),
        [],
        early_match_s=early_s,
        speculate=worker.speculate,
        complete=lambda text: text.endswith("light"),
        cancelled=threading.Event(),
    )


def test_a_complete_attempt_that_finishes_in_the_pause_ends_the_command() -> None:
    worker = _Worker("turn on the light", finish_after=2)
    capture = _capture(worker, [QUIET] + [SPEECH] * 10 + [QUIET] * 12)
    assert capture.reason is EndReason.EARLY_MATCH
    assert capture.early == "turn on the light"
    assert len(worker.attempts) == 1
    # the loop kept reading while the worker ran: two frames past the attempt's start
    assert worker.read == worker.attempts[0][0] + 3


def test_speech_that_comes_back_drops_the_attempt_and_the_command_goes_on() -> None:
    worker = _Worker("turn on the light", finish_after=4)
    pause = [QUIET] * 3  # the attempt starts after 2 quiet frames, speech resumes before it ends
    capture = _capture(worker, [QUIET] + [SPEECH] * 8 + pause + [SPEECH] * 6 + [QUIET] * 12)
    assert len(worker.attempts) == 2
    assert capture.reason is EndReason.EARLY_MATCH
    assert capture.guess is worker.attempts[1][1]  # the attempt on the whole command


def test_an_incomplete_attempt_is_kept_for_its_transcript_when_silence_ends_the_command() -> None:
    worker = _Worker("what time is it", finish_after=1)
    capture = _capture(worker, [QUIET] + [SPEECH] * 8 + [QUIET] * 12)
    assert capture.reason is EndReason.SILENCE
    assert capture.early is None
    assert capture.guess is not None and capture.guess.result() == "what time is it"


def test_no_attempt_when_early_ends_are_off() -> None:
    worker = _Worker("turn on the light", finish_after=0)
    capture = _capture(worker, [QUIET] + [SPEECH] * 8 + [QUIET] * 12, early_s=0.0)
    assert capture.reason is EndReason.SILENCE and capture.guess is None
    assert worker.attempts == []
