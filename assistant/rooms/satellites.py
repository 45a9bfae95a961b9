"""The satellites of ``[[rooms.satellites]]`` as rooms of the running Hearth: for each, its
connection, its hearing loop in its own thread, and its seat at the claim board."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from ..events import EventBus
from ..turn.inbox import Listen
from .satellite import SatelliteLink, SatelliteSink, SatelliteSource

if TYPE_CHECKING:
    from ..assemble import Hearth
    from ..config import SatelliteConfig
    from ..turn.pipeline import HearingLoop
    from .board import ClaimBoard

__all__ = ["SatelliteRoom", "start_satellites"]

_LOGGER = logging.getLogger(__name__)


class SatelliteRoom:
    """One satellite: its link, its microphone as a source, its loop."""

    def __init__(self, config: SatelliteConfig, hearth: Hearth, board: ClaimBoard) -> None:
        self.config = config
        self.source = SatelliteSource()
        self.link = SatelliteLink(config, self.source, hearth.bus.emit, hearth.config.wake.model)
        bus = EventBus()  # the room's own events: to the satellite, then on to the Hearth's
        bus.subscribe(self.link.on_event)
        bus.subscribe(hearth.bus.emit)
        self.seat = board.seat(config.name, config.area)
        self.loop: HearingLoop = hearth.hearing_loop(
            SatelliteSink(self.link),
            self.seat,
            room=config.name,
            area=config.area,
            own_hearing=True,
            bus=bus,
        )
        self.link.on_listen = lambda: self.loop.submit(Listen(), f"satellite {config.name}")
        self.link.on_lost = self.loop.cancel
        self._thread = threading.Thread(target=self._hear, name=f"room-{config.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.link.start()

    def _hear(self) -> None:
        """The room's loop; a failure in it is logged, and the room listens again."""
        turns = 0
        while not self.loop.activity.stopping.is_set():
            try:
                turns += self.loop.run(self.source)
                break
            except Exception:
                _LOGGER.exception("room %s failed; listening again", self.config.name)
                time.sleep(1.0)
        _LOGGER.info("room %s stopped after %d turn(s)", self.config.name, turns)

    def stop(self) -> None:
        self.loop.stop()
        self.source.close()
        self.link.stop()
        self.seat.leave()
        self._thread.join(5)


def start_satellites(hearth: Hearth, board: ClaimBoard) -> list[SatelliteRoom]:
    """A room for each configured satellite, started (each connects in the background)."""
    rooms = [SatelliteRoom(cfg, hearth, board) for cfg in hearth.config.rooms.satellites]
    for room in rooms:
        room.start()
    return rooms
