"""The dashboard's HTTP layer with a fake backend: errors, the token rule, the Host and
same-origin rules, sizes, bounded streams, and that nothing ever shows a traceback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from dashboard_fake import FakeBackend
from dashboard_http import TOKEN, raw_request, request, start_server

from assistant.dashboard.security import COOKIE_NAME, Access
from assistant.dashboard.server import DashboardServer, Limits

PAGES = ["/", "/turns", "/turns/1", "/turns/last", "/how", "/energy", "/home"]
API = [
    "/api/info",
    "/api/live",
    "/api/turns",
    "/api/turns/1",
    "/api/energy",
    "/api/devices",
    "/api/profiles",
    "/api/stats",
]


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def server(backend: FakeBackend) -> Iterator[DashboardServer]:
    instance = start_server(backend)
    yield instance
    instance.stop()


@pytest.fixture
def token_server(backend: FakeBackend) -> Iterator[DashboardServer]:
    instance = start_server(backend, token=TOKEN)
    yield instance
    instance.stop()


def origin(server: DashboardServer) -> dict[str, str]:
    return {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}


def no_traceback(body: bytes) -> None:
    assert b"Traceback" not in body and b'File "' not in body


def test_every_page_and_api_answers(server: DashboardServer) -> None:
    for path in PAGES:
        reply = request(server.port, "GET", path)
        assert reply.status == 200, path
        assert reply.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in reply.headers["content-security-policy"]
        assert b"http://" not in reply.body and b"https://" not in reply.body  # no remote asset
    for path in API:
        reply = request(server.port, "GET", path)
        assert reply.status == 200, path
        assert reply.headers["content-type"].startswith("application/json")
        reply.json()


def test_api_bodies_are_the_backends(server: DashboardServer, backend: FakeBackend) -> None:
    assert request(server.port, "GET", "/api/turns/2").json() == json.loads(
        json.dumps(backend.turn("2"))
    )
    listed = request(server.port, "GET", "/api/turns?limit=2").json()["turns"]
    assert [t["id"] for t in listed] == [3, 2]
    older = request(server.port, "GET", "/api/turns?limit=2&before=2").json()["turns"]
    assert [t["id"] for t in older] == [1]
    days = request(server.port, "GET", "/api/energy?days=7").json()["days"]
    assert days == json.loads(json.dumps(backend.days(7)))


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/nothing", 404, "not_found"),
        ("/api/turns/999", 404, "no_turn"),
        ("/api/turns/..%2f..%2fetc", 400, "bad_turn"),
        ("/api/turns/1;drop", 400, "bad_turn"),
        ("/api/turns?limit=0", 400, "bad_parameter"),
        ("/api/turns?limit=abc", 400, "bad_parameter"),
        ("/api/turns?limit=99999999999999", 400, "bad_parameter"),
        ("/api/turns?before=-1", 400, "bad_parameter"),
        ("/api/energy?days=367", 400, "bad_parameter"),
        ("/api/turns/1/audio/secret", 404, "not_found"),
        ("/api/turns/1/audio/reply", 404, "no_audio"),
        ("/static/../../etc/passwd", 404, "not_found"),
        ("/static/nope.js", 404, "not_found"),
    ],
)
def test_bad_api_requests_get_a_json_error(
    server: DashboardServer, path: str, status: int, code: str
) -> None:
    reply = request(server.port, "GET", path)
    assert reply.status == status
    assert reply.headers["content-type"].startswith("application/json") or not path.startswith(
        "/api"
    )
    if path.startswith("/api"):
        assert reply.json()["error"]["code"] == code
    no_traceback(reply.body)


def test_bad_pages_get_an_error_page(server: DashboardServer) -> None:
    for path, status in (
        ("/nope", 404),
        ("/turns/zzz!", 400),
        ("/turns/424242", 404),
        ("/energy?days=x", 400),
    ):
        reply = request(server.port, "GET", path)
        assert reply.status == status, path
        assert reply.headers["content-type"].startswith("text/html")
        assert b"<h1>" in reply.body
        no_traceback(reply.body)


def test_a_backend_bug_is_a_500_without_traceback(
    server: DashboardServer, backend: FakeBackend
) -> None:
    def broken(limit: int, before: int | None) -> list[dict[str, object]]:
        raise RuntimeError("secret internal detail")

    backend.turns = broken  # type: ignore[method-assign]
    for path in ("/api/turns", "/turns"):
        reply = request(server.port, "GET", path)
        assert reply.status == 500
        assert b"secret internal detail" not in reply.body
        no_traceback(reply.body)


def test_methods_and_malformed_requests(server: DashboardServer) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        reply = request(server.port, method, "/api/turns")
        assert reply.status == 405 and reply.json()["error"]["code"] == "method_not_allowed"
    assert request(server.port, "POST", "/api/turns", origin(server), b"{}").status == 405
    assert request(server.port, "HEAD", "/api/turns").status == 200
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        b"BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ):
        answer = raw_request(server.port, raw)
        assert answer.startswith(b"HTTP/1."), answer[:60]
        assert b" 200 " not in answer.split(b"\r\n")[0]
        no_traceback(answer)


def test_sizes_are_bounded(server: DashboardServer) -> None:
    many_fields = "/api/turns?" + "&".join(f"k{i}=1" for i in range(40))
    reply = request(server.port, "GET", many_fields)
    assert reply.status == 400 and reply.json()["error"]["code"] == "bad_path"
    long_path = "/api/turns?x=" + "a" * 3000
    assert request(server.port, "GET", long_path).status == 414
    huge_line = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert raw_request(server.port, huge_line).startswith(b"HTTP/1.1 414")
    many_headers = (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(b"X-%d: y\r\n" % i for i in range(150))
        + b"\r\n"
    )
    assert raw_request(server.port, many_headers).startswith(b"HTTP/1.1 431")
    headers = origin(server)
    big = json.dumps({"text": "a" * 9000}).encode()
    reply = request(server.port, "POST", "/api/ask", headers, big)
    assert reply.status == 413 and reply.json()["error"]["code"] == "too_large"
    reply = request(
        server.port,
        "POST",
        "/api/ask",
        {**headers, "Transfer-Encoding": "chunked"},
        b"5\r\nhello\r\n0\r\n\r\n",
    )
    assert reply.status == 411
    answer = raw_request(
        server.port,
        f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nOrigin: http://127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 411")
    too_long_text = json.dumps({"text": "b" * 1001}).encode()
    assert request(server.port, "POST", "/api/ask", headers, too_long_text).status == 400


def test_malformed_writes(server: DashboardServer, backend: FakeBackend) -> None:
    headers = origin(server)
    cases = [
        (b"{not json", headers, 400, "bad_json"),
        (b"[1, 2]", headers, 400, "bad_json"),
        (b'{"text": 5}', headers, 400, "bad_command"),
        (b'{"text": "   "}', headers, 400, "bad_command"),
        (b"\xff\xfe", headers, 400, "bad_encoding"),
        (b'{"text": "x"}', {**headers, "Content-Type": "text/plain"}, 415, "unsupported_type"),
        (b'{"text": "a\\u0000b"}', headers, 400, "bad_command"),  # refused by the backend
    ]
    for body, hdrs, status, code in cases:
        reply = request(server.port, "POST", "/api/ask", hdrs, body)
        assert (reply.status, reply.json()["error"]["code"]) == (status, code), body
    assert backend.asked == []
    bad_profiles = [
        b'{"name": "../x"}',
        b'{"name": 3}',
        json.dumps({"name": "p" * 65}).encode(),
        b'{"name": "nosuch"}',
    ]
    for body in bad_profiles:
        reply = request(server.port, "POST", "/api/profile", headers, body)
        assert reply.status in (400, 404), body


def test_writes_work_from_the_same_origin(server: DashboardServer, backend: FakeBackend) -> None:
    reply = request(server.port, "POST", "/api/ask", origin(server), b'{"text": "what time is it"}')
    assert reply.status == 202 and reply.json()["accepted"] is True
    assert backend.asked == ["what time is it"]
    referer = {
        "Referer": f"http://127.0.0.1:{server.port}/home",
        "Content-Type": "application/json",
    }
    assert (
        request(server.port, "POST", "/api/profile", referer, b'{"name": "homework"}').json()[
            "current"
        ]
        == "homework"
    )
    form = {
        **origin(server),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
    }
    reply = request(server.port, "POST", "/api/ask", form, b"text=turn+on+the+light")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    assert backend.asked[-1] == "turn on the light"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://evil.example", "Referer": "http://127.0.0.1:{port}/home"},
    ],
)
def test_writes_from_elsewhere_are_refused(
    server: DashboardServer, backend: FakeBackend, headers: dict[str, str]
) -> None:
    headers = {k: v.format(port=server.port) for k, v in headers.items()}
    reply = request(
        server.port,
        "POST",
        "/api/ask",
        {**headers, "Content-Type": "application/json"},
        b'{"text": "unlock the door"}',
    )
    assert reply.status == 403 and reply.json()["error"]["code"] == "cross_origin"
    assert backend.asked == []


def test_loopback_without_token_answers_only_loopback_hosts(server: DashboardServer) -> None:
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
        assert request(server.port, "GET", "/api/info", {"Host": host}).status == 200, host
    for host in (
        "evil.example",
        f"evil.example:{server.port}",
        "192.168.1.5",
        "127.0.0.1.evil.example",
    ):
        reply = request(server.port, "GET", "/api/turns", {"Host": host})
        assert reply.status == 421 and b"kitchen" not in reply.body, host


def test_token_rule(token_server: DashboardServer) -> None:
    port = token_server.port
    for path in [*PAGES, *API, "/api/events", "/static/app.css", "/nope", "/api/turns/999"]:
        reply = request(port, "GET", path)
        assert reply.status == 401, path
        assert reply.body == b"401 Unauthorized\n"  # and nothing else
        assert "set-cookie" not in reply.headers
    assert request(port, "GET", "/api/turns?x=" + "a" * 3000).status == 401  # not 414
    assert (
        request(port, "GET", "/api/turns?" + "&".join(f"k{i}=1" for i in range(40))).status == 401
    )
    assert request(port, "GET", "/api/turns", {"Host": "evil.example"}).status == 401
    wrong = request(port, "GET", "/api/turns", {"Authorization": "Bearer wrong-token-0123456789"})
    assert wrong.status == 401
    assert request(port, "GET", "/?token=wrong").status == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert request(port, "GET", "/api/turns", bearer).status == 200
    assert request(port, "GET", "/api/turns", {"Host": "hearth.lan:8741", **bearer}).status == 200
    # ?token= once: a cookie, and the token leaves the address
    once = request(port, "GET", f"/turns?limit=5&token={TOKEN}")
    assert once.status == 303 and once.headers["location"] == "/turns?limit=5"
    cookie = once.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    jar = {"Cookie": cookie.split(";")[0]}
    assert request(port, "GET", "/turns", jar).status == 200
    assert request(port, "GET", "/api/turns", {"Cookie": f"{COOKIE_NAME}=forged"}).status == 401
    # writes: bearer needs no Origin (no browser adds it on its own); a cookie needs the origin
    ask = b'{"text": "hello there"}'
    assert (
        request(
            port, "POST", "/api/ask", {**bearer, "Content-Type": "application/json"}, ask
        ).status
        == 202
    )
    assert (
        request(port, "POST", "/api/ask", {**jar, "Content-Type": "application/json"}, ask).status
        == 403
    )
    forged = {
        **jar,
        "Authorization": "Bearer not-the-token-at-all",
        "Content-Type": "application/json",
    }
    assert request(port, "POST", "/api/ask", forged, ask).status == 403
    same = {**jar, "Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"}
    assert request(port, "POST", "/api/ask", same, ask).status == 202
    assert (
        request(
            port,
            "POST",
            "/api/ask",
            {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"},
            ask,
        ).status
        == 401
    )


def test_the_server_itself_refuses_an_open_bind_without_a_token(backend: FakeBackend) -> None:
    with pytest.raises(ValueError, match="needs a token"):
        DashboardServer(backend, "0.0.0.0", 0)
    with pytest.raises(ValueError, match="16 or more"):
        DashboardServer(backend, "0.0.0.0", 0, token="short")
    assert Access(TOKEN).host_allowed("anything") and not Access(None).host_allowed("lan-name")


def test_sse_clients_are_bounded(backend: FakeBackend) -> None:
    server = start_server(backend, limits=Limits(max_sse_clients=2))
    socks = []
    try:
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(
                f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
            )
            assert b"200 OK" in sock.recv(4096)
            socks.append(sock)
        third = request(server.port, "GET", "/api/events")
        assert third.status == 503 and third.json()["error"]["code"] == "too_many_streams"
        socks.pop().close()
        deadline = time.monotonic() + 5
        while server.hub.client_count > 1 and time.monotonic() < deadline:
            backend.emit(
                {"v": 1, "type": "state", "turn": None, "ts": time.time(), "state": "idle"}
            )
            time.sleep(0.1)
        assert server.hub.client_count == 1
    finally:
        for sock in socks:
            sock.close()
        server.stop()


def test_connections_are_bounded(backend: FakeBackend) -> None:
    server = start_server(backend, limits=Limits(max_connections=3, socket_timeout_s=2.0))
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.3)
        extra = raw_request(server.port, b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3)
        assert extra.startswith(b"HTTP/1.1 503")
        for sock in idle:
            sock.close()
        time.sleep(2.5)  # the idle connections time out on the server too
        assert request(server.port, "GET", "/api/info").status == 200
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_a_slow_page_loses_old_events_not_the_audio_thread(backend: FakeBackend) -> None:
    server = start_server(backend, limits=Limits(client_queue=8))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        time.sleep(0.3)
        for number in range(20000):  # never read: the socket fills, then the queue
            backend.emit(
                {
                    "v": 1,
                    "type": "state",
                    "turn": None,
                    "ts": time.time(),
                    "state": f"s{number}" + "x" * 200,
                }
            )
        deadline = time.monotonic() + 10
        while server.hub.stats.client_drops == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.hub.stats.client_drops > 0
    finally:
        sock.close()
        server.stop()


def test_stop_ends_open_streams(backend: FakeBackend) -> None:
    server = start_server(backend)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    seen = b""
    while b"hello" not in seen:
        seen += sock.recv(65536)
    stopper = threading.Thread(target=server.stop)
    started = time.monotonic()
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive() and time.monotonic() - started < 4
    sock.close()


def test_starting_asks_no_name_server(
    backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HTTPServer`` would look its own address up (``getfqdn``); the dashboard does not."""

    def refuse(*args: object) -> str:
        raise AssertionError(f"a name lookup: {args}")

    monkeypatch.setattr(socket, "getfqdn", refuse)
    monkeypatch.setattr(socket, "gethostbyaddr", refuse)
    server = start_server(backend)
    try:
        assert request(server.port, "GET", "/api/info").status == 200
    finally:
        server.stop()
