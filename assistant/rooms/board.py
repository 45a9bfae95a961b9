"""The claim board: which room answers a wake word that several rooms heard.

Every Hearth keeps one board. Its own rooms (its microphone, its satellites) take a
:class:`Seat` each; the other Hearths of the house are known from the broker: their retained
``availability`` and ``state``, and the claims they send on ``hearth/<node_id>/claim``.

A round, as each room sees it (:meth:`Seat.decide`):

1. Another room is speaking, or stopped less than ``rooms.echo_s`` ago: the wake word may be
   its reply coming out of its speaker, so it is ignored.
2. No other room is online: this one answers at once, with no wait.
3. Another room claimed more than the window, but less than a second, before this one, or
   has taken this round already: that round is decided; this room keeps quiet.
4. Otherwise the round starts at its first claim and lasts ``rooms.window_s``, or less once every
   online room has claimed. The best claim (most speech over its own noise floor, then the
   detector's score) wins; every room works this out from the same claims.
5. The winner says it took the turn (a ``won`` message). If it does not within
   ``rooms.takeover_s`` (it died mid-round), the next best takes the turn, with the audio it held.
   A winner whose claim went out more than the window after another's (its loop was behind its
   audio: a busy machine) may have been too late for that room, which then settled the round
   without it; so it first waits out a round trip for that room's ``won`` and keeps quiet if
   one comes.

A room that vanishes mid-round cannot hold the others: every wait has a deadline. Messages that
are malformed, from the future or too many are refused with an ``error`` event (one per sender
at most every few seconds, so a flood of them is not a flood of events).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ..config import RoomsConfig
from ..events import AssistantState, Event, StateChanged, TurnFailed
from .claims import Claim, ClaimError, Kind, parse_claim

__all__ = ["AnswerAlways", "ClaimBoard", "Seat", "Verdict", "WakeArbiter"]

_LOGGER = logging.getLogger(__name__)

_DELIVERY_S: Final = 0.03  # a claim made this close to the window's end may arrive after it
_ROUND_TRIP_S: Final = 0.1  # a claim out and an answer back, on a busy machine
_MEMORY_S: Final = 3.0  # claims older than this are forgotten
_LATE_S: Final = 1.0  # a wake-up this long after a round began belongs to that round
_FLOOD_MESSAGES: Final = 8  # more messages than this from one Hearth within _FLOOD_S is a flood
_FLOOD_S: Final = 2.0
_REPORT_EVERY_S: Final = 10.0  # at most one error event per sender this often
_MAX_SENDERS: Final = 256


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether this room answers, why, who did, and how long it waited (ms)."""

    won: bool
    reason: str  # alone, best, takeover, lost, decided, speaking, off
    winner: str = ""  # node/room of the winning claim
    wait_ms: float = 0.0
    claims: int = 1  # claims in the round, this room's included
    level_db: float = 0.0


class WakeArbiter:
    """What a hearing loop asks when its wake word fires."""

    def decide(self, score: float, level_db: float, heard_at: float) -> Verdict:
        """``heard_at``: wall-clock time the wake word's audio was captured."""
        raise NotImplementedError

    def state(self, event: Event) -> None:
        """The room's own state events (is it speaking?)."""


class AnswerAlways(WakeArbiter):
    """A room alone in its house: every wake word is its own."""

    def decide(self, score: float, level_db: float, heard_at: float) -> Verdict:
        return Verdict(won=True, reason="alone", level_db=level_db)


@dataclass(slots=True)
class _Peer:
    online: bool = False
    speaking: bool = False
    quiet_since: float = 0.0  # wall time speaking last stopped
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=_FLOOD_MESSAGES + 1))
    reported: float = 0.0  # wall time of the last error event about this sender


