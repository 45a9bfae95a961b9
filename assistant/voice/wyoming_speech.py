"""Speech-to-text and speech on a bigger box: a Wyoming server (wyoming-faster-whisper,
wyoming-piper) in place of the local model, with the local model kept loaded as the fallback.

Each request has a deadline (``server_timeout_s``): a server that is down, slow, closes the
connection or answers with something unusable costs at most that long, then the local model
does the work, and an ``error`` event (``stt_server_failed``, ``tts_server_failed``) says why.
Which hosts may be used is checked against ``[privacy] allowed_hosts`` like the broker.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import numpy as np

from ..events import Event, TurnFailed
from .audio import SAMPLE_RATE_HZ
from .stt import SpeechToText
from .tts import TextToSpeech

__all__ = ["WyomingSpeechToText", "WyomingTextToSpeech", "parse_uri"]

_LOGGER = logging.getLogger(__name__)

_CHUNK_SAMPLES: Final = 1024
_MAX_REPLY_S: Final = 120.0  # more audio than this for one sentence is refused
_URI: Final = re.compile(r"^tcp://\[?([^\]]+?)\]?:(\d+)$")


def parse_uri(uri: str) -> tuple[str, int]:
    """``tcp://host:port`` → (host, port) (the configuration has checked the form)."""
    match = _URI.match(uri)
    if match is None:
        raise ValueError(f"{uri!r} is not tcp://host:port")
    return match.group(1), int(match.group(2))


class _Server:
    """A Wyoming server's address, a deadline per request, and where failures are told."""

    def __init__(self, uri: str, timeout_s: float, code: str) -> None:
        self.uri = uri
        self.host, self.port = parse_uri(uri)
        self.timeout_s = timeout_s
        self.code = code
        self.emit: Callable[[Event], None] = lambda event: None
        self.failures = 0

    def run(self, work: Callable[[], Any]) -> Any:
        """``work()`` (a coroutine) within the deadline; ``None`` when it failed (told)."""
        try:
            return asyncio.run(asyncio.wait_for(work(), self.timeout_s))
        except TimeoutError:
            self._failed(f"no answer within {self.timeout_s:g} s")
        except (OSError, asyncio.IncompleteReadError, EOFError) as err:
            self._failed(str(err) or type(err).__name__)
        except _Unusable as err:
            self._failed(str(err))
        return None

    def _failed(self, why: str) -> None:
        self.failures += 1
        message = f"the Wyoming server {self.uri} failed ({why}); the local model answers"
        _LOGGER.warning("%s", message)
        self.emit(TurnFailed(turn=None, code=self.code, message=message))

    async def open(self) -> Any:
        from wyoming.client import AsyncTcpClient

        client = AsyncTcpClient(self.host, self.port)
        await client.connect()
        return client


class _Unusable(ValueError):
    """The server answered, but not with what was asked for."""


class WyomingSpeechToText:
    """Transcribe on a Wyoming server; the local model when it fails."""

    def __init__(
        self, uri: str, timeout_s: float, local: SpeechToText, language: str = "en"
    ) -> None:
        self.server = _Server(uri, timeout_s, "stt_server_failed")
        self.local = local
        self.language = language

    def load(self) -> None:
        self.local.load()

    def transcribe(self, audio: np.ndarray, hints: Sequence[str] = ()) -> str:
        text = self.server.run(lambda: self._transcribe(audio))
        return self.local.transcribe(audio, hints) if text is None else str(text)

    async def _transcribe(self, audio: np.ndarray) -> str:
        from wyoming.asr import Transcribe, Transcript
        from wyoming.audio import AudioChunk, AudioStart, AudioStop

        client = await self.server.open()
        try:
            await client.write_event(Transcribe(language=self.language).event())
            await client.write_event(AudioStart(rate=SAMPLE_RATE_HZ, width=2, channels=1).event())
            data = np.asarray(audio, dtype="<i2")
            for start in range(0, len(data), _CHUNK_SAMPLES):
                chunk = data[start : start + _CHUNK_SAMPLES].tobytes()
                event = AudioChunk(rate=SAMPLE_RATE_HZ, width=2, channels=1, audio=chunk)
                await client.write_event(event.event())
            await client.write_event(AudioStop().event())
            while True:
                event = await client.read_event()
                if event is None:
                    raise EOFError("the server closed the connection")
                if Transcript.is_type(event.type):
                    text = event.data.get("text")
                    if not isinstance(text, str):
                        raise _Unusable("a transcript without text")
                    return text.strip()
        finally:
            await client.disconnect()


class WyomingTextToSpeech:
    """Synthesise on a Wyoming server, one request per sentence; the local voice when it
    fails. Audio at another rate than the local voice's is resampled to it."""

    def __init__(self, uri: str, timeout_s: float, local: TextToSpeech) -> None:
        self.server = _Server(uri, timeout_s, "tts_server_failed")
        self.local = local
        self.sample_rate_hz = local.sample_rate_hz

    def load(self) -> None:
        self.local.load()
        self.sample_rate_hz = self.local.sample_rate_hz

    def keep(self, texts: list[str], stop: threading.Event | None = None) -> int:
        """Nothing is made ahead: the server speaks each reply, and the local voice keeps its
        own replies only when it is the one speaking."""
        return 0

    def sentences(self, text: str) -> Iterator[np.ndarray]:
        audio = self.server.run(lambda: self._synthesise(text))
        if audio is None:
            yield from self.local.sentences(text)
        elif len(audio):
            yield audio

    async def _synthesise(self, text: str) -> np.ndarray:
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.tts import Synthesize

        client = await self.server.open()
        try:
            await client.write_event(Synthesize(text=text).event())
            rate, width, channels = 0, 2, 1
            pieces: list[bytes] = []
            size = 0
            while True:
                event = await client.read_event()
                if event is None:
                    raise EOFError("the server closed the connection")
                if AudioStart.is_type(event.type):
                    start = AudioStart.from_event(event)
                    rate, width, channels = start.rate, start.width, start.channels
                elif AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    rate, width, channels = chunk.rate, chunk.width, chunk.channels
                    pieces.append(chunk.audio)
                    size += len(chunk.audio)
                    if rate and size > _MAX_REPLY_S * rate * width * channels:
                        raise _Unusable(f"more than {_MAX_REPLY_S:g} s of audio for one sentence")
                elif AudioStop.is_type(event.type):
                    break
        finally:
            await client.disconnect()
        if width != 2 or not 8000 <= rate <= 96000 or channels not in (1, 2):
            raise _Unusable(f"audio of {rate} Hz, {width} bytes, {channels} channels")
        samples = np.frombuffer(b"".join(pieces), dtype="<i2")
        if channels == 2:
            samples = samples[: len(samples) // 2 * 2].reshape(-1, 2).mean(axis=1)
        if rate != self.sample_rate_hz:
            import soxr

            samples = soxr.resample(samples.astype(np.float32), rate, self.sample_rate_hz)
        return np.clip(samples, -32768, 32767).astype(np.int16)
