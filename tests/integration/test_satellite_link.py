"""A satellite's link, against a real Wyoming server on loopback (wyoming's own
``AsyncTcpServer``) standing in for the satellite: how long a reply waits for ``played``. One
that says ``played`` is not waited for beyond it; one that said it before but not for this reply
is waited for the reply's length and ``played_timeout_s``, then the turn goes on with a
``satellite_no_played`` error; one that never says it (wyoming-satellite 1.0.0) is waited for as
long, with no error."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from broker import free_port
from wyoming.audio import AudioStop
from wyoming.event import Event as WyomingEvent
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.snd import Played

from assistant.config import SatelliteConfig
from assistant.events import Event, TurnFailed
from assistant.rooms.satellite import SatelliteLink, SatelliteSource

RATE_HZ = 22050
TIMEOUT_S = 0.5


class FakeSatellite:
    """Answers ``describe``; says ``played`` after each reply while ``plays`` is set."""

    def __init__(self, port: int) -> None:
        self.plays = threading.Event()
        self.stops = 0
        self._loop = asyncio.new_event_loop()
        self._server = AsyncTcpServer("127.0.0.1", port)
        ready = threading.Event()
        satellite = self

        class Handler(AsyncEventHandler):
            async def handle_event(self, event: WyomingEvent) -> bool:
                if Describe.is_type(event.type):
                    info = Info(
                        satellite=Satellite(
                            name="hall",
                            attribution=Attribution(name="test", url=""),
                            installed=True,
                            description=None,
                            version=None,
                        )
                    )
                    await self.write_event(info.event())
                elif AudioStop.is_type(event.type):
                    satellite.stops += 1
                    if satellite.plays.is_set():
                        await self.write_event(Played().event())
                return True

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._server.start(Handler))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def link() -> Iterator[tuple[SatelliteLink, FakeSatellite, list[Event]]]:
    port = free_port()
    satellite = FakeSatellite(port)
    events: list[Event] = []
    config = SatelliteConfig(name="hall", host="127.0.0.1", port=port, played_timeout_s=TIMEOUT_S)
    link = SatelliteLink(config, SatelliteSource(), events.append, "hey_jarvis")
    link.start()
    assert link.wait_connected(10)
    yield link, satellite, events
    link.stop()
    satellite.close()


def reply(link: SatelliteLink, seconds: float) -> float:
    """Send a reply of ``seconds`` of audio at once and finish it; how long finishing took."""
    link.play(np.zeros(int(RATE_HZ * seconds), dtype=np.int16), RATE_HZ)
    started = time.monotonic()
    link.finish()
    return time.monotonic() - started


def test_a_reply_waits_for_played_and_no_longer(
    link: tuple[SatelliteLink, FakeSatellite, list[Event]],
) -> None:
    hall, satellite, events = link
    satellite.plays.set()
    assert reply(hall, 2.0) < 2.0 + TIMEOUT_S  # played came, at once: no wait for the length
    assert satellite.stops == 1 and events == []


def test_a_satellite_that_stops_saying_played_ends_the_wait_with_an_error(
    link: tuple[SatelliteLink, FakeSatellite, list[Event]],
) -> None:
    hall, satellite, events = link
    satellite.plays.set()
    reply(hall, 0.2)
    satellite.plays.clear()
    waited_s = reply(hall, 0.5)
    assert waited_s >= 0.5 + TIMEOUT_S - 0.05  # the reply's length and played_timeout_s
    failures = [e for e in events if isinstance(e, TurnFailed)]
    assert [e.code for e in failures] == ["satellite_no_played"]
    assert failures[0].message.startswith("satellite hall (127.0.0.1:")
    satellite.plays.set()
    reply(hall, 0.2)  # and the next reply is played as before
    assert len([e for e in events if isinstance(e, TurnFailed)]) == 1


def test_a_satellite_that_never_says_played_is_waited_for_its_reply_without_an_error(
    link: tuple[SatelliteLink, FakeSatellite, list[Event]],
) -> None:
    hall, satellite, events = link
    waited_s = reply(hall, 0.5)
    assert waited_s >= 0.5 + TIMEOUT_S - 0.05
    assert satellite.stops == 1 and events == []
