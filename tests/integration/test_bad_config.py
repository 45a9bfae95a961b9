"""Bad configuration, generated from the models: every key with a wrong type or a value out of
its range, and an unknown key in every table, gives exit 78 and one line naming the key.

The cases are walked from the pydantic models in ``assistant.config``, so a key added later is
covered without touching this file. Each case runs through the real command line
(``hearth check-config --config F``): in-process for all of them, and as a subprocess for one
case per table.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
import pytest
from hearth_cli import run_hearth
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from assistant.cli import main
from assistant.config import Config

Build = Callable[[dict[str, Any]], dict[str, Any]]


# -- a small TOML writer for the generated documents ---------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        body = ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + body + " }" if body else "{}"
    raise TypeError(value)


def toml_document(document: dict[str, Any]) -> str:
    text = "\n".join(f"{json.dumps(key)} = {toml_value(value)}" for key, value in document.items())
    assert tomllib.loads(text) == document  # the writer itself is right
    return text + "\n"


# -- walking the models ----------------------------------------------------------------------------

# TOML kinds and one value of each
SAMPLES: dict[str, Any] = {
    "boolean": True,
    "integer": 7,
    "float": 0.5,
    "string": "some text",
    "array": ["a", "b"],
    "table": {"key": "value"},
}


def accepted_kinds(annotation: Any) -> set[str]:
    """The TOML kinds a field's type takes (an integer is a fine float)."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return set(SAMPLES)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(accepted_kinds(a) for a in typing.get_args(annotation)))
    if origin is typing.Annotated:
        return accepted_kinds(typing.get_args(annotation)[0])
    if origin is Literal:
        return {"string"} if all(isinstance(a, str) for a in typing.get_args(annotation)) else {}
    if origin in (tuple, list):
        return {"array"}
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return {"table"}
    simple = {bool: {"boolean"}, int: {"integer"}, float: {"integer", "float"}, str: {"string"}}
    if annotation in simple:
        return simple[annotation]
    if annotation is type(None):
        return set()
    raise AssertionError(f"no TOML kind known for {annotation!r}; teach this test about it")


@dataclass(frozen=True)
class Slot:
    """One key: where the error message names it, and how to build a document that sets it."""

    key: str
    field: FieldInfo
    build: Build


@dataclass(frozen=True)
class Table:
    """One table (the root, a section, an entity, a profile ...)."""

    key: str
    model: type[BaseModel]
    build: Build  # a table of some keys -> the whole document (required keys filled in)
    bare: Build  # the same, with nothing filled in


def minimal(model: type[BaseModel]) -> dict[str, Any]:
    """The required keys of a model with a valid value each."""
    body: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            choices = typing.get_args(info.annotation)
            body[info.alias or name] = choices[0] if choices else "x"
    return body


def walk(
    model: type[BaseModel], key: str, build: Build, bare: Build | None = None
) -> Iterator[Slot | Table]:
    yield Table(key, model, build, bare or build)
    for name, info in model.model_fields.items():
        toml_name = info.alias or name
        path = f"{key}.{toml_name}" if key else toml_name

        def here(value: Any, build: Build = build, toml_name: str = toml_name) -> dict[str, Any]:
            return build({toml_name: value})

        yield Slot(path, info, here)
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from walk(annotation, path, here)
        elif origin is dict and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            yield from walk(
                args[1],
                f"{path}.p",
                lambda t, here=here: here({"p": t}),  # type: ignore[misc]
            )
        elif origin is tuple and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            item = args[0]
            yield from walk(
                item,
                f"{path}[1]",
                lambda t, here=here, item=item: here([{**minimal(item), **t}]),  # type: ignore[misc]
                lambda t, here=here: here([t]),  # type: ignore[misc]
            )


NODES = list(walk(Config, "", lambda table: table))
SLOTS = [node for node in NODES if isinstance(node, Slot)]
TABLES = [node for node in NODES if isinstance(node, Table)]


@dataclass(frozen=True)
class Case:
    id: str
    document: dict[str, Any]
    named: str  # what the message must contain
    bound: float | None = None  # the limit the message must state


def wrong_type_cases() -> Iterator[Case]:
    for slot in SLOTS:
        takes = accepted_kinds(slot.field.annotation)
        for kind, value in SAMPLES.items():
            if kind not in takes:
                yield Case(f"{slot.key}={kind}", slot.build(value), f"'{slot.key}'")


def _all_metadata(info: FieldInfo) -> list[Any]:
    """Constraints on the field, and on a number inside a union (``str | Annotated[int, ...]``)."""
    found = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        if typing.get_origin(arg) is typing.Annotated:
            for extra in typing.get_args(arg)[1:]:
                found.extend(getattr(extra, "metadata", [extra]))
    return found


