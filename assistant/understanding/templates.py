"""The router's first layer: hassil sentence templates from home-assistant-intents.

Slot lists come from the known entities (names and aliases, with their domain as context) and
their areas, so a device is understood the moment it is known. Only the intents that some skill
handles are loaded, which keeps matching fast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError, ModelError
from ..home.entities import EntityRegistry
from .sentence_files import check_references, merge_sentences, read_sentence_file, sentence_files

__all__ = ["RouteResult", "Router", "TemplateRouter"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RouteResult:
    """A decision: the intent, slot values (and the words that filled them), and why."""

    intent: str
    slots: dict[str, Any]
    slot_text: dict[str, str]
    layer: str
    sentence: str


class Router(Protocol):
    def load(self) -> None: ...

    def update_entities(self, entities: EntityRegistry) -> None: ...

    def route(self, text: str) -> RouteResult | None: ...


class TemplateRouter:
    """hassil over the home-assistant-intents sentences of one language."""

    layer = "template"

    def __init__(
        self, language: str, intents: set[str], sentence_dirs: Sequence[Path] = ()
    ) -> None:
        self._language = language
        self._wanted = intents
        self._sentence_dirs = sentence_dirs
        self._intents: Any = None
        self._slot_lists: dict[str, Any] = {}
        self._profiles: list[tuple[str, str]] = [("normal", "")]

    def load(self) -> None:
        from hassil import Intents
        from home_assistant_intents import get_intents

        data = get_intents(self._language)
        if data is None:
            raise ModelError(
                "language_unsupported",
                f"home-assistant-intents has no sentences for language {self._language!r} "
                "(assistant.language)",
            )
        data = dict(data)
        data["intents"] = {k: v for k, v in data["intents"].items() if k in self._wanted}
        files = [read_sentence_file(p) for p in sentence_files(self._sentence_dirs, self._language)]
        for found in files:
            merge_sentences(data, found)
        check_references(files, data)
        try:
            self._intents = Intents.from_dict(data)
        except Exception as err:  # what the checks above did not foresee, still one line
            names = ", ".join(str(f.path) for f in files) or "the bundled sentences"
            raise ConfigError(
                "sentences_invalid", f"{names}: hassil cannot use these sentences: {err}"
            ) from None
        if not self._slot_lists:
            self.update_entities(EntityRegistry())
        self.route("what time is it")  # the first match builds hassil's caches

    def update_entities(self, entities: EntityRegistry) -> None:
        from hassil.intents import TextSlotList

        names = []
        for entity in entities:
            for spoken in (entity.name, *entity.aliases):
                names.append((spoken, entity.entity_id, {"domain": entity.domain}))
        areas = [(name, area) for area, name in entities.areas().items()]
        self._slot_lists = {
            "name": TextSlotList.from_tuples(names, allow_template=False),
            "area": TextSlotList.from_tuples(areas, allow_template=False),
            "floor": TextSlotList.from_tuples([], allow_template=False),
            "profile": TextSlotList.from_tuples(self._profiles, allow_template=False),
        }

    def set_profiles(self, names: Sequence[str]) -> None:
        """The profile names people may say ("homework helper" for homework_helper)."""
        self._profiles = [("normal", ""), *((n.replace("_", " "), n) for n in names)]

    def route(self, text: str) -> RouteResult | None:
        from hassil import recognize_best

        result = recognize_best(
            text,
            self._intents,
            slot_lists=self._slot_lists,
            language=self._language,
            best_slot_name="name",
        )
        if result is None:
            return None
        return RouteResult(
            intent=result.intent.name,
            slots={k: v.value for k, v in result.entities.items()},
            slot_text={k: str(v.text).strip() for k, v in result.entities.items() if v.text},
            layer=self.layer,
            sentence=(result.intent_sentence.text or "") if result.intent_sentence else "",
        )
