"""``[rooms]``: how the Hearths of one house (and the rooms of one Hearth) agree which of them
answers a wake word."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import _NODE_ID_RE, Section

__all__ = ["RoomsConfig", "SatelliteConfig"]


class SatelliteConfig(Section):
    """A Wyoming satellite (wyoming-satellite) that is a room of this Hearth: Hearth connects to
    it, as Home Assistant does, hears its microphone and answers on its speaker."""

    name: str = Field(min_length=1, max_length=64, description="The room's id: [a-z0-9_-].")
    host: str = Field(min_length=1, description="The satellite's address.")
    port: int = Field(10700, ge=1, le=65535, description="Its Wyoming port.")
    area: str = Field("", description='The room it is in ("Hall"), for "turn on the lights".')
    played_timeout_s: float = Field(
        3.0,
        gt=0.0,
        le=60.0,
        description="How long after the reply's own length to wait for the satellite to say "
        "it was played, seconds.",
    )

    @field_validator("name")
    @classmethod
    def _name_chars(cls, value: str) -> str:
        if not _NODE_ID_RE.match(value):
            raise ValueError("use only lower-case letters, digits, '_' and '-'")
        return value


class RoomsConfig(Section):
    """Wake-word arbitration between rooms. A room that hears the wake word claims the turn on
    ``hearth/<node_id>/claim``; with no other room online it answers at once, otherwise the
    claim with the most speech over its own noise floor within ``window_s`` answers."""

    enabled: bool = Field(True, description="false: answer every wake word here, claim nothing.")
    window_s: float = Field(
        0.2,
        ge=0.02,
        le=0.2,
        description="How long a room that heard the wake word waits for the others' claims, "
        "seconds.",
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
    satellites: tuple[SatelliteConfig, ...] = Field(
        (), description="[[rooms.satellites]]: Wyoming satellites, one room each."
    )
    max_skew_s: float = Field(
        0.5,
        ge=0.0,
        le=5.0,
        description="A claim stamped further in the future than this is refused (clocks of the "
        "house's machines should agree, by NTP), seconds.",
    )
