"""The tool prompt within a token budget, at any home size.

A home whose whole tool prompt (instructions, tools, every device and area) fits in the budget
gets that prompt, the same text for every command, so the model's cache of it is always reused.
A bigger home gets, for each command, the same instructions and tool list followed by only the
devices the command is probably about (:func:`~assistant.understanding.relevance.rank_devices`:
words in common, a close-sounding name, this room, recent use), as many as the budget holds and
at most :data:`MOST_DEVICES`; the unchanged beginning is still read from the model's cache, so a
command pays only for its own short device list.

The budget is ``llm.prompt_tokens``, and never more than ``llm.n_ctx`` less
:data:`RESERVED_TOKENS` (the earlier turns, the command, a refused call fed back, the answer).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Final

from ..home.entities import Entity, EntityRegistry
from ..skill import Tool
from .relevance import rank_devices
from .tool_call import TOOL_PROMPT
from .tool_catalog import ToolCatalog

__all__ = ["MOST_DEVICES", "RESERVED_TOKENS", "PromptBudget"]

RESERVED_TOKENS: Final = 512
MOST_DEVICES: Final = 24  # a longer list costs time on every command and helps a small model little
_RECENT: Final = 8  # entities acted on lately, remembered for relevance


class PromptBudget:
    """Chooses the catalogue (and so the prompt) the model sees for one command."""

    def __init__(
        self, budget_tokens: int, n_ctx: int, count_tokens: Callable[[str], int], area: str = ""
    ) -> None:
        self.budget_tokens = max(0, min(budget_tokens, n_ctx - RESERVED_TOKENS))
        self._count = count_tokens
        self._area = area
        self._recent: deque[str] = deque(maxlen=_RECENT)
        self._whole: tuple[ToolCatalog, int] | None = None  # a full catalogue and its tokens

    def used(self, entity_ids: Sequence[str]) -> None:
        """Entities a command named: more likely to be named again soon."""
        for entity_id in entity_ids:
            if entity_id in self._recent:
                self._recent.remove(entity_id)
            self._recent.append(entity_id)

    @property
    def recent(self) -> tuple[str, ...]:
        """The entity ids commands named lately, newest last."""
        return tuple(self._recent)

    def tokens(self, catalog: ToolCatalog) -> int:
        """The tool prompt's length in the model's tokens."""
        return self._count(f"{TOOL_PROMPT}\n{catalog.prompt()}")

    def choose(self, whole: ToolCatalog, tools: Sequence[Tool], text: str) -> ToolCatalog:
        """``whole`` when it fits the budget, else a catalogue of the devices most relevant to
        ``text`` that does, with ``whole``'s tool list."""
        if self._whole is None or self._whole[0] is not whole:
            self._whole = (whole, self.tokens(whole))
        if self._whole[1] <= self.budget_tokens:
            return whole
        left = self.budget_tokens - self._count(f"{TOOL_PROMPT}\n{whole.tools_text()}\nDevices:")
        chosen: list[Entity] = []
        for entity in rank_devices(whole.devices, text, area=self._area, recent=self._recent):
            line = f"{entity.name} ({entity.domain}, {entity.area_name})\n{entity.area_name}, "
            left -= self._count(line)
            if left < 0 or len(chosen) == MOST_DEVICES:
                break
            chosen.append(entity)
        return ToolCatalog.build(tools, EntityRegistry(chosen), tools_text=whole.tools_text())
