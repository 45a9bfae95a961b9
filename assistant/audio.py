"""Audio in and out: 16 kHz mono int16 in 80 ms frames; replies at the voice's own rate.

Sources: a microphone (sounddevice), a WAV file of any rate and channel count (resampled with
soxr), or raw 16 kHz mono s16le PCM on standard input. Sinks: the speaker or a WAV file.
"""

from __future__ import annotations

import logging
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Protocol

import numpy as np

from .errors import AudioError

__all__ = [
    "FRAME_SAMPLES",
    "SAMPLE_RATE_HZ",
    "ArraySource",
    "AudioSink",
    "AudioSource",
    "MemorySink",
    "MicrophoneSource",
    "PcmStreamSource",
    "SpeakerSink",
    "WavFileSink",
    "WavFileSource",
    "list_devices",
    "read_wav_16k",
]

SAMPLE_RATE_HZ: Final = 16000
FRAME_MS: Final = 80
FRAME_SAMPLES: Final = SAMPLE_RATE_HZ * FRAME_MS // 1000  # 1280
_FRAME_BYTES: Final = FRAME_SAMPLES * 2

_LOGGER = logging.getLogger(__name__)


class AudioSource(Protocol):
    """Yields int16 frames of :data:`FRAME_SAMPLES` samples at 16 kHz mono."""

    live: bool  # True when audio arrives in real time (a microphone)

    def frames(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


class AudioSink(Protocol):
    """Plays int16 mono audio; ``play`` may return before the audio is heard."""

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None: ...

    def drain(self) -> None: ...

    def close(self) -> None: ...


def _to_frames(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Re-cut float32 blocks in [-1, 1] into int16 frames; the last one is zero-padded."""
    pending = np.zeros(0, dtype=np.float32)
    for block in blocks:
        pending = np.concatenate([pending, block])
        whole = len(pending) // FRAME_SAMPLES * FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            yield _float_to_int16(pending[start : start + FRAME_SAMPLES])
        pending = pending[whole:]
    if len(pending):
        yield _float_to_int16(np.pad(pending, (0, FRAME_SAMPLES - len(pending))))


def _float_to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


_SAMPLE_SCALE: Final = {1: 128.0, 2: 32768.0, 4: 2147483648.0}


class WavFileSource:
    """A PCM WAV file of any sample rate, mono or multi-channel, mixed down and resampled."""

    live = False

    def __init__(self, path: str | Path, block_s: float = 0.5) -> None:
        self.path = Path(path)
        self._block_s = block_s
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise AudioError("input_missing", f"{self.path}: input file not found") from None
        except (wave.Error, EOFError) as err:
            raise AudioError(
                "input_format",
                f"{self.path}: not a PCM WAV file ({err}); convert it, e.g. "
                "`sox in.ext -b 16 out.wav`",
            ) from None
        except OSError as err:
            raise AudioError("input_unreadable", f"{self.path}: cannot read: {err}") from None
        self.channels = self._wav.getnchannels()
        self.width = self._wav.getsampwidth()
        self.rate_hz = self._wav.getframerate()
        if self.width not in _SAMPLE_SCALE or self.channels < 1 or self.rate_hz < 1000:
            self._wav.close()
            raise AudioError(
                "input_format",
                f"{self.path}: unsupported WAV ({self.width * 8}-bit, {self.channels} channels, "
                f"{self.rate_hz} Hz); use 8/16/32-bit PCM at 8 kHz or more",
            )

    def _blocks(self) -> Iterator[np.ndarray]:
        import soxr

        resampler = None
        if self.rate_hz != SAMPLE_RATE_HZ:
            resampler = soxr.ResampleStream(self.rate_hz, SAMPLE_RATE_HZ, 1, dtype="float32")
        per_block = max(1, int(self.rate_hz * self._block_s))
        while True:
            try:
                raw = self._wav.readframes(per_block)
            except (wave.Error, EOFError, OSError) as err:
                raise AudioError("input_format", f"{self.path}: damaged WAV data: {err}") from None
            usable = len(raw) // (self.width * self.channels) * self.width * self.channels
            raw = raw[:usable]
            last = len(raw) == 0
            block = self._decode(raw)
            if resampler is not None:
                block = resampler.resample_chunk(block, last=last)
            if len(block):
                yield block
            if last:
                return

    def _decode(self, raw: bytes) -> np.ndarray:
        if self.width == 1:
            ints = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0
        else:
            ints = np.frombuffer(raw, dtype=f"<i{self.width}").astype(np.float32)
        samples = ints.reshape(-1, self.channels).mean(axis=1) / _SAMPLE_SCALE[self.width]
        return samples.astype(np.float32)

    def frames(self) -> Iterator[np.ndarray]:
        return _to_frames(self._blocks())

    def close(self) -> None:
        self._wav.close()


class ArraySource:
    """Audio already in memory (16 kHz mono int16), as whole frames; a partial last frame is
    dropped. The benchmark and the tests feed generated speech through it."""

    live = False

    def __init__(self, audio: np.ndarray) -> None:
        self._audio = audio

    def frames(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self._audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            yield self._audio[start : start + FRAME_SAMPLES]

    def close(self) -> None:
        return None


class PcmStreamSource:
    """Raw 16 kHz mono signed 16-bit little-endian PCM from a byte stream, until EOF."""

    live = False

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            data = bytearray()
            while len(data) < _FRAME_BYTES:
                chunk = self._stream.read(_FRAME_BYTES - len(data))
                if not chunk:
                    break
                data.extend(chunk)
            if not data:
                return
            if len(data) % 2:
                data.append(0)
            frame = np.frombuffer(bytes(data), dtype="<i2").astype(np.int16)
            if len(frame) < FRAME_SAMPLES:
                yield np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
                return
            yield frame

    def close(self) -> None:
        return None


class WavFileSink:
    """Appends every reply to one mono 16-bit WAV at ``sample_rate_hz``."""

    def __init__(self, path: str | Path, sample_rate_hz: int) -> None:
        self.path = Path(path)
        self.sample_rate_hz = sample_rate_hz
        try:
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        except OSError as err:
            raise AudioError("output_unwritable", f"{self.path}: cannot write: {err}") from None
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate_hz)
        self._closed = False

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        if sample_rate_hz != self.sample_rate_hz:
            import soxr

            audio = soxr.resample(audio, sample_rate_hz, self.sample_rate_hz)
        self._wav.writeframes(np.asarray(audio, dtype="<i2").tobytes())

    def drain(self) -> None:
        return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wav.close()


class MemorySink:
    """Keeps what was played, for the benchmark and for tests of the pipeline."""

    def __init__(self) -> None:
        self.chunks: list[tuple[np.ndarray, int]] = []

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        self.chunks.append((audio, sample_rate_hz))

    def drain(self) -> None:
        return None

    def close(self) -> None:
        return None


def read_wav_16k(path: str | Path) -> np.ndarray:
    """A whole WAV file as 16 kHz mono int16."""
    source = WavFileSource(path)
    try:
        frames = list(source.frames())
    finally:
        source.close()
    return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


# The sound card's microphone and speaker live in their own module; they belong to this API.
from .soundcard import MicrophoneSource, SpeakerSink, list_devices  # noqa: E402
