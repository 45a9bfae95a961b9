"""Endpointing: Silero VAD (the ONNX file faster-whisper ships) decides when a command ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

import numpy as np

from ..config import VadConfig
from ..errors import ModelError
from ..events import EndReason
from ..models import ModelFile

__all__ = ["Capture", "Endpointer", "SileroVad", "VoiceDetector", "capture_command"]

_WINDOW: Final = 512  # samples per Silero window at 16 kHz (32 ms)
_CONTEXT: Final = 64  # samples of the previous window Silero v5/v6 expects in front
_FRAME_S: Final = 0.08
_TAIL_FRAMES: Final = 4  # speech this long after the wake-up may still be the wake phrase

T = TypeVar("T")


class VoiceDetector(Protocol):
    """Speech probability (0..1) for each 80 ms frame, with state across frames."""

    def load(self) -> None: ...

    def reset(self) -> None: ...

    def speech_probability(self, frame: np.ndarray) -> float: ...


class SileroVad:
    """Streaming Silero VAD v6 on onnxruntime, one thread."""

    def __init__(self, model: ModelFile) -> None:
        self._path = model.paths[0]
        self._session: Any = None
        self.reset()

    def load(self) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        try:
            self._session = onnxruntime.InferenceSession(
                str(self._path), providers=["CPUExecutionProvider"], sess_options=opts
            )
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError(
                "model_load", f"{self._path}: cannot load the VAD model: {str(err)[:200]}"
            ) from None

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def speech_probability(self, frame: np.ndarray) -> float:
        """The highest window probability in this frame (0 when no window completed)."""
        self._pending = np.concatenate([self._pending, frame.astype(np.float32) / 32768.0])
        best = 0.0
        while len(self._pending) >= _WINDOW:
            window = self._pending[:_WINDOW]
            self._pending = self._pending[_WINDOW:]
            batch = np.concatenate([self._context, window])[np.newaxis, :]
            out, self._h, self._c = self._session.run(
                None, {"input": batch, "h": self._h, "c": self._c}
            )
            self._context = window[-_CONTEXT:]
            best = max(best, float(np.asarray(out).reshape(-1)[0]))
        return best


@dataclass(slots=True)
class Endpointer:
    """Decides, frame by frame, when a command has ended.

    Speech starts when the probability reaches ``threshold`` and continues while it stays above
    ``threshold - 0.15``. The command ends after ``silence_s`` of silence following speech, after
    ``no_speech_s`` without any speech, or at ``max_command_s``.
    """

    vad: VoiceDetector
    config: VadConfig
    elapsed_s: float = 0.0
    speech_seen: bool = False
    in_speech: bool = False
    trailing_silence_s: float = 0.0
    probability: float = 0.0  # the speech probability of the last frame fed

    def start(self) -> None:
        self.vad.reset()
        self.elapsed_s = 0.0
        self.speech_seen = False
        self.in_speech = False
        self.trailing_silence_s = 0.0

    def forget_speech(self) -> None:
        """Treat what was heard so far as not part of the command (the VAD keeps its state)."""
        self.speech_seen = False
        self.in_speech = False
        self.trailing_silence_s = 0.0

    def feed(self, frame: np.ndarray) -> EndReason | None:
        """Feed one frame; returns why the command ended, or ``None`` to keep listening."""
        probability = self.probability = self.vad.speech_probability(frame)
        self.elapsed_s += _FRAME_S
        limit = self.config.threshold - 0.15 if self.in_speech else self.config.threshold
        if probability >= limit:
            self.speech_seen = self.in_speech = True
            self.trailing_silence_s = 0.0
        else:
            self.in_speech = False
            if self.speech_seen:
                self.trailing_silence_s += _FRAME_S
        if self.speech_seen and self.trailing_silence_s >= self.config.silence_s - 1e-9:
            return EndReason.SILENCE
        if not self.speech_seen and self.elapsed_s >= self.config.no_speech_s - 1e-9:
            return EndReason.NO_SPEECH
        if self.elapsed_s >= self.config.max_command_s - 1e-9:
            return EndReason.MAX_LENGTH
        return None


@dataclass(frozen=True, slots=True)
class Capture(Generic[T]):
    """A command's frames, why it ended, what the speculative transcription found, and the
    audio consumed. ``guess`` is the attempt that ended the command early (``EARLY_MATCH``), or,
    when the command ended otherwise, the last attempt made on exactly these words (no speech
    came after it), whose transcript still holds; ``None`` when there is none."""

    frames: list[np.ndarray]
    reason: EndReason
    guess: Future[T] | None
    consumed_s: float

    @property
    def early(self) -> T | None:
        """The result that ended the command early, if it did."""
        return self.guess.result() if self.reason is EndReason.EARLY_MATCH and self.guess else None


def capture_command(
    endpointer: Endpointer,
    frames: Iterator[np.ndarray],
    pre_roll: list[np.ndarray],
    *,
    early_match_s: float,
    speculate: Callable[[list[np.ndarray]], Future[T]],
    complete: Callable[[T], bool],
    cancelled: threading.Event,
    wait: bool = False,
) -> Capture[T]:
    """Read frames until the endpointer closes the command.

    The command keeps the pre-roll when speech runs straight on from the wake word (one
    breath). If the first silence comes within ``_TAIL_FRAMES`` of the wake-up, what came
    before it is the end of the wake phrase: the command starts at that silence instead.

    After ``early_match_s`` of trailing silence, ``speculate`` starts transcribing the audio so
    far (once per pause) on a worker, while frames go on being read. If speech comes back first,
    that attempt is dropped; if it finishes first and ``complete`` says its result is a whole
    command, the command ends there (``EARLY_MATCH``) instead of after ``silence_s``. With
    ``wait`` (audio that is not real time, a file), each attempt is waited for before the next
    frame, so a file gives the same turns however fast it is read.
    """
    endpointer.start()
    for frame in pre_roll:
        endpointer.vad.speech_probability(frame)  # prime the VAD's state, not the decision
    command = list(pre_roll)
    consumed_s = 0.0
    tried_early = settled = False
    tail_frames = 0
    guess: Future[T] | None = None
    for frame in frames:
        if not len(frame):  # the microphone went away: what was heard so far is the command
            return Capture(command, EndReason.END_OF_INPUT, guess, consumed_s)
        consumed_s += _FRAME_S
        command.append(frame)
        reason = endpointer.feed(frame)
        if cancelled.is_set():
            return Capture(command, EndReason.CANCELLED, None, consumed_s)
        if not settled:
            if not endpointer.in_speech:
                del command[:-1]
                endpointer.forget_speech()
                settled = True
            else:
                tail_frames += 1
                settled = tail_frames > _TAIL_FRAMES
        if endpointer.in_speech:
            tried_early = False
            guess = None  # more was said: that attempt heard only part of the command
        if (
            reason is None
            and early_match_s > 0
            and not tried_early
            and endpointer.speech_seen
            and endpointer.trailing_silence_s >= early_match_s - 1e-9
        ):
            tried_early = True
            guess = speculate(list(command))
            if wait:
                guess.exception()  # block until it is done
        if reason is None and guess is not None and guess.done() and _completes(guess, complete):
            return Capture(command, EndReason.EARLY_MATCH, guess, consumed_s)
        if reason is not None:
            return Capture(command, reason, guess, consumed_s)
    return Capture(command, EndReason.END_OF_INPUT, guess, consumed_s)


def _completes(guess: Future[T], complete: Callable[[T], bool]) -> bool:
    return guess.exception() is None and complete(guess.result())
