"""Router layer 2's contract with the language model: the tool catalogue and the call parser.

:meth:`ToolCatalog.build` turns the skills' :class:`~assistant.skill.Tool` declarations and the
exposed entities into a JSON schema (for grammar-constrained decoding), a tool and device list
(for the system prompt), and the lookup tables :func:`parse_tool_call` validates against.

The model's answer is one JSON object, ``{"intent": "HassLightSet", "slots": {"name": "Desk
Lamp", "brightness": 40}}`` or ``{"intent": "none"}``. Parsing is pure and total: whatever the
text, it returns a :class:`ToolCall` or a :class:`NoToolCall`, or raises :class:`ToolCallError`
with a message that can be fed back to the model. A valid call carries its slots exactly as a
template match gives them (``{"name": "light.desk_lamp", "brightness": 40}``), and never names an
entity outside the catalogue. Nothing here imports the model.

Several tools may share an intent: each is one way to call it (``HassTurnOn`` by ``name``, or by
``area`` and ``domain``), and a call is valid when it fits one of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import ConfigError, ToolCallError
from ..home.entities import Entity, EntityRegistry
from ..skill import ENTITY, Tool

__all__ = ["AREA", "NONE_INTENT", "NoToolCall", "ToolCall", "ToolCatalog", "parse_tool_call"]

AREA: Final = "$area"  # in a Tool's parameters: {"$area": true}
NONE_INTENT: Final = "none"  # the model's way to say that no tool fits
_TYPES: Final = ("integer", "number", "string", "boolean")
_SHOWN: Final = 8  # names listed at most in an error message
_SHOWN_CHARS: Final = 40  # characters of a wrong value quoted at most in an error message
_FREE_TEXT_CHARS: Final = 100  # longest free-text slot value unless the tool says otherwise


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A valid call: the intent and its slots as a template match gives them, the words the
    model used for each slot, the model's raw text, and which slots name a device or an area."""

    intent: str
    slots: dict[str, Any]
    text: str
    slot_text: dict[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()  # slots whose value is an entity id or an area id
    free_text: tuple[str, ...] = ()  # slots of free text (a list item, a timer's name)


@dataclass(frozen=True, slots=True)
class NoToolCall:
    """The model said that no tool fits (``{"intent": "none"}``)."""

    text: str


@dataclass(frozen=True, slots=True)
class _Slot:
    """One parameter of one tool variant, resolved against the entities."""

    name: str
    schema: dict[str, Any]  # the JSON-schema fragment the grammar sees
    ids: Mapping[str, str] | None  # device/area: casefolded spoken name or id → id
    what: str  # how the prompt describes it: "light|switch", "area", "0-100"

    @property
    def free_text(self) -> bool:
        return (
            self.ids is None and self.schema.get("type") == "string" and not self.schema.get("enum")
        )

    def example(self) -> Any:
        """A valid value, for the example call in the prompt."""
        schema = self.schema
        if schema.get("enum"):
            return schema["enum"][0]
        kind = schema.get("type")
        if kind in ("integer", "number"):
            low = schema.get("minimum", 0)
            high = schema.get("maximum", low + 10)
            value = (low + high) / 2 if high - low <= 100 else min(high, low + 5)
            return int(value) if kind == "integer" else value
        if kind == "boolean":
            return True
        if schema.get("examples"):
            return schema["examples"][0]
        return "text"


@dataclass(frozen=True, slots=True)
class _Variant:
    """One way to call an intent: its slots and which of them are required."""

    intent: str
    description: str
    slots: tuple[_Slot, ...]
    required: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "intent": {"const": self.intent},
                "slots": {
                    "type": "object",
                    "properties": {slot.name: slot.schema for slot in self.slots},
                    "required": list(self.required),
                    "additionalProperties": False,
                },
            },
            "required": ["intent", "slots"],
            "additionalProperties": False,
        }

    def line(self) -> str:
        """The description, an example call, and the optional slots (SmolLM2-135M picked the
        right tool more often after a concrete example than after a signature)."""
        shown = [s for s in self.slots if s.name in self.required]
        example = json.dumps(
            {"intent": self.intent, "slots": {s.name: s.example() for s in shown}},
            ensure_ascii=False,
        )
        also = [f'"{s.name}": {s.what}' for s in self.slots if s not in shown]
        more = f" (may add {', '.join(also)})" if also else ""
        return f"- {self.description.rstrip('.')}: {example}{more}"


