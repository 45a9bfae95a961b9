"""What each path answers: the pages, the JSON API and the event stream.

Independent of sockets: a :class:`Request` in, a :class:`Response` out. Anything a person can
fix raises :class:`HttpError`, which the server turns into a JSON error (under ``/api/``) or an
error page; the server has already checked the token, the Host and, for writes, the origin.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Final
from urllib.parse import parse_qs

from .backend import BackendError, DashboardBackend
from .hub import EventHub
from .layout import esc
from .pages import live_page, turn_page, turns_page
from .pages_info import energy_page, home_page, how_page

__all__ = ["App", "HttpError", "Request", "Response"]

MAX_TEXT_CHARS: Final = 1000
MAX_PROFILE_CHARS: Final = 64
_TURN_KEY: Final = re.compile(r"^(last|[0-9]{1,12}|[0-9a-f]{4,32})$")
_STATIC_TYPES: Final = {
    "app.css": "text/css; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "home.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
JSON_TYPE: Final = "application/json; charset=utf-8"
HTML_TYPE: Final = "text/html; charset=utf-8"


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/") or self.path == "/api"

    @property
    def from_form(self) -> bool:
        """A plain HTML form posted it (no script): answer with a page, not JSON."""
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return kind == "application/x-www-form-urlencoded"


Writer = Callable[[bytes], None]


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Callable[[Writer], None] | None = None  # an event stream, written until it ends

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        return cls(status, text.encode("utf-8"))

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), HTML_TYPE)


def _int(
    query: Mapping[str, list[str]], name: str, default: int | None, low: int, high: int
) -> int | None:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1].strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise HttpError(
            400, "bad_parameter", f"'{name}' must be a whole number from {low} to {high}"
        )
    value = int(raw)
    if not low <= value <= high:
        raise HttpError(400, "bad_parameter", f"'{name}' must be from {low} to {high}, not {value}")
    return value


def _turn_key(raw: str) -> str:
    if not _TURN_KEY.match(raw):
        raise HttpError(400, "bad_turn", "a turn is named by its number, its id (hex) or 'last'")
    return raw


class App:
    """Routes for one backend and its event hub. ``stream`` serves ``/api/events``."""

    def __init__(
        self, backend: DashboardBackend, hub: EventHub, stream: Callable[[], Response]
    ) -> None:
        self.backend = backend
        self.hub = hub
        self._stream = stream
        self._static: dict[str, bytes] = {
            name: resources.files(__package__).joinpath("static", name).read_bytes()
            for name in _STATIC_TYPES
        }

    def dispatch(self, request: Request) -> Response:
        try:
            return self._route(request)
        except BackendError as err:
            raise HttpError(err.status, err.code, err.message) from None

    def _route(self, r: Request) -> Response:
        parts = [p for p in r.path.split("/") if p]
        get = r.method in ("GET", "HEAD")
        if r.method == "POST":
            if parts == ["api", "ask"]:
                return self._ask(r)
            if parts == ["api", "profile"]:
                return self._profile(r)
            raise HttpError(405, "method_not_allowed", f"{r.path} does not take POST")
        if not get:
            raise HttpError(405, "method_not_allowed", f"{r.method} is not supported here")
        b = self.backend
        match parts:
            case []:
                return Response.html(live_page(b.info(), self.snapshot()))
            case ["turns"]:
                limit = _int(r.query, "limit", 50, 1, 200) or 50
                before = _int(r.query, "before", None, 1, 10**9)
                return Response.html(turns_page(b.info(), b.turns(limit, before), limit, before))
            case ["turns", key]:
                return Response.html(turn_page(b.info(), b.turn(_turn_key(key))))
            case ["how"]:
                return Response.html(how_page(b.info(), b.stats()))
            case ["energy"]:
                span = _int(r.query, "days", 14, 1, 366) or 14
                return Response.html(energy_page(b.info(), b.days(span), span))
            case ["home"]:
                return Response.html(home_page(b.info(), b.devices(), b.profiles()))
            case ["static", name] if name in _STATIC_TYPES:
                return Response(
                    200,
                    self._static[name],
                    _STATIC_TYPES[name],
                    [("Cache-Control", "private, max-age=300")],
                )
            case ["api", "info"]:
                return Response.json(b.info())
            case ["api", "live"]:
                return Response.json({**self.snapshot(), "info": b.info()})
            case ["api", "turns"]:
                limit = _int(r.query, "limit", 50, 1, 200) or 50
                before = _int(r.query, "before", None, 1, 10**9)
                return Response.json({"turns": b.turns(limit, before)})
            case ["api", "turns", key]:
                return Response.json(b.turn(_turn_key(key)))
            case ["api", "turns", key, "audio", which]:
                if which not in ("command", "reply"):
                    raise HttpError(404, "not_found", "audio is 'command' or 'reply'")
                clip = b.audio(_turn_key(key), which)  # type: ignore[arg-type]
                return Response(200, clip["data"], clip["content_type"])
            case ["api", "energy"]:
                span = _int(r.query, "days", 14, 1, 366) or 14
                return Response.json({"days": b.days(span)})
            case ["api", "devices"]:
                return Response.json({"devices": b.devices()})
            case ["api", "profiles"]:
                return Response.json(b.profiles())
            case ["api", "stats"]:
                return Response.json(b.stats())
            case ["api", "status"]:
                return Response.json(
                    {"clients": self.hub.client_count, "hub": asdict(self.hub.stats)}
                )
            case ["api", "events"] if r.method == "GET":
                return self._stream()
        raise HttpError(404, "not_found", f"nothing at {r.path}")

    def snapshot(self) -> dict[str, Any]:
        """The hub's live view; without a live stream, the journal's last turn instead."""
        snap = self.hub.snapshot()
        if snap["profile"] is None:
            snap["profile"] = self.backend.profiles()["current"]
        if not snap["turn"] and not snap["last"] and not self.backend.info()["live"]:
            with contextlib.suppress(BackendError):
                snap["last"] = self.backend.turn("last").get("events", [])
        return snap

    # -- writes --------------------------------------------------------------------------------

    def _fields(self, r: Request) -> dict[str, Any]:
        kind = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            text = r.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "bad_encoding", "the body is not UTF-8 text") from None
        if kind == "application/json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                raise HttpError(
                    400, "bad_json", f"the body is not valid JSON ({err.msg})"
                ) from None
            if not isinstance(data, dict):
                raise HttpError(400, "bad_json", "the body must be a JSON object")
            return data
        if kind == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True, max_num_fields=8)
            return {k: v[-1] for k, v in form.items()}
        raise HttpError(415, "unsupported_type", "send Content-Type: application/json (or a form)")

    def _ask(self, r: Request) -> Response:
        data = self._fields(r)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise HttpError(
                400, "bad_command", 'give the words to ask: {"text": "what time is it"}'
            )
        if len(text) > MAX_TEXT_CHARS:
            raise HttpError(
                400,
                "bad_command",
                f"the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
            )
        result = self.backend.ask(text)
        if r.from_form:
            return _done_page("Asked", f"Asked: {result['text']}. {result['note']}", "/home")
        return Response.json(result, 202 if result["accepted"] else 200)

    def _profile(self, r: Request) -> Response:
        data = self._fields(r)
        name = data.get("name")
        if (
            not isinstance(name, str)
            or len(name) > MAX_PROFILE_CHARS
            or not all(ch.isalnum() or ch in "_- " for ch in name)
        ):
            raise HttpError(
                400, "bad_profile", 'give a profile name: {"name": "homework"} ("" for none)'
            )
        result = self.backend.switch_profile(name.strip())
        if r.from_form:
            return _done_page("Profile", f"Profile in use: {result['current'] or 'none'}.", "/home")
        return Response.json(result)


def _done_page(title: str, message: str, back: str) -> Response:
    text = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><link rel="stylesheet" href="/static/app.css"></head>'
        f'<body><main id="main"><h1>{esc(title)}</h1><p role="status">{esc(message)}</p>'
        f'<p><a href="{esc(back)}">Back</a></p></main></body></html>\n'
    )
    return Response.html(text)
