"""Wyoming satellites as rooms of one Hearth.

Hearth connects to each configured satellite as Home Assistant does: ``describe`` (the satellite
answers ``info``), then ``run-satellite``; the satellite streams its microphone as
``audio-chunk`` events. Each satellite gets its own hearing loop (its own wake word detector and
endpointer; speech-to-text, the router, the language model and the voice are shared), and its
own seat at the claim board. What the loop does goes back to the satellite that heard it:
``detection`` on the wake word, ``voice-stopped`` when the command ends, ``transcript``,
``synthesize`` with the reply text, the reply as ``audio-start``/``audio-chunk``/``audio-stop``,
``error`` when the turn fails, and the ``timer-*`` events of the timers set there. A satellite
that asks to listen without the wake word (``run-pipeline`` from speech-to-text: it heard its
own wake word) gets a turn at once.

Faults end the turn, never the daemon: a satellite that disconnects mid-turn cancels its turn
(nothing half-heard is acted on) with a ``satellite_lost`` error event; one that sends a
malformed or oversized event is disconnected with ``satellite_bad_event``; one that has said
``played`` before but does not for a reply gets ``satellite_no_played`` once the reply's length
and ``played_timeout_s`` have passed. Hearth reconnects with backoff (1 s doubling to 30 s);
the other rooms keep working throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

import numpy as np

from ..config import SatelliteConfig
from ..events import (
    CommandEnded,
    Event,
    ListenStarted,
    Reply,
    TimerChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
    WakeDetected,
)
from ..voice.audio import FRAME_SAMPLES, SAMPLE_RATE_HZ
from .timers import wyoming_timer_event

__all__ = ["SatelliteLink", "SatelliteSink", "SatelliteSource"]

_LOGGER = logging.getLogger(__name__)

MAX_HEADER_BYTES: Final = 64 * 1024  # one event's JSON line
MAX_BODY_BYTES: Final = 1024 * 1024  # its data and payload
_CONNECT_S: Final = 5.0
_SILENT_S: Final = 10.0  # a connected satellite that sends nothing this long is lost
_MAX_BACKOFF_S: Final = 30.0
_QUEUED_CHUNKS: Final = 1000  # about a minute of audio waits for a busy loop; older is dropped


class BadEvent(ValueError):
    """What a satellite sent is not a Wyoming event Hearth will read."""


class SatelliteSource:
    """The satellite's microphone as 80 ms frames; an empty frame while it is away."""

    live = True

    def __init__(self) -> None:
        self.last_beat = 0.0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._closed = threading.Event()
        self.connected = False

    def push(self, samples: np.ndarray) -> None:
        """16 kHz mono int16 samples from the satellite (its connection's thread)."""
        try:
            self._queue.put_nowait(samples)
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            self._queue.put_nowait(samples)

    def away(self) -> None:
        """The satellite went away: what was half-heard is dropped."""
        self.connected = False
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    def frames(self) -> Iterator[np.ndarray]:
        pending = np.zeros(0, dtype=np.int16)
        empty = np.zeros(0, dtype=np.int16)
        while not self._closed.is_set():
            try:
                item = self._queue.get(timeout=1.0 if self.connected else 0.08)
            except queue.Empty:
                yield empty  # nothing heard: a chance for commands between frames
                continue
            self.last_beat = time.monotonic()
            if item is None:
                pending = empty
                yield empty
                continue
            pending = np.concatenate([pending, item])
            while len(pending) >= FRAME_SAMPLES:
                yield pending[:FRAME_SAMPLES]
                pending = pending[FRAME_SAMPLES:]

    def close(self) -> None:
        self._closed.set()
        self.away()


