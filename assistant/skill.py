"""The skill plug-in API, in one module: everything a skill imports comes from here.

A skill names the intents it handles, its risk, the tools the language model may call, and a
``run``. It decides what to say and which home actions to take (:class:`Action`); it never
touches MQTT. Hearth validates each action against the known devices and the confirmation
policy, then publishes it.

To add a skill, put a module in a folder (``router.skills_dir``) that defines ``SKILLS`` (a
sequence of objects that satisfy :class:`Skill`), and, for a new phrasing, a sentence template
for its intent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

from .events import Event, TimerChange, TimerChanged
from .home.entities import Action, Entity, EntityRegistry
from .home.home import EntityState

__all__ = [
    "AREA",
    "ENTITY",
    "Action",
    "Entity",
    "EntityRegistry",
    "EntityState",
    "Event",
    "Risk",
    "Skill",
    "SkillCall",
    "SkillContext",
    "SkillResult",
    "TimerChange",
    "TimerChanged",
    "Tool",
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


def _no_emit(event: Event) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SkillContext:
    """What a skill may use: the exposed entities and their latest states, the clock, the
    language, a folder for its own files, ``announce`` to speak later (a timer that rings:
    Hearth speaks the text and publishes an ``announcement`` event), and ``emit`` to put an
    event on the room's stream (a :class:`TimerChanged`: the room's satellite is told)."""

    entities: EntityRegistry
    state: Callable[[str], EntityState | None] = _no_state
    now: Callable[[], datetime] = datetime.now
    language: str = "en"
    data_dir: Path = field(default_factory=lambda: Path("."))
    announce: Callable[[str], None] = _no_announce
    emit: Callable[[Event], None] = _no_emit
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
AREA: Final = "$area"  # in a Tool's parameters: {"$area": true}


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


def __getattr__(name: str) -> object:
    """The registry and the loaders lived here before: still importable for a release."""
    if name in ("SkillRegistry", "load_skills", "load_builtin_skills"):
        from .turn import skills

        return getattr(skills, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
