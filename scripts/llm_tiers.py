"""The language model tiers on this machine: time to read the tool prompt, a tool call for
commands the templates and the repair miss, and the first sentence of a free answer; idle or
under a CPU hog (two busy processes). Medians and 90th percentiles.

Run: .venv/bin/python scripts/llm_tiers.py [--hog] [--runs N] MODEL...
(MODEL: smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b or a .gguf path)"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from router_table import ENTITIES, matches

from assistant.assemble import assemble
from assistant.config import Config
from assistant.events import EventBus
from assistant.home.actions import MemoryPublisher

# (what is said, the intent and slots meant): phrasings no template or repair takes
TOOL_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "could you make the kitchen light a bit brighter",
        "HassLightSet",
        {"name": "light.kitchen_light"},
    ),
    ("it's too dark in the office", "HassTurnOn", {}),
    ("I'd like the coffee maker running", "HassTurnOn", {"name": "switch.coffee_maker"}),
    ("the ceiling fan is annoying me, make it stop", "HassTurnOff", {"name": "fan.ceiling_fan"}),
    ("get some air moving with the ceiling fan", "HassTurnOn", {"name": "fan.ceiling_fan"}),
    ("halfway on the blinds in the living room", "HassSetPosition", {"name": "cover.blinds"}),
]
QUESTIONS = [
    "Why is the sky blue?",
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What is seven times eight?",
    "Who wrote Romeo and Juliet?",
    "What is a noun?",
]


def hog() -> None:
    while True:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(model: str, runs: int, threads: int | None) -> dict[str, Any]:
    llm: dict[str, Any] = {"enabled": True, "model": model, "timeout_s": 60.0}
    if threads:
        llm["n_threads"] = threads
    config = Config.model_validate({"entities": ENTITIES, "llm": llm})
    started = time.perf_counter()
    hearth = assemble(
        config, bus=EventBus(), publisher=MemoryPublisher(), listen=False, speak=False
    )
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    hearth.prepare()
    prepare_s = time.perf_counter() - started
    router = hearth.router
    assert router.answerer is not None
    tool_ms, right, first_ms, answers, threads = [], 0, [], [], []
    for _ in range(runs):
        for text, intent, slots in TOOL_CALLS:
            record = hearth.answerer().new_turn()
            started = time.perf_counter()
            try:
                route = router.call_tool(record, text, [], lambda: None)
            except Exception as err:  # a timeout counts as a miss, and is reported
                route = None
                print(f"  {model}: {text!r}: {err}", file=sys.stderr)
            tool_ms.append(1000 * (time.perf_counter() - started))
            last = router.tool_caller.model.last if router.tool_caller else None
            threads.append(getattr(last, "threads", 0))
            right += int(matches(route, intent, slots))
        for question in QUESTIONS:
            started = time.perf_counter()
            first = None
            text = []
            for sentence in router.answerer.answer(question, [], "", 60, 60.0):
                if first is None:
                    first = 1000 * (time.perf_counter() - started)
                text.append(sentence)
            first_ms.append(first if first is not None else float("nan"))
            answers.append(" ".join(text))
    return {
        "model": model,
        "n_threads": config.llm.n_threads,
        "load_s": round(load_s, 2),
        "prepare_s": round(prepare_s, 2),
        "tool_call_ms": {
            "median": round(statistics.median(tool_ms)),
            "p90": round(pct(tool_ms, 0.9)),
            "n": len(tool_ms),
        },
        "tool_calls_right": f"{right}/{len(tool_ms)}",
        "threads_used": sorted(set(threads)),
        "first_sentence_ms": {
            "median": round(statistics.median(first_ms)),
            "p90": round(pct(first_ms, 0.9)),
            "n": len(first_ms),
        },
        "answers": dict(zip(QUESTIONS, answers[: len(QUESTIONS)], strict=False)),
    }


def main() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "0")
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--hog", action="store_true", help="two busy processes while measuring")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="llm.n_threads (default: Hearth's)")
    parser.add_argument(
        "--fixed",
        action="store_true",
        help="the model thread at the audio loop's priority (as before)",
    )
    args = parser.parse_args()
    if args.fixed:
        from assistant.understanding import language_model

        language_model.lower_this_thread = lambda: None  # type: ignore[assignment]
    hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(2 if args.hog else 0)]
    for process in hogs:
        process.start()
    try:
        for model in args.models:
            result = measure(model, args.runs, args.threads or None)
            conditions = {"hog": args.hog, "fixed": args.fixed, "load1": os.getloadavg()[0]}
            print(json.dumps({**conditions, **result}, indent=1))
    finally:
        for process in hogs:
            process.terminate()


if __name__ == "__main__":
    main()