@dataclass(frozen=True, slots=True, eq=False)
class ToolCatalog:
    """The tools the model may call now, with their slots resolved to the exposed entities.

    Build it with :meth:`build` when the tools or the entities change, and keep it otherwise:
    the language-model router caches its system prompt by catalogue identity.
    """

    variants: tuple[_Variant, ...]
    devices: tuple[Entity, ...]  # the entities some tool can name, for the prompt
    areas: Mapping[str, str]  # area id → the name people say
    _schema: dict[str, Any]
    _prompt: str

    @classmethod
    def build(cls, tools: Iterable[Tool], entities: EntityRegistry) -> ToolCatalog:
        """Resolve ``{"$entity": [domains]}`` slots to the names and aliases of the entities in
        those domains, and ``{"$area": true}`` to the known areas. A tool whose required device or
        area slot has nothing to name is left out; a bad declaration is a :class:`ConfigError`."""
        areas = dict(sorted(entities.areas().items(), key=lambda item: item[1].casefold()))
        variants: list[_Variant] = []
        named: dict[str, Entity] = {}
        for tool in tools:
            variant = _variant(tool, entities, areas, named)
            if variant is not None:
                variants.append(variant)
        schema = {
            "anyOf": [
                *(v.schema() for v in variants),
                {
                    "type": "object",
                    "properties": {"intent": {"const": NONE_INTENT}},
                    "required": ["intent"],
                    "additionalProperties": False,
                },
            ]
        }
        devices = tuple(named.values())
        return cls(tuple(variants), devices, areas, schema, _render(variants, devices, areas))

    def spoken_names(self, target: str) -> tuple[str, ...]:
        """What people call an entity (its name, aliases and area) or an area (its name), by
        entity id or area id; ``()`` for neither."""
        for entity in self.devices:
            if entity.entity_id == target:
                return tuple(n for n in (entity.name, *entity.aliases, entity.area_name) if n)
        return (self.areas[target],) if target in self.areas else ()

    def intents(self) -> list[str]:
        """The intents the model may call, in declaration order."""
        return list(dict.fromkeys(v.intent for v in self.variants))

    def schema(self) -> dict[str, Any]:
        """The JSON schema of a valid answer: one object per tool variant and ``none``. The same
        object on every call: don't change it."""
        return self._schema

    def prompt(self) -> str:
        """The tool list and the device list, for the system prompt (stable text, so that the
        model's prefix cache is reused from one call to the next)."""
        return self._prompt


def _variant(
    tool: Tool, entities: EntityRegistry, areas: Mapping[str, str], named: dict[str, Entity]
) -> _Variant | None:
    if tool.intent == NONE_INTENT:
        raise ConfigError("tool_declaration", f"a tool may not be named {NONE_INTENT!r}")
    unknown = [name for name in tool.required if name not in tool.parameters]
    if unknown:
        raise ConfigError(
            "tool_declaration",
            f"tool {tool.intent}: required slot {unknown[0]!r} is not among its parameters",
        )
    slots: list[_Slot] = []
    for name, fragment in tool.parameters.items():
        slot = _slot(tool.intent, name, fragment, entities, areas, named)
        if slot is not None:
            slots.append(slot)
        elif name in tool.required:
            return None  # nothing to name: the model can't call this variant
    return _Variant(tool.intent, tool.description, tuple(slots), tool.required)


