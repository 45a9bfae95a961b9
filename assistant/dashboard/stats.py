"""This home's own numbers for the How-it-works page: medians over the journal's recent turns,
and the language model's speed as llama.cpp counted it (while the daemon runs)."""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..config import Config

__all__ = ["TokenRates", "loads_json", "turn_stats"]

_FRAME_MS: Final = 80.0
_CHARS_PER_TOKEN: Final = 4.0


@dataclass(frozen=True, slots=True)
class TokenRates:
    """Generation speeds of the language model's recent calls, tokens per second, as llama.cpp
    counted the tokens (empty: none measured since the daemon started, or no daemon)."""

    per_s: tuple[float, ...] = ()


def loads_json(text: str | None, empty: Any) -> Any:
    """A JSON column, or ``empty`` when it is missing or unreadable."""
    if not text:
        return empty
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return empty


def _median(values: Iterable[Any]) -> float | None:
    kept = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return statistics.median(kept) if kept else None


def _energy_words(methods: set[str], config: Config) -> str:
    energy = config.energy
    if methods == {"rapl"}:
        return "measured with Intel RAPL"
    if methods <= {"estimate"}:
        return (
            f"estimated from CPU time at {energy.watts_busy:g} W busy / "
            f"{energy.watts_idle:g} W idle"
        )
    return "partly measured (RAPL), partly estimated"


def _token_speed(rows: Sequence[sqlite3.Row], rates: TokenRates) -> tuple[float | None, str]:
    """Tokens per second: llama.cpp's counts when the daemon has them, else an estimate from
    the characters the model wrote."""
    if rates.per_s:
        return (
            statistics.median(rates.per_s),
            f"counted by llama.cpp over its last {len(rates.per_s)} calls since Hearth started",
        )
    estimates: list[float] = []
    for r in rows:
        for c in loads_json(r["llm"], []):
            ms = c.get("llm_ms")
            if isinstance(ms, int | float) and ms > 0:
                chars = sum(len(o) for o in c.get("outputs") or [] if isinstance(o, str))
                estimates.append(chars / _CHARS_PER_TOKEN / (ms / 1000))
    return _median(estimates), (
        "estimated from the characters it wrote, about 4 per token, over the prompt and the "
        "answer together: the journal keeps no token counts, the running daemon reports them"
    )


def turn_stats(rows: Sequence[sqlite3.Row], config: Config, rates: TokenRates) -> dict[str, Any]:
    """The How-it-works numbers: medians over ``rows`` (journal rows, newest first)."""
    timings = [loads_json(r["timings_ms"], {}) for r in rows]
    cpu = [loads_json(r["cpu_s"], {}) for r in rows]
    rtf = [
        t["stt"] / 1000 / r["speech_s"]
        for r, t in zip(rows, timings, strict=True)
        if r["speech_s"] and t.get("stt")
    ]
    llm_ms = [
        c["llm_ms"]
        for r in rows
        for c in loads_json(r["llm"], [])
        if isinstance(c.get("llm_ms"), int | float) and c["llm_ms"] > 0
    ]
    tokens_per_s, tokens_method = _token_speed(rows, rates)
    decided = [r for r in rows if r["layer"]]
    wake_ms = _median(t.get("wake") for t in timings)
    turn_wh = _median(r["energy_wh"] for r in rows)
    energy = config.energy
    turn_cost = None if turn_wh is None else turn_wh / 1000 * energy.price_per_kwh
    cloud = _median(r["cloud_cost"] for r in rows)
    return {
        "turns": len(rows),
        "wake_ms_per_frame": wake_ms,
        "wake_core_pct": None if wake_ms is None else wake_ms / _FRAME_MS * 100,
        "speech_s": _median(r["speech_s"] for r in rows if r["speech_s"]),
        "endpoint_ms": _median(t.get("endpoint") for t in timings),
        "stt_ms": _median(t.get("stt") for t in timings if t.get("stt")),
        "stt_rtf": _median(rtf),
        "stt_cpu_s": _median(c.get("stt") for c in cpu),
        "router_ms": _median(
            t.get("router") for r, t in zip(rows, timings, strict=True) if r["layer"] == "template"
        ),
        "template_share_pct": 100 * sum(r["layer"] == "template" for r in decided) / len(decided)
        if decided
        else None,
        "llm_ms": _median(llm_ms),
        "llm_tokens_per_s": tokens_per_s,
        "llm_tokens_method": tokens_method,
        "action_ms": _median(t.get("action") for t in timings),
        "to_publish_ms": _median(t.get("to_publish") for t in timings),
        "tts_first_audio_ms": _median(t.get("tts_first_audio") for t in timings),
        "to_first_audio_ms": _median(t.get("to_first_audio") for t in timings),
        "turn_cpu_s": _median(r["cpu_total_s"] for r in rows),
        "turn_mwh": None if turn_wh is None else turn_wh * 1000,
        "turn_cost": turn_cost,
        "cloud_cost": cloud,
        "cloud_ratio": cloud / turn_cost if cloud is not None and turn_cost else None,
        "price_per_kwh": energy.price_per_kwh,
        "currency": energy.currency,
        "energy_method": _energy_words({r["energy_method"] for r in rows}, config),
        "models": {
            "wake": config.wake.model,
            "stt": config.stt.model,
            "llm": config.llm.model if config.llm.enabled else "off",
            "tts": config.tts.voice,
        },
    }