class Seat(WakeArbiter):
    """One room of this Hearth at the board."""

    def __init__(self, board: ClaimBoard, room: str, area: str) -> None:
        self.board = board
        self.room = room
        self.area = area
        self.online = True
        self.speaking = False
        self.quiet_since = 0.0

    def decide(self, score: float, level_db: float, heard_at: float) -> Verdict:
        return self.board.decide(self, score, level_db, heard_at)

    def state(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            self.board.local_state(self, event.state is AssistantState.SPEAKING)

    def leave(self) -> None:
        self.online = False
        self.board.leave(self)


class ClaimBoard:
    """The rooms of the house and their claims; thread-safe (the broker's thread delivers, the
    hearing loops decide)."""

    def __init__(
        self,
        config: RoomsConfig,
        node_id: str,
        *,
        send: Callable[[str, str], None],
        emit: Callable[[Event], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.node_id = node_id
        self.topic = f"hearth/{node_id}/claim"
        self._send = send
        self._emit = emit
        self._clock = clock
        self._cond = threading.Condition()
        self._seats: dict[str, Seat] = {}
        self._peers: dict[str, _Peer] = {}
        self._claims: dict[tuple[str, str], Claim] = {}  # the latest claim of each room
        self._won: dict[tuple[str, str], float] = {}  # room -> ts of the claim it took
        self._counts: dict[str, int] = {}  # node -> how many rooms it said it has

    topics: Final = ("hearth/+/claim", "hearth/+/availability", "hearth/+/state")

    # -- this Hearth's rooms -----------------------------------------------------------------

    def seat(self, room: str, area: str) -> Seat:
        with self._cond:
            seat = Seat(self, room, area)
            self._seats[room] = seat
            return seat

    def leave(self, seat: Seat) -> None:
        with self._cond:
            if self._seats.get(seat.room) is seat:
                del self._seats[seat.room]
            self._cond.notify_all()

    def local_state(self, seat: Seat, speaking: bool) -> None:
        with self._cond:
            if seat.speaking and not speaking:
                seat.quiet_since = self._clock()
            seat.speaking = speaking

    # -- the round ---------------------------------------------------------------------------

    def decide(self, seat: Seat, score: float, level_db: float, heard_at: float) -> Verdict:
        """Whether ``seat`` answers the wake word it heard at ``heard_at`` (wall clock: when the
        audio was captured, which may be earlier than now if the room's loop is behind)."""
        if not self.config.enabled:
            return Verdict(won=True, reason="off", level_db=level_db)
        with self._cond:
            talker = self._talking(seat, self._clock())
            if talker:
                return Verdict(won=False, reason="speaking", winner=talker, level_db=level_db)
            rooms = sum(1 for s in self._seats.values() if s.online)
            own = Claim(
                self.node_id, seat.room, heard_at, score, level_db, seat.area, of=max(1, rooms)
            )
            self._remember(own)
        self._send(self.topic, own.to_json())
        with self._cond:
            verdict = self._round(seat, own, sent=self._clock())
        if verdict.won:
            self._send(self.topic, Claim(own.node, own.room, own.ts, kind=Kind.WON).to_json())
        return verdict

    def _round(self, seat: Seat, own: Claim, sent: float) -> Verdict:
        """Steps 2 to 5 of a round, holding the lock (it is released while waiting). The claims
        are looked at again whenever one arrives: one that comes late but was made earlier
        still counts. ``sent``: when this room's claim went out."""
        started = self._clock()
        if not self._anyone_else(seat):
            self._took(own)
            return Verdict(won=True, reason="alone", level_db=own.level_db)
        closed_s = self.config.window_s - _DELIVERY_S
        deadline = started + self.config.window_s
        while True:
            others = [c for c in self._claims.values() if c.key != own.key]
            earlier = [c for c in others if own.ts - _LATE_S <= c.ts < own.ts - closed_s]
            start = min([c.ts for c in others if c.ts >= own.ts - closed_s] + [own.ts])
            members = [own, *(c for c in self._members(start, closed_s) if c.key != own.key)]
            taken = self._taken(own)
            if earlier or taken:
                first = taken or _name(max(earlier, key=Claim.rank))
                wait_ms = 1000 * (self._clock() - started)
                reason = "lost" if first in map(_name, members) else "decided"
                return Verdict(False, reason, first, wait_ms, len(members), own.level_db)
            left = deadline - self._clock()
            if self._everyone_in(members) or left <= 0:
                return self._settle(own, members, started, sent)
            self._cond.wait(left)

    def _taken(self, own: Claim) -> str:
        """Another room that has taken this round already (it decided before this room's
        claim reached it), by name; "" for none. Its claim may be up to a window later than
        this room's (it heard the wake word's loudest moment later)."""
        for key, ts in self._won.items():
            if key != own.key and own.ts - _LATE_S <= ts <= own.ts + self.config.window_s:
                claim = self._claims.get(key)
                return _name(claim) if claim is not None else "/".join(key)
        return ""

    def _late(self, own: Claim, members: list[Claim], sent: float) -> bool:
        """Whether this room's claim went out so long after another's that that room may have
        closed its window without it (this room's loop was behind its audio)."""
        closed_s = self.config.window_s - _DELIVERY_S
        return any(sent > c.ts + closed_s for c in members if c.key != own.key)

    def _settle(self, own: Claim, members: list[Claim], started: float, sent: float) -> Verdict:
        """The best claim of the round takes the turn; one that does not say so in time is
        passed over for the next. A best claim that went out late first hears whether a room
        that closed its window without it took the turn: that room's ``won`` left before this
        claim reached it, so it arrives within a round trip of ``sent``."""
        passed: set[tuple[str, str]] = set()
        while True:
            left = [c for c in members if c.key not in passed]
            best = max(left, key=Claim.rank)
            if best.key == own.key:
                if self._late(own, members, sent):
                    until = sent + min(_ROUND_TRIP_S, self.config.takeover_s / 2)
                    while not (taken := self._taken(own)) and (wait := until - self._clock()) > 0:
                        self._cond.wait(wait)
                    if taken:
                        wait_ms = 1000 * (self._clock() - started)
                        return Verdict(False, "decided", taken, wait_ms, len(members), own.level_db)
                self._took(own)
                wait_ms = 1000 * (self._clock() - started)
                reason = "takeover" if passed else "best"
                return Verdict(True, reason, _name(own), wait_ms, len(members), own.level_db)
            until = self._clock() + self.config.takeover_s
            while not self._has_won(best) and (wait := until - self._clock()) > 0:
                self._cond.wait(wait)
            if self._has_won(best):
                wait_ms = 1000 * (self._clock() - started)
                return Verdict(False, "lost", _name(best), wait_ms, len(members), own.level_db)
            _LOGGER.info("%s did not take the turn it won; passing it on", _name(best))
            passed.add(best.key)

    def _took(self, own: Claim) -> None:
        self._won[own.key] = own.ts
        self._cond.notify_all()

    def _members(self, start: float, closed_s: float) -> list[Claim]:
        return [c for c in self._claims.values() if start <= c.ts <= start + closed_s]

    def _everyone_in(self, members: list[Claim]) -> bool:
        """Whether every room online has claimed in this round (no need to wait on)."""
        local = {c.room for c in members if c.node == self.node_id}
        if any(s.online and s.room not in local for s in self._seats.values()):
            return False
        for node, peer in self._peers.items():
            if not peer.online:
                continue
            claimed = sum(1 for c in members if c.node == node)
            if claimed < self._counts.get(node, 1):
                return False
        return True

    def _anyone_else(self, seat: Seat) -> bool:
        return any(p.online for p in self._peers.values()) or any(
            s.online and s is not seat for s in self._seats.values()
        )

    def _talking(self, seat: Seat, now: float) -> str:
        """Another room that is speaking or just stopped, by name; "" for none."""
        echo_s = self.config.echo_s
        for node, peer in self._peers.items():
            if peer.online and (peer.speaking or now - peer.quiet_since < echo_s):
                return node
        for other in self._seats.values():
            if other is not seat and (other.speaking or now - other.quiet_since < echo_s):
                return f"{self.node_id}/{other.room}"
        return ""

    def _has_won(self, claim: Claim) -> bool:
        ts = self._won.get(claim.key)
        return ts is not None and abs(ts - claim.ts) < 0.001

    def _remember(self, claim: Claim) -> None:
        if claim.kind is Kind.WON:
            self._won[claim.key] = claim.ts
        else:
            self._claims[claim.key] = claim
            if claim.node != self.node_id:
                self._counts[claim.node] = claim.of
        horizon = self._clock() - _MEMORY_S
        for key in [k for k, c in self._claims.items() if c.ts < horizon]:
            del self._claims[key]
        for key in [k for k, ts in self._won.items() if ts < horizon]:
            del self._won[key]
        self._cond.notify_all()

    # -- from the broker ---------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """A message on one of :attr:`topics` (the broker's thread)."""
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != "hearth" or parts[1] == self.node_id:
            return  # our own, which the board already knows
        node, what = parts[1], parts[2]
        refusal: TurnFailed | None = None
        with self._cond:
            peer = self._peer(node)
            if peer is None:
                return
            if what == "availability":
                peer.online = payload == b"online"
                if not peer.online:
                    self._forget(node)
            elif what == "state":
                speaking = payload == b"speaking"
                if peer.speaking and not speaking:
                    peer.quiet_since = self._clock()
                peer.speaking = speaking
            elif what == "claim":
                refusal = self._claim_message(node, peer, topic, payload, retained)
        if refusal is not None:
            _LOGGER.warning("%s", refusal.message)
            self._emit(refusal)

    def _claim_message(
        self, node: str, peer: _Peer, topic: str, payload: bytes, retained: bool
    ) -> TurnFailed | None:
        """Remember the claim a message carries; the error event to send when it is refused."""
        now = self._clock()
        peer.arrivals.append(now)
        if len(peer.arrivals) > _FLOOD_MESSAGES and now - peer.arrivals[0] < _FLOOD_S:
            return self._refuse(
                peer,
                "claim_flood",
                f"{topic}: more than {_FLOOD_MESSAGES} claims in {_FLOOD_S:g} s; ignoring them "
                "until they slow down",
            )
        if retained:
            message = f"{topic}: a retained claim is ignored; send claims without retain"
            return self._refuse(peer, "bad_claim", message) if payload else None
        try:
            claim = parse_claim(node, payload)
        except ClaimError as err:
            return self._refuse(peer, "bad_claim", f"{topic}: not a claim ({err}); ignored")
        if claim.ts > now + self.config.max_skew_s:
            return self._refuse(
                peer,
                "claim_from_future",
                f"{topic}: a claim {claim.ts - now:.1f} s in the future; ignored (set the "
                "clocks of the house's machines by NTP)",
            )
        if claim.ts < now - _MEMORY_S:
            _LOGGER.debug("%s: a claim %.1f s old, ignored", topic, now - claim.ts)
            return None
        self._remember(claim)
        return None

    def _peer(self, node: str) -> _Peer | None:
        peer = self._peers.get(node)
        if peer is None:
            if len(self._peers) >= _MAX_SENDERS:
                self._peers = {n: p for n, p in self._peers.items() if p.online}
                if len(self._peers) >= _MAX_SENDERS:
                    return None
            peer = self._peers[node] = _Peer()
        return peer

    def _forget(self, node: str) -> None:
        for key in [k for k in self._claims if k[0] == node]:
            del self._claims[key]
        self._counts.pop(node, None)
        self._cond.notify_all()

    def _refuse(self, peer: _Peer, code: str, message: str) -> TurnFailed | None:
        """The error event for a refused message, unless this sender had one just now."""
        now = self._clock()
        if now - peer.reported < _REPORT_EVERY_S:
            _LOGGER.debug("%s", message)
            return None
        peer.reported = now
        return TurnFailed(turn=None, code=code, message=message)


def _name(claim: Claim) -> str:
    return claim.node if claim.room == claim.node else f"{claim.node}/{claim.room}"