def _slot(
    intent: str,
    name: str,
    fragment: Mapping[str, Any],
    entities: EntityRegistry,
    areas: Mapping[str, str],
    named: dict[str, Entity],
) -> _Slot | None:
    if ENTITY in fragment:
        domains = list(fragment[ENTITY])
        ids: dict[str, str] = {}
        spoken: list[str] = []
        for entity in entities:
            if entity.domain not in domains:
                continue
            named.setdefault(entity.entity_id, entity)
            for said in (entity.name, *entity.aliases):
                key = said.strip().casefold()
                if key and key not in ids:  # the same name twice: the first entity keeps it
                    ids[key] = entity.entity_id
                    spoken.append(said.strip())
            ids.setdefault(entity.entity_id.casefold(), entity.entity_id)
        if not spoken:
            return None
        return _Slot(name, {"type": "string", "enum": spoken}, ids, "|".join(domains))
    if fragment.get(AREA):
        if not areas:
            return None
        area_ids = {spoken.casefold(): area for area, spoken in areas.items()}
        for area in areas:
            area_ids.setdefault(area.casefold(), area)
        return _Slot(name, {"type": "string", "enum": list(areas.values())}, area_ids, "area")
    kind = fragment.get("type")
    if kind not in _TYPES:
        raise ConfigError(
            "tool_declaration",
            f"tool {intent}: slot {name!r} needs a type ({', '.join(_TYPES)}), "
            f'{{"{ENTITY}": [domains]}} or {{"{AREA}": true}}',
        )
    schema = dict(fragment)
    if kind == "string" and "enum" not in schema:
        schema.setdefault("maxLength", _FREE_TEXT_CHARS)  # a grammar bound: no endless text
    if "enum" in schema:
        what = "|".join(str(v) for v in schema["enum"])
    elif "minimum" in schema and "maximum" in schema:
        what = f"{schema['minimum']:g}-{schema['maximum']:g}"
    else:
        what = str(kind)
    return _Slot(name, schema, None, what)


def _render(variants: list[_Variant], devices: tuple[Entity, ...], areas: Mapping[str, str]) -> str:
    lines = ["Tools:", *(v.line() for v in variants)]
    lines.append(f'- Nothing above fits, or an unknown device: {{"intent": "{NONE_INTENT}"}}')
    lines.append("Devices:")
    for entity in devices:
        names = ", ".join(dict.fromkeys((entity.name, *entity.aliases)))
        where = f", {entity.area_name}" if entity.area_name else ""
        lines.append(f"{names} ({entity.domain}{where})")
    if areas:
        lines.append(f"Areas: {', '.join(areas.values())}")
    return "\n".join(lines)


