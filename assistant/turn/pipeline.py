"""The voice chain, start to finish, for one turn after another.

    frames ─► wake word ─► endpointer ─► speech-to-text ─► router ─► skill
                                                                       │
                 speaker ◄── Piper, sentence by sentence ◄── reply ◄───┴──► MQTT actions

One thread reads the audio source frame by frame. While no turn is open, frames go to the wake
word detector, and the last ``audio.pre_roll_s`` of them are kept. When the wake word fires, a
turn opens: frames go to the endpointer until the command ends, then the command is transcribed,
routed, the skill's actions are published, and only then is the reply synthesised and played.
Frames that arrive meanwhile wait in the source, so nothing is dropped. Every step emits an event
on the bus, and every turn ends with a :class:`TurnFinished`, whatever happened.

This module is the hearing half; :mod:`assistant.turn.answer` is the answering half (router, skill,
actions, reply), which ``hearth ask`` and ``cmd/ask`` use on their own. Commands from MQTT
(``cmd/*``) run in the audio thread between frames; ``cmd/cancel`` acts at once.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..events import (
    AssistantState,
    EndReason,
    ListenStarted,
    SpeechEnded,
    Transcript,
    TurnFailed,
    WakeDetected,
)
from ..mqtt.commands import Ask, Cancel, Command, Listen, Mute, Profile, Say
from ..understanding.templates import RouteResult
from ..voice.audio import FRAME_MS, AudioSource
from ..voice.endpoint import Endpointer, capture_command
from ..voice.stt import SpeechToText, strip_wake_phrase
from ..voice.wake import WakeDetector, WakeGate
from .answer import SORRY_NOT_HEARD, Responder, TurnRecord

__all__ = ["Pipeline"]

_LOGGER = logging.getLogger(__name__)
_FRAME_S = FRAME_MS / 1000


@dataclass(frozen=True, slots=True)
class _Early:
    """A transcript and template match made during the trailing silence."""

    text: str
    route: RouteResult
    started: float  # perf_counter when its transcription began
    stt_ms: float
    router_ms: float


class Pipeline(Responder):
    """Wake → endpoint → speech-to-text, then the :class:`Responder`'s router → skill →
    actions → speech."""

    def __init__(
        self,
        *,
        wake: WakeDetector | None = None,
        endpointer: Endpointer | None = None,
        stt: SpeechToText | None = None,
        **answering: Any,
    ) -> None:
        super().__init__(**answering)
        self.wake = wake
        self.endpointer = endpointer
        self.stt = stt
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._soon: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._early_cpu_s: dict[str, float] = {}  # CPU of early attempts during the silence
        self.audio_taps: list[Callable[[str, np.ndarray], None]] = []  # (turn, command audio)
        self.gate = WakeGate(self.config.wake.threshold, self.config.wake.refractory_s)
        self._source: AudioSource | None = None

    def alive(self, stall_s: float = 60.0) -> bool:
        """Whether the audio loop moved within ``stall_s`` (a turn may think for a while).

        A source that waits for its device (a microphone being reopened with backoff) shows its
        own sign of life, ``last_beat``; a loop frozen anywhere shows neither.
        """
        beat_s = float(getattr(self._source, "last_beat", 0.0))
        return time.monotonic() - max(self.last_progress, beat_s) < stall_s

    # -- audio in ----------------------------------------------------------------------------

    def run(self, source: AudioSource) -> int:
        """Consume the source until it ends; returns the number of turns taken.

        Between frames, commands submitted from MQTT run here, in the audio thread.
        """
        assert self.wake is not None and self.endpointer is not None and self.stt is not None
        self._source = source
        pre_roll: deque[np.ndarray] = deque(
            maxlen=max(1, round(self.config.audio.pre_roll_s / _FRAME_S))
        )
        frames = source.frames()
        audio_s = 0.0
        wake_time_s = 0.0
        wake_frames = 0
        turns = 0
        # a new stream starts at 0 s: the refractory time of an earlier one does not carry over
        self.gate = WakeGate(self.config.wake.threshold, self.config.wake.refractory_s)
        self._set_state(self._idle_state())
        for frame in frames:
            if self.stopping.is_set():
                break
            self.last_progress = time.monotonic()
            while not self._soon.empty():
                self._soon.get_nowait()()
            if not self._commands.empty():
                turns_before = turns
                audio_s, turns = self._run_commands(frames, audio_s, turns)
                if turns != turns_before:
                    pre_roll.clear()
                    self.wake.reset()
            if not len(frame):  # the microphone is away: nothing to hear, commands still run
                continue
            audio_s += _FRAME_S
            if self.muted:
                continue
            started = time.perf_counter()
            score = self.wake.score(frame)
            wake_time_s += time.perf_counter() - started
            wake_frames += 1
            pre_roll.append(frame)
            if not self.gate.fire(score, audio_s):
                continue
            turns += 1
            record = self._new_turn()
            record.timings_ms["wake"] = 1000 * wake_time_s / wake_frames
            self.bus.emit(
                WakeDetected(
                    turn=record.turn,
                    model=self.wake.name,
                    score=score,
                    audio_s=audio_s,
                    wake_ms=record.timings_ms["wake"],
                )
            )
            audio_s = self._voice_turn(record, frames, list(pre_roll), audio_s)
            audio_s = self._follow_ups(frames, audio_s)
            pre_roll.clear()
            self.wake.reset()
        if not self.stopping.is_set():
            audio_s, turns = self._run_commands(iter(()), audio_s, turns)
        return turns

    def _follow_ups(self, frames: Iterator[np.ndarray], audio_s: float) -> float:
        """After a question ("Do you want me to unlock the front door?"), listen again at once,
        without the wake word; once per question."""
        while self.conversation.expecting_reply and not self.stopping.is_set():
            record = self._new_turn()
            self.bus.emit(ListenStarted(turn=record.turn, trigger="follow_up"))
            audio_s = self._voice_turn(record, frames, [], audio_s)
            if record.outcome == "no_speech":
                self.conversation.expecting_reply = False
        return audio_s

    def call_soon(self, work: Callable[[], None]) -> None:
        """Run ``work`` in the audio thread before the next frame, when no turn is in progress
        (safe to call from a signal handler)."""
        self._soon.put(work)

    def announce(self, text: str) -> None:
        super().announce(text)
        self.submit(Say(text))

    # -- commands from MQTT ------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Hand over a command from another thread. ``Cancel`` acts at once; the others run in
        the audio thread between frames."""
        if isinstance(command, Cancel):
            self.cancel()
        else:
            self._commands.put(command)

    def _run_commands(
        self, frames: Iterator[np.ndarray], audio_s: float, turns: int
    ) -> tuple[float, int]:
        while not self.stopping.is_set():
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return audio_s, turns
            if isinstance(command, Mute):
                self.muted = command.on
                self._set_state(self._idle_state())
            elif isinstance(command, Say):
                record = self._new_turn()
                with self._turn(record):
                    self._speak(record, command.text)
            elif isinstance(command, Ask):
                turns += 1
                self.run_text(command.text)
            elif isinstance(command, Listen):
                turns += 1
                record = self._new_turn()
                self.bus.emit(ListenStarted(turn=record.turn, trigger="mqtt"))
                audio_s = self._voice_turn(record, frames, [], audio_s)
                audio_s = self._follow_ups(frames, audio_s)
            elif isinstance(command, Profile) and not self.switch_profile(command.name):
                node = self.config.assistant.node_id
                message = f"hearth/{node}/cmd/profile: no profile {command.name!r}"
                self.bus.emit(TurnFailed(turn=None, code="bad_command", message=message))
        return audio_s, turns

    def _voice_turn(
        self,
        record: TurnRecord,
        frames: Iterator[np.ndarray],
        pre_roll: list[np.ndarray],
        audio_s: float,
    ) -> float:
        """Listen for the command after a wake-up, then answer it. Returns the stream position."""
        with self._turn(record):
            self._set_state(AssistantState.LISTENING)
            cpu, self._early_cpu_s = time.process_time(), {}
            command, reason, early, audio_s = self._listen(frames, pre_roll, audio_s)
            record.add_cpu("endpoint", cpu + sum(self._early_cpu_s.values()))
            for stage, cpu_s in self._early_cpu_s.items():
                record.cpu_s[stage] = record.cpu_s.get(stage, 0.0) + cpu_s
            assert self.endpointer is not None and self.stt is not None
            endpoint_ms = 1000 * self.endpointer.trailing_silence_s
            if early is not None:
                endpoint_ms = 1000 * self.config.vad.early_match_s
            record.timings_ms["endpoint"] = endpoint_ms
            if reason is EndReason.CANCELLED or not self.endpointer.speech_seen:
                if reason is not EndReason.CANCELLED:
                    reason = EndReason.NO_SPEECH
                self.bus.emit(
                    SpeechEnded(
                        turn=record.turn, reason=reason, speech_s=0.0, endpoint_ms=endpoint_ms
                    )
                )
                record.outcome = reason.value
                return audio_s
            keep = len(command) - max(
                0, round((self.endpointer.trailing_silence_s - 0.3) / _FRAME_S)
            )
            audio = np.concatenate(command[: max(1, keep)])
            for tap in self.audio_taps:
                tap(record.turn, audio)
            self.bus.emit(
                SpeechEnded(
                    turn=record.turn,
                    reason=reason,
                    speech_s=len(audio) / 16000,
                    endpoint_ms=endpoint_ms,
                )
            )
            self._set_state(AssistantState.THINKING)
            route: RouteResult | None = None
            if early is not None:
                text, route, stt_ms = early.text, early.route, early.stt_ms
                record.processing_started = early.started
                record.timings_ms["router"] = early.router_ms
            else:
                record.processing_started = time.perf_counter()
                cpu = time.process_time()
                text, stt_ms = self._transcribe(audio)
                record.add_cpu("stt", cpu)
            record.timings_ms["stt"] = stt_ms
            self.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=stt_ms))
            if not text:
                self._fail(record, "empty_transcript", "speech-to-text heard no words")
                self._speak(record, SORRY_NOT_HEARD)
                return audio_s
            self._answer(record, text, route)
        return audio_s

    def _listen(
        self, frames: Iterator[np.ndarray], pre_roll: list[np.ndarray], audio_s: float
    ) -> tuple[list[np.ndarray], EndReason, _Early | None, float]:
        """The command's frames, why it ended, and an early match if there was one."""
        assert self.endpointer is not None
        capture = capture_command(
            self.endpointer,
            frames,
            pre_roll,
            early_match_s=self.config.vad.early_match_s,
            try_early=self._try_early,
            cancelled=self._cancelled,
        )
        return capture.frames, capture.reason, capture.early, audio_s + capture.consumed_s

    def _try_early(self, command: list[np.ndarray]) -> _Early | None:
        started, cpu = time.perf_counter(), time.process_time()
        text, stt_ms = self._transcribe(np.concatenate(command))
        routed, routed_cpu = time.perf_counter(), time.process_time()
        route = self.router.route(text) if text else None
        early = self._early_cpu_s
        early["stt"] = early.get("stt", 0.0) + routed_cpu - cpu
        early["router"] = early.get("router", 0.0) + time.process_time() - routed_cpu
        if route is None:
            return None
        return _Early(text, route, started, stt_ms, 1000 * (time.perf_counter() - routed))

    def _transcribe(self, audio: np.ndarray) -> tuple[str, float]:
        assert self.stt is not None and self.wake is not None
        started = time.perf_counter()
        text = self.stt.transcribe(audio, self.home.registry().spoken_names())
        text = strip_wake_phrase(text, self.wake.name)
        return text, 1000 * (time.perf_counter() - started)
