"""Audio in and out: 16 kHz mono int16 in 80 ms frames; replies at the voice's own rate.

Sources: a microphone (sounddevice), a PCM WAV file of any usual rate and channel count
(resampled with soxr), or raw 16 kHz mono s16le PCM on standard input. Sinks: the speaker or a
WAV file.
"""

from __future__ import annotations

import logging
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Protocol

import numpy as np

from ..errors import AudioError

__all__ = [
    "FRAME_SAMPLES",
    "SAMPLE_RATE_HZ",
    "ArraySource",
    "AudioSink",
    "AudioSource",
    "MemorySink",
    "PcmStreamSource",
    "WavFileSink",
    "WavFileSource",
    "read_wav_16k",
]

SAMPLE_RATE_HZ: Final = 16000
FRAME_MS: Final = 80
FRAME_SAMPLES: Final = SAMPLE_RATE_HZ * FRAME_MS // 1000  # 1280
_FRAME_BYTES: Final = FRAME_SAMPLES * 2

_LOGGER = logging.getLogger(__name__)


class AudioSource(Protocol):
    """Yields int16 frames of :data:`FRAME_SAMPLES` samples at 16 kHz mono. A source waiting for
    its device may yield an empty frame now and then: no audio, a chance to do other work."""

    live: bool  # True when audio arrives in real time (a microphone)
    last_beat: float  # monotonic time the source last showed it is alive (0.0: not tracked)

    def frames(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


class AudioSink(Protocol):
    """Plays int16 mono audio; ``play`` may return before the audio is heard."""

    def play(self, audio: np.ndarray, sample_rate_hz: int) -> None: ...

    def drain(self) -> None: ...

    def cancel(self) -> None:
        """Stop what is playing now (the turn was cancelled)."""
        ...

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


_SAMPLE_SCALE: Final = {1: 128.0, 2: 32768.0, 3: 8388608.0, 4: 2147483648.0}
_MIN_RATE_HZ: Final = 8000
_MAX_RATE_HZ: Final = 768_000
_MAX_CHANNELS: Final = 64
_BLOCK_BYTES: Final = 1 << 20  # at most this much of the file is held at once
# What the wave module raises on a damaged header: its own error, a short read, a chunk size that
# points past the end (RuntimeError from the seek), a field that does not unpack.
_DAMAGED: Final = (wave.Error, EOFError, RuntimeError, struct.error, ValueError, OverflowError)
_CONVERT: Final = "convert it, e.g. `sox in.ext -b 16 -c 1 out.wav`"


class WavFileSource:
    """A PCM WAV file (8, 16, 24 or 32-bit, 8 to 768 kHz, 1 to 64 channels), mixed down to mono
    and resampled to 16 kHz as it is read, a block at a time, so memory does not grow with the
    file. A header that promises more audio than the file holds is read to the file's end."""

    live = False
    last_beat = 0.0

    def __init__(self, path: str | Path, block_s: float = 0.5) -> None:
        self.path = Path(path)
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise AudioError("input_missing", f"{self.path}: input file not found") from None
        except _DAMAGED as err:
            raise AudioError("input_format", f"{self.path}: {self._why(err)}; {_CONVERT}") from None
        except OSError as err:
            raise AudioError("input_unreadable", f"{self.path}: cannot read: {err}") from None
        self.channels = self._wav.getnchannels()
        self.width = self._wav.getsampwidth()
        self.rate_hz = self._wav.getframerate()
        if (
            self.width not in _SAMPLE_SCALE
            or not 1 <= self.channels <= _MAX_CHANNELS
            or not _MIN_RATE_HZ <= self.rate_hz <= _MAX_RATE_HZ
        ):
            self._wav.close()
            raise AudioError(
                "input_format",
                f"{self.path}: unsupported WAV ({self.width * 8}-bit, {self.channels} channel(s), "
                f"{self.rate_hz} Hz); use 8/16/24/32-bit PCM, 1 to {_MAX_CHANNELS} channels, "
                f"8 to 768 kHz: {_CONVERT}",
            )
        self._frame_bytes = self.width * self.channels
        self._per_block = max(
            1, min(int(self.rate_hz * block_s), _BLOCK_BYTES // self._frame_bytes)
        )
        self._read_frames = 0
        try:
            self._first = self._read()
        except AudioError:
            self._wav.close()
            raise
        if not self._first:
            promised_s = self._wav.getnframes() / self.rate_hz
            self._wav.close()
            lie = f" (its header promises {promised_s:.1f} s)" if promised_s else ""
            raise AudioError(
                "input_empty", f"{self.path}: the WAV holds no audio{lie}; record or copy it again"
            )

    def _why(self, err: BaseException) -> str:
        try:
            empty = self.path.stat().st_size == 0
        except OSError:
            empty = False
        if empty:
            return "the file is empty (0 bytes), not a WAV"
        return f"not a PCM WAV file ({str(err) or 'its header is cut short or damaged'})"

    def _read(self) -> bytes:
        """The next block of whole frames; ``b""`` at the end of the data."""
        try:
            raw = self._wav.readframes(self._per_block)
        except (*_DAMAGED, OSError) as err:
            raise AudioError(
                "input_format",
                f"{self.path}: damaged WAV data ({str(err) or 'cut short'}); {_CONVERT}",
            ) from None
        whole = len(raw) // self._frame_bytes
        self._read_frames += whole
        return raw[: whole * self._frame_bytes]

    def _blocks(self) -> Iterator[np.ndarray]:
        import soxr

        resampler = None
        if self.rate_hz != SAMPLE_RATE_HZ:
            resampler = soxr.ResampleStream(self.rate_hz, SAMPLE_RATE_HZ, 1, dtype="float32")
        raw, self._first = self._first, b""
        while True:
            last = len(raw) == 0
            block = self._decode(raw)
            if resampler is not None:
                block = resampler.resample_chunk(block, last=last)
            if len(block):
                yield block
            if last:
                break
            raw = self._read()
        promised = self._wav.getnframes()
        if promised > self._read_frames:
            _LOGGER.warning(
                "%s: the header promises %.1f s of audio, the file holds %.1f s; reading that",
                self.path,
                promised / self.rate_hz,
                self._read_frames / self.rate_hz,
            )

    def _decode(self, raw: bytes) -> np.ndarray:
        if self.width == 1:
            ints = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0
        elif self.width == 3:
            octets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            unsigned = octets[:, 0] | (octets[:, 1] << 8) | (octets[:, 2] << 16)
            ints = ((unsigned ^ 0x800000) - 0x800000).astype(np.float32)
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
    last_beat = 0.0

    def __init__(self, audio: np.ndarray) -> None:
        self._audio = audio

    def frames(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self._audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            yield self._audio[start : start + FRAME_SAMPLES]

    def close(self) -> None:
        return None


class PcmStreamSource:
    """Raw 16 kHz mono signed 16-bit little-endian PCM from a byte stream, until EOF."""

    live = True  # paced by its writer, as a microphone is (arecord ... | hearth run --input -)
    last_beat = 0.0

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            data = bytearray()
            while len(data) < _FRAME_BYTES:
                try:
                    chunk = self._stream.read(_FRAME_BYTES - len(data))
                except (OSError, ValueError) as err:  # a broken or closed pipe
                    raise AudioError(
                        "input_unreadable", f"standard input: cannot read raw PCM: {err}"
                    ) from None
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

    def cancel(self) -> None:
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

    def cancel(self) -> None:
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
