"""The dashboard's HTTP server: its own threads, bounded in every direction.

``ThreadingHTTPServer`` with a cap on open connections (one more gets a quick 503), a socket
timeout for slow clients, a cap on the request line and body, a cap on live pages (each an SSE
stream fed by the :class:`~dashboard.hub.EventHub`). The order of checks for every request:
the Host rule, the token (401 and nothing else), then the route; for a write also the origin
rule, the size and the type. No error shows a traceback; the server never connects anywhere.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from .backend import DashboardBackend
from .hub import EventHub, sse_frame
from .layout import error_page
from .routes import App, HttpError, Request, Response, Writer
from .security import COOKIE_NAME, Access, Headers, is_loopback, token_problem

__all__ = ["DashboardServer", "Limits"]

_LOGGER = logging.getLogger(__name__)

_SECURITY_HEADERS: Final = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_url_chars: int = 2048
    max_body_bytes: int = 8192
    max_connections: int = 32
    max_sse_clients: int = 8
    client_queue: int = 256  # SSE frames waiting per page; the oldest are dropped past it
    level_hz: float = 5.0  # audio-level updates sent to a page per second (peak of each window)
    keepalive_s: float = 15.0  # an SSE comment when nothing else was sent
    socket_timeout_s: float = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 16

    def __init__(self, address: tuple[str, int], app: App, access: Access, limits: Limits) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.access = access
        self.limits = limits
        self.open_connections = 0
        self._count_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse lookup of its own address (``getfqdn``): the
        dashboard asks no name server anything."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            full = self.open_connections >= self.limits.max_connections
            if not full:
                self.open_connections += 1
        if full:
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 24\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"
                    b"too many connections now"
                )
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count_lock:
                self.open_connections -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        _LOGGER.debug(
            "dashboard: connection from %s ended with an error", client_address, exc_info=True
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Hearth-dashboard"
    sys_version = ""
    error_content_type = "text/plain; charset=utf-8"

    def setup(self) -> None:
        self.request.settimeout(self._server.limits.socket_timeout_s)  # slow clients end
        super().setup()

    def version_string(self) -> str:
        return self.server_version

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    # -- http.server hooks -------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("dashboard %s: %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "")).path  # never the query: it may hold a token
        _LOGGER.debug("dashboard %s %s %s", getattr(self, "command", "-"), path[:200], code)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found while parsing the request (bad request line, too many headers …)."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # answer with a status line even to garbage
        status = HTTPStatus(code)
        self._reply(self._error(code, "bad_request", message or status.phrase), close=True)

    # -- methods -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _not_allowed(self) -> None:
        self._reply(self._error(405, "method_not_allowed", f"{self.command} is not supported"))

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    # -- the request ---------------------------------------------------------------------------

    def _handle(self) -> None:
        try:
            response = self._respond()
        except HttpError as err:
            response = self._error(err.status, err.code, err.message)
        except Exception:
            _LOGGER.exception(
                "dashboard: %s %s failed", self.command, urlsplit(self.path).path[:200]
            )
            response = self._error(
                500, "internal", "the dashboard could not answer this; see the log"
            )
        self._reply(response)

    def _respond(self) -> Response:
        limits = self._server.limits
        access = self._server.access
        headers = Headers(self.headers.items())
        if not access.host_allowed(headers.get("Host")):
            raise HttpError(
                421, "bad_host", "this dashboard answers only to 127.0.0.1, localhost or [::1]"
            )
        if access.needs_token and not access.authorized(headers):
            return self._token_exchange()  # a 401, unless this is the one visit with ?token=
        if len(self.path) > limits.max_url_chars:
            self.close_connection = True
            raise HttpError(
                414, "uri_too_long", f"the address is longer than {limits.max_url_chars} characters"
            )
        path, query = self._address()
        body = b""
        if self.command == "POST":
            if not access.bearer(headers) and not access.same_origin(headers):
                raise HttpError(
                    403,
                    "cross_origin",
                    "a write must come from the dashboard's own page (Origin or Referer must "
                    "match Host)",
                )
            body = self._read_body()
        request = Request(self.command, path, query, headers, body)
        return self._server.app.dispatch(request)

    def _address(self) -> tuple[str, dict[str, list[str]]]:
        try:
            parts = urlsplit(self.path)
            query = (
                parse_qs(parts.query, keep_blank_values=True, max_num_fields=16)
                if parts.query
                else {}
            )
        except ValueError:
            raise HttpError(400, "bad_path", "the address cannot be read") from None
        path = parts.path or "/"
        if not path.startswith("/") or "\x00" in path:
            raise HttpError(400, "bad_path", "the address cannot be read")
        return path, query

    def _token_exchange(self) -> Response:
        if self.command != "GET" or len(self.path) > self._server.limits.max_url_chars:
            return self._unauthorized()
        try:
            path, query = self._address()
        except HttpError:
            return self._unauthorized()
        offered = query.get("token")
        if not offered or not self._server.access.token_matches(offered[-1]):
            return self._unauthorized()
        return self._set_cookie_and_redirect(path, query)

    def _read_body(self) -> bytes:
        limits = self._server.limits
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(
                411, "length_required", "send the body with a Content-Length, not chunked"
            )
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.strip().isdigit():
            self.close_connection = True
            raise HttpError(411, "length_required", "a POST needs a Content-Length")
        length = int(raw)
        if length > limits.max_body_bytes:
            self.close_connection = True
            raise HttpError(
                413,
                "too_large",
                f"the body is {length} bytes; the limit is {limits.max_body_bytes}",
            )
        data = self.rfile.read(length)
        if len(data) != length:
            self.close_connection = True
            raise HttpError(400, "short_body", "the body ended before its Content-Length")
        return data

    def _unauthorized(self) -> Response:
        self.close_connection = True
        return Response(
            401,
            b"401 Unauthorized\n",
            "text/plain; charset=utf-8",
            [("WWW-Authenticate", 'Bearer realm="hearth-dashboard"')],
        )

    def _set_cookie_and_redirect(self, path: str, query: dict[str, list[str]]) -> Response:
        rest = {k: v for k, v in query.items() if k != "token"}
        location = path + ("?" + urlencode(rest, doseq=True) if rest else "")
        cookie = (
            f"{COOKIE_NAME}={self._server.access.cookie_value()}; Path=/; HttpOnly; "
            "SameSite=Strict; Max-Age=31536000"
        )
        return Response(
            303, b"", "text/plain; charset=utf-8", [("Location", location), ("Set-Cookie", cookie)]
        )

    def _error(self, status: int, code: str, message: str) -> Response:
        path = getattr(self, "path", "") or ""
        if path.startswith("/api/") or path == "/api":
            return Response.json({"error": {"code": code, "message": message}}, status)
        title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        return Response.html(error_page(status, title, message, None), status)

    def _reply(self, response: Response, close: bool = False) -> None:
        try:
            self.send_response(response.status)
            for name, value in _SECURITY_HEADERS:
                self.send_header(name, value)
            if not any(name == "Cache-Control" for name, _ in response.headers):
                self.send_header("Cache-Control", "no-store")
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", response.content_type)
            if response.stream is not None:
                self.close_connection = True
                self.send_header("Connection", "close")
                self.send_header("X-Accel-Buffering", "no")
                self.end_headers()
                self.wfile.flush()
                response.stream(self._write)
                return
            self.send_header("Content-Length", str(len(response.body)))
            if close or self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


class DashboardServer:
    """The dashboard for one backend on ``host``:``port`` (0: any free port); ``token`` is
    required beyond loopback. ``start()`` binds and serves on its own threads."""

    def __init__(
        self,
        backend: DashboardBackend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        if token is None and not is_loopback(host):
            raise ValueError(f"the dashboard on {host} needs a token: it reaches beyond loopback")
        problem = token_problem(token) if token is not None else None
        if problem is not None:
            raise ValueError(problem)
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.limits = limits or Limits()
        self.access = Access(token)
        self.hub = EventHub(
            backend.event_json,
            max_clients=self.limits.max_sse_clients,
            client_queue=self.limits.client_queue,
            level_hz=self.limits.level_hz,
        )
        self.app = App(backend, self.hub, self._event_stream)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        """The port it listens on (the requested one until it is started)."""
        if self._httpd is None:
            return self.requested_port
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/"

    def start(self) -> None:
        """Bind (``OSError`` if the port is taken), subscribe to events, serve."""
        self._httpd = _Server((self.host, self.requested_port), self.app, self.access, self.limits)
        self.hub.start()
        self._unsubscribe = self.backend.subscribe(self.hub.offer, self.hub.offer_level)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="dashboard-http",
            daemon=True,
        )
        self._thread.start()
        _LOGGER.info("dashboard on %s", self.url)

    def stop(self, timeout_s: float = 3.0) -> None:
        self._stopping.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.hub.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _event_stream(self) -> Response:
        client = self.hub.connect()
        if client is None:
            raise HttpError(
                503,
                "too_many_streams",
                f"{self.limits.max_sse_clients} live pages are open; close one",
            )

        def stream(write: Writer) -> None:
            try:
                hello = {"type": "hello", **self.app.snapshot(), "info": self.backend.info()}
                write(b"retry: 2000\n\n" + sse_frame(hello).encode("utf-8"))
                last = time.monotonic()
                while not self._stopping.is_set():
                    taken = client.take(timeout_s=1.0)
                    if taken is None:
                        return
                    frames, dropped = taken
                    chunks = [sse_frame({"type": "dropped", "count": dropped})] if dropped else []
                    chunks.extend(frames)
                    if chunks:
                        write("".join(chunks).encode("utf-8"))
                        last = time.monotonic()
                    elif time.monotonic() - last >= self.limits.keepalive_s:
                        write(b": keepalive\n\n")
                        last = time.monotonic()
            except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
                return
            finally:
                self.hub.disconnect(client)

        return Response(
            200, b"", "text/event-stream; charset=utf-8", [("Cache-Control", "no-store")], stream
        )
