"""The frame every page shares, and the small formatting helpers the pages use.

Pages are rendered on the server as plain HTML; everything a page shows is escaped here. Scripts
only make the live parts move; the pages read without them.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable
from typing import Any, Final

from .backend import BackendInfo

__all__ = ["NAV", "cost", "esc", "figure", "page", "when"]

NAV: Final = (
    ("/", "live", "Live"),
    ("/turns", "turns", "Turns"),
    ("/how", "how", "How it works"),
    ("/energy", "energy", "Energy and cost"),
    ("/home", "home", "Devices and profiles"),
)


def esc(value: Any) -> str:
    """Any value as escaped HTML text (``None`` as a dash)."""
    if value is None:
        return "–"
    return html.escape(str(value), quote=True)


def figure(value: Any, digits: int = 1, unit: str = "") -> str:
    """A number with ``digits`` decimals and its unit, or a dash when there is none."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def cost(value: Any, currency: str, digits: int = 2) -> str:
    """Money with at least ``digits`` decimals and three significant digits for small sums
    (a turn costs millionths): ``0.000000198 USD``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "–"
    shown = digits
    if 0 < abs(value) < 1:
        shown = max(digits, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{shown}f} {currency}"


def when(ts: Any, *, date: bool = True) -> str:
    if not isinstance(ts, int | float):
        return "–"
    local = time.localtime(ts)
    return time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", local)


def page(
    title: str,
    body: str,
    *,
    info: BackendInfo,
    current: str,
    scripts: Iterable[str] = (),
    status: str = "",
) -> str:
    """A whole HTML document: header, navigation, the page's ``body`` (already HTML)."""
    links = []
    for href, key, label in NAV:
        here = ' aria-current="page"' if key == current else ""
        links.append(f'<li><a href="{href}"{here}>{esc(label)}</a></li>')
    mode = (
        '<p class="mode live" id="mode">Live: events stream from the running assistant.</p>'
        if info["live"]
        else '<p class="mode offline" id="mode" role="status">Not live: the assistant is not '
        "running, so this dashboard shows the journal only and nothing moves on its own."
        "</p>"
    )
    note = f'<p class="note">{esc(info["note"])}</p>' if info["note"] else ""
    script_tags = "".join(f'<script src="/static/{esc(s)}" defer></script>' for s in scripts)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · {esc(info['name'])}</title>"
        '<link rel="stylesheet" href="/static/app.css">'
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
        f"{script_tags}</head>"
        f'<body data-live="{"true" if info["live"] else "false"}"'
        f' data-wake-threshold="{info["wake_threshold"]}"'
        f' data-vad-threshold="{info["vad_threshold"]}">'
        '<a class="skip" href="#main">Skip to the content</a>'
        f'<header><p class="brand">{esc(info["name"])} <span>· {esc(info["node_id"])}</span></p>'
        f'<nav aria-label="Pages"><ul>{"".join(links)}</ul></nav></header>'
        f'<main id="main" tabindex="-1"><h1>{esc(title)}</h1>{mode}{note}{status}{body}</main>'
        "<footer><p>Served by Hearth from this machine; nothing on these pages comes from "
        "the internet.</p></footer></body></html>\n"
    )


def error_page(status: int, title: str, message: str, info: BackendInfo | None) -> str:
    """A plain error page (no navigation data from the backend when ``info`` is ``None``)."""
    body = (
        f'<p class="error" role="alert">{esc(message)}</p>'
        '<p><a href="/">Back to the live page</a></p>'
    )
    if info is None:
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{status} {esc(title)}</title><link rel="stylesheet" href="/static/app.css">'
            f'</head><body><main id="main"><h1>{status} {esc(title)}</h1>{body}</main>'
            "</body></html>\n"
        )
    return page(f"{status} {title}", body, info=info, current="")
