"""Router layers 2 and 3 over one model, side by side, as the model tests drive them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from assistant.config import LlmConfig
from assistant.understanding.free_answer import FreeAnswerer
from assistant.understanding.language_model import LanguageModel, Message
from assistant.understanding.templates import RouteResult
from assistant.understanding.tool_call import ToolCaller
from assistant.understanding.tool_catalog import ToolCatalog


class ModelLayers:
    """A :class:`ToolCaller` (layer 2) and a :class:`FreeAnswerer` (layer 3) on one model."""

    def __init__(self, model: LanguageModel, config: LlmConfig) -> None:
        self.tool_caller = ToolCaller(model, config)
        self.free = FreeAnswerer(model, config)

    def decide(
        self, text: str, catalog: ToolCatalog, history: Sequence[Message], **kw: Any
    ) -> RouteResult | None:
        return self.tool_caller.decide(text, catalog, history, **kw)

    def prepare(self, catalog: ToolCatalog, gives_way: bool = False) -> bool:
        return self.tool_caller.prepare(catalog, gives_way)

    def system_prompt(self, catalog: ToolCatalog) -> str:
        return self.tool_caller.system_prompt(catalog)

    def answer(self, *args: Any) -> Iterator[str]:
        return self.free.answer(*args)
