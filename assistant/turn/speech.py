"""Speaking a reply: the text as an event at once, then Piper's audio sentence by sentence.

A :class:`Voice` belongs to one room (its speaker, or a WAV file, or none: ``hearth ask`` and a
missing speaker publish the reply as text only). Speech stops as soon as the turn is cancelled;
a speaker that fails ends the speech with a ``speaker_failed`` error and the reply stays text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext

import numpy as np

from ..events import AssistantState, EventBus, Reply, ReplyAudioFinished, ReplyAudioStarted
from ..voice.audio import AudioSink
from ..voice.tts import TextToSpeech
from .activity import Activity
from .record import TurnRecord

__all__ = ["Voice"]

_LOGGER = logging.getLogger(__name__)


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
        """Synthesise and play each text as it comes; returns the texts joined."""
        said: list[str] = []
        samples = 0
        rate = self.tts.sample_rate_hz if self.tts is not None else 1
        cancelled = self.activity.cancelled
        # the time in a model's generator (a streamed answer) is the model's, not the voice's
        with record.meter.stage("tts") if self.tts is not None else nullcontext():
            started = time.perf_counter()
            for text in texts:
                said.append(text.strip())
                if self.tts is None or self.sink is None or cancelled.is_set():
                    continue
                self.activity.set(AssistantState.SPEAKING)
                for audio in self.tts.sentences(text):
                    if cancelled.is_set():
                        record.outcome = "cancelled"
                        break
                    if samples == 0:
                        self._first_audio(record, started)
                    if not self._to_sink(record, audio, rate):
                        break
                    samples += len(audio)
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

    def _to_sink(self, record: TurnRecord, audio: np.ndarray, rate: int) -> bool:
        assert self.sink is not None
        try:
            self.sink.play(audio, rate)
        except Exception as err:
            if self.on_failure is not None:
                self.on_failure(record, "speaker_failed", f"cannot play the reply: {err}")
            self.sink = None
            return False
        return True
