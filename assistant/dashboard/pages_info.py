"""How it works, energy and cost, devices and profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .backend import BackendInfo, DayFigures, Device, ProfileList
from .charts import bar_chart
from .layout import cost, esc, figure, page, when

__all__ = ["energy_page", "home_page", "how_page"]


def _n(stats: Mapping[str, Any], key: str, digits: int = 0, unit: str = "") -> str:
    return f'<strong data-stat="{esc(key)}">{figure(stats.get(key), digits, unit)}</strong>'


def _money(stats: Mapping[str, Any], key: str, currency: str) -> str:
    return f'<strong data-stat="{esc(key)}">{cost(stats.get(key), currency)}</strong>'


def _model_words(stats: Mapping[str, Any]) -> str:
    llm = (stats.get("models") or {}).get("llm", "off")
    if llm == "off":
        return (
            "The language model is turned off here (llm.enabled = false), so a sentence no "
            "template fits is not understood."
        )
    asked = (
        f"Here it took {_n(stats, 'llm_ms', 0, 'ms')} when it was asked, writing about "
        f"{_n(stats, 'llm_tokens_per_s', 0, 'tokens/s')} "
        f"({esc(stats.get('llm_tokens_method', ''))})."
        if stats.get("llm_ms") is not None
        else "It has not been asked yet."
    )
    return (
        f"Only when no template fits does a small language model ({esc(llm)}) read it and "
        f"choose a tool, or answer in its own words. {asked}"
    )


def how_page(info: BackendInfo, stats: Mapping[str, Any]) -> str:
    cur = info["currency"]
    models: Mapping[str, Any] = stats.get("models") or {}
    measured = stats.get("turns") or 0
    basis = (
        f"The numbers in bold are this home's own, the medians of the last {measured} turns "
        "in the journal on this machine."
        if measured
        else "No turn has been recorded yet, so there are no numbers from this home yet."
    )
    sections = [
        (
            "1. Listening for the wake word",
            f"A small model ({esc(models.get('wake', 'openWakeWord'))}) looks at every 80 ms "
            "of sound from the microphone and gives a score from 0 to 1 for how much it sounds "
            f"like the wake word. Above {figure(info['wake_threshold'], 2)} it wakes up. Here it "
            f"takes {_n(stats, 'wake_ms_per_frame', 1, 'ms')} per 80 ms of sound, about "
            f"{_n(stats, 'wake_core_pct', 1, '%')} of one core, all day long. Nothing is "
            "recorded or sent while it only listens.",
        ),
        (
            "2. Hearing where the command ends",
            "After the wake word, a voice detector (Silero VAD) says for each moment whether "
            "someone is speaking. When the speaking stops for long enough, the command is over. "
            f"Here commands were {_n(stats, 'speech_s', 2, 's')} long, and the decision "
            f"took {_n(stats, 'endpoint_ms', 0, 'ms')} of silence.",
        ),
        (
            "3. Turning speech into text",
            f"Whisper ({esc(models.get('stt', 'tiny.en'))}) writes down what was said. On this "
            f"machine it needs {_n(stats, 'stt_ms', 0, 'ms')} for a command, a real-time factor "
            f"of {_n(stats, 'stt_rtf', 2)}: each second of speech costs that many seconds of "
            f"work (below 1 is faster than speaking), and {_n(stats, 'stt_cpu_s', 2, 'CPU s')}.",
        ),
        (
            "4. Understanding: templates, then the language model",
            "First the text is compared with sentence templates such as “turn on the {name}”. "
            f"That takes {_n(stats, 'router_ms', 1, 'ms')}. {_model_words(stats)} "
            f"{_n(stats, 'template_share_pct', 0, '%')} of turns were settled by templates.",
        ),
        (
            "5. Acting on the home",
            "The decision is checked (does the device exist, may voice use it) and only then "
            "turned into an MQTT message on the device's own topic. The model never writes "
            f"topics. Publishing takes {_n(stats, 'action_ms', 2, 'ms')}; from the end of your "
            f"speech to the message it was {_n(stats, 'to_publish_ms', 0, 'ms')}.",
        ),
        (
            "6. Speaking the reply",
            f"Piper ({esc(models.get('tts', ''))}) turns the reply into speech, sentence by "
            f"sentence. The first sound came {_n(stats, 'tts_first_audio_ms', 0, 'ms')} after "
            f"the reply was ready, {_n(stats, 'to_first_audio_ms', 0, 'ms')} after you stopped "
            "speaking.",
        ),
        (
            "What a turn costs",
            f"A turn here uses {_n(stats, 'turn_cpu_s', 2, 'CPU s')} and "
            f"{_n(stats, 'turn_mwh', 3, 'mWh')} of electricity, that is "
            f"{_money(stats, 'turn_cost', cur)} at {figure(stats.get('price_per_kwh'), 2, cur)}"
            f"/kWh. The same turn through cloud speech-to-text, a language model and "
            f"text-to-speech would cost about {_money(stats, 'cloud_cost', cur)}, "
            f"{_n(stats, 'cloud_ratio', 0)} times as much, and your voice would leave the "
            "house.",
        ),
    ]
    method = stats.get("energy_method") or "estimated"
    body = f'<p class="lead">{esc(basis)} Energy is {esc(method)}.</p>'
    body += "".join(
        f'<section aria-labelledby="how-{i}"><h2 id="how-{i}">{esc(title)}</h2><p>{text}</p>'
        "</section>"
        for i, (title, text) in enumerate(sections)
    )
    return page("How it works", body, info=info, current="how")


def energy_page(info: BackendInfo, days: Sequence[DayFigures], span: int) -> str:
    cur = info["currency"]
    labels = [d["day"] for d in days]
    charts = [
        bar_chart(
            "chart-turns", "Turns per day", labels, [("turns", [d["turns"] for d in days])], "", 0
        ),
        bar_chart(
            "chart-energy",
            "Energy per day, kWh",
            labels,
            [("kWh", [d["energy_kwh"] for d in days])],
            "kWh",
            6,
        ),
        bar_chart(
            "chart-cost",
            f"Electricity and the cloud price of the same turns, {cur}",
            labels,
            [
                ("electricity", [d["cost"] for d in days]),
                ("cloud", [d["cloud_cost"] for d in days]),
            ],
            cur,
            5,
        ),
    ]
    rows = "".join(
        f'<tr data-day="{esc(d["day"])}"><th scope="row">{esc(d["day"])}</th>'
        f"<td>{d['turns']}</td><td>{figure(d['energy_kwh'], 6)}</td>"
        f"<td>{cost(d['cost'], cur)}</td><td>{cost(d['cloud_cost'], cur)}</td>"
        f"<td>{esc(d['method'] or '–')}</td></tr>"
        for d in days
    )
    total = {
        k: sum(float(d[k]) for d in days) for k in ("turns", "energy_kwh", "cost", "cloud_cost")
    }
    current = ' aria-current="true"'
    picker = " ".join(
        f'<a href="/energy?days={n}"{current if n == span else ""}>{n} days</a>'
        for n in (7, 14, 30, 90)
    )
    body = (
        f'<p class="picker">Show: {picker}</p>'
        "<figure><figcaption>Turns per day</figcaption>" + charts[0] + "</figure>"
        "<figure><figcaption>Energy per day (turns and the always-on listening)</figcaption>"
        + charts[1]
        + "</figure>"
        '<figure><figcaption>Electricity cost (<span class="key k-s0"></span>) and the cloud '
        'price of the same turns (<span class="key k-s1"></span>)</figcaption>'
        + charts[2]
        + "</figure>"
        f"{_comparison(total['cost'], total['cloud_cost'], span, cur)}"
        '<div class="scroll"><table id="days-table"><caption>The same numbers</caption><thead><tr>'
        '<th scope="col">Day</th><th scope="col">Turns</th><th scope="col">kWh</th>'
        '<th scope="col">Electricity</th><th scope="col">Cloud price</th><th scope="col">Method'
        "</th>"
        f'</tr></thead><tbody>{rows}</tbody><tfoot><tr><th scope="row">Total</th>'
        f"<td>{int(total['turns'])}</td><td>{figure(total['energy_kwh'], 6)}</td>"
        f"<td>{cost(total['cost'], cur)}</td><td>{cost(total['cloud_cost'], cur)}</td><td></td>"
        "</tr></tfoot></table></div>"
    )
    return page("Energy and cost", body, info=info, current="energy")


def home_page(info: BackendInfo, devices: Sequence[Device], profiles: ProfileList) -> str:
    rows = "".join(
        f'<tr data-entity="{esc(d["entity_id"])}"><th scope="row">{esc(d["name"])}'
        f"<br><code>{esc(d['entity_id'])}</code></th><td>{esc(d['area'] or '–')}</td>"
        f"<td>{esc(d['source'])}</td>"
        f'<td class="exposed">{"yes" if d["exposed"] else "no"}<br><small>{esc(d["why"])}'
        "</small></td>"
        f"<td>{esc(d['state'] if d['state'] is not None else 'unknown')}</td>"
        f"<td>{_last_action(d)}</td></tr>"
        for d in devices
    )
    if not devices:
        rows = '<tr><td colspan="6">Hearth knows no devices yet.</td></tr>'
    choices = [{"name": "", "description": "no profile"}, *profiles["profiles"]]
    options = "".join(_option(p, profiles["current"]) for p in choices)
    disabled = "" if profiles["switchable"] else " disabled"
    ask_disabled = "" if info["live"] else " disabled"
    body = (
        '<section aria-labelledby="ask-h"><h2 id="ask-h">Ask</h2>'
        '<form id="ask-form" method="post" action="/api/ask" class="ask">'
        '<label for="ask-text">A command, as you would say it</label>'
        '<input id="ask-text" name="text" type="text" maxlength="1000" required '
        f'autocomplete="off" placeholder="turn on the kitchen light"{ask_disabled}>'
        f'<button type="submit"{ask_disabled}>Ask</button></form>'
        '<p id="ask-result" role="status" aria-live="polite">'
        + ("" if info["live"] else "Asking needs the running assistant.")
        + "</p></section>"
        '<section aria-labelledby="prof-h"><h2 id="prof-h">Profile</h2>'
        f'<p>In use: <strong id="profile-current">{esc(profiles["current"] or "none")}</strong></p>'
        '<form id="profile-form" method="post" action="/api/profile" class="ask">'
        '<label for="profile-name">Switch to</label><select id="profile-name" '
        f'name="name"{disabled}>'
        f'{options}</select><button type="submit"{disabled}>Switch</button></form>'
        '<p id="profile-result" role="status" aria-live="polite"></p></section>'
        '<section aria-labelledby="dev-h"><h2 id="dev-h">Devices</h2>'
        '<div class="scroll"><table id="devices"><caption>The devices Hearth knows</caption>'
        '<thead><tr><th scope="col">Device</th><th scope="col">Area</th><th scope="col">From</th>'
        '<th scope="col">Voice may use it</th><th scope="col">State</th>'
        f'<th scope="col">Last action</th></tr></thead><tbody>{rows}</tbody></table></div>'
        "</section>"
    )
    return page("Devices and profiles", body, info=info, current="home", scripts=["home.js"])


def _last_action(d: Device) -> str:
    last = d["last_action"]
    if not last:
        return "–"
    return (
        f"{esc(last.get('service'))} at {esc(when(last.get('ended')))} "
        f'(<a href="/turns/{esc(last.get("id"))}">turn {esc(last.get("id"))}</a>)'
    )


def _option(profile: dict[str, str], current: str) -> str:
    selected = " selected" if profile["name"] == current else ""
    about = f" – {esc(profile['description'])}" if profile.get("description") else ""
    return (
        f'<option value="{esc(profile["name"])}"{selected}>'
        f"{esc(profile['name'] or 'none')}{about}</option>"
    )


def _comparison(electricity: float, cloud: float, span: int, currency: str) -> str:
    if electricity <= 0 or cloud <= 0:
        return ""
    tiny = " (so the electricity bars are too small to see)" if cloud / electricity > 50 else ""
    return (
        f'<p id="comparison">Over these {span} days the electricity came to '
        f"{cost(electricity, currency)}; cloud services would have charged "
        f"{cost(cloud, currency)} for the same turns, {cloud / electricity:,.0f} times as much"
        f"{tiny}.</p>"
    )
