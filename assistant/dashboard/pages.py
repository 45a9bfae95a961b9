"""The live page, the list of turns and one turn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .backend import BackendInfo
from .charts import STAGE_LABELS, waterfall, waterfall_svg
from .layout import cost, esc, figure, page, when

__all__ = ["live_page", "turn_page", "turns_page"]

LIVE_STAGES: Final = (
    ("wake", "Wake word"),
    ("endpoint", "End of speech"),
    ("stt", "Speech-to-text"),
    ("router", "Router / language model"),
    ("action", "Action"),
    ("tts", "Speech"),
)


def live_page(info: BackendInfo, snapshot: Mapping[str, Any]) -> str:
    stages = "".join(
        f'<li data-stage="{key}" class="stage"><span class="dot" aria-hidden="true"></span>'
        f'<span class="name">{esc(label)}</span> <span class="status">waiting</span></li>'
        for key, label in LIVE_STAGES
    )
    state = snapshot.get("state") or ("unknown" if info["live"] else "not running")
    levels = (
        '<canvas id="levels" width="600" height="140" role="img" '
        'aria-label="Wake word score and speech probability over the last 30 seconds">'
        "</canvas>"
        '<p class="legend"><span class="key k-wake"></span> wake word score '
        '<span class="key k-vad"></span> speech probability '
        '<span class="key k-thr"></span> wake threshold</p>'
        '<p id="level-note" class="note">No audio levels received yet.</p>'
    )
    body = (
        '<section aria-labelledby="now-h"><h2 id="now-h">Now</h2>'
        f'<p class="state-line">State: <strong id="state" class="state">{esc(state)}</strong>'
        ' · Hearing: <strong id="hearing">–</strong></p>'
        f"{levels}</section>"
        '<section aria-labelledby="turn-h"><h2 id="turn-h">The turn</h2>'
        f'<ol id="stages" class="stages">{stages}</ol>'
        '<dl class="said"><dt>Heard</dt><dd id="transcript">–</dd>'
        '<dt>Decided</dt><dd id="intent">–</dd>'
        '<dt>Reply</dt><dd id="reply">–</dd>'
        '<dt>Outcome</dt><dd id="outcome">–</dd></dl>'
        '<p id="turn-link"></p>'
        '<div id="announce" class="sr-only" aria-live="polite"></div></section>'
        '<section aria-labelledby="log-h"><h2 id="log-h">Events</h2>'
        '<ol id="log" class="log" reversed></ol></section>'
        f'<script type="application/json" id="snapshot">{_json_script(snapshot)}</script>'
    )
    return page("Live", body, info=info, current="live", scripts=["live.js"])


def _json_script(data: Any) -> str:
    """JSON safe inside a ``<script type="application/json">``."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def turns_page(
    info: BackendInfo, turns: Sequence[Mapping[str, Any]], limit: int, before: int | None
) -> str:
    if not turns:
        rows = '<tr><td colspan="7">No turns recorded yet.</td></tr>'
    else:
        rows = "".join(_turn_row(t, info["currency"]) for t in turns)
    older = ""
    if turns and len(turns) == limit:
        oldest = int(turns[-1]["id"])
        older = f'<p><a href="/turns?before={oldest}&amp;limit={limit}">Older turns</a></p>'
    newer = '<p><a href="/turns">Newest turns</a></p>' if before is not None else ""
    body = (
        '<div class="scroll"><table class="turns"><caption>The journal, newest first</caption>'
        '<thead><tr><th scope="col">#</th><th scope="col">When</th>'
        '<th scope="col">Heard</th><th scope="col">Did</th><th scope="col">Reply</th>'
        '<th scope="col">To first audio</th><th scope="col">Energy</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>{newer}{older}"
    )
    return page("Turns", body, info=info, current="turns")


def _turn_row(t: Mapping[str, Any], currency: str) -> str:
    said = t.get("transcript") or f"({t.get('trigger', '')})"
    did = t.get("intent") or t.get("layer") or t.get("outcome") or "–"
    return (
        f'<tr data-id="{esc(t.get("id"))}"><td><a href="/turns/{esc(t.get("id"))}">'
        f"{esc(t.get('id'))}</a></td><td>{esc(when(t.get('ended')))}</td>"
        f"<td>{esc(said)}</td><td>{esc(did)}</td><td>{esc(t.get('reply'))}</td>"
        f"<td>{figure(t.get('to_first_audio_ms'), 0, 'ms')}</td>"
        f"<td>{figure(_mwh(t.get('energy_wh')), 3, 'mWh')}</td></tr>"
    )


