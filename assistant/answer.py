"""Answering a turn: router, skill, home actions, then the spoken reply.

The :class:`Responder` takes a command as text, whether it was heard (the :class:`Pipeline`
subclass adds the audio side) or typed (``hearth ask``, ``cmd/ask``). It routes it, runs the
skill, publishes the skill's actions before it synthesises the reply, speaks the reply sentence
by sentence, and ends every turn with a :class:`TurnFinished`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from .actions import perform
from .audio import AudioSink
from .config import Config
from .devices import Home
from .entities import Action
from .errors import HearthError
from .events import (
    AssistantState,
    EventBus,
    IntentMatched,
    Reply,
    SpeechFinished,
    SpeechStarted,
    StateChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
)
from .mqtt import ActionPublisher
from .router import Router, RouteResult
from .skill import SkillCall, SkillContext, SkillRegistry
from .tts import TextToSpeech

__all__ = ["QUEUED_REPLY", "SORRY", "SORRY_NOT_HEARD", "Responder", "TurnRecord"]

_LOGGER = logging.getLogger(__name__)

SORRY = "Sorry, I didn't understand."
SORRY_NOT_HEARD = "Sorry, I didn't catch that."
SORRY_FAILED = "Sorry, something went wrong."
QUEUED_REPLY = "The home hub isn't answering. I'll send that as soon as it's back."


@dataclass(slots=True)
class TurnRecord:
    """What one turn did, kept while it runs; timings in milliseconds."""

    turn: str
    outcome: str = "ok"
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    processing_started: float = 0.0  # perf_counter when work after the endpoint began


class Responder:
    """Text → router → skill → actions → speech, with its events."""

    def __init__(
        self,
        *,
        config: Config,
        bus: EventBus,
        router: Router,
        skills: SkillRegistry,
        home: Home,
        publisher: ActionPublisher,
        tts: TextToSpeech | None = None,
        sink: AudioSink | None = None,
    ) -> None:
        self.config = config
        self.bus = bus
        self.router = router
        self.skills = skills
        self.home = home
        self.publisher = publisher
        self.tts = tts
        self.sink = sink
        self.muted = False
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop speaking and end the turn in progress."""
        self._cancelled.set()
        stop = getattr(self.sink, "cancel", None)
        if callable(stop):
            stop()

    def _new_turn(self) -> TurnRecord:
        self._cancelled.clear()
        return TurnRecord(turn=uuid.uuid4().hex[:12])

    def _idle_state(self) -> AssistantState:
        return AssistantState.MUTED if self.muted else AssistantState.IDLE

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
