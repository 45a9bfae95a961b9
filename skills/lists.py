"""The shopping list and the to-do list, kept in ``<data_dir>/lists.json``.

Items are kept as they were said and compared without regard to case (or a leading "the",
"a", "some"), so "Milk" is not added twice. An item is only ever text: whatever it says, it is
stored and read back, never acted on. Every change rewrites the file atomically (a temporary
file, then ``os.replace``); a file that can't be read or written gives a spoken apology.

The file: ``{"version": 1, "lists": {"shopping": ["milk"], "todo": ["call the plumber"]}}``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

from assistant.skill import Risk, SkillCall, SkillContext, SkillResult, Tool

__all__ = ["FILE_NAME", "LISTS", "ListSkill"]

_LOGGER = logging.getLogger(__name__)

FILE_NAME: Final = "lists.json"
LISTS: Final = {"shopping": "shopping list", "todo": "to-do list"}  # key -> what people say
MAX_ITEM_CHARS: Final = 200
MAX_ITEMS: Final = 500  # per list
READ_AT_MOST: Final = 15  # items read out; the rest are counted
_LIST_WORDS: Final = {
    "shopping": "shopping",
    "grocery": "shopping",
    "groceries": "shopping",
    "todo": "todo",
    "to do": "todo",
    "task": "todo",
    "tasks": "todo",
}
_ITEM_PREFIXES: Final = ("the ", "a ", "an ", "some ")

_LIST_SCHEMA: Final[Mapping[str, Any]] = {"type": "string", "enum": sorted(LISTS)}
_ITEM_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ITEM_CHARS,
}
TOOLS: Final = (
    Tool(
        "HassListAddItem",
        "Add an item to the shopping list or the to-do list.",
        {"item": _ITEM_SCHEMA, "name": _LIST_SCHEMA},
        ("item", "name"),
    ),
    Tool(
        "HassListCompleteItem",
        "Check an item off the shopping list or the to-do list.",
        {"item": _ITEM_SCHEMA, "name": _LIST_SCHEMA},
        ("item", "name"),
    ),
    Tool("HearthListRead", "Read out the shopping list or the to-do list.", {"name": _LIST_SCHEMA}),
)


class _Refusal(Exception):
    def __init__(self, speech: str) -> None:
        super().__init__(speech)
        self.speech = speech


def _which_list(intent: str, slots: Mapping[str, Any]) -> str:
    """``"shopping"`` or ``"todo"``, from the intent and the ``name`` slot."""
    if intent.startswith("HassShoppingList"):
        return "shopping"
    raw = slots.get("name")
    if raw is None or raw == "":
        return "shopping" if intent == "HearthListRead" else "todo"
    if not isinstance(raw, str):
        raise _Refusal("I only keep a shopping list and a to-do list.")
    words = re.sub(r"[^a-z ]+", " ", raw.casefold().replace("to-do", "todo")).split()
    spoken = " ".join(w for w in words if w not in ("my", "the", "list"))
    if spoken not in _LIST_WORDS:
        raise _Refusal("I only keep a shopping list and a to-do list.")
    return _LIST_WORDS[spoken]


def _item(slots: Mapping[str, Any]) -> str:
    """The item as said, tidied: single spaces, no closing full stop or quotes."""
    raw = slots.get("item")
    if not isinstance(raw, str):
        raise _Refusal("I didn't catch the item.")
    item = " ".join(raw.split()).strip(" \"'.,!?;:")
    if not item:
        raise _Refusal("I didn't catch the item.")
    if len(item) > MAX_ITEM_CHARS:
        raise _Refusal("That item is too long for a list.")
    return item


def _key(item: str) -> str:
    """What two items share when they are the same: ``"The Milk"`` and ``"milk"``."""
    key = item.casefold()
    for prefix in _ITEM_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _storage_error(path: Path, err: OSError, reading: bool) -> dict[str, Any]:
    """The ``error`` the turn reports (see :class:`~assistant.skill.SkillResult`): ``disk_full``
    when the disk or the quota is full, else ``lists_unreadable`` / ``lists_unwritable``."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        code = "disk_full"
        message = f"{path}: the disk is full; the list was not changed"
    else:
        code = "lists_unreadable" if reading else "lists_unwritable"
        message = f"{path}: {err.strerror or err}"
    return {"error": {"code": code, "message": message}}


