"""A real Wyoming server (wyoming's ``AsyncTcpServer``) on loopback that records every event
it is sent, in its own thread: the event service a wyoming-satellite forwards to
(``--event-uri``)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncTcpServer


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    type: str
    data: dict[str, Any]


class EventService:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._server = AsyncTcpServer("127.0.0.1", port)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-service", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the Wyoming event service did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        service = self

        class Recorder(AsyncEventHandler):
            async def handle_event(self, event: Event) -> bool:
                service.received.append(Received(time.monotonic(), event.type, dict(event.data)))
                return True

        self._loop.run_until_complete(self._server.start(Recorder))
        self._ready.set()
        self._loop.run_forever()

    def of_type(self, prefix: str) -> list[Received]:
        return [r for r in self.received if r.type.startswith(prefix)]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
