"""The rules every configuration section follows: frozen, unknown keys refused, TOML values of
the wrong type refused instead of converted."""

from __future__ import annotations

import json
import re
import socket
import types
import typing
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

__all__ = ["Section", "default_node_id", "toml_scalar"]

_NODE_ID_RE = re.compile(r"^[a-z0-9_-]+$")


def default_node_id() -> str:
    """The host name, lower-case, reduced to ``[a-z0-9_-]``."""
    name = re.sub(r"[^a-z0-9_-]+", "_", socket.gethostname().split(".")[0].lower()).strip("_")
    return name or "hearth"


_SCALAR_NAMES: Final = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
}


def _scalar_types(annotation: Any) -> frozenset[type] | None:
    """The TOML scalar types a field takes (an integer fits a float field); an empty set for
    tables and arrays, ``None`` where pydantic alone decides."""
    if annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return frozenset(type(choice) for choice in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _scalar_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found: set[type] = set()
        for member in typing.get_args(annotation):
            kinds = _scalar_types(member)
            if kinds is None:
                return None
            found |= kinds
        return frozenset(found)
    if annotation is float:
        return frozenset({float, int})
    if annotation in _SCALAR_NAMES:
        return frozenset({annotation})
    if (
        annotation is type(None)  # TOML has no null: such a key is left out
        or origin in (tuple, list, dict)
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return frozenset()
    return None  # another type (a path, an enum): pydantic decides


def _scalar_type(value: bool | int | float | str) -> type:
    return next(kind for kind in (bool, int, float, str) if isinstance(value, kind))


def _looks_like(text: str, kind: type) -> bool:
    try:
        kind(text.strip())
    except ValueError:
        return False
    return True


def _type_message(value: bool | int | float | str, kinds: frozenset[type], annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if not kinds:
        wanted = "an array [...]" if origin in (tuple, list) else "a table"
    elif origin is Literal:
        wanted = "one of " + ", ".join(toml_scalar(c) for c in typing.get_args(annotation))
    elif float in kinds:
        wanted = "a number"
    else:
        wanted = " or ".join(name for kind, name in _SCALAR_NAMES.items() if kind in kinds)
    got = _scalar_type(value)
    unquote = isinstance(value, str) and any(
        _looks_like(value, kind) for kind in (int, float) if kind in kinds
    )
    shown = {bool: "true/false", int: "a whole number", float: "a decimal number", str: "text"}
    return f"expected {wanted}, not {shown[got]}" + ("; write it without quotes" if unquote else "")


def toml_scalar(value: Any) -> str:
    """A value as it would be written in TOML (``true``, ``"text"``, ``0.5``), kept short."""
    if isinstance(value, bool | int | float | str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 60 else shown[:57] + "..."
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _toml_type(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse a TOML value of the wrong type instead of converting it (``port = true``,
        ``threshold = "0.5"``, ``enabled = 1``)."""
        if isinstance(value, bool | int | float | str) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            kinds = _scalar_types(annotation)
            if kinds is not None and _scalar_type(value) not in kinds:
                raise PydanticCustomError("toml_type", _type_message(value, kinds, annotation))
        return value


def toml_value(value: Any) -> str:
    """A scalar or a list as a TOML value, as written in a configuration file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))
