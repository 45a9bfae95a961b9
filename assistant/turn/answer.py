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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..config import Config
from ..errors import HearthError
from ..events import (
    Announcement,
    AssistantState,
    EventBus,
    IntentMatched,
    ProfileChanged,
    Reply,
    SpeechFinished,
    SpeechStarted,
    StateChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
)
from ..home.actions import perform
from ..home.entities import Action, EntityRegistry
from ..home.home import Home
from ..home.policy import confirmation_question, is_yes, needs_confirmation
from ..mqtt.link import ActionPublisher
from ..skill import SkillCall, SkillContext, SkillRegistry, Tool
from ..understanding.router import STILL_THINKING, TOO_SLOW, LanguageRouter, ModelLayers
from ..understanding.templates import Router, RouteResult
from ..voice.audio import AudioSink
from ..voice.tts import TextToSpeech
from .conversation import Conversation
from .profiles import Profiles, spoken_profile
from .record import TurnRecord, data_dir

__all__ = [
    "QUEUED_REPLY",
    "SORRY",
    "SORRY_NOT_HEARD",
    "STILL_THINKING",
    "TOO_SLOW",
    "Responder",
    "TurnRecord",
    "data_dir",
]

_LOGGER = logging.getLogger(__name__)

SORRY = "Sorry, I didn't understand."
SORRY_NOT_HEARD = "Sorry, I didn't catch that."
NOT_HERE = "I can't do that in this mode."
TOO_LATE = "That answer came too late, so I didn't do it. Please ask again."
SET_PROFILE_INTENT = "HearthSetProfile"
NORMAL_MODE_WORDS = frozenset({"normal", "normal mode", "default", "default mode", "none"})
QUEUED_REPLY = "The home hub isn't answering. I'll send that as soon as it's back."


