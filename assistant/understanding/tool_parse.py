"""Router layer 2's parser: the language model's answer, checked against the tool catalogue.

Parsing is pure and total: whatever the text, :func:`parse_tool_call` returns a
:class:`~assistant.understanding.tool_catalog.ToolCall` or a
:class:`~assistant.understanding.tool_catalog.NoToolCall`, or raises :class:`ToolCallError` with a
message that can be fed back to the model. A valid call carries its slots exactly as a template
match gives them, and never names an entity outside the catalogue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Final

from ..errors import ToolCallError
from .tool_catalog import NONE_INTENT, NoToolCall, SlotSpec, ToolCall, ToolCatalog, ToolVariant

__all__ = ["parse_tool_call"]

_SHOWN: Final = 8  # names listed at most in an error message
_SHOWN_CHARS: Final = 40  # characters of a wrong value quoted at most in an error message


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


def _value(slot: SlotSpec, value: Any) -> tuple[Any, str]:
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


def _fit(variant: ToolVariant, slots: dict[str, Any], text: str) -> ToolCall:
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


def _closeness(variant: ToolVariant, slots: dict[str, Any]) -> int:
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
