"""What ``hearth bench --realtime`` makes of the broker's messages: each utterance's turn, its
timings from the true end of speech, and the figures over a run (median, 90th percentile)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..voice.audio import SAMPLE_RATE_HZ
from .bench_speech import Spoken

__all__ = [
    "Message",
    "Observed",
    "as_json",
    "observe",
    "payload_matches",
    "print_realtime",
    "ratios",
    "spread",
    "summarise",
    "summarise_peer",
    "turns_in",
]

NODE: Final = "bench"  # the node id the benchmark gives Hearth


@dataclass(slots=True)
class Observed:
    """What one utterance led to, in seconds after the true end of its speech."""

    index: int
    voice: str
    condition: str
    command: str
    paused: bool
    to_publish_s: float | None = None
    to_first_audio_s: float | None = None
    correct: bool = False
    transcript: str = ""
    end_reason: str = ""
    messages: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Message:
    at: float  # time.monotonic() on arrival
    topic: str
    payload: str


def payload_matches(expected: str | dict[str, Any], payload: str) -> bool:
    """A JSON object with at least the expected keys and values, or exactly the expected text."""
    if isinstance(expected, str):
        return payload.strip() == expected
    try:
        got = json.loads(payload)
    except ValueError:
        return False
    return isinstance(got, dict) and all(got.get(k) == v for k, v in expected.items())


@dataclass(slots=True)
class _Turn:
    """What Hearth said about one turn on its event topics, with arrival times."""

    audio_s: float  # where in the input stream the wake word fired
    reason: str = ""
    transcript: str = ""
    first_audio_at: float | None = None
    devices: list[Message] = field(default_factory=list)


def turns_in(messages: Sequence[Message]) -> list[_Turn]:
    """Hearth's spoken turns in order, each with its device messages: a device message is the
    one received just before its ``hearth/<id>/action`` mirror (the same client sends both, in
    that order)."""
    turns: dict[str, _Turn] = {}
    events = f"hearth/{NODE}/event/"
    pending: list[Message] = []
    for message in messages:
        if message.topic.startswith("bench/"):
            pending.append(message)
            continue
        if not message.topic.startswith((events, f"hearth/{NODE}/action")):
            continue
        try:
            body = json.loads(message.payload)
        except ValueError:
            continue
        turn_id = str(body.get("turn"))
        kind = message.topic.removeprefix(events)
        if kind == "wake":
            turns[turn_id] = _Turn(float(body.get("audio_s", 0.0)))
        turn = turns.get(turn_id)
        if turn is None:
            continue
        if message.topic == f"hearth/{NODE}/action":
            if pending:
                turn.devices.append(pending.pop())
        elif kind == "speech_end" and not turn.reason:
            turn.reason = str(body.get("reason", ""))
        elif kind == "transcript" and not turn.transcript:
            turn.transcript = str(body.get("text", ""))
        elif kind == "speech_start" and turn.first_audio_at is None:
            turn.first_audio_at = message.at
    return list(turns.values())


def observe(
    index: int, spoken: Spoken, speech_end: float, block: tuple[int, int], turns: Sequence[_Turn]
) -> Observed:
    """The first turn that woke within the utterance's stretch of Hearth's input."""
    seen = Observed(
        index,
        spoken.voice,
        spoken.condition.name,
        spoken.command.text,
        spoken.command.paused,
    )
    woke = [t for t in turns if block[0] <= t.audio_s * SAMPLE_RATE_HZ < block[1]]
    if not woke:
        seen.end_reason = "no_wake"
        return seen
    turn = woke[0]
    seen.end_reason, seen.transcript = turn.reason, turn.transcript
    seen.messages = [(m.topic, m.payload) for m in turn.devices]
    if turn.devices:
        first = turn.devices[0]
        seen.to_publish_s = first.at - speech_end
        seen.correct = (
            len(turn.devices) == 1
            and first.topic == spoken.command.topic
            and payload_matches(spoken.command.payload, first.payload)
        )
    if turn.first_audio_at is not None:
        seen.to_first_audio_s = turn.first_audio_at - speech_end
    return seen


def as_json(seen: Observed) -> dict[str, Any]:
    return {
        "voice": seen.voice,
        "condition": seen.condition,
        "command": seen.command,
        "transcript": seen.transcript,
        "end_reason": seen.end_reason,
        "correct": seen.correct,
        "to_publish_ms": _ms(seen.to_publish_s),
        "to_first_audio_ms": _ms(seen.to_first_audio_s),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


def spread(values_ms: Sequence[float]) -> dict[str, Any]:
    """Median, 90th percentile (nearest rank) and maximum of ``values_ms``."""
    if not values_ms:
        return {"n": 0, "median_ms": None, "p90_ms": None, "max_ms": None}
    ordered = sorted(values_ms)
    rank = max(0, min(len(ordered) - 1, -(-9 * len(ordered) // 10) - 1))
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(ordered[rank], 1),
        "max_ms": round(ordered[-1], 1),
    }


def summarise(observed: Sequence[Observed]) -> dict[str, Any]:
    """Hearth's figures over the utterances: latency spreads, accuracy, early ends."""
    paused = [o for o in observed if o.paused]
    return {
        "utterances": len(observed),
        "correct": sum(o.correct for o in observed),
        "to_publish": spread(
            [1000 * o.to_publish_s for o in observed if o.to_publish_s is not None]
        ),
        "to_first_audio": spread(
            [1000 * o.to_first_audio_s for o in observed if o.to_first_audio_s is not None]
        ),
        "early_ends": sum(o.end_reason == "early_match" for o in observed),
        "paused_commands": len(paused),
        "paused_cut_short": sum(o.end_reason == "early_match" and not o.correct for o in paused),
    }


