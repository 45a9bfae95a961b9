"""Answering a command: router, skill, home actions, then the spoken reply.

An :class:`Answerer` takes a command as text, whether a person said it (the hearing loop hands it
over) or typed it (``hearth ask``, ``cmd/ask``), and answers it in these steps:

1. a question is waiting for this answer ("Do you want me to unlock the front door?"): act on a
   clear yes in time, else nothing (:meth:`_confirm`);
2. route it: the sentence templates, then the language model's tool call (router layers 1, 2);
3. no route: the model's own answer, spoken as it is written (layer 3), or "Sorry";
4. run the intent's skill (if the profile allows it);
5. actions that need a spoken yes are held and the question is asked; the others are published,
   before anything is synthesised;
6. speak the reply.

Every turn ends with a ``turn_end`` event, whatever happened (:meth:`turn`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import HearthError
from ..events import (
    Announcement,
    EventBus,
    IntentMatched,
    NotesSearched,
    ProfileChanged,
    Transcript,
    TurnFailed,
    TurnFinished,
)
from ..home.actions import ActionPublisher
from ..home.entities import area_id
from ..home.home import Home
from ..home.policy import confirmation_question, is_yes, needs_confirmation
from ..skill import Skill, SkillCall, SkillContext, SkillResult
from ..understanding.notes import NOT_IN_NOTES
from ..understanding.router import Router
from ..understanding.templates import RouteResult
from .acting import Actor
from .activity import Activity
from .conversation import Conversation, PendingConfirmation
from .profiles import Profiles, spoken_profile
from .record import TurnRecord
from .replies import (
    NORMAL_MODE_WORDS,
    NOT_HERE,
    QUEUED_REPLY,
    SET_PROFILE_INTENT,
    SORRY,
    SORRY_NOT_HEARD,
    STILL_THINKING,
    TOO_LATE,
    TOO_SLOW,
    ambiguous_reply,
    unknown_reply,
)
from .skills import SkillRegistry, run_skill
from .speech import Voice

__all__ = [
    "QUEUED_REPLY",
    "SORRY",
    "SORRY_NOT_HEARD",
    "STILL_THINKING",
    "TOO_SLOW",
    "Answerer",
]

_LOGGER = logging.getLogger(__name__)


class Answerer:
    """Text → router → skill → actions → speech, for one room."""

    def __init__(
        self,
        *,
        config: Config,
        bus: EventBus,
        router: Router,
        skills: SkillRegistry,
        home: Home,
        publisher: ActionPublisher,
        profiles: Profiles,
        voice: Voice,
        activity: Activity,
        conversation: Conversation,
        data_dir: Path,
        announce: Callable[[str], None] | None = None,
        area: str = "",
    ) -> None:
        self.config = config
        self.bus = bus
        self.router = router
        self.skills = skills
        self.home = home
        self.publisher = publisher
        self.profiles = profiles
        self.voice = voice
        self.activity = activity
        self.conversation = conversation
        self.data_dir = data_dir
        self._announce = announce
        self.area = area  # the room's area as people say it ("Kitchen"); "" for none
        self._area_id = area_id(area)
        self.actor = Actor(home, publisher, bus, config.mqtt.command_ttl_s)

    # -- turns -------------------------------------------------------------------------------

    def new_turn(self, *, spoken: bool = False) -> TurnRecord:
        self.activity.begin_turn()
        return TurnRecord(spoken=spoken)

    def run_text(self, text: str, given_at: float | None = None) -> TurnRecord:
        """One turn from text, as if spoken after the wake word; ``given_at`` (``perf_counter``)
        is when the command was given, if before now: its actions count their age from then."""
        record = self.new_turn()
        if given_at is not None:
            record.speech_end_at = given_at
        with self.turn(record):
            self.bus.emit(Transcript(turn=record.turn, text=text, stt_ms=0.0))
            self.answer(record, text)
        return record

    @contextmanager
    def turn(self, record: TurnRecord) -> Iterator[None]:
        """Run a turn's work: a failure becomes an ``error`` event, and the turn always ends
        with its ``turn_end`` event, whatever happened."""
        self.activity.in_turn = True
        try:
            yield
        except HearthError as err:
            self.fail(record, err.code, err.message)
            if err.code == "llm_timeout":  # give up cleanly, and say so
                record.outcome = "timeout"
                self.voice.say(record, TOO_SLOW)
        except Exception as err:
            _LOGGER.exception("turn %s failed", record.turn)
            self.fail(record, "internal", f"{type(err).__name__}: {err}")
        finally:
            self.activity.in_turn = False
            self.bus.emit(
                TurnFinished(
                    turn=record.turn,
                    outcome=record.outcome,
                    timings_ms=record.meter.timings(),
                    cpu_s=record.meter.cpu(),
                )
            )
            self.activity.idle()

    def fail(self, record: TurnRecord, code: str, message: str) -> None:
        if record.outcome == "ok":
            record.outcome = "error"
        self.bus.emit(TurnFailed(turn=record.turn, code=code, message=message))

    def say(self, record: TurnRecord, text: str) -> None:
        self.voice.say(record, text)

    # -- the steps of an answer --------------------------------------------------------------

    def answer(self, record: TurnRecord, text: str, route: RouteResult | None = None) -> None:
        """Answer ``text``; ``route`` is a template match already made (an early match)."""
        pending = self.conversation.take_pending()  # whatever comes now ends the question
        self.conversation.expecting_reply = False
        answered = pending is not None and record.answers and record.spoken
        if answered and pending is not None and self._confirm(record, text, pending):
            return
        if route is None:
            with record.meter.stage("router", timing="router"):
                route = self._route(record, text)
        if route is None:
            if record.outcome == "ok":
                self._no_route(record, text)
            return
        self.bus.emit(
            IntentMatched(
                turn=record.turn,
                intent=route.intent,
                slots=route.slots,
                layer=route.layer,
                sentence=route.sentence,
                router_ms=record.meter.get("router"),
            )
        )
        if route.intent == SET_PROFILE_INTENT:
            self.voice.say(record, self._set_profile(str(route.slots.get("profile", ""))))
            return
        route = self._one_device(record, route)
        if route is None:
            return
        skill = self._skill_for(record, route)
        if skill is None:
            return
        call = SkillCall(route.intent, route.slots, text, record.turn)
        with record.meter.stage("skill"):
            timeout_s = self.config.router.skill_timeout_s
            cancelled = self.activity.cancelled
            result = run_skill(skill, call, self._context(skill), timeout_s, cancelled)
        if result is None or (cancelled.is_set() and not self.activity.stopping.is_set()):
            record.outcome = "cancelled"
            return
        if not result.success:
            record.outcome = "skill_failed"
            self._skill_error(record, result.data.get("error"))
        if self._hold_for_a_yes(record, text, skill, result):
            return
        speech = self.actor.act_all(record, result.actions, result.speech)
        self.conversation.expecting_reply = result.expect_reply
        self.voice.say(record, speech)
        self.conversation.record(text, speech)

    def recent(self) -> tuple[str, ...]:
        """The entity ids the last commands named, newest last."""
        prompts = self.router.prompts
        return prompts.recent if prompts is not None else ()

    def match(self, text: str) -> RouteResult | None:
        """Router layer 1 for a command heard in this room."""
        return self.router.match(text, self._area_id, self.area)

    def _route(self, record: TurnRecord, text: str) -> RouteResult | None:
        """Router layer 1 (templates, then a repaired near-miss), a device the home does not
        have, then layer 2 (the model's tool call). ``None`` with ``record.outcome`` set: the
        reply has been given."""
        route = self.match(text) or self.router.repair(text, self._area_id, self.area)
        if route is None and self._unknown_name(record, text):
            return None
        notes = self.profiles.notes()
        if route is None and notes is not None and notes.search(text):
            return None  # the notes cover it: answered from them, no tool call first
        if route is None and self.router.thinks:
            recent = self.conversation.recent()
            route = self.router.call_tool(record, text, recent, self._cue(record))
        return route

    def _unknown_name(self, record: TurnRecord, text: str) -> bool:
        """A command for a device the home does not have is told so, in a fixed reply that
        names it; never guessed at, never handed to the model. ``True`` when told."""
        unknown = self.router.unknown_name(text)
        if unknown is None:
            return False
        slot, said = unknown
        record.outcome = "unknown_name"
        what = "device" if slot == "name" else "room"
        self.bus.emit(
            TurnFailed(turn=record.turn, code="unknown_name", message=f"no {what} called {said!r}")
        )
        self.voice.say(record, unknown_reply(slot, said))
        return True

    def _one_device(self, record: TurnRecord, route: RouteResult) -> RouteResult | None:
        """The device a name means. Two devices that answer to the same name (one announced
        twice, say) are not guessed between: the room said picks one, else Hearth names them
        and does nothing."""
        entity_id = route.slots.get("name")
        if not isinstance(entity_id, str):
            return route
        registry = self.home.registry()
        namesakes = registry.namesakes(entity_id)
        if len(namesakes) < 2:
            return route
        area = route.slots.get("area")
        in_area = [e for e in namesakes if isinstance(area, str) and e.area == area]
        if len(in_area) == 1:
            return replace(route, slots={**route.slots, "name": in_area[0].entity_id})
        record.outcome = "ambiguous"
        names = ", ".join(
            f"{e.entity_id}" + (f" in the {e.area_name}" if e.area_name else "") for e in namesakes
        )
        message = f"{len(namesakes)} devices answer to {namesakes[0].name!r}: {names}"
        self.bus.emit(TurnFailed(turn=record.turn, code="ambiguous_name", message=message))
        self.voice.say(record, ambiguous_reply(namesakes))
        return None

    def _no_route(self, record: TurnRecord, text: str) -> None:
        """Router layer 3 (the model's own answer) where there is a model, else "Sorry". A
        profile with notes answers from the passages that cover the question, or says the
        notes do not cover it."""
        notes = self.profiles.notes()
        passages = notes.search(text) if notes is not None else []
        if notes is not None:
            labels = tuple(p.label for p in passages)
            self.bus.emit(
                NotesSearched(turn=record.turn, folder=str(notes.folder), passages=labels)
            )
            if not passages:
                record.outcome = "not_in_notes"
                self.voice.say(record, NOT_IN_NOTES)
                self.conversation.record(text, NOT_IN_NOTES)
                return
            if not self.router.thinks:  # no model to put it in words: the passage itself
                self.voice.say(record, passages[0].text)
                self.conversation.record(text, passages[0].text)
                return
        if self.router.thinks:
            self.bus.emit(
                IntentMatched(
                    turn=record.turn,
                    intent="conversation",
                    slots={},
                    layer="llm_answer",
                    sentence="",
                    router_ms=record.meter.get("router"),
                )
            )
            recent = self.conversation.recent()
            sentences = self.router.answer_freely(
                record, text, recent, self._cue(record), notes=passages
            )
            spoken = self.voice.say_stream(record, sentences)
            self.conversation.record(text, spoken)
            return
        record.outcome = "no_intent"
        message = f"no sentence matched {text!r}"
        self.bus.emit(TurnFailed(turn=record.turn, code="no_intent", message=message))
        self.voice.say(record, SORRY)

    def _skill_for(self, record: TurnRecord, route: RouteResult) -> Skill | None:
        skill = self.skills.for_intent(route.intent)
        if skill is not None and self.profiles.allows_skill(skill.name):
            return skill
        record.outcome = "no_skill"
        why = "no skill handles" if skill is None else "the profile does not allow"
        message = f"{why} intent {route.intent}"
        self.bus.emit(TurnFailed(turn=record.turn, code="no_skill", message=message))
        self.voice.say(record, SORRY if skill is None else NOT_HERE)
        return None

    def _hold_for_a_yes(
        self, record: TurnRecord, text: str, skill: Skill, result: SkillResult
    ) -> bool:
        """Hold every action if one needs a spoken yes, and ask; ``True`` when asked."""
        registry = self.home.registry()
        held = [
            a
            for a in result.actions
            if needs_confirmation(registry.get(a.entity_id), a, skill.risk, registry)
        ]
        if not held:
            return False
        question = confirmation_question(registry.get(held[0].entity_id), held[0])
        timeout_s = self.config.conversation.confirm_timeout_s
        self.conversation.hold(result.actions, result.speech, timeout_s)
        self.conversation.expecting_reply = True
        self.voice.say(record, question)
        self.conversation.record(text, question)
        return True

    def _confirm(self, record: TurnRecord, text: str, pending: PendingConfirmation) -> bool:
        """The spoken answer to "Do you want me to …?": a clear yes in time acts, anything else
        in time does nothing; ``True`` when the answer was taken as an answer. After the time
        allowed the question is over: a late yes is told so, anything else is a new command."""
        if not pending.in_time(self.conversation.clock()):
            if not is_yes(text):
                return False
            record.outcome = "confirmation_expired"
            self.voice.say(record, TOO_LATE)
            return True
        if is_yes(text):
            self.voice.say(record, self.actor.act_all(record, pending.actions, pending.speech))
            return True
        record.outcome = "declined"
        self.voice.say(record, "Okay, I won't.")
        return True

    def _skill_error(self, record: TurnRecord, error: Any) -> None:
        """A skill that failed for a reason the owner should see (a full disk) puts
        ``{"error": {"code": ..., "message": ...}}`` in its result's ``data``: one error event;
        the skill's own reply is still spoken."""
        if isinstance(error, dict) and error.get("code"):
            message = str(error.get("message", ""))
            self.bus.emit(TurnFailed(turn=record.turn, code=str(error["code"]), message=message))

    # -- acting ------------------------------------------------------------------------------

    # -- what a skill sees, profiles, announcements ------------------------------------------

    def _context(self, skill: Skill) -> SkillContext:
        return SkillContext(
            entities=self.profiles.entities(self.home.registry()),
            state=self.home.state,
            language=self.config.assistant.language,
            data_dir=self.data_dir,
            announce=self.announce,
            emit=self.bus.emit,
            settings=self.config.skills.get(skill.name, {}),
            abilities=tuple(
                s.description for s in self.skills if self.profiles.allows_skill(s.name)
            ),
        )

    def announce(self, text: str) -> None:
        """A skill speaks on its own (a timer rings): an event, and speech where there is audio."""
        self.bus.emit(Announcement(turn=None, text=text))
        if self._announce is not None:
            self._announce(text)

    def switch_profile(self, name: str) -> bool:
        if not self.profiles.switch(name):
            return False
        self.conversation.end_question()
        self.conversation.history.clear()
        self.bus.emit(ProfileChanged(turn=None, profile=name))
        return True

    def _set_profile(self, spoken: str) -> str:
        if not spoken or spoken.lower() in NORMAL_MODE_WORDS:
            self.switch_profile("")
            return "Back to normal mode."
        name = self.profiles.find(spoken)
        if name is None or not self.switch_profile(name):
            known = ", ".join(spoken_profile(n) for n in self.profiles.names) or "none"
            return f"I don't know that mode. The modes are: {known}."
        return f"Switched to {spoken_profile(name)}."

    def _cue(self, record: TurnRecord) -> Callable[[], None]:
        """Said once when the model is slow (``llm.thinking_cue_s``)."""
        return lambda: self.voice.say(record, STILL_THINKING)
