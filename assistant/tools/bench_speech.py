"""Held-out spoken commands for ``hearth bench --realtime``: several voices, room noise, levels.

The commands and the home they address are not used anywhere else (not by the sentence
templates' tests, not by the accuracy tables), so the benchmark measures phrasings nobody tuned
on. Each command is spoken by espeak-ng (several voices and speeds) or by the Piper voice, put
in a small room (a short reverberation), at a level, over room noise (pink noise and mains hum)
at a signal-to-noise ratio. The sample where the dry speech ends is known exactly: latency is
timed from there.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import HearthError
from ..voice.audio import SAMPLE_RATE_HZ

__all__ = [
    "BENCH_ENTITIES",
    "COMMANDS",
    "CONDITIONS",
    "VOICES",
    "BenchCommand",
    "Condition",
    "Spoken",
    "make_utterances",
    "speech_end_sample",
]

_END_DB: Final = -35.0  # the dry speech has ended where its 10 ms level stays this far below peak
_ROOM_RT60_S: Final = 0.25  # reverberation of a furnished room
_SEED: Final = 14  # the same audio every run


@dataclass(frozen=True, slots=True)
class BenchCommand:
    """A spoken command: parts (text, or seconds of pause), and the device message it means."""

    parts: tuple[str | float, ...]
    topic: str
    payload: str | dict[str, Any]  # a JSON object: these keys at least; text: exactly this

    @property
    def text(self) -> str:
        return " ... ".join(p for p in self.parts if isinstance(p, str))

    @property
    def paused(self) -> bool:
        return any(not isinstance(p, str) for p in self.parts)


@dataclass(frozen=True, slots=True)
class Condition:
    """How loud the speech is and how much room noise lies under it."""

    name: str
    gain_db: float  # speech level change (a speaker further away is quieter)
    snr_db: float  # speech to noise, measured over the speech


@dataclass(frozen=True, slots=True)
class Spoken:
    """One utterance: the command's audio with its noise, and where its speech ends."""

    command: BenchCommand
    voice: str
    condition: Condition
    audio: np.ndarray  # 16 kHz mono int16: noise, the wake phrase, the command, noise
    speech_end: int  # sample index where the command's dry speech ends
    command_start: int = 0  # sample index where the command's stretch begins (after the wake)


def _light(name: str, uid: str, area: str) -> dict[str, Any]:
    return {
        "domain": "light",
        "name": name,
        "unique_id": uid,
        "schema": "json",
        "command_topic": f"bench/{uid}/set",
        "suggested_area": area,
    }


BENCH_ENTITIES: Final[tuple[dict[str, Any], ...]] = (
    _light("Porch Light", "porch_light", "Porch"),
    _light("Bedroom Light", "bedroom_light", "Bedroom"),
    _light("Reading Lamp", "reading_lamp", "Study"),
    {
        "domain": "switch",
        "name": "Garden Pump",
        "unique_id": "garden_pump",
        "command_topic": "bench/garden_pump/set",
        "suggested_area": "Garden",
    },
    {
        "domain": "fan",
        "name": "Hallway Fan",
        "unique_id": "hallway_fan",
        "command_topic": "bench/hallway_fan/set",
        "suggested_area": "Hallway",
    },
)

_ON: Final = {"state": "ON"}
_OFF: Final = {"state": "OFF"}


def _pct(value: int) -> dict[str, Any]:
    return {"state": "ON", "brightness": round(value * 255 / 100)}


COMMANDS: Final[tuple[BenchCommand, ...]] = (
    BenchCommand(("Turn on the porch light.",), "bench/porch_light/set", _ON),
    BenchCommand(("Switch off the bedroom light.",), "bench/bedroom_light/set", _OFF),
    BenchCommand(("Set the reading lamp to thirty percent.",), "bench/reading_lamp/set", _pct(30)),
    BenchCommand(("Turn the hallway fan on.",), "bench/hallway_fan/set", "ON"),
    BenchCommand(("Switch on the garden pump.",), "bench/garden_pump/set", "ON"),
    BenchCommand(("Turn off the reading lamp.",), "bench/reading_lamp/set", _OFF),
    BenchCommand(
        ("Dim the bedroom light to twenty percent.",), "bench/bedroom_light/set", _pct(20)
    ),
    BenchCommand(("Turn the porch light off.",), "bench/porch_light/set", _OFF),
    # a pause in the middle: an endpoint that comes too early cuts these short
    BenchCommand(
        ("Set the reading lamp", 0.45, "to thirty percent."), "bench/reading_lamp/set", _pct(30)
    ),
    BenchCommand(
        ("Turn on the bedroom light", 0.4, "to fifty percent."), "bench/bedroom_light/set", _pct(50)
    ),
)

# (name, espeak-ng voice or "piper", words per minute)
VOICES: Final[tuple[tuple[str, str, int], ...]] = (
    ("espeak en-us", "en-us", 165),
    ("espeak en-gb female", "en-gb+f3", 150),
    ("espeak en-us male 3", "en-us+m3", 180),
    ("espeak scottish", "en-gb-scotland", 160),
    ("espeak caribbean female", "en-029+f4", 155),
    ("piper joe", "piper", 0),
)

CONDITIONS: Final[tuple[Condition, ...]] = (
    Condition("near, quiet room", gain_db=0.0, snr_db=30.0),
    Condition("across the room, noisy", gain_db=-10.0, snr_db=15.0),
    Condition("far, noisy", gain_db=-18.0, snr_db=10.0),
)


