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
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .actions import perform
from .audio import FRAME_MS, AudioSink, AudioSource
from .commands import Ask, Cancel, Command, Listen, Mute, Say
from .config import Config
from .devices import Home
from .entities import Action
from .errors import HearthError
from .events import (
    AssistantState,
    EndReason,
    EventBus,
    IntentMatched,
    ListenStarted,
    Reply,
    SpeechEnded,
    SpeechFinished,
    SpeechStarted,
    StateChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
    WakeDetected,
)
from .mqtt import ActionPublisher
from .router import Router, RouteResult
from .skill import SkillCall, SkillContext, SkillRegistry
from .stt import SpeechToText, strip_wake_phrase
from .tts import TextToSpeech
from .vad import Endpointer, capture_command
from .wake import WakeDetector, WakeGate

__all__ = ["SORRY", "Pipeline", "TurnRecord"]

_LOGGER = logging.getLogger(__name__)
_FRAME_S = FRAME_MS / 1000

SORRY = "Sorry, I didn't understand."
SORRY_NOT_HEARD = "Sorry, I didn't catch that."
SORRY_FAILED = "Sorry, something went wrong."
QUEUED_REPLY = "The home hub isn't answering. I'll send that as soon as it's back."


@dataclass(frozen=True, slots=True)
class _Early:
    """A transcript and template match made during the trailing silence."""

    text: str
    route: RouteResult
    started: float  # perf_counter when its transcription began
    stt_ms: float
    router_ms: float


@dataclass(slots=True)
class TurnRecord:
    """What one turn did, kept while it runs; timings in milliseconds."""

    turn: str
    outcome: str = "ok"
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    processing_started: float = 0.0  # perf_counter when work after the endpoint began


