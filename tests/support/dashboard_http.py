"""Talking to a dashboard the way clients do: plain HTTP requests, raw bytes for the ones
``http.client`` will not make, and a server on a free loopback port."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any

from assistant.dashboard.backend import DashboardBackend
from assistant.dashboard.server import DashboardServer, Limits

__all__ = ["TOKEN", "Reply", "raw_request", "request", "start_server"]

TOKEN = "test-token-0123456789abcdef"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    host: str = "127.0.0.1",
) -> Reply:
    """One request; a ``Host`` in ``headers`` replaces the usual one."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest(
            method,
            path,
            skip_host=headers is not None and "Host" in headers,
            skip_accept_encoding=True,
        )
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None and not any(
            k.lower() in ("content-length", "transfer-encoding") for k in headers or {}
        ):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def raw_request(port: int, data: bytes, read_s: float = 5.0) -> bytes:
    """Bytes in, bytes out, until the server closes or ``read_s`` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_s) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def start_server(
    backend: DashboardBackend,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    host: str = "127.0.0.1",
) -> DashboardServer:
    """A started dashboard on a free port of ``host``."""
    server = DashboardServer(backend, host, 0, token=token, limits=limits)
    server.start()
    return server
