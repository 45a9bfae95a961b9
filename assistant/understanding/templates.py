"""The router's first layer: hassil sentence templates from home-assistant-intents.

Slot lists come from the known entities (names and aliases, with their domain as context) and
their areas, so a device is understood the moment it is known. Only the intents that some skill
handles are loaded, which keeps matching fast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Protocol

from ..errors import ConfigError, ModelError
from ..home.entities import EntityRegistry
from .repair import Repair, TemplateRepair, sentence_skeletons
from .sentence_files import check_references, merge_sentences, read_sentence_file, sentence_files

__all__ = ["ACTION_INTENTS", "RouteResult", "Router", "TemplateRouter"]

_LOGGER = logging.getLogger(__name__)

# intents that act on a named device: a name they do not know is said so, not guessed at
ACTION_INTENTS: Final = frozenset(
    {
        "HassTurnOn",
        "HassTurnOff",
        "HassLightSet",
        "HassSetPosition",
        "HassFanSetSpeed",
        "HassClimateSetTemperature",
    }
)
_MAX_UNKNOWN_WORDS: Final = 4  # longer "names" are more likely a question than a device


@dataclass(frozen=True, slots=True)
class RouteResult:
    """A decision: the intent, slot values (and the words that filled them), and why."""

    intent: str
    slots: dict[str, Any]
    slot_text: dict[str, str]
    layer: str
    sentence: str
    confidence: float = 1.0
    repaired: tuple[str, ...] = ()  # what the repair changed ("lite → light")


class Router(Protocol):
    def load(self) -> None: ...

    def update_entities(self, entities: EntityRegistry) -> None: ...

    def route(self, text: str, area: str = "", area_name: str = "") -> RouteResult | None: ...


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
        self._repair = TemplateRepair()

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
        self._repair.build(
            sentence_skeletons(self._intents, self._language, lambda name: name != "HassNevermind")
        )
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
        self._repair.set_names((spoken for spoken, _, _ in names), (n for n, _ in areas))

    def set_profiles(self, names: Sequence[str]) -> None:
        """The profile names people may say ("homework helper" for homework_helper)."""
        self._profiles = [("normal", ""), *((n.replace("_", " "), n) for n in names)]

    def route(self, text: str, area: str = "", area_name: str = "") -> RouteResult | None:
        """The templates' own match of ``text``, or ``None``. ``area`` (an area id) is the room
        the command was heard in, which sentences such as "turn on the lights" take as their
        area."""
        return _route_of(self._recognize(text, area=area, area_name=area_name), self.layer)

    def repaired(
        self, text: str, area: str = "", area_name: str = ""
    ) -> tuple[Repair, RouteResult] | None:
        """A near-miss repaired (:mod:`assistant.understanding.repair`): the repair and the
        route the templates give the repaired sentence, confident or not; or ``None``."""
        found = self._repair.repair(text, lambda said: self.route(said, area, area_name))
        if found is None:
            return None
        repair, route = found
        return repair, replace(
            route,
            layer="repair",
            sentence=repair.text,
            confidence=repair.confidence,
            repaired=repair.changes,
        )

    def unknown_name(self, text: str) -> tuple[str, str] | None:
        """A command to act on a device or area the home does not have ("turn on the bathroom
        heater"): the slot (``name`` or ``area``) and the words said for it; else ``None``.
        Of hassil's readings with an unknown name, one is taken only if the words it leaves
        unknown are not part of the command ("turn", "in") and name nothing the home has; a
        device before a room, then the longest."""
        from hassil.recognize import recognize_all

        found: list[tuple[bool, int, str, str]] = []
        for result in recognize_all(
            text,
            self._intents,
            slot_lists=self._slot_lists,
            language=self._language,
            allow_unmatched_entities=True,
        ):
            unknown = {k: v for k, v in result.unmatched_entities.items() if k in ("name", "area")}
            if result.intent.name not in ACTION_INTENTS or len(unknown) != 1:
                continue
            if "name" in result.entities:  # a device the home has was said
                continue
            slot, entity = next(iter(unknown.items()))
            said = " ".join(str(getattr(entity, "text", "")).strip(" .,!?").split())
            said = said.removeprefix("the ").strip()
            words = said.split()
            if not words or len(words) > _MAX_UNKNOWN_WORDS:
                continue
            if self._repair.command_words(said) or self._repair.names_a_known_one(said):
                continue
            if not self._repair.commands(text.lower().replace(said.lower(), " ")):
                continue  # "yes" alone is no command to a device called "yes"
            found.append((slot == "name", len(said), slot, said))
        if not found:
            return None
        _, _, slot, said = max(found)
        return slot, said

    def _recognize(
        self, text: str, allow_unmatched: bool = False, area: str = "", area_name: str = ""
    ) -> Any:
        from hassil import recognize_best

        context = {"area": {"value": area, "text": area_name or area}} if area else None
        return recognize_best(
            text,
            self._intents,
            slot_lists=self._slot_lists,
            intent_context=context,
            language=self._language,
            best_slot_name="name",
            allow_unmatched_entities=allow_unmatched,
        )


def _route_of(result: Any, layer: str) -> RouteResult | None:
    if result is None:
        return None
    return RouteResult(
        intent=result.intent.name,
        slots={k: v.value for k, v in result.entities.items()},
        slot_text={k: str(v.text).strip() for k, v in result.entities.items() if v.text},
        layer=layer,
        sentence=(result.intent_sentence.text or "") if result.intent_sentence else "",
    )
