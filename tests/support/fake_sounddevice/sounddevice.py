"""A stand-in for the ``sounddevice`` module (PortAudio), for tests on a machine with no sound card.

It is driven by a script, a JSON file named by ``$FAKE_SOUNDDEVICE`` (so a ``hearth run``
subprocess with this folder first on ``PYTHONPATH`` uses it) or given to :func:`configure`::

    {"log": "/tmp/sd.jsonl",
     "input": [{"audio": "/tmp/a.raw", "then": "hang"}, {"error": "Device unavailable"}, ...],
     "output": [{"fail_after": 0}, {}]}

Each ``InputStream`` or ``OutputStream`` opened takes the next entry of its list (the last one
repeats). An input entry with ``error`` raises :class:`PortAudioError` on opening; otherwise the
stream plays the raw 16 kHz mono s16le ``audio`` through the real callback from its own thread,
block by block, in real time (or ``speed`` times faster), then ``then``: ``"hang"`` (no more
blocks, the stream stays open: a device that went quiet or was unplugged), ``"finish"``
(PortAudio ends the stream and calls ``finished_callback``) or ``"silence"`` (zero blocks until
stopped). An output entry may raise
on opening (``error``) or from the ``fail_after``-th ``write`` on. Every open, failure and write
is appended to the ``log`` as one JSON line with ``time.monotonic()``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import numpy as np

__version__ = "0.0-fake"

_script: dict[str, Any] = {}
_counts = {"input": 0, "output": 0}
_lock = threading.Lock()


class PortAudioError(Exception):
    pass


class CallbackStop(Exception):
    pass


class CallbackAbort(Exception):
    pass


def configure(script: dict[str, Any]) -> None:
    global _script
    with _lock:
        _script = script
        _counts.update(input=0, output=0)


def _load() -> None:
    path = os.environ.get("FAKE_SOUNDDEVICE")
    if path:
        with open(path, encoding="utf-8") as file:
            configure(json.load(file))


def _log(**entry: Any) -> None:
    path = _script.get("log")
    if path:
        with _lock, open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"t": time.monotonic(), **entry}) + "\n")


def _next(kind: str) -> tuple[int, dict[str, Any]]:
    with _lock:
        entries = _script.get(kind) or [{}]
        index = _counts[kind]
        _counts[kind] += 1
    return index, entries[min(index, len(entries) - 1)]


def query_devices(device: Any = None, kind: str | None = None) -> Any:
    devices = [
        {
            "name": "Fake USB Audio",
            "index": 0,
            "max_input_channels": 1,
            "max_output_channels": 1,
            "default_samplerate": 16000.0,
        }
    ]
    if kind is None and device is None:
        return devices
    if device not in (None, 0, "Fake USB Audio"):
        raise ValueError(f"No device matching {device!r}")
    return devices[0]


class InputStream:
    def __init__(
        self,
        *,
        samplerate: float,
        channels: int,
        dtype: str,
        blocksize: int,
        device: Any = None,
        callback: Any,
        finished_callback: Any = None,
    ) -> None:
        self.index, self._entry = _next("input")
        if "error" in self._entry:
            _log(event="open_input", stream=self.index, ok=False)
            raise PortAudioError(f"{self._entry['error']} [PaErrorCode -9985]")
        _log(event="open_input", stream=self.index, ok=True)
        self._rate = samplerate
        self._blocksize = blocksize
        self._callback = callback
        self._finished = finished_callback
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False

    def start(self) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, name="fake-portaudio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        audio = np.zeros(0, dtype=np.int16)
        if self._entry.get("audio"):
            audio = np.fromfile(self._entry["audio"], dtype="<i2")
        block_s = self._blocksize / self._rate / float(_script.get("speed", 1.0))
        started = time.monotonic()
        sent = 0
        while not self._stop.is_set():
            if sent * self._blocksize >= len(audio):
                then = self._entry.get("then", "hang")
                if then == "hang":
                    _log(event="input_quiet", stream=self.index)
                    self._stop.wait()
                    return
                if then == "finish":
                    _log(event="input_finished", stream=self.index)
                    self.active = False
                    if self._finished is not None:
                        self._finished()
                    return
                block = np.zeros(self._blocksize, dtype=np.int16)
            else:
                block = audio[sent * self._blocksize : (sent + 1) * self._blocksize]
                block = np.pad(block, (0, self._blocksize - len(block)))
            self._callback(block.reshape(-1, 1), self._blocksize, None, None)
            sent += 1
            self._stop.wait(max(0.0, started + sent * block_s - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self.active = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    abort = stop

    def close(self) -> None:
        self.stop()


class OutputStream:
    def __init__(self, *, samplerate: float, channels: int, dtype: str, device: Any = None) -> None:
        self.index, self._entry = _next("output")
        if "error" in self._entry:
            _log(event="open_output", stream=self.index, ok=False)
            raise PortAudioError(f"{self._entry['error']} [PaErrorCode -9985]")
        _log(event="open_output", stream=self.index, ok=True, rate=samplerate)
        self._writes = 0
        self.active = False

    def start(self) -> None:
        self.active = True

    def write(self, data: np.ndarray) -> None:
        fail_after = self._entry.get("fail_after")
        if fail_after is not None and self._writes >= fail_after:
            _log(event="write_failed", stream=self.index)
            raise PortAudioError("Unanticipated host error [PaErrorCode -9999]")
        self._writes += 1
        _log(event="write", stream=self.index, samples=len(data))

    def stop(self) -> None:
        self.active = False

    abort = stop

    def close(self) -> None:
        self.active = False


_load()
