"""One journal row told in plain words: ``hearth history`` and ``hearth explain``.

Everything printed comes from the row and the events stored with it; nothing is recomputed
from the current configuration except the description of the energy estimate.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from typing import Any, Final

from ..config import Config
from .store import journal_path

__all__ = ["explain", "history_line", "when"]

_END_REASONS: Final = {
    "silence": "after {silence} of silence",
    "early_match": "early, because a complete sentence matched during the trailing silence",
    "max_length": "because it reached the longest command allowed",
    "no_speech": "because nothing was said",
    "end_of_input": "because the audio input ended",
    "cancelled": "because it was cancelled",
}


def when(ts: float, *, date: bool = False) -> str:
    """Local time with tenths of a second: ``12:01:03.2`` (``2025-03-01 12:01:03.2``)."""
    local = time.localtime(ts)
    text = time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", local)
    return f"{text}.{int(ts * 10) % 10}"


def _ms(value: Any) -> str:
    return f"{float(value):.1f} ms"


def _quoted(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return json.dumps(text if len(text) <= limit else text[: limit - 1] + "…", ensure_ascii=False)


def history_line(row: sqlite3.Row) -> str:
    """One line per turn: number, time, what was heard, what happened."""
    said = row["transcript"] or ("(" + row["trigger"] + ")")
    did = row["intent"] or row["layer"] or "-"
    total = json.loads(row["timings_ms"]).get("to_first_audio")
    latency = f" {float(total) / 1000:.2f}s" if total is not None else ""
    return (
        f"{row['id']:>5}  {when(row['ended'], date=True)}  {row['outcome']:<13} "
        f"{did:<18} {_quoted(said, 60)} -> {_quoted(row['reply'], 60)}{latency}"
    )


def _slots(slots: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in slots.items()) or "no slots"


def _step(event: Mapping[str, Any], timings: Mapping[str, float]) -> str | None:
    kind = event["type"]
    if kind == "wake":
        return (
            f"the wake word model {event['model']} scored {event['score']:.2f} "
            f"(it takes {_ms(event['wake_ms'])} per 80 ms frame)"
        )
    if kind == "listen":
        return f"a turn started without the wake word ({event['trigger']})"
    if kind == "speech_end":
        reason = _END_REASONS.get(event["reason"], event["reason"]).format(
            silence=f"{event['endpoint_ms'] / 1000:.2f} s"
        )
        return f"the endpointer closed the command {reason}: {event['speech_s']:.2f} s of audio"
    if kind == "transcript":
        if event["stt_ms"]:
            return f"the speech recogniser heard {_quoted(event['text'])} in {_ms(event['stt_ms'])}"
        return f"the command came as text: {_quoted(event['text'])}"
    if kind == "llm":
        return _model_step(event)
    if kind == "notes":
        if not event["passages"]:
            return f"nothing in the notes in {event['folder']} covers it"
        return f"the answer was to come from the notes: {', '.join(event['passages'])}"
    if kind == "intent":
        if event["layer"] == "template":
            return (
                f"the sentence template {_quoted(event['sentence'])} matched in "
                f"{_ms(event['router_ms'])}, so the intent is {event['intent']} "
                f"({_slots(event['slots'])})"
            )
        if event["layer"] == "llm_answer":
            return "neither a template nor a tool fitted, so the model answered in its own words"
        return (
            f"the model's tool call was validated: intent {event['intent']} "
            f"({_slots(event['slots'])}), {_ms(event['router_ms'])} in the router"
        )
    if kind == "action":
        sent = "; ".join(f"published {p} to {t}" for t, p in event["messages"])
        queued = " (queued: the broker was away)" if event.get("queued") else ""
        after = timings.get("to_publish")
        later = f", {_ms(after)} after the end of speech" if after is not None else ""
        return f"{sent}{queued} in {_ms(event['publish_ms'])}{later}"
    if kind == "error":
        about = f" ({event['entity_id']} {event['service']})" if "entity_id" in event else ""
        return f"error {event['code']}{about}: {event['message']}"
    if kind == "reply":
        return f"the reply is {_quoted(event['text'])}"
    if kind == "speech_start":
        after = timings.get("to_first_audio")
        total = f" ({_ms(after)} after the end of speech)" if after is not None else ""
        return f"Piper spoke the first words {_ms(event['tts_ms'])} later{total}"
    if kind == "speech_end_reply":
        return f"the spoken reply lasted {event['audio_s']:.2f} s"
    if kind == "turn_end":
        return f"the turn ended: {event['outcome']}"
    return None


def _model_step(event: Mapping[str, Any]) -> str:
    prompt = event["prompt"]
    asked = prompt[-1]["content"] if prompt else ""
    lines = [
        f"the language model ({event['layer']}) was asked {_quoted(asked)} after a system "
        f"prompt of {len(prompt[0]['content']) if prompt else 0} characters and "
        f"{max(0, len(prompt) - 2)} earlier message(s); {_ms(event['llm_ms'])}"
    ]
    verdicts = list(event["verdicts"]) + [""] * len(event["outputs"])
    for number, (output, verdict) in enumerate(zip(event["outputs"], verdicts, strict=False), 1):
        judged = f" - {verdict}" if verdict else ""
        lines.append(f"    try {number}: it wrote {_quoted(output)}{judged}")
    if event["call"]:
        lines.append(f"    the call used: {json.dumps(event['call'], ensure_ascii=False)}")
    return "\n".join(lines)


def _energy(row: sqlite3.Row, config: Config) -> str:
    wh = row["energy_wh"]
    if row["energy_method"] == "rapl":
        how = "measured with Intel RAPL (the CPU package's energy counter, everything on it)"
    else:
        energy = config.energy
        cores = energy.cores or os.cpu_count() or 1
        how = (
            f"estimated from {row['cpu_total_s']:.2f} CPU seconds at "
            f"({energy.watts_busy:g} W busy - {energy.watts_idle:g} W idle) / {cores} cores"
        )
    cost = wh / 1000 * config.energy.price_per_kwh
    currency = config.energy.currency
    return (
        f"Energy: {wh * 1000:.3f} mWh, {how}; {cost:.8f} {currency} of electricity. The same "
        f"turn through cloud speech-to-text, a language model and text-to-speech: "
        f"{row['cloud_cost']:.5f} {currency}."
    )


def explain(row: sqlite3.Row, config: Config) -> str:
    """The turn step by step, with the time of each step, its timings and its energy."""
    events = json.loads(row["events"])
    timings: dict[str, float] = json.loads(row["timings_ms"])
    cpu: dict[str, float] = json.loads(row["cpu_s"])
    lines = [
        f"Turn {row['id']} ({row['turn']}), {when(row['started'], date=True)}, "
        f"profile {row['profile'] or 'none'}, started by {row['trigger']}:"
    ]
    for event in events:
        step = _step(event, timings)
        if step is not None:
            stop = "" if step.endswith((".", "!", "?", '"')) else "."
            lines.append(f"  {when(event['ts'])}  {step[0].upper()}{step[1:]}{stop}")
    if timings:
        lines.append("Timings (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    if cpu:
        total = sum(cpu.values())
        lines.append(
            "CPU seconds by stage: "
            + ", ".join(f"{k} {v:.3f}" for k, v in cpu.items())
            + f" (stages {total:.3f}; the whole turn {row['cpu_total_s']:.3f}, all threads)"
        )
    lines.append(_energy(row, config))
    if row["audio_file"]:
        lines.append(f"The command audio is kept in journal-audio/{row['audio_file']}.")
    reply = f"{row['turn']}.reply.wav"
    if (journal_path(config).parent / "journal-audio" / reply).is_file():
        lines.append(f"The reply as spoken is kept in journal-audio/{reply}.")
    return "\n".join(lines)