class Pipeline:
    """Wake → endpoint → speech-to-text → router → skill → actions → speech."""

    def __init__(
        self,
        *,
        config: Config,
        bus: EventBus,
        router: Router,
        skills: SkillRegistry,
        home: Home,
        publisher: ActionPublisher,
        wake: WakeDetector | None = None,
        endpointer: Endpointer | None = None,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
        sink: AudioSink | None = None,
    ) -> None:
        self.config = config
        self.bus = bus
        self.router = router
        self.skills = skills
        self.home = home
        self.publisher = publisher
        self.wake = wake
        self.endpointer = endpointer
        self.stt = stt
        self.tts = tts
        self.sink = sink
        self.muted = False
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._cancelled = threading.Event()

    # -- audio in ----------------------------------------------------------------------------

    def run(self, source: AudioSource) -> int:
        """Consume the source until it ends; returns the number of turns taken.

        Between frames, commands submitted from MQTT run here, in the audio thread.
        """
        assert self.wake is not None and self.endpointer is not None and self.stt is not None
        pre_roll: deque[np.ndarray] = deque(
            maxlen=max(1, round(self.config.audio.pre_roll_s / _FRAME_S))
        )
        frames = source.frames()
        audio_s = 0.0
        wake_time_s = 0.0
        wake_frames = 0
        turns = 0
        gate = WakeGate(self.config.wake.threshold, self.config.wake.refractory_s)
        self._set_state(self._idle_state())
        for frame in frames:
            audio_s += _FRAME_S
            if not self._commands.empty():
                turns_before = turns
                audio_s, turns = self._run_commands(frames, audio_s, turns)
                if turns != turns_before:
                    pre_roll.clear()
                    self.wake.reset()
            if self.muted:
                continue
            started = time.perf_counter()
            score = self.wake.score(frame)
            wake_time_s += time.perf_counter() - started
            wake_frames += 1
            pre_roll.append(frame)
            if not gate.fire(score, audio_s):
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
            pre_roll.clear()
            self.wake.reset()
        audio_s, turns = self._run_commands(iter(()), audio_s, turns)
        return turns

    # -- commands from MQTT ------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Hand over a command from another thread. ``Cancel`` acts at once; the others run in
        the audio thread between frames."""
        if isinstance(command, Cancel):
            self.cancel()
        else:
            self._commands.put(command)

    def cancel(self) -> None:
        """Stop speaking and end the turn in progress."""
        self._cancelled.set()
        stop = getattr(self.sink, "cancel", None)
        if callable(stop):
            stop()

    def _run_commands(
        self, frames: Iterator[np.ndarray], audio_s: float, turns: int
    ) -> tuple[float, int]:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return audio_s, turns
            if isinstance(command, Mute):
                self.muted = command.on
                self._set_state(self._idle_state())
            elif isinstance(command, Say):
                record = self._new_turn()
                try:
                    self._speak(record, command.text)
                finally:
                    self._finish(record)
            elif isinstance(command, Ask):
                turns += 1
                self.run_text(command.text)
            elif isinstance(command, Listen):
                turns += 1
                record = self._new_turn()
                self.bus.emit(ListenStarted(turn=record.turn, trigger="mqtt"))
                audio_s = self._voice_turn(record, frames, [], audio_s)

    def _new_turn(self) -> TurnRecord:
        self._cancelled.clear()
        return TurnRecord(turn=uuid.uuid4().hex[:12])

    def _idle_state(self) -> AssistantState:
        return AssistantState.MUTED if self.muted else AssistantState.IDLE

    def _voice_turn(
        self,
        record: TurnRecord,
        frames: Iterator[np.ndarray],
        pre_roll: list[np.ndarray],
        audio_s: float,
    ) -> float:
        """Listen for the command after a wake-up, then answer it. Returns the stream position."""
        try:
            self._set_state(AssistantState.LISTENING)
            command, reason, early, audio_s = self._listen(frames, pre_roll, audio_s)
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
                text, stt_ms = self._transcribe(audio)
            record.timings_ms["stt"] = stt_ms
            self.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=stt_ms))
            if not text:
                self._fail(record, "empty_transcript", "speech-to-text heard no words")
                self._speak(record, SORRY_NOT_HEARD)
                return audio_s
            self._answer(record, text, route)
        except HearthError as err:
            self._fail(record, err.code, err.message)
        except Exception as err:
            _LOGGER.exception("turn %s failed", record.turn)
            self._fail(record, "internal", f"{type(err).__name__}: {err}")
        finally:
            self._finish(record)
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
        started = time.perf_counter()
        text, stt_ms = self._transcribe(np.concatenate(command))
        routed = time.perf_counter()
        route = self.router.route(text) if text else None
        if route is None:
            return None
        return _Early(text, route, started, stt_ms, 1000 * (time.perf_counter() - routed))

    def _transcribe(self, audio: np.ndarray) -> tuple[str, float]:
        assert self.stt is not None and self.wake is not None
        started = time.perf_counter()
        text = self.stt.transcribe(audio, self.home.registry().spoken_names())
        text = strip_wake_phrase(text, self.wake.name)
        return text, 1000 * (time.perf_counter() - started)

    # -- text in -----------------------------------------------------------------------------

    def run_text(self, text: str) -> TurnRecord:
        """One turn from text, as if spoken after the wake word."""
        record = self._new_turn()
        record.processing_started = time.perf_counter()
        try:
            self.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=0.0))
            self._answer(record, text, None)
        except HearthError as err:
            self._fail(record, err.code, err.message)
        except Exception as err:
            _LOGGER.exception("turn %s failed", record.turn)
            self._fail(record, "internal", f"{type(err).__name__}: {err}")
        finally:
            self._finish(record)
        return record

    # -- deciding and acting -----------------------------------------------------------------

    def _answer(self, record: TurnRecord, text: str, route: RouteResult | None) -> None:
        if route is None:
            started = time.perf_counter()
            route = self.router.route(text)
            record.timings_ms["router"] = 1000 * (time.perf_counter() - started)
        if route is None:
            record.outcome = "no_intent"
            self.bus.emit(
                TurnFailed(
                    turn=record.turn,
                    code="no_intent",
                    message=f"no sentence template matched {text!r}",
                )
            )
            self._speak(record, SORRY)
            return
        self.bus.emit(
            IntentMatched(
                turn=record.turn,
                intent=route.intent,
                slots=route.slots,
                layer=route.layer,
                sentence=route.sentence,
                router_ms=record.timings_ms["router"],
            )
        )
        skill = self.skills.for_intent(route.intent)
        if skill is None:
            record.outcome = "no_skill"
            self.bus.emit(
                TurnFailed(
                    turn=record.turn,
                    code="no_skill",
                    message=f"no skill handles intent {route.intent}",
                )
            )
            self._speak(record, SORRY)
            return
        context = SkillContext(
            entities=self.home.registry(),
            state=self.home.state,
            language=self.config.assistant.language,
        )
        result = skill.run(SkillCall(route.intent, route.slots, text, record.turn), context)
        if self._cancelled.is_set():
            record.outcome = "cancelled"
            return
        speech = result.speech
        if not result.success:
            record.outcome = "skill_failed"
        for action in result.actions:
            refusal = self._act(record, action)
            if refusal is not None:
                speech = refusal
                if record.outcome != "queued":
                    break
        self._speak(record, speech)

    def _act(self, record: TurnRecord, action: Action) -> str | None:
        """Validate and publish one action; returns what to say instead if it did not go out."""
        outcome = perform(
            action, self.home.registry(), self.publisher, self.bus.emit, turn=record.turn
        )
        if outcome.refusal is not None:
            record.outcome = "action_failed"
            return outcome.refusal
        record.timings_ms["action"] = outcome.publish_ms
        if outcome.queued:
            record.outcome = "queued"
            return QUEUED_REPLY
        if "to_publish" not in record.timings_ms:
            record.timings_ms["to_publish"] = self._since_speech_end(record, outcome.done)
        return None

    def _since_speech_end(self, record: TurnRecord, now: float) -> float:
        """Time since the end of speech: the silence waited plus the processing since."""
        return record.timings_ms.get("endpoint", 0.0) + 1000 * (now - record.processing_started)

    # -- speaking ----------------------------------------------------------------------------

    def _speak(self, record: TurnRecord, text: str) -> None:
        record.reply = text
        self.bus.emit(Reply(turn=record.turn, text=text))
        if not text or self.tts is None or self.sink is None:
            return
        self._set_state(AssistantState.SPEAKING)
        started = time.perf_counter()
        samples = 0
        for index, audio in enumerate(self.tts.sentences(text)):
            if self._cancelled.is_set():
                record.outcome = "cancelled"
                break
            if index == 0:
                now = time.perf_counter()
                record.timings_ms["tts_first_audio"] = 1000 * (now - started)
                record.timings_ms["to_first_audio"] = self._since_speech_end(record, now)
                self.bus.emit(
                    SpeechStarted(turn=record.turn, tts_ms=record.timings_ms["tts_first_audio"])
                )
            try:
                self.sink.play(audio, self.tts.sample_rate_hz)
            except Exception as err:
                self._fail(record, "speaker_failed", f"cannot play the reply: {err}")
                return
            samples += len(audio)
        if not self._cancelled.is_set():
            self.sink.drain()
        self.bus.emit(SpeechFinished(turn=record.turn, audio_s=samples / self.tts.sample_rate_hz))

    # -- bookkeeping -------------------------------------------------------------------------

    def _fail(self, record: TurnRecord, code: str, message: str) -> None:
        if record.outcome == "ok":
            record.outcome = "error"
        self.bus.emit(TurnFailed(turn=record.turn, code=code, message=message))

    def _finish(self, record: TurnRecord) -> None:
        self.bus.emit(
            TurnFinished(
                turn=record.turn,
                outcome=record.outcome,
                timings_ms={k: round(v, 1) for k, v in record.timings_ms.items()},
            )
        )
        self._set_state(self._idle_state())

    def _set_state(self, state: AssistantState) -> None:
        self.bus.emit(StateChanged(turn=None, state=state))
