"""The sound card through sounddevice (PortAudio): the microphone and the speaker, supervised.

Each device has its own supervised loop : a driver error, a device that vanishes or a
microphone that goes quiet never raises into the pipeline. The device is closed, the change is
reported as a :class:`~assistant.voice.supervise.Health`, and it is opened again after a growing
delay (:class:`~assistant.voice.supervise.Backoff`, 1 s doubling to 30 s). The microphone is an
:class:`~assistant.voice.audio.AudioSource` and the speaker an
:class:`~assistant.voice.audio.AudioSink`, like the files.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from enum import Enum
from typing import Any, Final

import numpy as np

from ..errors import DeviceMissingError
from .audio import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE_HZ
from .supervise import Backoff, Health, HealthCallback

__all__ = ["MicrophoneSource", "SpeakerSink", "list_devices"]

_LOGGER = logging.getLogger(__name__)

_TICK_S: Final = 0.5  # while the microphone is away, the audio loop wakes this often
NO_AUDIO: Final = np.zeros(0, dtype=np.int16)  # that wake-up: a frame with no samples


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as err:  # PortAudio itself is missing
        raise DeviceMissingError(
            "portaudio_missing",
            f"the PortAudio library is missing ({err}); install it: apt-get install libportaudio2",
        ) from None
    return sounddevice


def list_devices() -> list[dict[str, Any]]:
    """Audio devices as sounddevice reports them (name, index, input/output channels)."""
    sd = _sounddevice()
    return [dict(d) for d in sd.query_devices()]


def _find(sounddevice: Any, device: str | int | None, kind: str, missing: Exception) -> Any:
    """``(module, device info)`` for the ``kind`` ("input"/"output") device; ``missing`` is
    raised if there is none. ``sounddevice`` replaces the real module (tests)."""
    sd = sounddevice if sounddevice is not None else _sounddevice()
    try:
        return sd, sd.query_devices(device, kind=kind)
    except (ValueError, sd.PortAudioError):
        raise missing from None


class _Signal(Enum):
    """What the microphone's queue carries besides audio."""

    CLOSED = "closed"  # close() was called
    ENDED = "ended"  # PortAudio ended the stream by itself (device gone, driver error)