def _mwh(wh: Any) -> float | None:
    return 1000 * float(wh) if isinstance(wh, int | float) else None


def turn_page(info: BackendInfo, t: Mapping[str, Any]) -> str:
    currency = info["currency"]
    segments = waterfall(t)
    timings: Mapping[str, Any] = t.get("timings_ms") or {}
    rows = "".join(
        f'<tr data-stage="{esc(s.stage)}"><th '
        f'scope="row">{esc(STAGE_LABELS.get(s.stage, s.stage))}</th>'
        f'<td class="ms" data-value="{esc(s.ms)}">{figure(s.ms, 1, "ms")}</td>'
        f'<td class="cpu" data-value="{esc(s.cpu_s)}">{figure(s.cpu_s, 3, "s")}</td>'
        f'<td class="at">{figure(s.start_ms, 0, "ms")}–{figure(s.end_ms, 0, "ms")}</td>'
        f"<td>{esc(s.note)}</td></tr>"
        for s in segments
    )
    headline = "".join(
        f'<li>{esc(label)}: <strong data-timing="{key}" data-value="{esc(timings.get(key))}">'
        f"{figure(timings.get(key), 0, 'ms')}</strong></li>"
        for key, label in (
            ("to_publish", "End of speech to the MQTT publish"),
            ("to_first_audio", "End of speech to the first word of the reply"),
        )
        if key in timings
    )
    body = (
        f'<p class="meta">Turn <strong id="turn-id" data-turn="{esc(t.get("turn"))}">'
        f"{esc(t.get('id'))}</strong> · {esc(when(t.get('started')))} · started by "
        f"{esc(t.get('trigger'))} · profile {esc(t.get('profile') or 'none')} · outcome "
        f"<strong>{esc(t.get('outcome'))}</strong></p>"
        f'<ul class="headline">{headline}</ul>'
        '<section aria-labelledby="wf-h"><h2 id="wf-h">Stage by stage</h2>'
        f"{waterfall_svg(segments)}"
        '<div class="scroll"><table id="stages-table"><caption>Time and CPU per stage '
        "(CPU seconds of the whole process, all threads)</caption><thead><tr>"
        '<th scope="col">Stage</th><th scope="col">Time</th><th scope="col">CPU</th>'
        '<th scope="col">When in the turn</th><th scope="col">Note</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
        "<p>The whole turn used <span "
        f'id="cpu-total">{figure(t.get("cpu_total_s"), 3, "CPU s")}</span>.</p>'
        "</section>"
        f"{_words(t)}{_model(t)}{_actions(t)}{_errors(t)}"
        f"{_energy(t, currency)}{_audio(t)}"
    )
    return page(f"Turn {t.get('id')}", body, info=info, current="turns")


def _words(t: Mapping[str, Any]) -> str:
    sentence = t.get("sentence") or ""
    matched = (
        f'<dt>Matched template</dt><dd><code id="sentence">{esc(sentence)}</code></dd>'
        if t.get("layer") == "template" and sentence
        else ""
    )
    return (
        '<section aria-labelledby="words-h"><h2 id="words-h">What was said and decided</h2>'
        f'<dl><dt>Heard</dt><dd id="transcript">{esc(t.get("transcript") or "–")}</dd>'
        f"<dt>Wake word</dt><dd>{esc(t.get('wake_model'))} "
        f"score {figure(t.get('wake_score'), 3)}</dd>"
        f"<dt>Layer</dt><dd>{esc(t.get('layer') or '–')}</dd>"
        f'<dt>Intent</dt><dd id="intent">{esc(t.get("intent") or "–")}</dd>{matched}'
        f'<dt>Reply</dt><dd id="reply">{esc(t.get("reply") or "–")}</dd></dl></section>'
    )