def _step(annotation: Any) -> float:
    kinds = accepted_kinds(annotation)
    return 0.01 if "float" in kinds else 1


def out_of_range_cases() -> Iterator[Case]:
    for slot in SLOTS:
        step = _step(slot.field.annotation)
        named = f"'{slot.key}'"
        for rule in _all_metadata(slot.field):
            if isinstance(rule, annotated_types.Ge):
                bad = rule.ge - step
                yield Case(f"{slot.key}<{rule.ge}", slot.build(bad), named, float(rule.ge))  # type: ignore[arg-type]
            elif isinstance(rule, annotated_types.Gt):
                yield Case(f"{slot.key}<={rule.gt}", slot.build(rule.gt), named, float(rule.gt))  # type: ignore[arg-type]
            elif isinstance(rule, annotated_types.Le):
                bad = rule.le + step
                yield Case(f"{slot.key}>{rule.le}", slot.build(bad), named, float(rule.le))  # type: ignore[arg-type]
            elif isinstance(rule, annotated_types.Lt):
                yield Case(f"{slot.key}>={rule.lt}", slot.build(rule.lt), named, float(rule.lt))  # type: ignore[arg-type]
            elif isinstance(rule, annotated_types.MinLen) and rule.min_length > 0:
                yield Case(f"{slot.key}:empty", slot.build(""), named)
            elif getattr(rule, "pattern", None):
                yield Case(f"{slot.key}:pattern", slot.build("not allowed here!"), named)
        if typing.get_origin(slot.field.annotation) is Literal:
            yield Case(f"{slot.key}:choice", slot.build("no-such-choice"), named)


def unknown_key_cases() -> Iterator[Case]:
    for table in TABLES:
        key = f"{table.key}.no_such_key" if table.key else "no_such_key"
        yield Case(f"unknown:{key}", table.build({"no_such_key": 1}), f"unknown key '{key}'")


def missing_key_cases() -> Iterator[Case]:
    for table in TABLES:
        for name, info in table.model.model_fields.items():
            if info.is_required():
                body = {k: v for k, v in minimal(table.model).items() if k != (info.alias or name)}
                named = f"'{table.key}.{info.alias or name}'"
                yield Case(f"missing:{table.key}.{name}", table.bare(body), named)


CASES = [
    *wrong_type_cases(),
    *out_of_range_cases(),
    *unknown_key_cases(),
    *missing_key_cases(),
]


def check(result_code: int, stderr: str, path: Path, case: Case) -> None:
    assert result_code == 78, (case.id, stderr)
    message = stderr.strip()
    assert message.count("\n") == 0, message
    assert "Traceback" not in message
    assert message.startswith(f"hearth: {path}: "), message
    assert case.named in message, message
    if case.bound is not None:
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", message)]
        assert case.bound in numbers, f"the limit {case.bound} is not stated: {message}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_key_is_named(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml_document(case.document), encoding="utf-8")
    code = main(["check-config", "--config", str(path)])
    captured = capsys.readouterr()
    check(code, captured.err, path, case)
    assert captured.out == ""


def test_every_key_and_table_is_covered() -> None:
    """Each field of each model has a wrong-type case; each table an unknown-key case."""
    named = {case.named for case in CASES}
    for slot in SLOTS:
        assert f"'{slot.key}'" in named, slot.key
    for table in TABLES:
        key = f"{table.key}.no_such_key" if table.key else "no_such_key"
        assert f"unknown key '{key}'" in named
    sections = {slot.key for slot in SLOTS if "." not in slot.key}
    assert sections == set(Config.model_fields)


def test_every_number_has_a_range() -> None:
    """A number without a limit cannot be checked; every numeric key states one."""
    bounded = (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)
    unbounded = []
    for slot in SLOTS:
        kinds = accepted_kinds(slot.field.annotation)
        if kinds & {"integer", "float"} and not any(
            isinstance(rule, bounded) for rule in _all_metadata(slot.field)
        ):
            unbounded.append(slot.key)
    assert unbounded == []


def _one_case_per_table() -> list[Case]:
    chosen: dict[str, Case] = {}
    for case in CASES:
        table = case.named.strip("'").removeprefix("unknown key '").rsplit(".", 1)[0]
        chosen.setdefault(table, case)
    return list(chosen.values())


@pytest.mark.parametrize("case", _one_case_per_table(), ids=lambda case: case.id)
def test_check_config_subprocess(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml_document(case.document), encoding="utf-8")
    result = run_hearth("check-config", "--config", str(path), timeout_s=60)
    check(result.returncode, result.stderr, path, case)
