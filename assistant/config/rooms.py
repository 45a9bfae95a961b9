"""``[rooms]``: how the Hearths of one house (and the rooms of one Hearth) agree which of them
answers a wake word."""

from __future__ import annotations

from pydantic import Field

from .base import Section

__all__ = ["RoomsConfig"]


class RoomsConfig(Section):
    """Wake-word arbitration between rooms. A room that hears the wake word claims the turn on
    ``hearth/<node_id>/claim``; with no other room online it answers at once, otherwise the
    claim with the most speech over its own noise floor within ``window_s`` answers."""

    enabled: bool = Field(True, description="false: answer every wake word here, claim nothing.")
    window_s: float = Field(
        0.15,
        ge=0.02,
        le=0.2,
        description="How long the first claim of a round waits for the others, seconds.",
    )
    takeover_s: float = Field(
        0.4,
        ge=0.05,
        le=2.0,
        description="How long the rooms that lost wait for the winner to take the turn before "
        "the next best takes it, seconds.",
    )
    echo_s: float = Field(
        1.5,
        ge=0.0,
        le=10.0,
        description="Wake words heard while another room speaks, and this long after, are "
        "ignored (they may come from its speaker), seconds.",
    )
    max_skew_s: float = Field(
        0.5,
        ge=0.0,
        le=5.0,
        description="A claim stamped further in the future than this is refused (clocks of the "
        "house's machines should agree, by NTP), seconds.",
    )
