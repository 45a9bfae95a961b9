"""Wake-word detection with openWakeWord, on 80 ms frames of 16 kHz mono int16 audio."""

from __future__ import annotations

import logging
import subprocess
import sys
import types
from typing import Any, Final, Protocol

import numpy as np

from ..errors import ModelError
from ..models import ModelFile

__all__ = ["OpenWakeWordDetector", "WakeDetector", "WakeGate"]

_LOGGER = logging.getLogger(__name__)


class WakeDetector(Protocol):
    """Scores each frame for the wake word (0..1)."""

    name: str

    def load(self) -> None: ...

    def score(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None: ...


def _provide_tflite_runtime() -> None:
    """openWakeWord imports ``tflite_runtime.interpreter``; it has wheels only up to Python 3.11.

    On later Pythons the same interpreter ships as Google's LiteRT (``ai_edge_litert``); expose it
    under the name openWakeWord imports.
    """
    try:
        import tflite_runtime.interpreter  # noqa: F401

        return
    except ImportError:
        pass
    try:
        from ai_edge_litert import interpreter as litert
    except ImportError:
        raise ModelError(
            "tflite_missing",
            "no TensorFlow Lite runtime: install tflite-runtime (Python 3.11) or "
            "ai-edge-litert (Python 3.12+); `make install` does this",
        ) from None
    package = types.ModuleType("tflite_runtime")
    package.interpreter = litert  # type: ignore[attr-defined]
    sys.modules.setdefault("tflite_runtime", package)
    sys.modules.setdefault("tflite_runtime.interpreter", litert)


_PROBE: Final = """
import sys
import numpy as np
from assistant.voice.wake import _provide_tflite_runtime
_provide_tflite_runtime()
import openwakeword
wake, melspec, embedding = sys.argv[1:4]
model = openwakeword.Model(wakeword_models=[wake], melspec_model_path=melspec,
                           embedding_model_path=embedding, inference_framework="tflite")
model.predict(np.zeros(1280, dtype=np.int16))
"""


def _probe_tflite(model: ModelFile) -> None:
    """TensorFlow Lite does not check a model file: a damaged one crashes the whole process
    (SIGSEGV) instead of raising. A model from the user's own file is therefore first loaded and
    run once in a child process (about 1 s, beside the other models loading)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *map(str, model.paths)],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ModelError(
            "model_load", f"{model.paths[0]}: cannot test the wake-word model ({model.key}): {err}"
        ) from None
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise ModelError(
            "model_load",
            f"{model.paths[0]}: the wake-word model is damaged or not a TensorFlow Lite model "
            f"({model.key}; loading it ended with {how}); copy it again or use a bundled name",
        )


class OpenWakeWordDetector:
    """One openWakeWord model (``.tflite``, or ``.onnx`` with ONNX feature models)."""

    def __init__(self, model: ModelFile) -> None:
        self._files = model
        self.name = model.name if "/" not in model.name else model.paths[0].stem
        self._model: Any = None

    def load(self) -> None:
        wake_path, melspec, embedding = self._files.paths
        framework = "onnx" if wake_path.suffix == ".onnx" else "tflite"
        if framework == "tflite":
            _provide_tflite_runtime()
            if self._files.source == "file":
                _probe_tflite(self._files)
        import openwakeword

        try:
            self._model = openwakeword.Model(
                wakeword_models=[str(wake_path)],
                melspec_model_path=str(melspec),
                embedding_model_path=str(embedding),
                inference_framework=framework,
            )
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(
                "model_load",
                f"{wake_path}: cannot load the wake-word model ({self._files.key}): "
                f"{str(err).splitlines()[0] if str(err) else type(err).__name__}",
            ) from None

    def score(self, frame: np.ndarray) -> float:
        predictions = self._model.predict(frame)
        return float(max(predictions.values()))

    def reset(self) -> None:
        self._model.reset()


class WakeGate:
    """Threshold and refractory period: one utterance of the wake word wakes once.

    Times are positions in the audio stream (seconds), so file input behaves like live audio.
    """

    def __init__(self, threshold: float, refractory_s: float) -> None:
        self.threshold = threshold
        self.refractory_s = refractory_s
        self._last_fired_s: float | None = None

    def fire(self, score: float, audio_s: float) -> bool:
        if score < self.threshold:
            return False
        if self._last_fired_s is not None and audio_s - self._last_fired_s < self.refractory_s:
            return False
        self._last_fired_s = audio_s
        return True
