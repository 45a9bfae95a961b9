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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import ConfigError
from ..home.entities import Entity, EntityRegistry
from ..skill import AREA, ENTITY, Tool

__all__ = ["AREA", "NONE_INTENT", "NoToolCall", "ToolCall", "ToolCatalog"]

NONE_INTENT: Final = "none"  # the model's way to say that no tool fits
_TYPES: Final = ("integer", "number", "string", "boolean")
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
class SlotSpec:
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
class ToolVariant:
    """One way to call an intent: its slots and which of them are required."""

    intent: str
    description: str
    slots: tuple[SlotSpec, ...]
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

    variants: tuple[ToolVariant, ...]
    devices: tuple[Entity, ...]  # the entities some tool can name, for the prompt
    areas: Mapping[str, str]  # area id → the name people say
    _schema: dict[str, Any]
    _tools_text: str
    _prompt: str

    @classmethod
    def build(
        cls, tools: Iterable[Tool], entities: EntityRegistry, tools_text: str | None = None
    ) -> ToolCatalog:
        """Resolve ``{"$entity": [domains]}`` slots to the names and aliases of the entities in
        those domains, and ``{"$area": true}`` to the known areas. A tool whose required device or
        area slot has nothing to name is left out; a bad declaration is a :class:`ConfigError`.

        ``tools_text`` (another catalogue's :meth:`tools_text`) replaces the tool list in the
        prompt: a catalogue of the few devices relevant to one command then shares the prompt's
        beginning with the whole home's, and the model's cache of it."""
        areas = dict(sorted(entities.areas().items(), key=lambda item: item[1].casefold()))
        variants: list[ToolVariant] = []
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
        shown = _render_tools(variants) if tools_text is None else tools_text
        prompt = f"{shown}\n{_render_devices(devices, areas)}"
        return cls(tuple(variants), devices, areas, schema, shown, prompt)

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

    def tools_text(self) -> str:
        """The tool list at the start of the prompt."""
        return self._tools_text

    def prompt(self) -> str:
        """The tool list and the device list, for the system prompt (stable text, so that the
        model's prefix cache is reused from one call to the next)."""
        return self._prompt


def _variant(
    tool: Tool, entities: EntityRegistry, areas: Mapping[str, str], named: dict[str, Entity]
) -> ToolVariant | None:
    if tool.intent == NONE_INTENT:
        raise ConfigError("tool_declaration", f"a tool may not be named {NONE_INTENT!r}")
    unknown = [name for name in tool.required if name not in tool.parameters]
    if unknown:
        raise ConfigError(
            "tool_declaration",
            f"tool {tool.intent}: required slot {unknown[0]!r} is not among its parameters",
        )
    slots: list[SlotSpec] = []
    for name, fragment in tool.parameters.items():
        slot = _slot(tool.intent, name, fragment, entities, areas, named)
        if slot is not None:
            slots.append(slot)
        elif name in tool.required:
            return None  # nothing to name: the model can't call this variant
    return ToolVariant(tool.intent, tool.description, tuple(slots), tool.required)


def _slot(
    intent: str,
    name: str,
    fragment: Mapping[str, Any],
    entities: EntityRegistry,
    areas: Mapping[str, str],
    named: dict[str, Entity],
) -> SlotSpec | None:
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
        return SlotSpec(name, {"type": "string", "enum": spoken}, ids, "|".join(domains))
    if fragment.get(AREA):
        if not areas:
            return None
        area_ids = {spoken.casefold(): area for area, spoken in areas.items()}
        for area in areas:
            area_ids.setdefault(area.casefold(), area)
        return SlotSpec(name, {"type": "string", "enum": list(areas.values())}, area_ids, "area")
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
    return SlotSpec(name, schema, None, what)


def _render_tools(variants: list[ToolVariant]) -> str:
    lines = ["Tools:", *(v.line() for v in variants)]
    lines.append(f'- Nothing above fits, or an unknown device: {{"intent": "{NONE_INTENT}"}}')
    return "\n".join(lines)


def _render_devices(devices: tuple[Entity, ...], areas: Mapping[str, str]) -> str:
    lines = ["Devices:"]
    for entity in devices:
        names = ", ".join(dict.fromkeys((entity.name, *entity.aliases)))
        where = f", {entity.area_name}" if entity.area_name else ""
        lines.append(f"{names} ({entity.domain}{where})")
    if areas:
        lines.append(f"Areas: {', '.join(areas.values())}")
    return "\n".join(lines)
