"""The skill plug-in API: a skill names the intents it handles, its risk, and a ``run``.

A skill decides what to say and which home actions to take; it never touches MQTT. The pipeline
validates each :class:`~assistant.home.entities.Action` against the entity registry and
publishes it.

To add a skill, put a module in ``skills/`` that defines ``SKILLS`` (a sequence of objects that
satisfy :class:`Skill`), and, for a new phrasing, a sentence template for its intent.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

from .errors import ConfigError
from .home.entities import Action, EntityRegistry
from .home.home import EntityState

__all__ = [
    "ENTITY",
    "Risk",
    "Skill",
    "SkillCall",
    "SkillContext",
    "SkillRegistry",
    "SkillResult",
    "Tool",
    "load_builtin_skills",
    "load_skills",
]


class Risk(StrEnum):
    SAFE = "safe"  # acts at once
    CONFIRM = "confirm"  # asks the user first


@dataclass(frozen=True, slots=True)
class SkillCall:
    """What the router decided: the intent, its slot values, and the words that were said."""

    intent: str
    slots: Mapping[str, Any]
    text: str
    turn: str | None = None


def _no_state(entity_id: str) -> EntityState | None:
    return None


def _no_announce(text: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SkillContext:
    """What a skill may use: the exposed entities and their latest states, the clock, the
    language, a folder for its own files, and ``announce`` to speak later (a timer that rings:
    Hearth speaks the text and publishes an ``announcement`` event)."""

    entities: EntityRegistry
    state: Callable[[str], EntityState | None] = _no_state
    now: Callable[[], datetime] = datetime.now
    language: str = "en"
    data_dir: Path = field(default_factory=lambda: Path("."))
    announce: Callable[[str], None] = _no_announce
    settings: Mapping[str, Any] = field(default_factory=dict)  # [skills.<name>] of the config
    abilities: tuple[str, ...] = ()  # the descriptions of the skills in use, for "what can you do"


@dataclass(frozen=True, slots=True)
class SkillResult:
    """The reply to speak and the home actions to publish first (in order).

    ``expect_reply``: the reply is a question; Hearth listens again without the wake word.
    """

    speech: str
    actions: tuple[Action, ...] = ()
    success: bool = True
    data: Mapping[str, Any] = field(default_factory=dict)
    expect_reply: bool = False


ENTITY: Final = "$entity"  # in a Tool's parameters: {"$entity": ["light", ...]} (see Tool)


@dataclass(frozen=True, slots=True)
class Tool:
    """One intent as the language model may call it.

    ``parameters`` maps slot names to JSON-schema fragments, as the sentence templates would
    fill them (``brightness`` 0-100, ``name``, ``area`` …). A slot that names a device is written
    ``{"$entity": ["light", "switch"]}``: it becomes an enum of the exposed entities' names in
    those domains, and a valid answer is turned into the entity id, exactly as a template match
    gives it. ``{"$area": true}`` becomes an enum of the known areas (turned into area ids).
    """

    intent: str
    description: str
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()


class Skill(Protocol):
    name: str
    description: str
    intents: tuple[str, ...]
    risk: Risk
    tools: tuple[Tool, ...]  # what the language model may call; () for none

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult: ...


class SkillRegistry:
    """Skills by name and by intent; a duplicate name or intent is an error at start."""

    def __init__(self, skills: Iterable[Skill] = ()) -> None:
        self._by_name: dict[str, Skill] = {}
        self._by_intent: dict[str, Skill] = {}
        for skill in skills:
            self.register(skill)

    def register(self, skill: Skill) -> None:
        if skill.name in self._by_name:
            raise ConfigError("duplicate_skill", f"two skills are named {skill.name!r}")
        for intent in skill.intents:
            if intent in self._by_intent:
                other = self._by_intent[intent].name
                raise ConfigError(
                    "duplicate_intent",
                    f"skills {other!r} and {skill.name!r} both handle intent {intent}",
                )
        self._by_name[skill.name] = skill
        for intent in skill.intents:
            self._by_intent[intent] = skill

    def for_intent(self, intent: str) -> Skill | None:
        return self._by_intent.get(intent)

    def intents(self) -> set[str]:
        return set(self._by_intent)

    def __iter__(self) -> Iterator[Skill]:
        return iter(self._by_name.values())


def load_builtin_skills() -> SkillRegistry:
    """Every ``SKILLS`` sequence in the modules of the ``skills`` package."""
    return SkillRegistry(_builtin())


def _builtin() -> list[Skill]:
    import skills as package

    found: list[Skill] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"skills.{module_info.name}")
        found.extend(getattr(module, "SKILLS", ()))
    return found


def _from_folder(folder: Path) -> list[Skill]:
    """``SKILLS`` of every ``*.py`` in the user's folder (``router.skills_dir``)."""
    if not folder.is_dir():
        raise ConfigError("skills_missing", f"{folder}: folder not found (router.skills_dir)")
    found: list[Skill] = []
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"hearth_user_skills.{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as err:  # a user's module may raise anything while it loads
            raise ConfigError(
                "skill_load", f"{path}: cannot load this skill: {type(err).__name__}: {err}"
            ) from None
        found.extend(getattr(module, "SKILLS", ()))
    return found


def _from_entry_points(group: str) -> list[Skill]:
    """Skills that installed packages declare in the ``hearth.skills`` entry point group: an
    object with ``run``, or a sequence of them."""
    found: list[Skill] = []
    for entry in importlib.metadata.entry_points(group=group):
        try:
            loaded = entry.load()
        except Exception as err:  # a third-party package may raise anything while it loads
            raise ConfigError(
                "skill_load", f"entry point {entry.name} ({entry.value}): {err}"
            ) from None
        found.extend([loaded] if hasattr(loaded, "run") else list(loaded))
    return found


def load_skills(skills_dir: str = "", group: str = "hearth.skills") -> SkillRegistry:
    """Built-in skills, the user's folder, and installed plug-ins; a duplicate name or intent
    is a :class:`ConfigError` naming both."""
    found = _builtin()
    if skills_dir:
        found.extend(_from_folder(Path(skills_dir).expanduser()))
    found.extend(_from_entry_points(group))
    return SkillRegistry(found)
