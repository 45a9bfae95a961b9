"""What Hearth says when it does not do what was asked, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..home.entities import Entity

__all__ = [
    "NORMAL_MODE_WORDS",
    "NOT_HERE",
    "QUEUED_REPLY",
    "SET_PROFILE_INTENT",
    "SORRY",
    "SORRY_NOT_HEARD",
    "STILL_THINKING",
    "TOO_LATE",
    "TOO_LATE_TO_ACT",
    "TOO_SLOW",
    "ambiguous_reply",
    "unknown_reply",
]

SORRY: Final = "Sorry, I didn't understand."
SORRY_NOT_HEARD: Final = "Sorry, I didn't catch that."
NOT_HERE: Final = "I can't do that in this mode."
TOO_LATE: Final = "That answer came too late, so I didn't do it. Please ask again."
TOO_LATE_TO_ACT: Final = "That took me too long, so I didn't do it. Please ask again."
STILL_THINKING: Final = "One moment, I'm still thinking."
TOO_SLOW: Final = "Sorry, I couldn't work that out in time. Please ask again."
QUEUED_REPLY: Final = "The home hub isn't answering. I'll send that as soon as it's back."
SET_PROFILE_INTENT: Final = "HearthSetProfile"
NORMAL_MODE_WORDS: Final = frozenset({"normal", "normal mode", "default", "default mode", "none"})


def ambiguous_reply(namesakes: Sequence[Entity]) -> str:
    """ "There are two devices called Garage Door, in the Garage and in the Hall. Say which room,
    or give one of them another name." """
    count = {2: "two", 3: "three"}.get(len(namesakes), str(len(namesakes)))
    rooms = [e.area_name for e in namesakes if e.area_name]
    where = ""
    if len(set(rooms)) == len(namesakes):
        where = ", in the " + " and in the ".join(rooms)
    hint = "Say which room, or" if where else "Please"
    return (
        f"There are {count} devices called {namesakes[0].name}{where}. "
        f"{hint} give one of them another name."
    )


def unknown_reply(slot: str, said: str) -> str:
    """ "I don't know a device called bathroom heater." (or a room, for an area)."""
    what = "a device" if slot == "name" else "a room"
    return f"I don't know {what} called {said}."
