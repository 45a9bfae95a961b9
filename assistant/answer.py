"""Answering a turn: router, skill, home actions, then the spoken reply.

The :class:`Responder` takes a command as text, whether it was heard (the :class:`Pipeline`
subclass adds the audio side) or typed (``hearth ask``, ``cmd/ask``). It routes it, runs the
skill, publishes the skill's actions before it synthesises the reply, speaks the reply sentence
by sentence, and ends every turn with a :class:`TurnFinished`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .actions import perform
from .audio import AudioSink
from .config import Config
from .conversation import Conversation
from .devices import Home
from .entities import Action, EntityRegistry
from .errors import HearthError, RouterError
from .events import (
    Announcement,
    AssistantState,
    EventBus,
    IntentMatched,
    ModelConsulted,
    ProfileChanged,
    Reply,
    SpeechFinished,
    SpeechStarted,
    StateChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
)
from .mqtt import ActionPublisher
from .patience import TimedOut, Waiter, stream_within
from .policy import confirmation_question, grounded, is_yes, needs_confirmation
from .profiles import Profiles, spoken_profile
from .router import Router, RouteResult
from .skill import SkillCall, SkillContext, SkillRegistry, Tool
from .tts import TextToSpeech

__all__ = ["QUEUED_REPLY", "SORRY", "SORRY_NOT_HEARD", "Responder", "TurnRecord"]

_LOGGER = logging.getLogger(__name__)

SORRY = "Sorry, I didn't understand."
SORRY_NOT_HEARD = "Sorry, I didn't catch that."
NOT_HERE = "I can't do that in this mode."
TOO_LATE = "That answer came too late, so I didn't do it. Please ask again."
SET_PROFILE_INTENT = "HearthSetProfile"
NORMAL_MODE_WORDS = frozenset({"normal", "normal mode", "default", "default mode", "none"})
STILL_THINKING = "One moment, I'm still thinking."
TOO_SLOW = "Sorry, I couldn't work that out in time. Please ask again."
QUEUED_REPLY = "The home hub isn't answering. I'll send that as soon as it's back."


@dataclass(slots=True)
class TurnRecord:
    """What one turn did, kept while it runs; timings in milliseconds."""

    turn: str
    outcome: str = "ok"
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    processing_started: float = 0.0  # perf_counter when work after the endpoint began
    cpu_s: dict[str, float] = field(default_factory=dict)  # process CPU time by stage

    def add_cpu(self, stage: str, since_s: float) -> None:
        """Count the process CPU time since ``since_s`` (a ``time.process_time()``) to a stage;
        it covers every thread, so the models' worker threads are included."""
        self.cpu_s[stage] = self.cpu_s.get(stage, 0.0) + time.process_time() - since_s


def _counted(
    record: TurnRecord, stage: str, items: Iterator[str], wall_s: list[float]
) -> Iterator[str]:
    """Pass ``items`` on, counting the CPU time (to ``stage``) and the wall time (added to
    ``wall_s[0]``) spent producing them."""
    while True:
        cpu, started = time.process_time(), time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            record.add_cpu(stage, cpu)
            wall_s[0] += time.perf_counter() - started
        yield item


def data_dir(config: Config) -> Path:
    """``assistant.data_dir``, else systemd's ``$STATE_DIRECTORY``, else ~/.local/state/hearth."""
    if config.assistant.data_dir:
        return Path(config.assistant.data_dir).expanduser()
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "state" / "hearth"