class SatelliteLink:
    """One satellite's Wyoming connection, supervised in its own thread with its own asyncio
    loop. ``on_event`` takes the room's events (from its own bus) and tells the satellite."""

    def __init__(
        self,
        config: SatelliteConfig,
        source: SatelliteSource,
        emit: Callable[[Event], None],
        wake_name: str,
    ) -> None:
        self.config = config
        self.source = source
        self._emit = emit
        self._wake_name = wake_name
        self.on_listen: Callable[[], None] = lambda: None  # it heard its own wake word
        self.on_lost: Callable[[], None] = lambda: None  # cancel the turn in progress
        self.info: dict[str, Any] = {}
        self._loop = asyncio.new_event_loop()
        self._writer: asyncio.StreamWriter | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"satellite-{config.name}", daemon=True
        )
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._turn: str | None = None
        self._played = threading.Event()
        self._ever_played = False
        self._speaking_since: float | None = None
        self._sent_s = 0.0
        self.connections = 0

    @property
    def where(self) -> str:
        return f"satellite {self.config.name} ({self.config.host}:{self.config.port})"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- life --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        self._stopping.set()
        self._loop.call_soon_threadsafe(lambda: None)
        self._thread.join(timeout_s)

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._supervise())
        finally:
            self._loop.close()

    async def _supervise(self) -> None:
        backoff_s = 1.0
        while not self._stopping.is_set():
            try:
                await self._session()
                backoff_s = 1.0
            except BadEvent as err:
                self._lost("satellite_bad_event", f"{self.where} sent {err}; reconnecting")
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as err:
                what = str(err) or type(err).__name__
                if self.connected:
                    self._lost("satellite_lost", f"{self.where} went away ({what}); reconnecting")
                else:
                    _LOGGER.info(
                        "%s not reachable (%s); retrying in %.0f s", self.where, what, backoff_s
                    )
                backoff_s = min(_MAX_BACKOFF_S, backoff_s * 2)
            finally:
                self._disconnect()
            deadline = time.monotonic() + backoff_s
            while not self._stopping.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)

    async def _session(self) -> None:
        from wyoming.info import Describe, Info
        from wyoming.satellite import RunSatellite

        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.config.host, self.config.port, limit=MAX_HEADER_BYTES),
            _CONNECT_S,
        )
        self._writer = writer
        await self._write(Describe().event())
        while True:
            event = await asyncio.wait_for(read_event(reader), _CONNECT_S)
            if event is None:
                raise ConnectionResetError("closed before its info")
            if Info.is_type(event.type):
                self.info = dict(event.data)
                break
        await self._write(RunSatellite().event())
        self.connections += 1
        self._connected.set()
        self.source.connected = True
        _LOGGER.info("%s connected; its microphone is the room's", self.where)
        while not self._stopping.is_set():
            try:
                event = await asyncio.wait_for(read_event(reader), _SILENT_S)
            except TimeoutError:
                raise TimeoutError(f"nothing for {_SILENT_S:g} s") from None
            if event is None:
                raise ConnectionResetError("connection closed")
            self._received(event)

    def _received(self, event: Any) -> None:
        from wyoming.audio import AudioChunk, AudioChunkConverter
        from wyoming.ping import Ping, Pong
        from wyoming.pipeline import PipelineStage, RunPipeline
        from wyoming.snd import Played

        if AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            if (chunk.rate, chunk.width, chunk.channels) != (SAMPLE_RATE_HZ, 2, 1):
                chunk = AudioChunkConverter(rate=SAMPLE_RATE_HZ, width=2, channels=1).convert(chunk)
            self.source.push(np.frombuffer(chunk.audio, dtype="<i2").copy())
        elif Played.is_type(event.type):
            self._ever_played = True
            self._played.set()
        elif RunPipeline.is_type(event.type):
            try:
                run = RunPipeline.from_event(event)
            except (ValueError, KeyError, TypeError) as err:
                raise BadEvent(f"an unusable run-pipeline ({err})") from None
            if run.start_stage == PipelineStage.ASR:
                self.on_listen()
        elif Ping.is_type(event.type):
            self._send(Pong(text=event.data.get("text")).event())

    def _lost(self, code: str, message: str) -> None:
        _LOGGER.warning("%s", message)
        turn = self._turn
        if turn is not None:
            self.on_lost()
        self._emit(TurnFailed(turn=turn, code=code, message=message))

    def _disconnect(self) -> None:
        was = self.connected
        self._connected.clear()
        self.source.away()
        self._played.set()  # nothing waits for a reply that cannot be played
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._writer = None
        if was:
            _LOGGER.info("%s disconnected", self.where)

    # -- to the satellite --------------------------------------------------------------------

    async def _write(self, event: Any) -> None:
        from wyoming.event import async_write_event

        if self._writer is not None:
            await async_write_event(event, self._writer)

    def _send(self, event: Any) -> None:
        """Send from any thread; dropped when the satellite is away."""
        if not self.connected or self._loop.is_closed():
            return

        async def write() -> None:
            try:
                await self._write(event)
            except (OSError, RuntimeError) as err:
                _LOGGER.info("%s: could not send %s: %s", self.where, event.type, err)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(write(), self._loop)

    def on_event(self, event: Event) -> None:
        """The room's own events (its bus), as Home Assistant tells a satellite of its run."""
        from wyoming.asr import Transcript as WyomingTranscript
        from wyoming.error import Error
        from wyoming.tts import Synthesize
        from wyoming.vad import VoiceStopped
        from wyoming.wake import Detection

        if isinstance(event, WakeDetected | ListenStarted):
            self._turn = event.turn
            if isinstance(event, WakeDetected):
                self._send(Detection(name=self._wake_name).event())
        elif isinstance(event, CommandEnded):
            self._send(VoiceStopped().event())
        elif isinstance(event, Transcript):
            self._send(WyomingTranscript(text=event.text).event())
        elif isinstance(event, Reply) and event.text:
            self._send(Synthesize(text=event.text).event())
        elif isinstance(event, TurnFailed) and event.turn is not None:
            self._send(Error(text=event.message, code=event.code).event())
        elif isinstance(event, TimerChanged):
            self._send(wyoming_timer_event(event))
        elif isinstance(event, TurnFinished):
            self._turn = None

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        from wyoming.audio import AudioChunk, AudioStart

        if not self.connected:
            return
        if self._speaking_since is None:
            self._speaking_since = time.monotonic()
            self._sent_s = 0.0
            self._played.clear()
            self._send(AudioStart(rate=sample_rate_hz, width=2, channels=1).event())
        data = np.asarray(audio, dtype="<i2").tobytes()
        self._send(AudioChunk(rate=sample_rate_hz, width=2, channels=1, audio=data).event())
        self._sent_s += len(audio) / sample_rate_hz

    def finish(self) -> None:
        """The reply is all sent: end it, and wait until the satellite has played it."""
        from wyoming.audio import AudioStop

        started = self._speaking_since
        if started is None:
            return
        self._speaking_since = None
        self._send(AudioStop().event())
        timeout_s = max(
            0.0, started + self._sent_s + self.config.played_timeout_s - time.monotonic()
        )
        if self._played.wait(timeout_s) or not self.connected:
            return
        if self._ever_played:
            message = (
                f"{self.where} did not say the reply was played within "
                f"{self._sent_s + self.config.played_timeout_s:.1f} s; going on"
            )
            _LOGGER.warning("%s", message)
            self._emit(TurnFailed(turn=self._turn, code="satellite_no_played", message=message))

    def cancel(self) -> None:
        from wyoming.audio import AudioStop

        if self._speaking_since is not None:
            self._speaking_since = None
            self._send(AudioStop().event())
            self._played.set()


