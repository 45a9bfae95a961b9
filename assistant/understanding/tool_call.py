"""Router layer 2: one tool call from the language model, when no sentence template matched.

:meth:`ToolCaller.decide` asks for one JSON tool call under a grammar built from the tool
catalogue (:mod:`assistant.understanding.tool_catalog`) and validates it with
:func:`~assistant.understanding.tool_parse.parse_tool_call`; a call that is invalid, or names a
device or text nobody said, is fed back to the model with the reason, at most twice. The result
is a :class:`~assistant.understanding.templates.RouteResult` with the slots a template match
would give, so the skill runs unchanged. The model never sees a topic or a payload.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Final

from ..config import LlmConfig
from ..errors import RouterError, ToolCallError
from .language_model import Exchange, LanguageModel, Message
from .templates import RouteResult
from .tool_catalog import NONE_INTENT, NoToolCall, ToolCall, ToolCatalog
from .tool_parse import parse_tool_call

__all__ = ["TOOL_PROMPT", "ToolCaller"]

_LOGGER = logging.getLogger(__name__)

TOOL_PROMPT: Final = (
    "You control a smart home. Answer with one JSON tool call that does what the user asks, "
    "with device and area names exactly as listed."
)
_CALL_TOKENS: Final = 96  # a tool call is 20-40 tokens; a grammar leaves little room to ramble
_RETRIES: Final = 2  # invalid calls fed back to the model before layer 2 gives up
# reading the tool prompt is paid once (then kept on disk), not within a turn's deadline; a
# busy machine may take minutes
_PREPARE_S: Final = 300.0
_HISTORY: Final = 4  # earlier messages shown to layer 2 (two exchanges)
_FILLER: Final = frozenset({"the", "and", "all", "please", "turn", "set", "switch", "off"})


def _words(text: str) -> set[str]:
    """Content words, lower case, without a plural ``s``: "the Kitchen Lights" → kitchen, light."""
    found = set()
    for word in re.findall(r"[^\W_]+", text.casefold()):
        if len(word) >= 3 and word not in _FILLER:
            found.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return found


def _unsaid_target(call: ToolCall, catalog: ToolCatalog, said: Sequence[str]) -> str | None:
    """What the model named, for a device, an area or a free-text slot, when no word of it
    (nor of the device's aliases or area) was said in this turn or the recent history; else
    ``None``.

    A small model asked to "turn on the toaster" in a home with no toaster tends to pick some
    other device, or to copy the example from its prompt ("text" onto the shopping list); the
    grammar keeps it to real devices, and this keeps it to the ones meant.
    """
    heard = set().union(*(_words(text) for text in said))
    for slot in (*call.targets, *call.free_text):
        value = str(call.slots[slot])
        names = catalog.spoken_names(value) if slot in call.targets else (value,)
        if not heard & set().union(*(_words(name) for name in names)):
            return call.slot_text.get(slot, value)
    return None


def _check(output: str, catalog: ToolCatalog, said: Sequence[str]) -> ToolCall | NoToolCall | str:
    """The call, or what to tell the model about it (a sentence to feed back)."""
    try:
        call = parse_tool_call(output, catalog)
    except ToolCallError as err:
        return f"That is not valid: {err.message}. Answer again with one JSON object."
    if isinstance(call, ToolCall):
        unsaid = _unsaid_target(call, catalog, said)
        if unsaid is not None:
            return (
                f"I did not say {unsaid!r}. Name what I said, or answer "
                f'{{"intent": "{NONE_INTENT}"}}.'
            )
    return call


class ToolCaller:
    """Layer 2 over one language model.

    The system prompt (instructions, tools and devices) is the first message, built once per
    catalogue, so that consecutive calls share a prefix that the model's cache has already
    evaluated.
    """

    layer = "llm"

    def __init__(self, model: LanguageModel, config: LlmConfig) -> None:
        self._model = model
        self._config = config
        self._tool_prompt: tuple[ToolCatalog, str] | None = None
        self._prepared = ""  # the tool prompt last read into the model's cache
        self.last_exchange: Exchange | None = None  # the latest decide()

    @property
    def model(self) -> LanguageModel:
        return self._model

    def system_prompt(self, catalog: ToolCatalog) -> str:
        """Layer 2's system prompt: the instructions, then the tools and devices; the same
        string for as long as the catalogue is the same object."""
        if self._tool_prompt is None or self._tool_prompt[0] is not catalog:
            self._tool_prompt = (catalog, f"{TOOL_PROMPT}\n{catalog.prompt()}")
        return self._tool_prompt[1]

    def prepare(self, catalog: ToolCatalog, gives_way: bool = False) -> bool:
        """Evaluate layer 2's system prompt now (at start, or after the devices changed), so
        that the first command that reaches the model pays only for its own words. With
        ``gives_way`` a command that needs the model stops the read and reads it itself.
        ``True`` when the prompt is in the cache now."""
        messages: list[Message] = [
            {"role": "system", "content": self.system_prompt(catalog)},
            {"role": "user", "content": "hello"},
        ]
        try:
            deadline_s = max(self._config.timeout_s, _PREPARE_S)
            restored = self._model.prepare(messages, catalog.schema(), deadline_s, gives_way)
        except RouterError as err:
            if gives_way and err.code == "llm_cancelled":
                _LOGGER.info("the tool prompt read gave way to a command, which reads it")
            else:
                _LOGGER.warning("could not prepare the tool prompt: %s", err)
            return False
        self._prepared = messages[0]["content"]
        _LOGGER.info("tool prompt %s", "restored from disk" if restored else "read")
        return True

    def decide(
        self,
        text: str,
        catalog: ToolCatalog,
        history: Sequence[Message],
        deadline_s: float | None = None,
    ) -> RouteResult | None:
        """The tool call the model makes for ``text``, validated; ``None`` when it says no tool
        fits, when three tries gave no valid call, or when ``deadline_s`` seconds
        (default ``llm.timeout_s``) pass. A failing model raises :class:`RouterError`."""
        until = time.monotonic() + (self._config.timeout_s if deadline_s is None else deadline_s)
        if self._prepared != self.system_prompt(catalog):  # e.g. hearth ask: a saved state
            self.prepare(catalog)
        recent = list(history)[-_HISTORY:]
        said = [text, *(m.get("content", "") for m in recent)]
        messages: list[Message] = [
            {"role": "system", "content": self.system_prompt(catalog)},
            *recent,
            {"role": "user", "content": text},
        ]
        exchange = self.last_exchange = Exchange(self.layer, list(messages))
        for attempt in range(_RETRIES + 1):
            left_s = until - time.monotonic()
            try:
                if left_s <= 0:
                    raise RouterError("llm_timeout", "no time left")
                output = self._model.complete_json(messages, catalog.schema(), _CALL_TOKENS, left_s)
            except RouterError as err:
                if err.code != "llm_timeout":
                    raise
                _LOGGER.info("layer 2 ran out of time for %r", text)
                return None
            checked = _check(output, catalog, said)
            exchange.outputs.append(output)
            exchange.verdicts.append(
                "no tool fits"
                if isinstance(checked, NoToolCall)
                else checked
                if isinstance(checked, str)
                else "valid"
            )
            if isinstance(checked, NoToolCall):
                return None
            if isinstance(checked, str):
                _LOGGER.info("tool call refused (try %d) %r: %s", attempt + 1, output, checked)
                messages += [
                    {"role": "assistant", "content": output},
                    {"role": "user", "content": checked},
                ]
                continue
            return RouteResult(
                intent=checked.intent,
                slots=dict(checked.slots),
                slot_text=dict(checked.slot_text),
                layer=self.layer,
                sentence=output,
            )
        return None