class LanguageRouter(Protocol):
    """Router layers 2 and 3: a tool call chosen by the language model, or a free answer."""

    def decide(
        self, text: str, catalog: Any, history: list[dict[str, str]]
    ) -> RouteResult | None: ...

    def answer(
        self,
        text: str,
        history: list[dict[str, str]],
        system_prompt: str,
        max_tokens: int,
        deadline_s: float,
    ) -> Iterator[str]: ...

    def prepare(self, catalog: Any) -> None: ...


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
        self.stopping.set()
        self._cancelled.set()
        stop = getattr(self.sink, "cancel", None)
        if callable(stop):
            stop()

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

    # -- the language model ------------------------------------------------------------------

    def _ask_model(self, record: TurnRecord, text: str) -> RouteResult | None:
        """Router layer 2: a tool call, validated before anything runs."""
        if self.llm is None or self._make_catalog is None:
            return None
        recent = self.conversation.recent()
        started, cpu = time.perf_counter(), time.process_time()
        llm, catalog = self.llm, self._tool_catalog()
        try:
            route = Waiter(lambda: llm.decide(text, catalog, recent)).result(
                self.config.llm.timeout_s, self.config.llm.thinking_cue_s, self._cue(record)
            )
        except TimedOut:
            record.add_cpu("llm", cpu)
            self._consulted(record, {}, 1000 * (time.perf_counter() - started), "too late")
            raise RouterError(
                "llm_timeout",
                f"the language model gave no answer within {self.config.llm.timeout_s:g} s "
                "(llm.timeout_s)",
            ) from None
        record.add_cpu("llm", cpu)
        llm_ms = 1000 * (time.perf_counter() - started)
        if route is None:
            self._consulted(record, {}, llm_ms)
            return None
        # what was said: this turn, and what the person said before in this conversation
        said = " ".join([m["content"] for m in recent if m["role"] == "user"] + [text])
        described = " ".join(
            [route.intent]
            + [t.description for s in self.skills for t in s.tools if t.intent == route.intent]
        )
        if not grounded(route.slots, said, self.home.registry(), described):
            _LOGGER.info("layer 2 call %s %s not grounded in %r", route.intent, route.slots, text)
            self._consulted(record, {}, llm_ms, "not grounded in what was said")
            return None
        self._consulted(record, {"intent": route.intent, "slots": route.slots}, llm_ms)
        return route

    def _consulted(
        self, record: TurnRecord, call: dict[str, Any], llm_ms: float, note: str = ""
    ) -> None:
        """The model's side of a decision, as an event (for the journal and the event topic)."""
        exchange = getattr(self.llm, "last_exchange", None)
        if exchange is None:
            return
        verdicts = list(exchange.verdicts)
        if note and verdicts:
            verdicts[-1] = f"{verdicts[-1]}, but {note}"
        self.bus.emit(
            ModelConsulted(
                turn=record.turn,
                layer=exchange.layer,
                prompt=tuple(dict(m) for m in exchange.prompt),
                outputs=tuple(exchange.outputs),
                verdicts=tuple(verdicts),
                call=call,
                llm_ms=llm_ms,
            )
        )

    def set_language_model(
        self,
        llm: LanguageRouter | None,
        catalog: Callable[[list[Tool], EntityRegistry], Any] | None,
    ) -> None:
        """A new (or no) language model, e.g. after a reload; the tool catalogue is rebuilt."""
        self.llm = llm
        self._make_catalog = catalog if llm is not None else None
        self._catalog = None

    def prepare_language_model(self) -> None:
        """Read the tool prompt into the model's cache now, so the first command the templates
        miss does not pay for it (about 4 s with the default model on 2 cores)."""
        if self.llm is not None and self._make_catalog is not None:
            self.llm.prepare(self._tool_catalog())

    def _tool_catalog(self) -> Any:
        """Rebuilt only when the devices or the profile change, so the prompt stays cached."""
        assert self._make_catalog is not None
        registry = self.home.registry()
        key = (id(registry), self.profiles.active)
        if self._catalog is None or self._catalog[0] != key:
            tools = [
                tool
                for skill in self.skills
                if self.profiles.allows_skill(skill.name)
                for tool in getattr(skill, "tools", ())
            ]
            self._catalog = (key, self._make_catalog(tools, self.profiles.entities(registry)))
        return self._catalog[1]

    def _free_answer(self, record: TurnRecord, text: str) -> None:
        """Router layer 3: the model's own answer, spoken sentence by sentence as it comes."""
        assert self.llm is not None
        self.bus.emit(
            IntentMatched(
                turn=record.turn,
                intent="conversation",
                slots={},
                layer="llm_answer",
                sentence="",
                router_ms=record.timings_ms.get("router", 0.0),
            )
        )
        llm, recent = self.llm, self.conversation.recent()
        timeout_s = self.config.llm.timeout_s
        system_prompt, max_tokens = self.profiles.system_prompt(), self.profiles.max_tokens()
        sentences = stream_within(
            lambda: llm.answer(text, recent, system_prompt, max_tokens, timeout_s),
            timeout_s,
            self.config.llm.thinking_cue_s,
            self._cue(record),
        )
        wall_s = [0.0]
        try:
            spoken = self._speak_sentences(record, _counted(record, "llm", sentences, wall_s))
        except TimedOut:
            raise RouterError(
                "llm_timeout",
                f"the language model said nothing within {timeout_s:g} s (llm.timeout_s)",
            ) from None
        self._consulted(record, {}, 1000 * wall_s[0])
        self.conversation.record(text, spoken)

    def _cue(self, record: TurnRecord) -> Callable[[], None]:
        """Said once when the model is slow (``llm.thinking_cue_s``)."""

        def cue() -> None:
            self._speak(record, STILL_THINKING)

        return cue

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
