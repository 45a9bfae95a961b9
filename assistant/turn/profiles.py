"""Profiles: a persona with its own instructions, skills, devices and answer length.

``[profiles.NAME]`` in the configuration; one is active at a time (``assistant.profile`` at
start, then "switch to homework mode" or ``cmd/profile``). A profile narrows what voice may do:
only its skills, only the devices its ``expose`` lets through, and its own system prompt for
the language model's free answers.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, ProfileConfig
from ..home.entities import EntityRegistry
from ..home.home import exposure_filter
from ..understanding.notes import CourseNotes

__all__ = ["Profiles", "spoken_profile"]


def spoken_profile(name: str) -> str:
    """``homework_helper`` → ``homework helper``."""
    return re.sub(r"[_-]+", " ", name).strip()


@dataclass(frozen=True, slots=True)
class _Active:
    name: str  # "" for none
    config: ProfileConfig


class Profiles:
    """The configured profiles and the one in use (thread-safe)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._active = _Active("", ProfileConfig.model_validate({}))
        self._notes: dict[str, CourseNotes] = {}
        if config.assistant.profile:
            self.switch(config.assistant.profile)

    @property
    def names(self) -> list[str]:
        return sorted(self._config.profiles)

    @property
    def active(self) -> str:
        return self._active.name

    def find(self, spoken: str) -> str | None:
        """The profile a person named ("homework", "homework mode"), or ``None``."""
        wanted = spoken_profile(spoken.lower()).removesuffix(" mode").strip()
        for name in self.names:
            plain = spoken_profile(name.lower())
            if wanted in (plain, plain.removesuffix(" mode")) or plain.startswith(wanted + " "):
                return name
        return None

    def switch(self, name: str) -> bool:
        """Make ``name`` the active profile ("" for none); ``False`` if there is no such one."""
        if name and name not in self._config.profiles:
            return False
        with self._lock:
            self._active = _Active(
                name, self._config.profiles.get(name, ProfileConfig.model_validate({}))
            )
        return True

    def allows_skill(self, skill_name: str) -> bool:
        allowed = self._active.config.skills
        return not allowed or skill_name in allowed

    def entities(self, registry: EntityRegistry) -> EntityRegistry:
        exposed = exposure_filter(self._active.config.expose)
        return EntityRegistry(e for e in registry if exposed(e))

    def system_prompt(self) -> str:
        """The instructions added to the language model's own for free answers: the
        configuration's ``llm.system_prompt``, then the active profile's."""
        active = self._active.config
        return "\n".join(p for p in (self._config.llm.system_prompt, active.system_prompt) if p)

    def notes(self) -> CourseNotes | None:
        """The active profile's notes (``knowledge_dir``), or ``None``."""
        folder = self._active.config.knowledge_dir
        if not folder:
            return None
        with self._lock:
            if folder not in self._notes:
                self._notes[folder] = CourseNotes(Path(folder).expanduser())
            return self._notes[folder]

    def max_tokens(self) -> int:
        return self._active.config.max_tokens or self._config.llm.max_tokens

    def temperature(self) -> float:
        active = self._active.config.temperature
        return self._config.llm.temperature if active is None else active
