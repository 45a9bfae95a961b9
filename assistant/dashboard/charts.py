"""Hand-made SVG: a turn's waterfall and bar charts per day. No chart library.

Each chart comes with the numbers it draws, in a table beside it, for screen readers and for
anyone who prefers numbers; every bar has a ``<title>`` and ``data-`` attributes with its value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .layout import esc, figure

__all__ = ["Segment", "bar_chart", "waterfall", "waterfall_svg"]

STAGE_LABELS: Final = {
    "wake": "Wake word",
    "endpoint": "Endpoint (listening)",
    "stt": "Speech-to-text",
    "router": "Router (templates)",
    "llm": "Language model",
    "skill": "Skill",
    "action": "Action (MQTT)",
    "tts": "Speech (Piper)",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One stage of a turn: where it sits on the turn's time line and what it cost.

    ``start_ms``/``end_ms`` are from the turn's first event (from the events' own times);
    ``ms`` is the stage's own timing and ``cpu_s`` its CPU seconds, as the journal has them."""

    stage: str
    start_ms: float
    end_ms: float
    ms: float | None
    cpu_s: float | None
    note: str = ""


def _first(events: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((e for e in events if e.get("type") == kind), None)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def waterfall(detail: Mapping[str, Any]) -> list[Segment]:
    """The stages of one turn (a ``turn`` API body), in the order they happened."""
    events: Sequence[Mapping[str, Any]] = detail.get("events") or []
    timings: Mapping[str, Any] = detail.get("timings_ms") or {}
    cpu: Mapping[str, Any] = detail.get("cpu_s") or {}
    if not events:
        return []
    t0 = float(events[0].get("ts", 0.0))

    def at(event: Mapping[str, Any] | None) -> float | None:
        return None if event is None else 1000 * (float(event.get("ts", t0)) - t0)

    segments: list[Segment] = []
    wake = _first(events, "wake")
    if wake is not None:
        ms = _num(timings.get("wake")) or _num(wake.get("wake_ms"))
        segments.append(
            Segment("wake", 0.0, ms or 0.0, ms, _num(cpu.get("wake")), "per 80 ms frame")
        )
    speech_end = _first(events, "speech_end")
    if speech_end is not None:
        end = at(speech_end) or 0.0
        segments.append(
            Segment(
                "endpoint",
                0.0,
                end,
                _num(timings.get("endpoint")),
                _num(cpu.get("endpoint")),
                f"{speech_end.get('reason', '')}; {figure(speech_end.get('speech_s'), 2, 's')} "
                "of speech",
            )
        )
    transcript = _first(events, "transcript")
    stt_ms = _num(timings.get("stt"))
    if transcript is not None and (stt_ms or _num(cpu.get("stt"))):
        end = at(transcript) or 0.0
        segments.append(
            Segment("stt", max(0.0, end - (stt_ms or 0.0)), end, stt_ms, _num(cpu.get("stt")))
        )
    intent = _first(events, "intent")
    router_ms = _num(timings.get("router"))
    if intent is not None or router_ms is not None:
        end = (at(intent) if intent is not None else at(transcript)) or 0.0
        note = str(intent.get("layer", "")) if intent is not None else ""
        segments.append(
            Segment(
                "router",
                max(0.0, end - (router_ms or 0.0)),
                end,
                router_ms,
                _num(cpu.get("router")),
                note,
            )
        )
    for consulted in (e for e in events if e.get("type") == "llm"):
        end = at(consulted) or 0.0
        ms = _num(consulted.get("llm_ms"))
        segments.append(
            Segment(
                "llm",
                max(0.0, end - (ms or 0.0)),
                end,
                ms,
                _num(cpu.get("llm")),
                str(consulted.get("layer", "")),
            )
        )
    if _num(cpu.get("skill")) is not None:
        end = at(_first(events, "action")) or at(_first(events, "reply")) or 0.0
        segments.append(Segment("skill", end, end, None, _num(cpu.get("skill"))))
    action = _first(events, "action")
    if action is not None:
        end = at(action) or 0.0
        ms = _num(timings.get("action")) or _num(action.get("publish_ms"))
        segments.append(
            Segment("action", max(0.0, end - (ms or 0.0)), end, ms, _num(cpu.get("action")))
        )
    started = _first(events, "speech_start")
    if started is not None:
        first_audio = at(started) or 0.0
        tts_ms = _num(timings.get("tts_first_audio")) or _num(started.get("tts_ms"))
        finished = at(_first(events, "speech_end_reply"))
        segments.append(
            Segment(
                "tts",
                max(0.0, first_audio - (tts_ms or 0.0)),
                finished if finished is not None else first_audio,
                tts_ms,
                _num(cpu.get("tts")),
                "first audio, then speaking",
            )
        )
    return segments


def waterfall_svg(segments: Sequence[Segment], width: int = 640) -> str:
    """The segments as horizontal bars on one time axis (ms from the turn's first event)."""
    if not segments:
        return '<p class="empty">No stage timings were recorded for this turn.</p>'
    row_h, label_w, pad = 26, 170, 8
    span = max(max(s.end_ms for s in segments), 1.0)
    scale = (width - label_w - pad) / span
    height = row_h * len(segments) + 24
    parts = [
        f'<svg class="waterfall" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="wf-title"><title id="wf-title">Waterfall of the turn: '
        f"{len(segments)} stages over {span:.0f} ms</title>"
    ]
    for row, seg in enumerate(segments):
        y = row * row_h
        x = label_w + seg.start_ms * scale
        w = max(2.0, (seg.end_ms - seg.start_ms) * scale)
        label = STAGE_LABELS.get(seg.stage, seg.stage)
        tip = f"{label}: {figure(seg.ms, 1, 'ms')}, {figure(seg.cpu_s, 3, 'CPU s')}"
        parts.append(
            f'<text x="0" y="{y + 17}" class="wf-label">{esc(label)}</text>'
            f'<rect class="wf-bar wf-{esc(seg.stage)}" data-stage="{esc(seg.stage)}" '
            f'x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}">'
            f"<title>{esc(tip)}</title></rect>"
        )
    axis_y = row_h * len(segments) + 16
    parts.append(f'<text x="{label_w}" y="{axis_y}" class="wf-axis">0 ms</text>')
    parts.append(
        f'<text x="{width - pad}" y="{axis_y}" class="wf-axis" text-anchor="end">{span:,.0f} ms'
        "</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str,
    digits: int,
    width: int = 640,
    height: int = 180,
) -> str:
    """Bars per day; with two series, side by side. Values must be zero or more."""
    top, bottom, left = 18, 22, 4
    inner_h = height - top - bottom
    peak = max((v for _, values in series for v in values), default=0.0) or 1.0
    slot = (width - left) / max(1, len(days))
    bar_w = max(1.0, slot * 0.8 / max(1, len(series)))
    parts = [
        f'<svg id="{esc(chart_id)}" class="bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{esc(chart_id)}-t"><title id="{esc(chart_id)}-t">{esc(title)}</title>'
        f'<text x="{left}" y="12" class="axis">max {figure(peak, digits, unit)}</text>'
        f'<line x1="0" x2="{width}" y1="{top + inner_h}" y2="{top + inner_h}" class="base"/>'
    ]
    for index, day in enumerate(days):
        for number, (name, values) in enumerate(series):
            value = max(0.0, float(values[index]))
            h = inner_h * value / peak
            x = left + index * slot + slot * 0.1 + number * bar_w
            parts.append(
                f'<rect class="bar s{number}" data-day="{esc(day)}" data-series="{esc(name)}" '
                f'data-value="{value!r}" x="{x:.1f}" y="{top + inner_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{esc(day)}: {esc(name)} {figure(value, digits, unit)}</title></rect>"
            )
        if len(days) <= 16 or index % max(1, len(days) // 8) == 0:
            parts.append(
                f'<text x="{left + index * slot + slot / 2:.1f}" y="{height - 6}" class="axis" '
                f'text-anchor="middle">{esc(day[5:])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
