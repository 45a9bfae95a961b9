"""Speaking a reply: the text as an event at once, then Piper's audio piece by piece.

A :class:`Voice` belongs to one room (its speaker, or a WAV file, or none: ``hearth ask`` and a
missing speaker publish the reply as text only). What is spoken is bounded: at most
:data:`MAX_SPOKEN_CHARS` characters (a longer reply is cut at a sentence or a word, and Hearth
says so), synthesised in pieces of at most :data:`MAX_PIECE_CHARS` and handed to the sink in
slices of :data:`SLICE_S`, so memory stays flat and a cancel is heard within half a second. A
speaker that fails ends the speech with a ``speaker_failed`` error and the reply stays text.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Final

import numpy as np

from ..events import AssistantState, EventBus, Reply, ReplyAudioFinished, ReplyAudioStarted
from ..voice.audio import AudioSink
from ..voice.tts import TextToSpeech
from .activity import Activity
from .record import TurnRecord

__all__ = ["CUT_NOTE", "MAX_PIECE_CHARS", "MAX_SPOKEN_CHARS", "SLICE_S", "Voice", "speakable"]

_LOGGER = logging.getLogger(__name__)

MAX_SPOKEN_CHARS: Final = 600  # about 40 s of speech
MAX_PIECE_CHARS: Final = 120  # what Piper synthesises at once
SLICE_S: Final = 0.25  # audio handed to the sink at once
CUT_NOTE: Final = "That's as much as I'll read out."
_BREAKS: Final = (re.compile(r"(?<=[.!?;:])\s+"), re.compile(r"(?<=,)\s+"), re.compile(r"\s+"))


def speakable(texts: Iterator[str], budget: list[int]) -> Iterator[str]:
    """The texts as pieces Piper can say at once, within ``budget[0]`` characters in all (the
    budget is spent as pieces go out); past it, one :data:`CUT_NOTE` and nothing more."""
    for text in texts:
        for piece in _pieces(" ".join(text.split())):
            if budget[0] <= 0:
                yield CUT_NOTE
                return
            if len(piece) > budget[0]:
                piece = _cut(piece, budget[0])
                budget[0] = 0
                if piece:
                    yield piece
                yield CUT_NOTE
                return
            budget[0] -= len(piece)
            yield piece


def _pieces(text: str, level: int = 0) -> list[str]:
    """``text`` split at sentence ends, then commas, then spaces, into pieces of at most
    :data:`MAX_PIECE_CHARS` (a word longer than that is cut)."""
    if len(text) <= MAX_PIECE_CHARS:
        return [text] if text else []
    if level >= len(_BREAKS):
        return [text[i : i + MAX_PIECE_CHARS] for i in range(0, len(text), MAX_PIECE_CHARS)]
    pieces: list[str] = []
    current = ""
    for part in _BREAKS[level].split(text):
        joined = f"{current} {part}".strip()
        if len(joined) <= MAX_PIECE_CHARS:
            current = joined
            continue
        if current:
            pieces.append(current)
        if len(part) <= MAX_PIECE_CHARS:
            current = part
        else:
            pieces.extend(_pieces(part, level + 1))
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head[: head.rfind(" ")].rstrip(" ,;:") if " " in head else head


class Voice:
    """Text to speech to the sink, for one room."""

    def __init__(
        self,
        bus: EventBus,
        activity: Activity,
        tts: TextToSpeech | None = None,
        sink: AudioSink | None = None,
        on_failure: Callable[[TurnRecord, str, str], None] | None = None,
    ) -> None:
        self.bus = bus
        self.activity = activity
        self.tts = tts
        self.sink = sink
        self.on_failure = on_failure  # (turn, code, message): the speaker failed

    @property
    def audible(self) -> bool:
        return self.tts is not None and self.sink is not None

    def stop(self) -> None:
        """Stop what is playing now (the turn was cancelled)."""
        if self.sink is not None:
            self.sink.cancel()

    def say(self, record: TurnRecord, text: str) -> None:
        """The reply event first (the text is visible at once), then the speech."""
        record.reply = text
        self.bus.emit(Reply(turn=record.turn, text=text))
        self._play(record, iter([text]) if text else iter(()))

    def say_stream(self, record: TurnRecord, texts: Iterator[str]) -> str:
        """Speak sentences as they are produced (a model's answer); the reply event follows
        with all of it. Returns what was said."""
        record.reply = self._play(record, texts)
        self.bus.emit(Reply(turn=record.turn, text=record.reply))
        return record.reply

    def _play(self, record: TurnRecord, texts: Iterator[str]) -> str:
        """Synthesise and play each piece as it comes; returns what was said."""
        said: list[str] = []
        samples = 0
        rate = self.tts.sample_rate_hz if self.tts is not None else 1
        cancelled = self.activity.cancelled
        # the time in a model's generator (a streamed answer) is the model's, not the voice's
        with record.meter.stage("tts") if self.tts is not None else nullcontext():
            started = time.perf_counter()
            for piece in speakable(texts, [MAX_SPOKEN_CHARS]):
                if cancelled.is_set():  # stop asking for more (a model may still be writing)
                    record.outcome = "cancelled"
                    break
                said.append(piece)
                if self.tts is None or self.sink is None:
                    continue
                self.activity.set(AssistantState.SPEAKING)
                for audio in self.tts.sentences(piece):
                    if cancelled.is_set():
                        record.outcome = "cancelled"
                        break
                    if samples == 0:
                        self._first_audio(record, started)
                    played = self._to_sink(record, audio, rate)
                    samples += played
                    if played < len(audio):
                        if cancelled.is_set():
                            record.outcome = "cancelled"
                        break
            if samples and self.sink is not None and not cancelled.is_set():
                self.sink.drain()
        if samples:
            self.bus.emit(ReplyAudioFinished(turn=record.turn, audio_s=samples / rate))
        return " ".join(t for t in said if t)

    def _first_audio(self, record: TurnRecord, started: float) -> None:
        now = time.perf_counter()
        record.meter.set("tts_first_audio", 1000 * (now - started))
        record.meter.set("to_first_audio", record.since_speech_end_ms(now))
        self.bus.emit(
            ReplyAudioStarted(turn=record.turn, tts_ms=record.meter.get("tts_first_audio"))
        )

    def _to_sink(self, record: TurnRecord, audio: np.ndarray, rate: int) -> int:
        """Hand ``audio`` to the sink slice by slice; returns the samples handed over (fewer
        than all when the turn was cancelled or the speaker failed)."""
        assert self.sink is not None
        step = max(1, round(SLICE_S * rate))
        done = 0
        for start in range(0, len(audio), step):
            if self.activity.cancelled.is_set():
                break
            part = audio[start : start + step]
            try:
                self.sink.play(part, rate)
            except Exception as err:
                if self.on_failure is not None:
                    self.on_failure(record, "speaker_failed", f"cannot play the reply: {err}")
                self.sink = None
                break
            done += len(part)
        return done
