"""`hearth bench --recommend` and time to READY: the sizing logic, the broker attempt, and (in the
soak run) the whole bench with every local model."""

from __future__ import annotations

import json

import pytest
from broker import Broker, free_port
from hearth_cli import run_hearth

from assistant.config import parse_config
from assistant.tools.bench import _broker_attempt, _process_age_s
from assistant.tools.recommend import (
    LANGUAGE_MODELS,
    TARGET_ANSWER_MS,
    TARGET_COMMAND_MS,
    VOICES,
    WHISPER,
    _ladder,
)


def test_sizes_missing_here_are_estimates_scaled_from_the_largest_measured() -> None:
    measured = {"tiny.en": {"stt_ms": 200.0}, "base": {"stt_ms": 420.0}}
    rows = {r["name"]: r for r in _ladder(WHISPER, measured, "parameters")}
    assert rows["tiny.en"]["measured"] and rows["base"]["measured"]
    assert rows["tiny.en"]["stt_ms"] == 200.0 and rows["base"]["stt_ms"] == 420.0
    for name in ("small", "medium", "large-v3"):
        assert rows[name]["measured"] is False
        assert rows[name]["estimate_basis"].startswith("base measured")
    estimated = [rows[n]["stt_ms"] for n in ("base", "small", "medium", "large-v3")]
    assert estimated == sorted(estimated) and estimated[1] > 420.0


def test_voice_estimates_count_the_sample_rate() -> None:
    rows = {
        r["name"]: r
        for r in _ladder(
            VOICES, {"medium": {"tts_first_audio_ms": 100.0}}, "parameters x sample rate"
        )
    }
    # low and medium have the same parameter count; low speaks at 16 kHz, medium at 22.05 kHz
    assert rows["low"]["tts_first_audio_ms"] < rows["medium"]["tts_first_audio_ms"]
    assert rows["high"]["tts_first_audio_ms"] > rows["medium"]["tts_first_audio_ms"]
    assert not rows["x_low"]["measured"] and rows["medium"]["measured"]


def test_a_configured_model_of_unknown_size_is_measured_but_not_on_the_ladder() -> None:
    measured = {"smollm2-135m": {"tool_call_ms": 900.0}, "/m/x.gguf": {"tool_call_ms": 5.0}}
    rows = _ladder(LANGUAGE_MODELS, measured, "parameters")
    custom = [r for r in rows if r["name"] == "/m/x.gguf"]
    assert custom and custom[0]["measured"] and "params_m" not in custom[0]
    gemma = next(r for r in rows if r["name"] == "gemma3-270m")
    assert gemma["estimate_basis"].startswith("smollm2-135m measured")


def test_the_process_age_is_known_here() -> None:
    age = _process_age_s()
    assert age is not None and age > 0


def test_the_first_broker_attempt_is_timed(broker: Broker) -> None:
    found = _broker_attempt(parse_config({"mqtt": {"port": broker.port}}))
    assert found["reachable"] is True and found["attempt_ms"] >= 0
    closed = _broker_attempt(parse_config({"mqtt": {"port": free_port()}}))
    assert closed["reachable"] is False and closed["attempt_ms"] is not None
    refused = _broker_attempt(
        parse_config({"mqtt": {"port": broker.port}, "privacy": {"allowed_hosts": ["10.0.0.0/8"]}})
    )
    assert refused["attempt_ms"] is None and refused["note"] == "not allowed"


@pytest.mark.soak
def test_bench_recommend_measures_what_is_here_and_labels_the_rest() -> None:
    result = run_hearth("bench", "--json", "--runs", "1", "--recommend", timeout_s=1200)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    ready = report["ready"]
    assert ready["time_to_ready_s"] >= ready["load_s"] > 0
    advice = report["recommend"]
    assert advice["targets_ms"] == {"command": TARGET_COMMAND_MS, "answer": TARGET_ANSWER_MS}
    stt = {r["name"]: r for r in advice["stt"]}
    assert stt["tiny.en"]["measured"] and not stt["large-v3"]["measured"]
    for kind in ("stt", "voice", "llm"):
        assert all("estimate_basis" in r for r in advice[kind] if not r["measured"])
        choice = advice["choice"][kind]
        assert choice["name"] in {r["name"] for r in advice[kind]}