class MicrophoneSource:
    """The microphone through sounddevice, 16 kHz mono int16 in 80 ms blocks, supervised.

    The PortAudio callback only copies blocks into a bounded queue; if the consumer falls more than
    ``buffer_s`` behind, the oldest audio is dropped and counted in :attr:`dropped_frames`.

    :meth:`frames` never raises for a device fault. When the stream cannot be opened, PortAudio
    ends it, or no block arrives for ``stall_s``, it closes the stream, reports a
    :class:`~assistant.voice.supervise.Health` to ``on_health``, sleeps for the next ``retry`` delay
    (1 s doubling to 30 s by default) and opens it again; the first block that arrives after that
    is reported as a recovery. :attr:`last_beat` is the monotonic time of the loop's last sign of
    life (a frame handed over, or a step of the wait), so a watchdog can tell a loop that waits
    for its device from one that froze. ``sounddevice`` replaces the module (tests).
    """

    live = True

    def __init__(
        self,
        device: str | int | None = None,
        buffer_s: float = 30.0,
        *,
        stall_s: float = 3.0,
        retry: Backoff | None = None,
        on_health: HealthCallback | None = None,
        sounddevice: Any = None,
    ) -> None:
        what = f"input device {device!r}" if device is not None else "no microphone found"
        sd, info = _find(
            sounddevice,
            device,
            "input",
            DeviceMissingError(
                "no_microphone",
                f"{what}: use --input FILE.wav (or --input - for raw PCM on stdin) and "
                "see `hearth devices` for the devices present",
            ),
        )
        self._sd = sd
        self._device = device
        self.device_name = str(info["name"])
        self._stall_s = stall_s
        self._retry = retry or Backoff(1.0, 30.0)
        self._on_health = on_health
        self._queue: queue.Queue[np.ndarray | _Signal] = queue.Queue(
            maxsize=int(buffer_s * 1000 / FRAME_MS)
        )
        self.dropped_frames = 0
        self.last_beat = time.monotonic()
        self._stream: Any = None
        self._generation = 0  # which stream the ENDED signal belongs to
        self._failures = 0  # failed tries in the current outage
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # -- PortAudio's thread --------------------------------------------------------------------

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        frame = indata[:, 0].copy()
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped_frames += 1
            try:
                self._queue.get_nowait()
                self._queue.put_nowait(frame)
            except (queue.Empty, queue.Full):
                pass

    def _ended(self, generation: int) -> None:
        if generation == self._generation and not self._closed.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(_Signal.ENDED)

    # -- the audio thread ----------------------------------------------------------------------

    def frames(self) -> Iterator[np.ndarray]:
        while not self._closed.is_set():
            self.last_beat = time.monotonic()
            if self._stream is None:
                problem = self._open()
                if problem is not None:
                    yield from self._lost(problem)
                    continue
            try:
                item: np.ndarray | _Signal | None = self._queue.get(timeout=self._stall_s)
            except queue.Empty:
                item = None
            if item is _Signal.CLOSED or self._closed.is_set():
                return
            if item is None:
                yield from self._lost(f"no audio from {self.device_name} for {self._stall_s:g} s")
                continue
            if item is _Signal.ENDED:
                yield from self._lost(f"the input stream from {self.device_name} ended")
                continue
            if self._failures:
                self._recovered()
            self.last_beat = time.monotonic()
            yield item

    def _open(self) -> str | None:
        """Open and start a stream; what went wrong, or ``None``."""
        with self._lock:
            if self._closed.is_set():
                return None
            self._generation += 1
            generation = self._generation
            stream = None
            try:
                stream = self._sd.InputStream(
                    samplerate=SAMPLE_RATE_HZ,
                    channels=1,
                    dtype="int16",
                    blocksize=FRAME_SAMPLES,
                    device=self._device,
                    callback=self._callback,
                    finished_callback=lambda: self._ended(generation),
                )
                stream.start()
            except Exception as err:  # the driver's own errors: PortAudioError, OSError, ...
                if stream is not None:
                    _close_quietly(stream)
                return f"cannot open {self.device_name}: {err}"
            self._stream = stream
            return None

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
            self._generation += 1  # a late ENDED from this stream is ignored
        if stream is not None:
            _close_quietly(stream)

    def _lost(self, problem: str) -> Iterator[np.ndarray]:
        """Close the stream, report, and wait until the next try, yielding an empty frame every
        ``_TICK_S`` so that the audio loop can run commands (``cmd/ask``, a reload) meanwhile."""
        self._close_stream()
        delay_s = self._retry.next_delay()
        self._failures += 1
        if self._failures == 1:
            _LOGGER.warning("microphone lost: %s; retrying in %g s", problem, delay_s)
        else:
            _LOGGER.info("microphone still lost: %s; retrying in %g s", problem, delay_s)
        self._report(Health("microphone", False, problem, delay_s, self._failures))
        deadline = time.monotonic() + delay_s
        while not self._closed.is_set() and (left_s := deadline - time.monotonic()) > 0:
            self._closed.wait(min(left_s, _TICK_S))
            self.last_beat = time.monotonic()
            if not self._closed.is_set():
                yield NO_AUDIO

    def _recovered(self) -> None:
        message = f"audio from {self.device_name} again after {self._failures} failed tries"
        _LOGGER.info("microphone back: %s", message)
        self._failures = 0
        self._retry.reset()
        self._report(Health("microphone", True, message))

    def _report(self, health: Health) -> None:
        if self._on_health is None:
            return
        try:
            self._on_health(health)
        except Exception:  # a listener must not break the audio loop
            _LOGGER.exception("microphone health listener failed")

    def close(self) -> None:
        self._closed.set()
        self._close_stream()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_Signal.CLOSED)


def _close_quietly(stream: Any) -> None:
    """Stop and close a PortAudio stream that may already be broken."""
    for step in (stream.stop, stream.close):
        try:
            step()
        except Exception as err:  # the driver's own errors; the stream is given up anyway
            _LOGGER.debug("closing an audio stream: %s", err)


_QUEUED_CHUNKS = 8  # slices of a quarter of a second each (see assistant.turn.speech)


