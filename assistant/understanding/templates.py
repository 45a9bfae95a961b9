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

__all__ = ["RouteResult", "Router", "TemplateRouter", "merge_sentences", "sentence_files"]

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


def sentence_files(dirs: Sequence[Path], language: str) -> list[Path]:
    """The ``.yaml`` sentence files of ``language`` in each folder (or its ``<language>/``)."""
    found: list[Path] = []
    for folder in dirs:
        for base in (folder, folder / language):
            if base.is_dir():
                found.extend(sorted(base.glob("*.yaml")))
    return found


def merge_sentences(data: dict[str, Any], path: Path) -> None:
    """Add one hassil sentence file (``intents``, ``lists``, ``expansion_rules``) to ``data``."""
    import yaml

    from ..files import MIB, read_text_file

    text = read_text_file(path, MIB, "a sentence file")
    try:
        extra = yaml.safe_load(text) or {}
    except (yaml.YAMLError, RecursionError) as err:
        raise ConfigError(
            "sentences_unreadable", f"{path}: cannot read this sentence file: {err}"
        ) from None
    if not isinstance(extra, dict) or not isinstance(extra.get("intents", {}), dict):
        raise ConfigError(
            "sentences_format", f"{path}: expected 'intents:' mapping intent names to 'data:'"
        )
    intents = data.setdefault("intents", {})
    for name, body in extra.get("intents", {}).items():
        blocks = body.get("data") if isinstance(body, dict) else None
        if not isinstance(blocks, list):
            raise ConfigError("sentences_format", f"{path}: intent {name} needs a 'data:' list")
        intents.setdefault(name, {"data": []})["data"].extend(blocks)
    for key in ("lists", "expansion_rules"):
        if isinstance(extra.get(key), dict):
            data.setdefault(key, {}).update(extra[key])


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
        for path in sentence_files(self._sentence_dirs, self._language):
            merge_sentences(data, path)
        self._intents = Intents.from_dict(data)
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
