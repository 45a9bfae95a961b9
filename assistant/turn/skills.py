"""The skills in use: built in (``skills/``), from ``router.skills_dir``, and from installed
packages (the ``hearth.skills`` entry point group); one registry by name and by intent."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import ConfigError, SkillError
from ..files import MIB, read_bytes_file
from ..skill import Skill, SkillCall, SkillContext, SkillResult

__all__ = ["SkillRegistry", "load_builtin_skills", "load_skills", "run_skill"]


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
        read_bytes_file(path, MIB, "router.skills_dir")  # a regular file of a sensible size
        spec = importlib.util.spec_from_file_location(f"hearth_user_skills.{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except BaseException as err:  # a user's module may raise anything, even SystemExit
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


_POLL_S = 0.05  # how often a waiting turn looks for a cancel


def run_skill(
    skill: Skill,
    call: SkillCall,
    context: SkillContext,
    timeout_s: float,
    cancelled: threading.Event,
) -> SkillResult | None:
    """Run a skill in its own thread and wait at most ``timeout_s`` for it; ``None`` if the turn
    was cancelled meanwhile. Whatever the skill does (raise, ``sys.exit``, sleep, return
    something else), the daemon lives on: :class:`SkillError` ends the turn.

    A skill that does not return in time is left to finish on its own; what it returns then is
    dropped, so nothing it asked for happens late."""
    box: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()

    def work() -> None:
        try:
            box.put(("ok", skill.run(call, context)))
        except BaseException as err:  # SystemExit, KeyboardInterrupt: the skill's, not ours
            box.put(("raised", err))

    threading.Thread(target=work, name=f"hearth-skill-{skill.name}", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            kind, value = box.get(timeout=min(_POLL_S, max(0.0, deadline - time.monotonic())))
            break
        except queue.Empty:
            if cancelled.is_set():
                return None
            if time.monotonic() >= deadline:
                raise SkillError(
                    "skill_timeout",
                    f"the {skill.name} skill gave no answer within {timeout_s:g} s "
                    "(router.skill_timeout_s)",
                ) from None
    if kind == "raised":
        err = value
        name = type(err).__name__
        raise SkillError("skill_failed", f"the {skill.name} skill failed: {name}: {err}"[:300])
    if not isinstance(value, SkillResult):
        raise SkillError(
            "skill_failed",
            f"the {skill.name} skill returned {type(value).__name__}, not a SkillResult",
        )
    return value
