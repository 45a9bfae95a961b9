"""Hearth's inbound MQTT API: ``hearth/<id>/cmd/<name>`` payloads, parsed and validated.

Parsing is a pure function: any topic and bytes give a :data:`Command` or a :class:`CommandError`
whose message names the topic and what was wrong. Nothing here touches the pipeline.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Final

from ..errors import HearthError
from ..turn.inbox import Ask, Cancel, Command, Listen, Mute, Profile, Say

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_TEXT_CHARS",
    "Ask",
    "Cancel",
    "Command",
    "CommandError",
    "Listen",
    "Mute",
    "Profile",
    "Say",
    "command_text",
    "parse_command",
]

MAX_PAYLOAD_BYTES: Final = 4096
MAX_TEXT_CHARS: Final = 1000


class CommandError(HearthError):
    """An inbound command was refused; the message names the topic."""


_TRUE: Final = frozenset({"on", "true", "1", "yes"})
_FALSE: Final = frozenset({"off", "false", "0", "no"})


def _clean(text: str) -> str:
    """Control characters become spaces; runs of white space become one."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(kept.split())


def _text(topic: str, raw: str) -> str:
    body = raw
    stripped = raw.strip()
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            raise CommandError(
                "bad_command", f'{topic}: not valid JSON; send text or {{"text": "..."}}'
            ) from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("text"), str):
            raise CommandError("bad_command", f'{topic}: JSON must be {{"text": "..."}}')
        body = parsed["text"]
    return command_text(topic, body)


def command_text(where: str, raw: str) -> str:
    """``raw`` as the words of a command: control characters (NUL, ESC, CR ...) become spaces,
    white space is folded, and the result must be 1 to :data:`MAX_TEXT_CHARS` characters.

    Raises :class:`CommandError` whose message starts with ``where`` (a topic, a command).
    """
    text = _clean(raw)
    if not text:
        raise CommandError(
            "bad_command", f'{where}: the text is empty; send words, e.g. "what time is it"'
        )
    if len(text) > MAX_TEXT_CHARS:
        raise CommandError(
            "bad_command",
            f"{where}: the text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}, "
            "so shorten it",
        )
    return text


def parse_command(base: str, topic: str, payload: bytes) -> Command:
    """Parse a message on ``<base>/cmd/<name>``; raises :class:`CommandError`."""
    prefix = f"{base}/cmd/"
    if not topic.startswith(prefix):
        raise CommandError("bad_command", f"{topic}: not a command topic under {prefix}")
    name = topic[len(prefix) :]
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise CommandError(
            "payload_too_large",
            f"{topic}: payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}",
        )
    try:
        raw = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("bad_encoding", f"{topic}: payload is not UTF-8 text") from None
    if name == "say":
        return Say(_text(topic, raw))
    if name == "ask":
        return Ask(_text(topic, raw))
    if name == "listen":
        return Listen()
    if name == "cancel":
        return Cancel()
    if name == "profile":
        value = raw.strip()
        if len(value) > 64 or not all(ch.isalnum() or ch in "_- " for ch in value):
            raise CommandError("bad_command", f"{topic}: not a profile name: {value[:40]!r}")
        return Profile(value)
    if name == "mute":
        value = raw.strip().lower()
        if value in _TRUE:
            return Mute(True)
        if value in _FALSE:
            return Mute(False)
        raise CommandError("bad_command", f"{topic}: send ON or OFF, not {raw[:40]!r}")
    raise CommandError(
        "unknown_command",
        f"{topic}: unknown command; use say, ask, listen, mute, cancel or profile",
    )
