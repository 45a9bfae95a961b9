"""The How-it-works page's tokens per second with the real bundled SmolLM2-135M: while the daemon
runs, the dashboard takes llama.cpp's own token counts after each consultation of the model;
the journal alone (``hearth dashboard``) can only estimate them from the characters written."""

from __future__ import annotations

from pathlib import Path

from assistant import fakes
from assistant.assemble import Given, assemble
from assistant.config import Config
from assistant.dashboard.hearth_backend import HearthBackend
from assistant.dashboard.journal_backend import JournalBackend
from assistant.events import EventBus, ModelConsulted
from assistant.home.actions import MemoryPublisher
from assistant.journal.recording import start_journal
from assistant.understanding.language_model import GenerationStats, LlamaCppModel


def test_tokens_per_second_are_llama_cpps_own_count(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "assistant": {"data_dir": str(tmp_path)},
            "llm": {"thinking_cue_s": 0, "timeout_s": 300},  # a loaded machine is slow
            "entities": [
                {
                    "domain": "light",
                    "name": "Kitchen Light",
                    "unique_id": "kitchen_light",
                    "command_topic": "k/set",
                }
            ],
        }
    )
    bus = EventBus()
    consulted: list[ModelConsulted] = []
    bus.subscribe(lambda e: consulted.append(e) if isinstance(e, ModelConsulted) else None)
    given = Given(
        wake=fakes.MarkedWake(), vad=fakes.LevelVad(), stt=fakes.ScriptedStt([]), tts=None
    )
    hearth = assemble(
        config, bus=bus, publisher=MemoryPublisher(), listen=True, speak=False, given=given
    )
    assert isinstance(hearth.model, LlamaCppModel)
    loop = hearth.hearing_loop(None)
    recording = start_journal(config, bus, None, loop)
    backend = HearthBackend(lambda: hearth, loop)
    hearth.prepare()  # the tool prompt into the model's cache, as hearth run does
    try:
        loop.answerer.run_text("could you make the kitchen a little brighter for me")
        assert consulted, "the templates answered; the model was not asked"
        last = hearth.model.last
        assert isinstance(last, GenerationStats) and last.tokens > 1
        assert recording is not None
        recording.close()
        stats = backend.stats()
        calls = len(consulted)  # layer 2, and layer 3 when no tool fitted
        rates = backend.token_rates().per_s
        assert len(rates) == calls and rates[-1] == last.tokens_per_s > 0
        assert stats["llm_tokens_method"].startswith(f"counted by llama.cpp over its last {calls}")
        assert stats["llm_tokens_per_s"] > 0
        estimated = JournalBackend(lambda: config).stats()
        assert estimated["llm_tokens_method"].startswith("estimated from the characters")
        assert estimated["llm_ms"] == stats["llm_ms"] > 0
    finally:
        backend.close()