class Responder(ModelLayers):
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
        llm: LanguageRouter | None = None,
        catalog: Callable[[list[Tool], EntityRegistry], Any] | None = None,
    ) -> None:
        self.config = config
        self.bus = bus
        self.router = router
        self.skills = skills
        self.home = home
        self.publisher = publisher
        self.tts = tts
        self.sink = sink
        self.llm = llm
        self._make_catalog = catalog
        self._catalog: tuple[tuple[int, str], Any] | None = None
        self.profiles = Profiles(config)
        self.conversation = Conversation(config.conversation.timeout_s)
        self.data_dir = data_dir(config)
        self.muted = False
        self.last_progress = time.monotonic()
        self.in_turn = False
        self.stopping = threading.Event()  # shutting down: finish the turn's actions, say no more
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop speaking and end the turn in progress."""
        self._cancelled.set()
        stop = getattr(self.sink, "cancel", None)
        if callable(stop):
            stop()

    def entities_changed(self, registry: EntityRegistry) -> None:
        """Home listener: the router's slot lists follow the devices."""
        self.router.update_entities(registry)

    def stop(self) -> None:
        """Shut down gracefully: stop listening and speaking, but let the turn in progress
        publish its actions."""
        self.stopping.set()  # set first: a cancelled turn that is stopping still acts
        self.cancel()

    def announce(self, text: str) -> None:
        """A skill speaks on its own (a timer rings): an event, and speech where there is audio."""
        self.bus.emit(Announcement(turn=None, text=text))

    def switch_profile(self, name: str) -> bool:
        if not self.profiles.switch(name):
            return False
        self.conversation.history.clear()
        self.bus.emit(ProfileChanged(turn=None, profile=name))
        return True

    def _new_turn(self) -> TurnRecord:
        if not self.stopping.is_set():
            self._cancelled.clear()
        return TurnRecord(turn=uuid.uuid4().hex[:12])

    def _idle_state(self) -> AssistantState:
        return AssistantState.MUTED if self.muted else AssistantState.IDLE

    # -- text in -----------------------------------------------------------------------------

    def run_text(self, text: str) -> TurnRecord:
        """One turn from text, as if spoken after the wake word."""
        record = self._new_turn()
        record.processing_started = time.perf_counter()
        with self._turn(record):
            self.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=0.0))
            self._answer(record, text, None)
        return record

    @contextmanager
    def _turn(self, record: TurnRecord) -> Iterator[None]:
        """Run a turn's work: a failure becomes an ``error`` event, and the turn always ends
        with its ``turn_end`` event, whatever happened."""
        self.in_turn = True
        try:
            yield
        except HearthError as err:
            self._fail(record, err.code, err.message)
            if err.code == "llm_timeout":  # give up cleanly, and say so
                record.outcome = "timeout"
                self._speak(record, TOO_SLOW)
        except Exception as err:
            _LOGGER.exception("turn %s failed", record.turn)
            self._fail(record, "internal", f"{type(err).__name__}: {err}")
        finally:
            self.in_turn = False
            self._finish(record)

    # -- deciding and acting -----------------------------------------------------------------

    def _answer(self, record: TurnRecord, text: str, route: RouteResult | None) -> None:
        self.conversation.expecting_reply = False
        if self.conversation.pending is not None:
            self._confirm(record, text)
            return
        if route is None:
            started, cpu = time.perf_counter(), time.process_time()
            route = self.router.route(text)
            record.add_cpu("router", cpu)
            route = route or self._ask_model(record, text)
            record.timings_ms["router"] = 1000 * (time.perf_counter() - started)
        if route is None:
            if self.llm is not None:
                self._free_answer(record, text)
                return
            record.outcome = "no_intent"
            self.bus.emit(
                TurnFailed(
                    turn=record.turn, code="no_intent", message=f"no sentence matched {text!r}"
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
        if route.intent == SET_PROFILE_INTENT:
            self._speak(record, self._set_profile(str(route.slots.get("profile", ""))))
            return
        skill = self.skills.for_intent(route.intent)
        if skill is None or not self.profiles.allows_skill(skill.name):
            record.outcome = "no_skill"
            why = "no skill handles" if skill is None else "the profile does not allow"
            self.bus.emit(
                TurnFailed(
                    turn=record.turn, code="no_skill", message=f"{why} intent {route.intent}"
                )
            )
            self._speak(record, SORRY if skill is None else NOT_HERE)
            return
        call = SkillCall(route.intent, route.slots, text, record.turn)
        cpu = time.process_time()
        result = skill.run(call, self._context(skill.name))
        record.add_cpu("skill", cpu)
        if self._cancelled.is_set() and not self.stopping.is_set():
            record.outcome = "cancelled"
            return
        if not result.success:
            record.outcome = "skill_failed"
            self._skill_error(record, result.data.get("error"))
        registry = self.home.registry()
        held = [
            a
            for a in result.actions
            if needs_confirmation(registry.get(a.entity_id), a, skill.risk)
        ]
        if held:
            question = confirmation_question(registry.get(held[0].entity_id), held[0])
            timeout_s = self.config.conversation.confirm_timeout_s
            self.conversation.hold(result.actions, result.speech, timeout_s)
            self.conversation.expecting_reply = True
            self._speak(record, question)
            self.conversation.record(text, question)
            return
        speech = self._act_all(record, result.actions, result.speech)
        self.conversation.expecting_reply = result.expect_reply
        self._speak(record, speech)
        self.conversation.record(text, speech)

    def _skill_error(self, record: TurnRecord, error: Any) -> None:
        """A skill that failed for a reason the owner should see (a full disk) puts
        ``{"error": {"code": ..., "message": ...}}`` in its result's ``data``: one error event;
        the skill's own reply is still spoken."""
        if isinstance(error, dict) and error.get("code"):
            message = str(error.get("message", ""))
            self.bus.emit(TurnFailed(turn=record.turn, code=str(error["code"]), message=message))

    def _confirm(self, record: TurnRecord, text: str) -> None:
        """The answer to "Do you want me to …?": act on a clear yes in time, else nothing."""
        in_time = self.conversation.take_pending()
        if in_time is not None and is_yes(text):
            self._speak(record, self._act_all(record, in_time.actions, in_time.speech))
            return
        record.outcome = "declined" if in_time is not None else "confirmation_expired"
        self._speak(record, "Okay, I won't." if in_time is not None else TOO_LATE)

    def _act_all(self, record: TurnRecord, actions: Sequence[Action], speech: str) -> str:
        for action in actions:
            refusal = self._act(record, action)
            if refusal is not None:
                speech = refusal
                if record.outcome != "queued":
                    break
        return speech

    def _context(self, skill_name: str) -> SkillContext:
        return SkillContext(
            entities=self.profiles.entities(self.home.registry()),
            state=self.home.state,
            language=self.config.assistant.language,
            data_dir=self.data_dir,
            announce=self.announce,
            settings=self.config.skills.get(skill_name, {}),
            abilities=tuple(
                s.description for s in self.skills if self.profiles.allows_skill(s.name)
            ),
        )

    def _set_profile(self, spoken: str) -> str:
        if not spoken or spoken.lower() in NORMAL_MODE_WORDS:
            self.switch_profile("")
            return "Back to normal mode."
        name = self.profiles.find(spoken)
        if name is None or not self.switch_profile(name):
            known = ", ".join(spoken_profile(n) for n in self.profiles.names) or "none"
            return f"I don't know that mode. The modes are: {known}."
        return f"Switched to {spoken_profile(name)}."

    def _act(self, record: TurnRecord, action: Action) -> str | None:
        """Validate and publish one action; returns what to say instead if it did not go out."""
        cpu = time.process_time()
        outcome = perform(
            action, self.home.registry(), self.publisher, self.bus.emit, turn=record.turn
        )
        record.add_cpu("action", cpu)
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
        """The reply event first (the text is visible at once), then the speech."""
        record.reply = text
        self.bus.emit(Reply(turn=record.turn, text=text))
        self._play(record, iter([text]) if text else iter(()))

    def _speak_sentences(self, record: TurnRecord, texts: Iterator[str]) -> str:
        """Speak a model's answer sentence by sentence as it is generated; the reply event
        follows with all of it. Returns what was said."""
        record.reply = self._play(record, texts)
        self.bus.emit(Reply(turn=record.turn, text=record.reply))
        return record.reply

    def _play(self, record: TurnRecord, texts: Iterator[str]) -> str:
        """Synthesise and play each text as it comes; returns the texts joined."""
        said: list[str] = []
        started = time.perf_counter()
        cpu, llm_cpu_s = time.process_time(), record.cpu_s.get("llm", 0.0)
        samples = 0
        rate = self.tts.sample_rate_hz if self.tts is not None else 1
        for text in texts:
            said.append(text.strip())
            if self.tts is None or self.sink is None or self._cancelled.is_set():
                continue
            self._set_state(AssistantState.SPEAKING)
            for audio in self.tts.sentences(text):
                if self._cancelled.is_set():
                    record.outcome = "cancelled"
                    break
                if samples == 0:
                    now = time.perf_counter()
                    record.timings_ms["tts_first_audio"] = 1000 * (now - started)
                    record.timings_ms["to_first_audio"] = self._since_speech_end(record, now)
                    self.bus.emit(
                        SpeechStarted(turn=record.turn, tts_ms=record.timings_ms["tts_first_audio"])
                    )
                try:
                    self.sink.play(audio, rate)
                except Exception as err:
                    self._fail(record, "speaker_failed", f"cannot play the reply: {err}")
                    self.sink = None
                    break
                samples += len(audio)
        if samples and self.sink is not None and not self._cancelled.is_set():
            self.sink.drain()
        if samples:
            self.bus.emit(SpeechFinished(turn=record.turn, audio_s=samples / rate))
        if self.tts is not None:  # the time in the model's generator is the model's
            record.add_cpu("tts", cpu + record.cpu_s.get("llm", 0.0) - llm_cpu_s)
        return " ".join(t for t in said if t)

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
                cpu_s={k: round(v, 4) for k, v in record.cpu_s.items()},
            )
        )
        self._set_state(self._idle_state())

    def _set_state(self, state: AssistantState) -> None:
        self.last_progress = time.monotonic()
        self.bus.emit(StateChanged(turn=None, state=state))
