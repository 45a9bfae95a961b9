"""Audio input: any WAV rate and channel count, raw PCM on a stream, clear errors."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest
from speech import write_wav

from assistant.errors import AudioError
from assistant.voice.audio import (
    FRAME_SAMPLES,
    PcmStreamSource,
    WavFileSink,
    WavFileSource,
    read_wav_16k,
)


def tone(rate_hz: int, seconds: float, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (np.sin(2 * np.pi * freq_hz * t) * 12000).astype(np.int16)


@pytest.mark.parametrize(("rate_hz", "channels"), [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_wav_is_resampled_to_16k_frames(tmp_path: Path, rate_hz: int, channels: int) -> None:
    mono = tone(rate_hz, 2.0)
    data = np.repeat(mono, channels) if channels > 1 else mono
    path = write_wav(tmp_path / "t.wav", data, rate_hz, channels)
    frames = list(WavFileSource(path).frames())
    assert all(len(f) == FRAME_SAMPLES and f.dtype == np.int16 for f in frames)
    assert abs(len(frames) - 25) <= 1  # 2 s of 80 ms frames
    audio = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(audio[4000:20000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) < 5  # the tone survives resampling


def test_pcm_stream_until_eof() -> None:
    samples = np.arange(FRAME_SAMPLES * 2 + 100, dtype=np.int16)
    frames = list(PcmStreamSource(io.BytesIO(samples.astype("<i2").tobytes())).frames())
    assert len(frames) == 3
    assert np.array_equal(np.concatenate(frames)[: len(samples)], samples)
    assert not frames[-1][100:].any()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "input_format"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk", "input_format"),
        (b"just some text", "input_format"),
    ],
)
def test_unusable_files_are_refused(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as caught:
        read_wav_16k(path)
    assert caught.value.code == code and str(path) in caught.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        WavFileSource(tmp_path / "nope.wav")


def test_header_longer_than_data_reads_what_is_there(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "short.wav", tone(16000, 1.0))
    raw = bytearray(path.read_bytes())
    raw[40:44] = (10_000_000).to_bytes(4, "little")  # the data chunk claims 10 MB
    path.write_bytes(bytes(raw))
    audio = read_wav_16k(path)
    assert 15000 <= len(audio) <= 17000


def test_wav_sink_writes_at_its_rate(tmp_path: Path) -> None:
    sink = WavFileSink(tmp_path / "o.wav", 22050)
    sink.play(tone(22050, 0.5), 22050)
    sink.play(tone(16000, 0.5), 16000)
    sink.close()
    with wave.open(str(tmp_path / "o.wav"), "rb") as wav:
        assert wav.getframerate() == 22050 and wav.getnchannels() == 1
        assert abs(wav.getnframes() - 22050) < 50