class SpeakerSink:
    """The speaker through sounddevice, supervised; a player thread plays queued chunks in order.

    A failing device never reaches the caller: when opening the stream or writing to it fails, the
    stream is closed, a :class:`~assistant.voice.supervise.Health` goes to ``on_health``, and the
    audio is dropped (counted in :attr:`dropped_chunks`) until the next ``retry`` delay has passed;
    the next chunk after that opens the device again, and the first one played is reported as a
    recovery. ``sounddevice`` replaces the module (tests).
    """

    def __init__(
        self,
        device: str | int | None,
        sample_rate_hz: int,
        *,
        retry: Backoff | None = None,
        on_health: HealthCallback | None = None,
        sounddevice: Any = None,
    ) -> None:
        sd, info = _find(
            sounddevice,
            device,
            "output",
            DeviceMissingError(
                "no_speaker", "no speaker found: use --output FILE.wav and see `hearth devices`"
            ),
        )
        self._sd = sd
        self._device = device
        self.device_name = str(info["name"])
        self.sample_rate_hz = sample_rate_hz
        self._retry = retry or Backoff(1.0, 30.0)
        self._on_health = on_health
        self.dropped_chunks = 0
        self._stream: Any = None
        self._failures = 0  # failed tries in the current outage
        self._next_try = 0.0  # monotonic time before which no reopening is tried
        self._lock = threading.Lock()  # guards the stream and the outage bookkeeping
        # a bounded buffer: play() waits when about two seconds are queued, so a long reply
        # is synthesised as it is heard, not all at once into memory
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._ready()
        self._thread = threading.Thread(target=self._run, name="hearth-speaker", daemon=True)
        self._thread.start()

    def _ready(self) -> Any:
        """The open stream, opening it if the backoff allows; ``None`` while the device fails."""
        with self._lock:
            if self._stream is not None or time.monotonic() < self._next_try:
                return self._stream
            stream = None
            try:
                stream = self._sd.OutputStream(
                    samplerate=self.sample_rate_hz, channels=1, dtype="int16", device=self._device
                )
                stream.start()
            except Exception as err:  # the driver's own errors: PortAudioError, OSError, ...
                if stream is not None:
                    _close_quietly(stream)
                health = self._lost(f"cannot open {self.device_name}: {err}")
            else:
                self._stream = stream
                return stream
        self._report(health)
        return None

    def _lost(self, problem: str) -> Health:
        """With the lock held: give the stream up and schedule the next try; the report to
        send once the lock is released."""
        stream, self._stream = self._stream, None
        if stream is not None:
            _close_quietly(stream)
        delay_s = self._retry.next_delay()
        self._next_try = time.monotonic() + delay_s
        self._failures += 1
        if self._failures == 1:
            _LOGGER.warning("speaker failing: %s; retrying in %g s", problem, delay_s)
        else:
            _LOGGER.info("speaker still failing: %s; retrying in %g s", problem, delay_s)
        return Health("speaker", False, problem, delay_s, self._failures)

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            try:
                self._write(chunk)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _write(self, chunk: np.ndarray) -> None:
        stream = self._ready()
        if stream is None:
            self.dropped_chunks += 1
            return
        try:
            stream.write(chunk.reshape(-1, 1))
        except Exception as err:  # the driver's own errors: the device went away
            with self._lock:
                lost = self._stream is stream
                if lost:
                    health = self._lost(f"cannot play on {self.device_name}: {err}")
            if lost:
                self._report(health)
            self.dropped_chunks += 1
            return
        if self._failures:
            with self._lock:
                message = f"playing on {self.device_name} again after {self._failures} failures"
                self._failures = 0
                self._retry.reset()
            _LOGGER.info("speaker back: %s", message)
            self._report(Health("speaker", True, message))

    def _report(self, health: Health) -> None:
        if self._on_health is None:
            return
        try:
            self._on_health(health)
        except Exception:  # a listener must not break the player
            _LOGGER.exception("speaker health listener failed")

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        if sample_rate_hz != self.sample_rate_hz:
            import soxr

            audio = soxr.resample(audio, sample_rate_hz, self.sample_rate_hz)
        self._queue.put(np.asarray(audio, dtype=np.int16))

    def drain(self) -> None:
        self._queue.join()

    def cancel(self) -> None:
        """Drop what is queued and stop what is playing (``cmd/cancel``)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
        stream = self._stream
        if stream is None:
            return
        try:
            stream.abort()
            stream.start()
        except Exception as err:  # the driver's own errors
            with self._lock:
                lost = self._stream is stream
                if lost:
                    health = self._lost(f"cannot restart {self.device_name}: {err}")
            if lost:
                self._report(health)

    def close(self) -> None:
        self.cancel()  # what is queued would only delay the end
        self._queue.put(None)
        self._thread.join(timeout=5)
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            _close_quietly(stream)
