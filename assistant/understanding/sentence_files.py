"""Your own sentence files: hassil YAML that joins the templates, read and checked file by file.

A file that is not YAML, has the wrong shape, holds a template that does not parse, or refers to
a ``{list}`` or ``<rule>`` that exists nowhere is refused with one line naming the file and what
is wrong, at start (exit status 78) and on a reload (the running sentences stay).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError
from ..files import MIB, read_text_file

__all__ = ["SentenceFile", "merge_sentences", "read_sentence_file", "sentence_files"]

# lists Hearth fills at run time from the home and the profiles
RUNTIME_LISTS: Final = frozenset({"name", "area", "floor", "profile"})


def sentence_files(dirs: Sequence[Path], language: str) -> list[Path]:
    """The ``.yaml`` sentence files of ``language`` in each folder (or its ``<language>/``)."""
    found: list[Path] = []
    for folder in dirs:
        for base in (folder, folder / language):
            if base.is_dir():
                found.extend(sorted(base.glob("*.yaml")))
    return found


@dataclass(slots=True)
class SentenceFile:
    """One file's intents, lists and rules, and the lists and rules its templates use."""

    path: Path
    intents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lists: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    uses_lists: set[str] = field(default_factory=set)
    uses_rules: set[str] = field(default_factory=set)

    def refuse(self, what: str) -> ConfigError:
        return ConfigError("sentences_invalid", f"{self.path}: {what} (router.sentences_dir)")


def read_sentence_file(path: Path) -> SentenceFile:
    """Read and check one file; raises :class:`ConfigError` naming it."""
    import yaml

    text = read_text_file(path, MIB, "a sentence file")
    found = SentenceFile(path)
    try:
        body = yaml.safe_load(text) or {}
    except (yaml.YAMLError, RecursionError) as err:
        detail = " ".join(str(err).split())[:200]
        raise found.refuse(f"not valid YAML: {detail}") from None
    if not isinstance(body, dict):
        raise found.refuse("expected a mapping with 'intents:'")
    intents = body.get("intents", {})
    if not isinstance(intents, dict):
        raise found.refuse("'intents:' must map intent names to 'data:'")
    for name, intent in intents.items():
        blocks = intent.get("data") if isinstance(intent, dict) else None
        if not isinstance(name, str) or not isinstance(blocks, list):
            raise found.refuse(f"intent {name!r} needs a 'data:' list")
        found.intents[name] = [_block(found, name, block) for block in blocks]
    found.lists = _mapping(found, body, "lists")
    found.rules = {}
    for name, rule in _mapping(found, body, "expansion_rules").items():
        if not isinstance(rule, str):
            raise found.refuse(f"expansion rule <{name}> must be a template in quotes")
        found.rules[str(name)] = rule
        _parse(found, rule, f"expansion rule <{name}>")
    for name, values in found.lists.items():
        if not isinstance(values, dict):
            raise found.refuse(f"list {{{name}}} must be a mapping with 'values:' or 'range:'")
    return found


def _mapping(found: SentenceFile, body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key, {}) or {}
    if not isinstance(value, dict):
        raise found.refuse(f"'{key}:' must be a mapping")
    return value


def _block(found: SentenceFile, intent: str, block: Any) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise found.refuse(f"intent {intent}: each item of 'data:' must be a mapping")
    sentences = block.get("sentences")
    if not isinstance(sentences, list) or not sentences:
        raise found.refuse(f"intent {intent}: 'sentences:' must be a list of templates")
    for sentence in sentences:
        if not isinstance(sentence, str):
            raise found.refuse(f"intent {intent}: the template {sentence!r} must be in quotes")
        _parse(found, sentence, f"intent {intent}, template {sentence!r}")
    for key in ("slots", "requires_context", "excludes_context"):
        if key in block and not isinstance(block[key], dict):
            raise found.refuse(f"intent {intent}: '{key}:' must be a mapping")
    return block


def _parse(found: SentenceFile, template: str, where: str) -> None:
    from hassil.parse_expression import parse_sentence

    try:
        sentence = parse_sentence(template)
    except Exception as err:  # hassil's ParseError, or an IndexError on odd input
        raise found.refuse(f"{where} does not parse: {err}") from None
    for lists, rules in _references(sentence.expression):
        found.uses_lists |= lists
        found.uses_rules |= rules


def _references(expression: Any) -> Iterator[tuple[set[str], set[str]]]:
    from hassil.expression import Group, ListReference, RuleReference

    if isinstance(expression, ListReference):
        if getattr(expression, "_inline_range_match", None) is None:
            yield {expression.list_name}, set()
    elif isinstance(expression, RuleReference):
        yield set(), {expression.rule_name}
    elif isinstance(expression, Group):
        for item in expression.items:
            yield from _references(item)


def merge_sentences(data: dict[str, Any], found: SentenceFile) -> None:
    """Add one checked file's intents, lists and rules to ``data`` (the hassil document)."""
    intents = data.setdefault("intents", {})
    for name, blocks in found.intents.items():
        intents.setdefault(name, {"data": []})["data"].extend(blocks)
    if found.lists:
        data.setdefault("lists", {}).update(found.lists)
    if found.rules:
        data.setdefault("expansion_rules", {}).update(found.rules)


def check_references(files: Sequence[SentenceFile], data: Mapping[str, Any]) -> None:
    """Every ``{list}`` and ``<rule>`` a file uses exists somewhere; else refuse that file."""
    lists = set(data.get("lists", {})) | RUNTIME_LISTS
    rules = set(data.get("expansion_rules", {}))
    for found in files:
        missing = sorted(found.uses_lists - lists)
        if missing:
            raise found.refuse(f"no list {{{missing[0]}}} is defined")
        missing = sorted(found.uses_rules - rules)
        if missing:
            raise found.refuse(f"no expansion rule <{missing[0]}> is defined")