class SatelliteSink:
    """The satellite's speaker: replies go back as Wyoming audio events."""

    def __init__(self, link: SatelliteLink) -> None:
        self._link = link

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        self._link.play(audio, sample_rate_hz)

    def drain(self) -> None:
        self._link.finish()

    def cancel(self) -> None:
        self._link.cancel()

    def close(self) -> None:
        self._link.cancel()


async def read_event(reader: asyncio.StreamReader) -> Any:
    """One Wyoming event, or ``None`` at the end of the stream; :class:`BadEvent` for a header
    that is not JSON, has no type, or announces more than :data:`MAX_BODY_BYTES`."""
    from wyoming.event import Event as WyomingEvent

    try:
        line = await reader.readline()
    except ValueError:  # the line is longer than the reader's limit
        raise BadEvent(f"an event header longer than {MAX_HEADER_BYTES} bytes") from None
    if not line:
        return None
    try:
        header = json.loads(line)
    except ValueError:
        raise BadEvent("an event header that is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise BadEvent("an event with no type")
    data = header.get("data") or {}
    lengths = [header.get("data_length") or 0, header.get("payload_length") or 0]
    if not isinstance(data, dict) or not all(isinstance(n, int) and n >= 0 for n in lengths):
        raise BadEvent(f"a {header['type']} event with malformed data")
    if sum(lengths) > MAX_BODY_BYTES:
        raise BadEvent(
            f"a {header['type']} event of {sum(lengths)} bytes (at most {MAX_BODY_BYTES})"
        )
    if lengths[0]:
        try:
            extra = json.loads(await reader.readexactly(lengths[0]))
        except ValueError:
            raise BadEvent(f"a {header['type']} event whose data is not JSON") from None
        if not isinstance(extra, dict):
            raise BadEvent(f"a {header['type']} event whose data is not an object")
        data = {**data, **extra}
    payload = await reader.readexactly(lengths[1]) if lengths[1] else None
    return WyomingEvent(type=header["type"], data=data, payload=payload)
