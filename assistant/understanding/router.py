"""The router: what a command means, layer by layer.

1. :meth:`Router.match`: the sentence templates (hassil), deterministic, milliseconds; then
   :meth:`Router.repair`, a near-miss of them repaired (:mod:`assistant.understanding.repair`),
   and :meth:`Router.unknown_name`, a command for a device the home does not have.
2. :meth:`Router.call_tool`: when no template matched, the language model picks one tool and its
   arguments; the call is validated against the tool catalogue and acted on only if what it
   names was said (:mod:`assistant.understanding.grounding`).
3. :meth:`Router.answer_freely`: when no tool fits, the model's own short answer, streamed.

The model runs against the turn's own clock (:mod:`assistant.understanding.patience`): a cue once
it is slow, an ``llm_timeout`` error at ``llm.timeout_s``. Each consultation of the model is
reported as an ``llm`` event for the journal. The tool catalogue is rebuilt only when the devices
or the profile change, so the model's prompt cache stays warm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..config import LlmConfig
from ..errors import RouterError
from ..events import EventBus, ModelConsulted
from ..home.entities import EntityRegistry
from ..home.home import Home
from ..skill import Tool
from ..turn.profiles import Profiles
from ..turn.record import TurnRecord
from ..turn.skills import SkillRegistry
from .free_answer import FreeAnswerer
from .grounding import grounded
from .language_model import Exchange
from .notes import Passage, notes_prompt
from .patience import TimedOut, call_within, stream_within
from .prompt_budget import PromptBudget
from .templates import RouteResult, TemplateRouter
from .tool_call import ToolCaller
from .tool_catalog import ToolCatalog

__all__ = ["Router"]

_LOGGER = logging.getLogger(__name__)


class Router:
    """Router layers 1 to 3 for one home; layers 2 and 3 only with a language model."""

    def __init__(
        self,
        *,
        templates: TemplateRouter,
        skills: SkillRegistry,
        home: Home,
        profiles: Profiles,
        bus: EventBus,
        config: LlmConfig,
        tool_caller: ToolCaller | None = None,
        answerer: FreeAnswerer | None = None,
        prompts: PromptBudget | None = None,
    ) -> None:
        self.templates = templates
        self.skills = skills
        self.home = home
        self.profiles = profiles
        self.bus = bus
        self.config = config
        self.tool_caller = tool_caller
        self.answerer = answerer
        self.prompts = prompts
        self._catalog: tuple[tuple[int, str], list[Tool], ToolCatalog] | None = None

    @property
    def thinks(self) -> bool:
        """Whether there is a language model behind the templates (layers 2 and 3)."""
        return self.tool_caller is not None

    def update_entities(self, registry: EntityRegistry) -> None:
        """Home listener: the templates' slot lists follow the devices."""
        self.templates.update_entities(registry)

    # -- layer 1 -----------------------------------------------------------------------------

    def match(self, text: str, area: str = "", area_name: str = "") -> RouteResult | None:
        """The sentence templates; ``area`` (an area id) is the room that heard the command."""
        route = self.templates.route(text, area, area_name)
        if route is not None:
            self._used(route)
        return route

    def _used(self, route: RouteResult) -> None:
        """Remember the devices a command named, for the next prompts."""
        if self.prompts is not None:
            named = [v for k, v in route.slots.items() if k == "name" and isinstance(v, str)]
            self.prompts.used(named)

    def repair(self, text: str, area: str = "", area_name: str = "") -> RouteResult | None:
        """A confident repair of a near-miss of the templates, or ``None``."""
        found = self.templates.repaired(text, area, area_name)
        if found is None:
            return None
        repair, route = found
        if not repair.confident:
            _LOGGER.info(
                "not confident enough (%.2f) to repair %r as %r",
                repair.confidence,
                text,
                repair.text,
            )
            return None
        _LOGGER.info("repaired %r as %r (%.2f)", text, repair.text, repair.confidence)
        return route

    def unknown_name(self, text: str) -> tuple[str, str] | None:
        """``("name", "bathroom heater")`` for a command to a device (or area) the home does not
        have; else ``None``."""
        return self.templates.unknown_name(text)

    # -- layer 2 -----------------------------------------------------------------------------

    def call_tool(
        self,
        record: TurnRecord,
        text: str,
        history: list[dict[str, str]],
        on_cue: Callable[[], None],
    ) -> RouteResult | None:
        """A tool call from the model, validated and grounded in what was said, or ``None``.
        Raises :class:`RouterError` (``llm_timeout``) when the model is past its deadline."""
        caller = self.tool_caller
        if caller is None:
            return None
        catalog = self.catalog(text)
        with record.meter.stage("llm"):
            try:
                route = call_within(
                    lambda: caller.decide(text, catalog, history),
                    self.config.timeout_s,
                    self.config.thinking_cue_s,
                    on_cue,
                )
            except TimedOut:
                caller.model.cancel()  # stopped, not left running behind the next turn
                self._consulted(record, caller.last_exchange, {}, "too late")
                raise RouterError(
                    "llm_timeout",
                    f"the language model gave no answer within {self.config.timeout_s:g} s "
                    "(llm.timeout_s)",
                ) from None
        if route is None:
            self._consulted(record, caller.last_exchange, {})
            return None
        # what was said: this turn, and what the person said before in this conversation
        said = " ".join([m["content"] for m in history if m["role"] == "user"] + [text])
        described = " ".join(
            [route.intent]
            + [t.description for s in self.skills for t in s.tools if t.intent == route.intent]
        )
        if not grounded(route.slots, said, self.home.registry(), described):
            _LOGGER.info("layer 2 call %s %s not grounded in %r", route.intent, route.slots, text)
            self._consulted(record, caller.last_exchange, {}, "not grounded in what was said")
            return None
        self._consulted(
            record, caller.last_exchange, {"intent": route.intent, "slots": route.slots}
        )
        self._used(route)
        return route

    def catalog(self, text: str = "") -> ToolCatalog:
        """The catalogue for one command: the whole home's when it fits the prompt budget, else
        the devices relevant to ``text`` (:mod:`assistant.understanding.prompt_budget`)."""
        whole = self.whole_catalog()
        if self.prompts is None or self._catalog is None:
            return whole
        return self.prompts.choose(whole, self._catalog[1], text)

    def whole_catalog(self) -> ToolCatalog:
        """The tools of the skills the profile allows and the devices it exposes; rebuilt only
        when either changes, so the model's cached prompt stays valid."""
        registry = self.home.registry()
        key = (id(registry), self.profiles.active)
        if self._catalog is None or self._catalog[0] != key:
            tools = [
                tool
                for skill in self.skills
                if self.profiles.allows_skill(skill.name)
                for tool in getattr(skill, "tools", ())
            ]
            whole = ToolCatalog.build(tools, self.profiles.entities(registry))
            self._catalog = (key, tools, whole)
        return self._catalog[2]

    def prepare(self, gives_way: bool = False) -> bool:
        """Read the tool prompt into the model's cache now, so the first command the templates
        miss does not pay for it (about 4 s with the default model on 2 cores); with
        ``gives_way``, only until a command needs the model. ``False`` when it was not read."""
        if self.tool_caller is None:
            return True
        return self.tool_caller.prepare(self.catalog(), gives_way)

    # -- layer 3 -----------------------------------------------------------------------------

    def answer_freely(
        self,
        record: TurnRecord,
        text: str,
        history: list[dict[str, str]],
        on_cue: Callable[[], None],
        notes: Sequence[Passage] = (),
    ) -> Iterator[str]:
        """The model's answer, sentence by sentence as it is written (CPU and time counted as
        the ``llm`` stage); with ``notes``, from those passages only. Iterating raises
        :class:`RouterError` (``llm_timeout``) if nothing came in time; after the first
        sentence the answer simply ends at the deadline."""
        answerer = self.answerer
        if answerer is None:
            return
        timeout_s = self.config.timeout_s
        system_prompt, max_tokens = self.profiles.system_prompt(), self.profiles.max_tokens()
        if notes:
            system_prompt = f"{system_prompt}\n{notes_prompt(notes)}".strip()
        sentences = stream_within(
            lambda: answerer.answer(text, history, system_prompt, max_tokens, timeout_s),
            timeout_s,
            self.config.thinking_cue_s,
            on_cue,
        )
        try:
            yield from record.meter.counted("llm", sentences)
        except TimedOut:
            answerer.model.cancel()
            raise RouterError(
                "llm_timeout",
                f"the language model said nothing within {timeout_s:g} s (llm.timeout_s)",
            ) from None
        finally:
            self._consulted(
                record, answerer.last_exchange, {}, llm_ms=record.meter.streamed_ms("llm")
            )

    # -- the journal's view of the model -----------------------------------------------------

    def _consulted(
        self,
        record: TurnRecord,
        exchange: Exchange | None,
        call: dict[str, Any],
        note: str = "",
        llm_ms: float | None = None,
    ) -> None:
        """The model's side of a decision, as an event (for the journal and the event topic)."""
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
                llm_ms=record.meter.last_ms("llm") if llm_ms is None else llm_ms,
            )
        )
