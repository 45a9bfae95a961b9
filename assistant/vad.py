"""Endpointing: Silero VAD (the ONNX file faster-whisper ships) decides when a command ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np

from .config import VadConfig
from .errors import ModelError
from .events import EndReason
from .models import ModelFile

__all__ = ["Endpointer", "SileroVad", "VoiceDetector"]

_WINDOW: Final = 512  # samples per Silero window at 16 kHz (32 ms)
_CONTEXT: Final = 64  # samples of the previous window Silero v5/v6 expects in front
_FRAME_S: Final = 0.08


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
        probability = self.vad.speech_probability(frame)
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