def _show(value: Any) -> str:
    """A wrong value, short and safe to quote (never the repr of a container)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        return repr(shown)
    if isinstance(value, int) and abs(value) >= 10**15:
        return "a very large number"
    return repr(value)


def _listing(names: Iterable[str]) -> str:
    items = list(names)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def _number(name: str, value: Any, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolCallError(f"'{name}' must be a {'whole ' if integer else ''}number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ToolCallError(f"'{name}' must be a finite number")
        if integer:
            if not value.is_integer():
                raise ToolCallError(f"'{name}' must be a whole number, not {_show(value)}")
            return int(value)
    return value


def _value(slot: _Slot, value: Any) -> tuple[Any, str]:
    """The slot's value as a template gives it, and the words that filled it."""
    if slot.ids is not None:  # a device or an area
        if not isinstance(value, str):
            raise ToolCallError(f"'{slot.name}' must be a name in quotes")
        found = slot.ids.get(value.strip().casefold())
        if found is None:
            kind = "area" if slot.what == "area" else "device"
            raise ToolCallError(
                f"{_show(value)} is not a known {kind} for '{slot.name}'; use one of: "
                f"{_listing(slot.schema['enum'])}"
            )
        return found, value.strip()
    schema = slot.schema
    kind = schema["type"]
    if kind in ("integer", "number"):
        value = _number(slot.name, value, kind == "integer")
    elif kind == "string":
        if not isinstance(value, str):
            raise ToolCallError(f"'{slot.name}' must be text in quotes")
        if len(value) < schema.get("minLength", 0):
            raise ToolCallError(f"'{slot.name}' must not be empty")
        if len(value) > schema.get("maxLength", len(value)):
            raise ToolCallError(f"'{slot.name}' must be at most {schema['maxLength']} characters")
    elif kind == "boolean" and not isinstance(value, bool):
        raise ToolCallError(f"'{slot.name}' must be true or false")
    if "enum" in schema:
        allowed = list(schema["enum"])
        match = [
            v
            for v in allowed
            if (isinstance(v, str) and isinstance(value, str) and v.casefold() == value.casefold())
            or (type(v) is type(value) and v == value)
        ]
        if not match:
            raise ToolCallError(
                f"'{slot.name}' must be one of: {_listing(str(v) for v in allowed)}"
            )
        value = match[0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                raise ToolCallError(f"'{slot.name}' must be from {low:g} to {high:g}")
            if low is not None:
                raise ToolCallError(f"'{slot.name}' must be at least {low:g}")
            raise ToolCallError(f"'{slot.name}' must be at most {high:g}")
    return value, str(value)


def _fit(variant: _Variant, slots: dict[str, Any], text: str) -> ToolCall:
    known = {slot.name: slot for slot in variant.slots}
    for name in slots:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise ToolCallError(
                f"{variant.intent} has no slot {_show(name)} (its slots: {allowed})"
            )
    for name in variant.required:
        if name not in slots:
            raise ToolCallError(f"{variant.intent} needs the slot '{name}'")
    values: dict[str, Any] = {}
    words: dict[str, str] = {}
    for name, raw in slots.items():
        values[name], words[name] = _value(known[name], raw)
    targets = tuple(name for name in slots if known[name].ids is not None)
    free = tuple(name for name in slots if known[name].free_text)
    return ToolCall(variant.intent, values, text, words, targets, free)


def _closeness(variant: _Variant, slots: dict[str, Any]) -> int:
    names = {slot.name for slot in variant.slots}
    return len(names & slots.keys()) - len(slots.keys() - names)


def parse_tool_call(text: str, catalog: ToolCatalog) -> ToolCall | NoToolCall:
    """Parse and validate the model's answer against the catalogue.

    Raises only :class:`ToolCallError`, whose message says what to fix: not JSON, an unknown
    intent, an unknown or missing slot, a wrong type, a value out of range or not allowed, or a
    device or area that is not in the catalogue.
    """
    if not isinstance(text, str):
        raise ToolCallError("the answer must be text holding one JSON object")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ToolCallError(
            'the answer must be one JSON object such as {"intent": "none"}'
        ) from None
    if not isinstance(data, dict):
        raise ToolCallError("the answer must be a JSON object with 'intent' and 'slots'")
    for key in data:
        if key not in ("intent", "slots"):
            raise ToolCallError(f"unexpected key {_show(key)}; use only 'intent' and 'slots'")
    intent = data.get("intent")
    if not isinstance(intent, str):
        raise ToolCallError(f"'intent' must be the name of a tool or {NONE_INTENT!r}")
    if intent == NONE_INTENT:
        return NoToolCall(text)
    variants = [v for v in catalog.variants if v.intent == intent]
    if not variants:
        raise ToolCallError(
            f"unknown intent {_show(intent)}; use one of: "
            f"{_listing([*catalog.intents(), NONE_INTENT])}"
        )
    slots = data.get("slots", {})
    if not isinstance(slots, dict):
        raise ToolCallError("'slots' must be a JSON object")
    variants.sort(key=lambda v: -_closeness(v, slots))  # stable: declaration order on ties
    errors: list[ToolCallError] = []
    for variant in variants:
        try:
            return _fit(variant, slots, text)
        except ToolCallError as err:
            errors.append(err)
    raise errors[0]  # the closest variant's complaint