def load_lists(path: Path) -> dict[str, list[str]]:
    """Both lists from ``path`` (empty when it does not exist yet).

    A file that is not valid JSON is set aside as ``lists.json.damaged`` and the lists start
    empty; an unreadable file or folder raises :class:`OSError`.
    """
    lists: dict[str, list[str]] = {key: [] for key in LISTS}
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return lists
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        damaged = path.with_name(path.name + ".damaged")
        os.replace(path, damaged)
        _LOGGER.warning(
            "%s is damaged (%s); set aside as %s, lists start empty", path, err, damaged
        )
        return lists
    stored = body.get("lists") if isinstance(body, dict) else None
    if isinstance(stored, dict):
        for key in LISTS:
            items = stored.get(key)
            if isinstance(items, list):
                lists[key] = [item for item in items if isinstance(item, str) and item]
    return lists


def save_lists(path: Path, lists: Mapping[str, list[str]]) -> None:
    """Write ``path`` atomically: a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": 1, "lists": dict(lists)}, ensure_ascii=False, indent=2)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


class ListSkill:
    name = "lists"
    description = "Keep a shopping list and a to-do list: add, check off and read back items."
    intents = (
        "HassShoppingListAddItem",
        "HassShoppingListCompleteItem",
        "HassListAddItem",
        "HassListCompleteItem",
        "HassListRemoveItem",
        "HearthListRead",
    )
    risk = Risk.SAFE
    tools: tuple[Tool, ...] = TOOLS

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one change at a time: read, change, write

    def run(self, call: SkillCall, context: SkillContext) -> SkillResult:
        path = context.data_dir / FILE_NAME
        reading = call.intent == "HearthListRead"
        try:
            which = _which_list(call.intent, call.slots)
            with self._lock:
                lists = load_lists(path)
                if reading:
                    return self._read(which, lists[which])
                item = _item(call.slots)
                before = list(lists[which])
                if call.intent.endswith("AddItem"):
                    result = self._add(which, lists[which], item)
                else:
                    result = self._remove(which, lists[which], item, call.intent)
                if lists[which] != before:
                    save_lists(path, lists)
                return result
        except _Refusal as refusal:
            return SkillResult(refusal.speech, success=False)
        except OSError as err:
            _LOGGER.error("%s: %s", path, err)
            error = _storage_error(path, err, reading)
            if reading:
                return SkillResult(
                    "Sorry, I can't read your lists right now.", success=False, data=error
                )
            return SkillResult("Sorry, I couldn't save your list.", success=False, data=error)

    @staticmethod
    def _read(which: str, items: list[str]) -> SkillResult:
        data = {"list": which, "items": list(items)}
        title = LISTS[which]
        if not items:
            return SkillResult(f"Your {title} is empty.", data=data)
        if len(items) == 1:
            return SkillResult(f"Your {title} has one item: {items[0]}.", data=data)
        said = items[:READ_AT_MOST]
        if len(items) > len(said):
            said = [*said, f"{len(items) - len(said)} more"]
        return SkillResult(f"Your {title} has {len(items)} items: {_join(said)}.", data=data)

    @staticmethod
    def _add(which: str, items: list[str], item: str) -> SkillResult:
        title = LISTS[which]
        if any(_key(old) == _key(item) for old in items):
            return SkillResult(f"You already have {item} on your {title}.")
        if len(items) >= MAX_ITEMS:
            return SkillResult(f"Your {title} is full.", success=False)
        items.append(item)
        return SkillResult(f"Added {item} to your {title}.")

    @staticmethod
    def _remove(which: str, items: list[str], item: str, intent: str) -> SkillResult:
        title = LISTS[which]
        found = [old for old in items if _key(old) == _key(item)]
        if not found:
            return SkillResult(f"I couldn't find {item} on your {title}.", success=False)
        for old in found:
            items.remove(old)
        if intent == "HassListRemoveItem":
            return SkillResult(f"Removed {found[0]} from your {title}.")
        return SkillResult(f"Checked {found[0]} off your {title}.")


SKILLS = (ListSkill(),)