def summarise_peer(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "utterances": len(runs),
        "correct": sum(bool(r.get("correct")) for r in runs),
        "to_publish": spread(
            [r["to_publish_ms"] for r in runs if r.get("to_publish_ms") is not None]
        ),
        "to_first_audio": spread(
            [r["to_first_audio_ms"] for r in runs if r.get("to_first_audio_ms") is not None]
        ),
    }


def ratios(hearth: dict[str, Any], peer: dict[str, Any]) -> dict[str, float | None]:
    def ratio(key: str) -> float | None:
        mine, theirs = hearth[key]["median_ms"], peer[key]["median_ms"]
        return round(mine / theirs, 2) if mine is not None and theirs else None

    return {
        "to_publish_median": ratio("to_publish"),
        "to_first_audio_median": ratio("to_first_audio"),
    }


def print_realtime(report: dict[str, Any]) -> None:
    conditions = report["conditions"]
    machine = report["machine"]
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores; CPU hog: {conditions['cpu_hog']}; "
        f"settings: {conditions['overrides'] or 'defaults'}"
    )
    print(
        f"hearth online after {report['ready_s']:.1f} s; audio written at most "
        f"{1000 * report['writer_late_max_s']:.0f} ms late"
    )
    sides = [("hearth", report["hearth"])]
    if "peer" in report:
        sides.append((report["peer"]["name"], report["peer"]))
    print(
        f"{'from the true end of speech':32s} {'n':>4s} {'median ms':>10s} {'p90 ms':>8s} "
        f"{'max ms':>8s}"
    )
    for name, side in sides:
        for key, label in (("to_publish", "device message"), ("to_first_audio", "first audio")):
            s = side[key]
            if s["n"]:
                print(
                    f"{name + ' -> ' + label:32s} {s['n']:>4d} {s['median_ms']:>10.0f} "
                    f"{s['p90_ms']:>8.0f} {s['max_ms']:>8.0f}"
                )
        print(f"{name}: {side['correct']}/{side['utterances']} commands acted on correctly")
    hearth = report["hearth"]
    print(
        f"hearth: {hearth['early_ends']} early ends; commands with a pause cut short: "
        f"{hearth['paused_cut_short']}/{hearth['paused_commands']}"
    )
    if "ratio" in report:
        ratio = report["ratio"]
        print(
            f"ratio hearth/peer (medians): device message {ratio['to_publish_median']}, "
            f"first audio {ratio['to_first_audio_median']}"
        )
