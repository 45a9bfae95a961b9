"""Router layers 2 and 3 inside a turn: the language model's tool call and its free answer.

:class:`ModelLayers` is the part of the :class:`~assistant.turn.answer.Responder` that talks to the
language model: it keeps the tool catalogue (rebuilt only when the devices or the profile change, so
the model's prompt cache stays warm), checks that a tool call is grounded in what was said, runs the
model against the turn's own clock (:mod:`assistant.understanding.patience`), and reports each
consultation as an ``llm`` event for the journal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol

from ..config import Config
from ..errors import RouterError
from ..events import EventBus, IntentMatched, ModelConsulted
from ..home.entities import EntityRegistry
from ..home.home import Home
from ..home.policy import grounded
from ..skill import SkillRegistry, Tool
from ..turn.conversation import Conversation
from ..turn.profiles import Profiles
from ..turn.record import TurnRecord, counted
from .patience import TimedOut, call_within, stream_within
from .templates import RouteResult

__all__ = ["STILL_THINKING", "TOO_SLOW", "LanguageRouter", "ModelLayers"]

_LOGGER = logging.getLogger(__name__)

STILL_THINKING: Final = "One moment, I'm still thinking."
TOO_SLOW: Final = "Sorry, I couldn't work that out in time. Please ask again."


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


class ModelLayers:
    """Layers 2 and 3 for the Responder, which provides the attributes and the speaking."""

    config: Config
    bus: EventBus
    skills: SkillRegistry
    home: Home
    profiles: Profiles
    conversation: Conversation
    llm: LanguageRouter | None
    _make_catalog: Callable[[list[Tool], EntityRegistry], Any] | None
    _catalog: tuple[tuple[int, str], Any] | None

    def _speak(self, record: TurnRecord, text: str) -> None:
        raise NotImplementedError

    def _speak_sentences(self, record: TurnRecord, texts: Iterator[str]) -> str:
        raise NotImplementedError

    def _ask_model(self, record: TurnRecord, text: str) -> RouteResult | None:
        """Router layer 2: a tool call, validated before anything runs."""
        if self.llm is None or self._make_catalog is None:
            return None
        recent = self.conversation.recent()
        started, cpu = time.perf_counter(), time.process_time()
        llm, catalog = self.llm, self._tool_catalog()
        try:
            route = call_within(
                lambda: llm.decide(text, catalog, recent),
                self.config.llm.timeout_s,
                self.config.llm.thinking_cue_s,
                self._cue(record),
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
            spoken = self._speak_sentences(record, counted(record, "llm", sentences, wall_s))
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