def _espeak(text: str, voice: str, wpm: int) -> np.ndarray:
    """``text`` spoken by espeak-ng, as float32 at 16 kHz."""
    import soxr

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise HearthError(
            "missing_tool", "espeak-ng is not installed: apt-get install espeak-ng (make install)"
        )
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
        path = Path(folder) / "say.wav"
        subprocess.run(
            [espeak, "-v", voice, "-s", str(wpm), "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = raw.astype(np.float32) / 32768.0
    return soxr.resample(audio, rate, SAMPLE_RATE_HZ).astype(np.float32)


def speech_end_sample(dry: np.ndarray) -> int:
    """The sample after the last 10 ms window whose level is within ``_END_DB`` of the peak."""
    window = SAMPLE_RATE_HZ // 100
    count = len(dry) // window
    if count == 0:
        return len(dry)
    rms = np.sqrt(np.mean(dry[: count * window].reshape(count, window) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > _END_DB)
    return int((loud[-1] + 1) * window) if len(loud) else len(dry)


def _room(rng: np.random.Generator) -> np.ndarray:
    """A small room's impulse response: the direct sound, then decaying reflections."""
    length = int(SAMPLE_RATE_HZ * _ROOM_RT60_S)
    t = np.arange(length) / SAMPLE_RATE_HZ
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / _ROOM_RT60_S) * 0.08
    tail[: SAMPLE_RATE_HZ // 200] = 0.0  # the first reflection after 5 ms
    tail[0] = 1.0
    return tail.astype(np.float32)


def _room_noise(rng: np.random.Generator, samples: int) -> np.ndarray:
    """Pink noise with a little mains hum, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / SAMPLE_RATE_HZ)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, samples)
    t = np.arange(samples) / SAMPLE_RATE_HZ
    noise /= np.sqrt(np.mean(noise**2)) + 1e-12
    noise += 0.3 * np.sin(2 * np.pi * 50 * t) + 0.15 * np.sin(2 * np.pi * 100 * t)
    return (noise / np.sqrt(np.mean(noise**2))).astype(np.float32)


def make_utterances(
    count: int,
    piper: Callable[[str], np.ndarray],
    wake: np.ndarray,
    *,
    lead_s: float = 0.8,
    gap_s: float = 0.3,
    tail_s: float = 3.0,
) -> list[Spoken]:
    """``count`` utterances cycling through the commands, voices and conditions so that each
    command meets several voices and levels. Each is ``lead_s`` of room noise, the ``wake``
    phrase (float32 at 16 kHz), ``gap_s``, the command, and ``tail_s`` of room noise, all in the
    same room at the same level; ``piper`` speaks text as float32 at 16 kHz."""
    rng = np.random.default_rng(_SEED)
    room = _room(rng)
    spoken: list[Spoken] = []
    for index in range(count):
        command = COMMANDS[index % len(COMMANDS)]
        name, voice, wpm = VOICES[(index + index // len(COMMANDS)) % len(VOICES)]
        condition = CONDITIONS[(index // 2) % len(CONDITIONS)]
        said = _speak(command.parts, functools.partial(_voice, voice=voice, wpm=wpm, piper=piper))
        said = said[: speech_end_sample(said)]
        head = [_silence(lead_s), wake.astype(np.float32), _silence(gap_s)]
        offset = sum(len(part) for part in head)
        woke = offset - len(head[-1])  # the wake phrase is over: the command's stretch starts
        dry = np.concatenate([*head, said, _silence(tail_s)])
        wet = np.convolve(dry, room)[: len(dry)]
        peak = float(np.max(np.abs(wet))) or 1.0
        wet *= 0.5 / peak * 10 ** (condition.gain_db / 20)  # speech peaks at -6 dBFS, then gain
        speech_rms = float(np.sqrt(np.mean(wet[offset : offset + len(said)] ** 2)))
        noise = _room_noise(rng, len(wet)) * speech_rms * 10 ** (-condition.snr_db / 20)
        audio = (np.clip(wet + noise, -1.0, 1.0) * 32767).astype(np.int16)
        spoken.append(
            Spoken(
                command, name, condition, audio, speech_end=offset + len(said), command_start=woke
            )
        )
    return spoken


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE_HZ * seconds), dtype=np.float32)


def _voice(text: str, voice: str, wpm: int, piper: Callable[[str], np.ndarray]) -> np.ndarray:
    return piper(text) if voice == "piper" else _espeak(text, voice, wpm)


def _speak(parts: Sequence[str | float], say: Callable[[str], np.ndarray]) -> np.ndarray:
    """The parts in order: text spoken, numbers as seconds of silence. Each spoken part is
    trimmed to its voice (the synthesiser's own leading and trailing silence dropped), so a
    pause in the middle is exactly as long as written."""
    pieces = [
        np.zeros(int(SAMPLE_RATE_HZ * part), dtype=np.float32)
        if isinstance(part, int | float)
        else _trimmed(say(part))
        for part in parts
    ]
    return np.concatenate(pieces).astype(np.float32)


def _trimmed(audio: np.ndarray) -> np.ndarray:
    start = len(audio) - speech_end_sample(audio[::-1].copy())
    return audio[start : speech_end_sample(audio)]
