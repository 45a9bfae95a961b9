"""``[[entities]]``: a device declared by hand, with the fields of Home Assistant MQTT discovery."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .base import Section

__all__ = ["ColorMode", "Domain", "EntityConfig"]

Domain = Literal[
    "light", "switch", "fan", "cover", "lock", "climate", "sensor", "binary_sensor", "scene"
]

ColorMode = Literal[
    "onoff", "brightness", "color_temp", "hs", "xy", "rgb", "rgbw", "rgbww", "white"
]


class EntityConfig(Section):
    """A device declared by hand, with the fields of Home Assistant MQTT discovery."""

    domain: Domain
    name: str = Field(min_length=1)
    unique_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    command_topic: str = ""
    state_topic: str = ""
    payload_on: str = "ON"
    payload_off: str = "OFF"
    schema_: Literal["default", "json"] = Field("default", alias="schema")
    brightness_command_topic: str = ""
    brightness_scale: int = Field(255, ge=1, le=65535)
    device_class: str = ""
    suggested_area: str = ""
    aliases: tuple[str, ...] = ()
    # Optional keys for the other components, with Home Assistant's names and defaults.
    json_attributes_topic: str = ""
    on_command_type: Literal["last", "first", "brightness"] = Field(
        "last", description="Light: send payload_on after, before or instead of the brightness."
    )
    brightness_command_template: str = Field("", description="Only {{ value }} placeholders.")
    supported_color_modes: tuple[ColorMode, ...] = Field(
        (), description="Light, json schema: its colour modes; rgb, rgbw, rgbww, hs or xy: colour."
    )
    rgb_command_topic: str = Field("", description="Light, default schema: where R,G,B goes.")
    rgb_command_template: str = Field(
        "", description="{{ value }} (R,G,B), {{ red }}, {{ green }}, {{ blue }} placeholders."
    )
    command_template: str = Field("", description="Switch, fan, lock: shapes the payload.")
    percentage_command_topic: str = Field("", description="Fan: where a speed goes.")
    percentage_command_template: str = ""
    speed_range_min: int = Field(1, ge=1, le=1_000_000, description="Fan speed sent for 1 %.")
    speed_range_max: int = Field(100, ge=2, le=1_000_000, description="Fan speed for 100 %.")
    payload_open: str = Field("OPEN", description="Cover; empty: the cover can't open.")
    payload_close: str = Field("CLOSE", description="Cover; empty: the cover can't close.")
    payload_stop: str = Field("STOP", description="Cover; empty: the cover can't stop.")
    set_position_topic: str = Field("", description="Cover: where a position goes.")
    set_position_template: str = ""
    position_open: int = Field(100, ge=-1_000_000, le=1_000_000, description="Fully open.")
    position_closed: int = Field(0, ge=-1_000_000, le=1_000_000, description="Closed.")
    payload_lock: str = "LOCK"
    payload_unlock: str = "UNLOCK"
    temperature_command_topic: str = Field("", description="Climate: target temperature.")
    temperature_command_template: str = ""
    min_temp: float = Field(7.0, ge=-1000, le=1000, description="Lowest target, device unit.")
    max_temp: float = Field(35.0, ge=-1000, le=1000, description="Highest target, device unit.")
    temp_step: float = Field(1.0, ge=0.001, le=100, description="Target resolution.")
    mode_command_topic: str = Field("", description="Climate: where an HVAC mode goes.")
    mode_command_template: str = ""
    modes: tuple[str, ...] = ("auto", "off", "cool", "heat", "dry", "fan_only")
    unit_of_measurement: str = ""
    value_template: str = Field("", description="Kept for reference; Hearth doesn't render it.")

    @field_validator("command_topic", "brightness_command_topic")
    @classmethod
    def _no_wildcards(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a command topic cannot contain MQTT wildcards")
        return value

    @field_validator(
        "percentage_command_topic",
        "rgb_command_topic",
        "set_position_topic",
        "temperature_command_topic",
        "mode_command_topic",
    )
    @classmethod
    def _no_wildcards_in_other_topics(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a command topic cannot contain MQTT wildcards")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> EntityConfig:
        if self.speed_range_min >= self.speed_range_max:
            raise ValueError("speed_range_min must be below speed_range_max")
        if self.min_temp > self.max_temp:
            raise ValueError("min_temp must not be above max_temp")
        return self