def _model(t: Mapping[str, Any]) -> str:
    consulted: Sequence[Mapping[str, Any]] = t.get("llm") or []
    if not consulted:
        return ""
    parts = ['<section aria-labelledby="llm-h"><h2 id="llm-h">The language model</h2>']
    for number, c in enumerate(consulted, 1):
        prompt = "".join(
            f"<li><strong>{esc(m.get('role'))}</strong><pre>{esc(m.get('content'))}</pre></li>"
            for m in c.get("prompt") or []
        )
        verdicts = list(c.get("verdicts") or [])
        tries = "".join(
            f'<li><pre class="raw">{esc(o)}</pre> <span class="verdict">'
            f"{esc(verdicts[i] if i < len(verdicts) else '')}</span></li>"
            for i, o in enumerate(c.get("outputs") or [])
        )
        parts.append(
            f"<h3>Consultation {number} ({esc(c.get('layer'))}, "
            f"{figure(c.get('llm_ms'), 0, 'ms')})</h3>"
            f"<details><summary>The prompt as sent</summary><ol>{prompt}</ol></details>"
            f'<p>Raw outputs and verdicts:</p><ol class="tries">{tries}</ol>'
            f"<p>Call used: <code>{esc(json.dumps(c.get('call') or {}, ensure_ascii=False))}"
            "</code></p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _actions(t: Mapping[str, Any]) -> str:
    actions: Sequence[Mapping[str, Any]] = t.get("actions") or []
    if not actions:
        return ""
    items = []
    for a in actions:
        messages = "".join(
            f'<li>topic <code class="topic">{esc(m[0])}</code> payload '
            f'<code class="payload">{esc(m[1])}</code></li>'
            for m in a.get("messages") or []
            if isinstance(m, list | tuple) and len(m) == 2
        )
        queued = " (queued: the broker was away)" if a.get("queued") else ""
        items.append(
            f"<li>{esc(a.get('entity_id'))} {esc(a.get('service'))}{queued}<ul>{messages}</ul></li>"
        )
    return (
        '<section aria-labelledby="act-h"><h2 id="act-h">What was published</h2>'
        f'<ul class="actions">{"".join(items)}</ul></section>'
    )


def _errors(t: Mapping[str, Any]) -> str:
    errors: Sequence[Mapping[str, Any]] = t.get("errors") or []
    if not errors:
        return ""
    items = "".join(
        f"<li><code>{esc(e.get('code'))}</code> {esc(e.get('message'))}</li>" for e in errors
    )
    return f'<section aria-labelledby="err-h"><h2 id="err-h">Errors</h2><ul>{items}</ul></section>'


def _energy(t: Mapping[str, Any], currency: str) -> str:
    how = "measured (Intel RAPL)" if t.get("energy_method") == "rapl" else "estimated from CPU time"
    return (
        '<section aria-labelledby="en-h"><h2 id="en-h">Energy</h2><dl>'
        f'<dt>Energy</dt><dd id="energy" data-value="{esc(t.get("energy_wh"))}">'
        f"{figure(_mwh(t.get('energy_wh')), 3, 'mWh')} ({esc(how)})</dd>"
        f'<dt>Electricity</dt><dd id="electricity">{cost(t.get("electricity_cost"), currency)}</dd>'
        f'<dt>Through cloud services</dt><dd id="cloud">{cost(t.get("cloud_cost"), currency)}</dd>'
        "</dl></section>"
    )


def _audio(t: Mapping[str, Any]) -> str:
    audio: Mapping[str, Any] = t.get("audio") or {}
    key = esc(t.get("id"))
    players = []
    for which, label in (("command", "The command as heard"), ("reply", "The reply as spoken")):
        if audio.get(which):
            players.append(
                f'<figure><figcaption id="au-{which}">{label}</figcaption>'
                f'<audio controls preload="none" aria-labelledby="au-{which}" '
                f'src="/api/turns/{key}/audio/{which}"></audio></figure>'
            )
    if not players:
        return (
            '<section aria-labelledby="au-h"><h2 id="au-h">Audio</h2><p>No audio kept for this '
            "turn (journal.keep_audio is off, or the audio has expired).</p></section>"
        )
    return f'<section aria-labelledby="au-h"><h2 id="au-h">Audio</h2>{"".join(players)}</section>'
