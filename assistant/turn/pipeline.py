"""A turn, start to finish, for one audio source: the whole story in one read.

    frames ─► wake word ─► endpointer ─► speech-to-text ─► answerer (router ─► skill)
                                                                       │
                 speaker ◄── Piper, sentence by sentence ◄── reply ◄───┴──► MQTT actions

One :class:`HearingLoop` per audio source reads it frame by frame in its own thread:

1. While no turn is open, frames go to the wake word detector, and the last
   ``audio.pre_roll_s`` of them are kept.
2. When the wake word fires, the room asks the house whether it answers
   (:mod:`assistant.rooms.board`: the loudest of the rooms that heard it does, with no wait when
   it is alone); if another room answers, a ``wake_yielded`` event, and the audio is dropped.
   Otherwise a turn opens (a ``wake`` event), and frames go to the endpointer
   until the command ends (``speech_end``). During the trailing silence, after
   ``vad.early_match_s``, a worker thread transcribes the audio so far while the loop goes on
   reading frames; a complete template match ends the command there instead of after
   ``vad.silence_s``, unless speech came back first.
3. The command is transcribed (``transcript``), with the home's device names as a hint; when the
   worker's attempt already covers every word of it, its transcript is used.
4. The :class:`~assistant.turn.answer.Answerer` routes it, runs the skill, publishes the actions
   and only then speaks the reply.
5. After a question ("Do you want me to unlock the front door?") the loop listens once more
   without the wake word.

Frames that arrive during a turn wait in the source, so nothing is dropped. Commands from MQTT
(``cmd/*``) run in this thread between frames; ``cmd/cancel`` acts at once. The loop's stages are
swapped as one (:meth:`HearingLoop.swap`) when the configuration is reloaded.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np

from ..config import Config
from ..errors import HearthError
from ..events import (
    AssistantState,
    CommandEnded,
    EndReason,
    ListenStarted,
    Transcript,
    TurnFailed,
    WakeDetected,
    WakeYielded,
)
from ..home.entities import area_id
from ..rooms.board import AnswerAlways, WakeArbiter
from ..understanding.templates import RouteResult
from ..voice.audio import FRAME_MS, SAMPLE_RATE_HZ, AudioSink, AudioSource
from ..voice.clock import StreamClock
from ..voice.endpoint import Endpointer, capture_command
from ..voice.level import LevelMeter
from ..voice.stt import SpeechToText, strip_wake_phrase
from ..voice.wake import WakeDetector, WakeGate
from .activity import Activity
from .answer import SORRY_NOT_HEARD, Answerer
from .inbox import Ask, Cancel, Command, Inbox, Listen, Mute, Profile, Say
from .name_hints import hint_names
from .record import TurnRecord

__all__ = ["Hearing", "HearingLoop", "Stages"]

_LOGGER = logging.getLogger(__name__)
_FRAME_S: Final = FRAME_MS / 1000
_KEPT_SILENCE_S: Final = 0.3  # trailing silence left on a command for speech-to-text


@dataclass(frozen=True, slots=True)
class Hearing:
    """The listening stages: the wake word, the endpointer and speech-to-text."""

    wake: WakeDetector
    endpointer: Endpointer
    stt: SpeechToText


@dataclass(frozen=True, slots=True)
class Stages:
    """What a hearing loop runs, swapped as one when the configuration is reloaded."""

    config: Config
    hearing: Hearing
    answerer: Answerer


@dataclass(frozen=True, slots=True)
class _Guess:
    """A transcript, and its template match if any, made during the trailing silence."""

    text: str
    route: RouteResult | None
    started: float  # perf_counter when its transcription began
    stt_ms: float
    router_ms: float
    cpu_s: float  # the worker thread's own CPU seconds for the attempt


@dataclass(frozen=True, slots=True)
class _Heard:
    """A command as the endpointer closed it."""

    audio: np.ndarray | None  # None: nothing was said (or the turn was cancelled)
    reason: EndReason
    guess: _Guess | None  # a transcript of exactly these words, made while they ended


class HearingLoop:
    """Wake → endpoint → speech-to-text → the answerer, one turn after another."""

    def __init__(
        self,
        stages: Stages,
        activity: Activity,
        inbox: Inbox | None = None,
        arbiter: WakeArbiter | None = None,
        room: str = "",
    ) -> None:
        self._stages = stages
        self.activity = activity
        self.inbox = inbox or Inbox()
        self.arbiter = arbiter or AnswerAlways()
        self.room = room or stages.config.assistant.node_id
        self.levels = LevelMeter()
        self.heard = StreamClock()  # when a position in the stream was captured
        self._soon: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._source: AudioSource | None = None
        self._position_s = 0.0  # where in the audio stream the loop is
        self._wake_s = 0.0  # time spent in the wake word detector, and on how many frames
        self._wake_frames = 0
        self.gate = self._new_gate()
        self.audio_taps: list[Callable[[str, np.ndarray], None]] = []  # (turn, command audio)
        # per frame: (wake word score, speech probability), None where not measured; keep cheap
        self.level_taps: list[Callable[[float | None, float | None], None]] = []
        # speculative transcription during the trailing silence, so the frames keep flowing
        self._speculator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-guess")

    # -- parts -------------------------------------------------------------------------------

    @property
    def stages(self) -> Stages:
        return self._stages

    @property
    def answerer(self) -> Answerer:
        return self._stages.answerer

    @property
    def hearing(self) -> Hearing:
        return self._stages.hearing

    @property
    def sink(self) -> AudioSink | None:
        return self._stages.answerer.voice.sink

    def swap(self, stages: Stages) -> None:
        """Use new stages from the next frame on (a reload); call in the loop's thread."""
        self._stages = stages
        self.gate = self._new_gate()

    def _new_gate(self) -> WakeGate:
        wake = self._stages.config.wake
        return WakeGate(wake.threshold, wake.refractory_s)

    # -- control from other threads ----------------------------------------------------------

    def submit(self, command: Command, origin: str = "", arrived: float | None = None) -> None:
        """Hand over a command from another thread (``origin``: its topic; ``arrived``: when,
        as ``perf_counter``). ``Cancel`` acts at once; the others run in the loop's thread
        between frames, in order; a full queue refuses the command with an error event."""
        if isinstance(command, Cancel):
            self.cancel()
        elif not self.inbox.put(command, origin, arrived):
            message = f"{origin or 'command'}: {len(self.inbox)} commands are already waiting; "
            message += "this one was not queued"
            self.answerer.bus.emit(TurnFailed(turn=None, code="queue_full", message=message))

    def call_soon(self, work: Callable[[], None]) -> None:
        """Run ``work`` in the loop's thread before the next frame, when no turn is in
        progress (safe to call from a signal handler)."""
        self._soon.put(work)

    def cancel(self) -> None:
        """Stop speaking, end the turn in progress and any question it asked, and drop the
        commands still waiting."""
        self.activity.cancelled.set()
        self.answerer.voice.stop()
        self.answerer.conversation.end_question()
        dropped = self.inbox.clear()
        if dropped:
            _LOGGER.info("cancel: %d waiting command(s) dropped", len(dropped))

    def stop(self) -> None:
        """Shut down gracefully: stop listening and speaking, but let the turn in progress
        publish its actions."""
        self.activity.stopping.set()  # set first: a cancelled turn that is stopping still acts
        self.cancel()

    def announce(self, text: str) -> None:
        """Speak later, between turns (a timer rings)."""
        self.submit(Say(text))

    def alive(self, stall_s: float = 60.0) -> bool:
        """Whether the loop moved within ``stall_s`` (a turn may think for a while).

        A source that waits for its device (a microphone being reopened with backoff) shows its
        own sign of life, ``last_beat``; a loop frozen anywhere shows neither.
        """
        beat_s = self._source.last_beat if self._source is not None else 0.0
        return time.monotonic() - max(self.activity.last_progress, beat_s) < stall_s

    # -- the loop ----------------------------------------------------------------------------

    def run(self, source: AudioSource) -> int:
        """Consume the source until it ends; returns the number of turns taken."""
        self._source = source
        frames = source.frames()
        pre_roll: deque[np.ndarray] = deque(
            maxlen=max(1, round(self._stages.config.audio.pre_roll_s / _FRAME_S))
        )
        self._position_s = 0.0
        self.heard.reset()
        self.gate = self._new_gate()  # a new stream starts at 0 s: no refractory time carried
        self.activity.idle()
        turns = 0
        for frame in frames:
            if self.activity.stopping.is_set():
                break
            self.activity.last_progress = time.monotonic()
            taken = self._between_frames(frames)
            if taken:
                turns += taken
                pre_roll.clear()
                self.hearing.wake.reset()
            if not len(frame):  # the microphone is away: nothing to hear, commands still run
                self.heard.reset()  # when it is back, its frames map to new times
                continue
            self._position_s += _FRAME_S
            self.heard.tick(self._position_s)
            if self.activity.muted:
                continue
            score = self._wake_score(frame)
            self.levels.add(frame)
            for tap in self.level_taps:
                tap(score, None)
            pre_roll.append(frame)
            if not self.gate.fire(score, self._position_s):
                continue
            if self._wake_turn(score, frames, list(pre_roll)):
                turns += 1
            pre_roll.clear()
            self.hearing.wake.reset()
        if not self.activity.stopping.is_set():
            turns += self._run_commands(iter(()))
        return turns

    def _between_frames(self, frames: Iterator[np.ndarray]) -> int:
        """Work handed over from other threads; returns the number of turns it took."""
        while not self._soon.empty():
            self._soon.get_nowait()()
        return self._run_commands(frames) if not self.inbox.empty() else 0

    def _wake_score(self, frame: np.ndarray) -> float:
        started = time.perf_counter()
        score = self.hearing.wake.score(frame)
        self._wake_s += time.perf_counter() - started
        self._wake_frames += 1
        return score

    def _wake_turn(
        self, score: float, frames: Iterator[np.ndarray], pre_roll: list[np.ndarray]
    ) -> bool:
        """The wake word fired: if this room answers it, listen for the command, answer it,
        then any follow-up; ``False`` when another room answers. The frames that come while the
        rooms decide wait in the source."""
        level_db, ago_s = self.levels.peak()
        verdict = self.arbiter.decide(score, level_db, self.heard.at(self._position_s - ago_s))
        if not verdict.won:
            self.answerer.bus.emit(
                WakeYielded(
                    turn=None,
                    room=self.room,
                    reason=verdict.reason,
                    winner=verdict.winner,
                    score=score,
                    level_db=verdict.level_db,
                    arbitration_ms=verdict.wait_ms,
                )
            )
            return False
        record = self.answerer.new_turn(spoken=True)
        wake_ms = 1000 * self._wake_s / max(1, self._wake_frames)
        record.meter.set("wake", wake_ms)
        self.answerer.bus.emit(
            WakeDetected(
                turn=record.turn,
                model=self.hearing.wake.name,
                score=score,
                audio_s=self._position_s,
                wake_ms=wake_ms,
                level_db=verdict.level_db,
                arbitration_ms=verdict.wait_ms,
                room=self.room,
            )
        )
        self._voice_turn(record, frames, pre_roll)
        self._follow_ups(frames)
        return True

    def _follow_ups(self, frames: Iterator[np.ndarray]) -> None:
        """After a question, listen again at once, without the wake word; once per question."""
        conversation = self.answerer.conversation
        while conversation.expecting_reply and not self.activity.stopping.is_set():
            record = self.answerer.new_turn(spoken=True)
            record.answers = True  # the one turn where a spoken yes confirms
            self.answerer.bus.emit(ListenStarted(turn=record.turn, trigger="follow_up"))
            self._voice_turn(record, frames, [])
            if record.outcome in ("no_speech", "cancelled"):
                conversation.end_question()

    def _voice_turn(
        self, record: TurnRecord, frames: Iterator[np.ndarray], pre_roll: list[np.ndarray]
    ) -> None:
        """Listen for the command, transcribe it, and answer it."""
        answerer = self.answerer
        with answerer.turn(record):
            self.activity.set(AssistantState.LISTENING)
            heard = self._listen(record, frames, pre_roll)
            if heard.audio is None:
                record.outcome = heard.reason.value
                return
            self.activity.set(AssistantState.THINKING)
            text, route = self._transcribe_heard(record, heard)
            if not text:
                answerer.fail(record, "empty_transcript", "speech-to-text heard no words")
                answerer.say(record, SORRY_NOT_HEARD)
                return
            answerer.answer(record, text, route)

    def _listen(
        self, record: TurnRecord, frames: Iterator[np.ndarray], pre_roll: list[np.ndarray]
    ) -> _Heard:
        """Frames to the endpointer until the command ends; the ``speech_end`` event."""
        endpointer = self.hearing.endpointer
        early_match_s = self._stages.config.vad.early_match_s
        with record.meter.stage("endpoint"):
            capture = capture_command(
                endpointer,
                self._tapped(frames) if self.level_taps else frames,
                pre_roll,
                early_match_s=early_match_s,
                speculate=self._speculate,
                complete=lambda guess: guess.route is not None,
                cancelled=self.activity.cancelled,
                wait=self._source is None or not self._source.live,
            )
        ended_at = time.perf_counter()
        self._position_s += capture.consumed_s
        early = capture.early
        silence_s = endpointer.trailing_silence_s
        record.meter.set("endpoint", 1000 * silence_s)
        reason = capture.reason
        audio = None
        if reason is not EndReason.CANCELLED and endpointer.speech_seen:
            extra_frames = round((endpointer.trailing_silence_s - _KEPT_SILENCE_S) / _FRAME_S)
            keep = len(capture.frames) - max(0, extra_frames)
            audio = np.concatenate(capture.frames[: max(1, keep)])
            for tap in self.audio_taps:
                tap(record.turn, audio)
        elif reason is not EndReason.CANCELLED:
            reason = EndReason.NO_SPEECH
        self.answerer.bus.emit(
            CommandEnded(
                turn=record.turn,
                reason=reason,
                speech_s=0.0 if audio is None else len(audio) / SAMPLE_RATE_HZ,
                endpoint_ms=1000 * silence_s,
            )
        )
        if early is not None and (self._source is None or not self._source.live):
            # read from a file: the audio's own clock, not how fast it was read
            record.speech_end_at = early.started - early_match_s
        else:
            record.speech_end_at = ended_at - silence_s
        guess = self._settled(capture.guess) if audio is not None else None
        return _Heard(audio, reason, guess)

    def _speculate(self, command: list[np.ndarray]) -> Future[_Guess]:
        return self._speculator.submit(self._guess, np.concatenate(command))

    @staticmethod
    def _settled(guess: Future[_Guess] | None) -> _Guess | None:
        """The attempt's result, waiting for it if it is still running; ``None`` if it failed
        (the command is then transcribed again, and that error, if any, reported)."""
        if guess is None:
            return None
        try:
            return guess.result()
        except HearthError:
            return None

    def _tapped(self, frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The frames on to the endpointer; each one's speech probability to the level taps
        once the endpointer has taken it."""
        for frame in frames:
            yield frame
            for tap in self.level_taps:
                tap(None, self.hearing.endpointer.probability)

    def _transcribe_heard(
        self, record: TurnRecord, heard: _Heard
    ) -> tuple[str, RouteResult | None]:
        """The command's words (from the worker's attempt when it heard all of them) and the
        template match that came with them, if any."""
        if heard.guess is not None:
            text, route, stt_ms = heard.guess.text, heard.guess.route, heard.guess.stt_ms
            # the worker ran while the endpointer listened: its CPU is speech-to-text's
            record.meter.move_cpu("endpoint", "stt", heard.guess.cpu_s)
            if route is not None:
                record.meter.set("router", heard.guess.router_ms)
        else:
            assert heard.audio is not None
            with record.meter.stage("stt"):
                text, stt_ms = self._transcribe(heard.audio)
            route = None
        record.meter.set("stt", stt_ms)
        self.answerer.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=stt_ms))
        return text, route

    def _guess(self, audio: np.ndarray) -> _Guess:
        """On the worker, during the trailing silence: what was said so far, and whether a
        template matches it completely."""
        started, cpu = time.perf_counter(), time.thread_time()
        text, stt_ms = self._transcribe(audio)
        matched = time.perf_counter()
        route = self.answerer.match(text) if text else None
        router_ms = 1000 * (time.perf_counter() - matched)
        return _Guess(text, route, started, stt_ms, router_ms, time.thread_time() - cpu)

    def _transcribe(self, audio: np.ndarray) -> tuple[str, float]:
        started = time.perf_counter()
        answerer = self.answerer
        names = hint_names(answerer.home.registry(), area_id(answerer.area), answerer.recent())
        text = self.hearing.stt.transcribe(audio, names)
        text = strip_wake_phrase(text, self.hearing.wake.name)
        return text, 1000 * (time.perf_counter() - started)

    # -- commands from MQTT ------------------------------------------------------------------

    def _run_commands(self, frames: Iterator[np.ndarray]) -> int:
        """Run the waiting commands in order; returns the number of turns they took. One that
        waited longer than ``mqtt.command_ttl_s`` is dropped, not run (mute and profile, which
        are states, still apply)."""
        turns = 0
        ttl_s = self._stages.config.mqtt.command_ttl_s
        while not self.activity.stopping.is_set():
            queued = self.inbox.take()
            if queued is None:
                return turns
            answerer = self.answerer
            command = queued.command
            if queued.age_s() > ttl_s and not queued.lasting:
                origin = queued.origin or type(command).__name__.lower()
                message = (
                    f"{origin}: waited {queued.age_s():.1f} s, more than mqtt.command_ttl_s "
                    f"({ttl_s:g} s): dropped, not run"
                )
                answerer.bus.emit(TurnFailed(turn=None, code="command_expired", message=message))
            elif isinstance(command, Mute):
                self.activity.muted = command.on
                answerer.conversation.end_question()
                self.activity.idle()
            elif isinstance(command, Say):
                record = answerer.new_turn()
                with answerer.turn(record):
                    answerer.say(record, command.text)
            elif isinstance(command, Ask):
                turns += 1
                answerer.run_text(command.text, given_at=queued.arrived)
            elif isinstance(command, Listen):
                turns += 1
                record = answerer.new_turn(spoken=True)
                answerer.bus.emit(ListenStarted(turn=record.turn, trigger="mqtt"))
                self._voice_turn(record, frames, [])
                self._follow_ups(frames)
            elif isinstance(command, Profile) and not answerer.switch_profile(command.name):
                node = self._stages.config.assistant.node_id
                message = f"hearth/{node}/cmd/profile: no profile {command.name!r}"
                answerer.bus.emit(TurnFailed(turn=None, code="bad_command", message=message))
        return turns
