"""Hearth's error tree: every failure has a type, a code and a one-line message.

Errors are raised at a stage boundary, wrapped once, and reach the user as one line that names
what was wrong and what to do. The exit status of the command line comes from the error type.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EX_CONFIG",
    "EX_UNAVAILABLE",
    "EX_USAGE",
    "ActionError",
    "AudioError",
    "ConfigError",
    "DeviceMissingError",
    "HearthError",
    "ModelError",
    "RouterError",
    "SkillError",
    "SttError",
    "ToolCallError",
    "TtsError",
]

EX_USAGE: Final = 2
EX_UNAVAILABLE: Final = 69
EX_CONFIG: Final = 78


class HearthError(Exception):
    """Base of every error Hearth raises on purpose.

    ``code`` is a short machine-readable name (it appears in ``error`` events), ``message`` a
    sentence for a person that says what went wrong and what to do about it.
    """

    exit_code: int = 1

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(HearthError):
    """The configuration is invalid: a key, a type or a value."""

    exit_code = EX_CONFIG


class ModelError(HearthError):
    """A model file is missing, unreadable or cannot be loaded."""

    exit_code = EX_CONFIG


class AudioError(HearthError):
    """Audio could not be read or written (a file, a stream)."""


class DeviceMissingError(AudioError):
    """A required audio device (microphone, speaker) is not present."""

    exit_code = EX_UNAVAILABLE


class SttError(HearthError):
    """Speech-to-text failed on a turn."""


class RouterError(HearthError):
    """The router could not decide what a command means."""


class ToolCallError(RouterError):
    """The language model's tool call is not valid; ``message`` says why in words that can be
    fed back to the model ("'brightness' must be from 0 to 100")."""

    def __init__(self, message: str) -> None:
        super().__init__("tool_call_invalid", message)


class SkillError(HearthError):
    """A skill raised, exited, or did not answer within ``router.skill_timeout_s``."""


class ActionError(HearthError):
    """A home action could not be built or published."""


class TtsError(HearthError):
    """Speech synthesis failed."""
