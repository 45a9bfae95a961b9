"""Claims: what a room that heard the wake word tells the others, on ``hearth/<node_id>/claim``.

A claim, ``{"v":1,"kind":"claim","room":"kitchen","area":"Kitchen","of":1,
"ts":1764700000.123,"score":0.97,"level_db":31.5}``, says: this room heard it at ``ts`` (wall
clock, seconds), this sure, this loud over its own noise floor, and its Hearth has ``of`` rooms
online. ``{"v":1,"kind":"won","room":"kitchen","ts":…}`` says that room took the turn of its
claim made at ``ts``. A message that does not read as one of these is refused with the reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

__all__ = ["CLAIM_VERSION", "Claim", "ClaimError", "Kind", "parse_claim"]

CLAIM_VERSION: Final = 1
MAX_CLAIM_BYTES: Final = 1024
_MAX_NAME: Final = 64
_MAX_ROOMS: Final = 64


class Kind(StrEnum):
    CLAIM = "claim"
    WON = "won"


class ClaimError(ValueError):
    """A message on a claim topic that is not a claim; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One room's claim to a wake word (or, ``kind`` won, that it took the turn)."""

    node: str  # the node_id of the Hearth that sent it
    room: str  # the room within that Hearth (its node_id for its own microphone)
    ts: float  # wall-clock time of the wake-up, seconds
    score: float = 0.0  # the wake word detector's score, 0..1
    level_db: float = 0.0  # speech over the room's noise floor, dB
    area: str = ""
    of: int = 1  # how many rooms its Hearth has online: the claims to expect from it
    kind: Kind = Kind.CLAIM

    @property
    def key(self) -> tuple[str, str]:
        return (self.node, self.room)

    def rank(self) -> tuple[float, float, str, str]:
        """Higher is nearer: speech over noise first, then the detector's score, then a fixed
        order so that every room picks the same winner from the same claims."""
        return (round(self.level_db, 1), round(self.score, 3), self.node, self.room)

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "v": CLAIM_VERSION,
            "kind": self.kind.value,
            "room": self.room,
            "ts": round(self.ts, 4),
        }
        if self.kind is Kind.CLAIM:
            body.update(
                area=self.area,
                of=self.of,
                score=round(self.score, 4),
                level_db=round(self.level_db, 2),
            )
        return json.dumps(body, separators=(",", ":"))


def parse_claim(node: str, payload: bytes) -> Claim:
    """The claim a message on ``hearth/<node>/claim`` carries; :class:`ClaimError` with the
    reason when it is not one."""
    if len(payload) > MAX_CLAIM_BYTES:
        raise ClaimError(f"{len(payload)} bytes, more than {MAX_CLAIM_BYTES}")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ClaimError("not JSON") from None
    if not isinstance(body, dict):
        raise ClaimError("not a JSON object")
    if body.get("v") != CLAIM_VERSION:
        raise ClaimError(f"version {body.get('v')!r}, expected {CLAIM_VERSION}")
    try:
        kind = Kind(str(body.get("kind")))
    except ValueError:
        raise ClaimError(f"kind {body.get('kind')!r}, expected claim or won") from None
    room = _text(body, "room", required=True)
    ts = _number(body, "ts", 1.0, 1e11)
    if kind is Kind.WON:
        return Claim(node, room, ts, kind=kind)
    return Claim(
        node,
        room,
        ts,
        score=_number(body, "score", 0.0, 1.0),
        level_db=_number(body, "level_db", -200.0, 200.0),
        area=_text(body, "area", required=False),
        of=round(_number(body, "of", 1, _MAX_ROOMS)) if "of" in body else 1,
        kind=kind,
    )


def _text(body: dict[str, Any], key: str, *, required: bool) -> str:
    value = body.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value) or len(value) > _MAX_NAME:
        raise ClaimError(f"{key} must be text of 1 to {_MAX_NAME} characters")
    return value


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClaimError(f"{key} must be a number")
    if not low <= value <= high:
        raise ClaimError(f"{key} {value} is outside {low:g}..{high:g}")
    return float(value)
