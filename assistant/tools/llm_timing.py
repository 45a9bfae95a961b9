"""What the language model costs on this machine: a tool call and a free answer, timed after
the tool prompt was read once, as ``hearth run`` does at start (``hearth bench`` and
``hearth bench --recommend``)."""

from __future__ import annotations

import time
from typing import Any

from ..assemble import Hearth

__all__ = ["time_language_model"]


def time_language_model(hearth: Hearth, prepare_ms: float | None = None) -> dict[str, Any] | None:
    """Layer 2 (a tool call the templates miss) and layer 3 (a free answer), in milliseconds;
    ``None`` without a language model."""
    router = hearth.router
    if not router.thinks or router.answerer is None:
        return None
    if prepare_ms is None:
        started = time.perf_counter()
        hearth.prepare()
        prepare_ms = 1000 * (time.perf_counter() - started)
    record = hearth.answerer().new_turn()
    started = time.perf_counter()
    router.call_tool(record, "could you make the kitchen light a bit brighter", [], lambda: None)
    tool_ms = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    first_ms = 0.0
    sentences = router.answerer.answer("Why is the sky blue?", [], "", 60, 30.0)
    for index, _sentence in enumerate(sentences):
        if index == 0:
            first_ms = 1000 * (time.perf_counter() - started)
    return {
        "model": hearth.config.llm.model,
        "prepare_ms": round(prepare_ms),
        "tool_call_ms": round(tool_ms),
        "answer_first_sentence_ms": round(first_ms),
        "answer_total_ms": round(1000 * (time.perf_counter() - started)),
    }
