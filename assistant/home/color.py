"""Light colours: which lights take one, and RGB as Home Assistant converts it.

Home Assistant's ``light.turn_on`` with ``rgb_color`` on a light without the ``rgb`` colour mode
converts the colour to the mode the light has: hue/saturation (``hs``) or CIE 1931 ``xy``. The
conversions here are Home Assistant's own (``homeassistant.util.color``), rounded the same way.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable
from typing import Final

__all__ = ["COLOR_MODES", "RGB_MODES", "as_rgb", "json_color", "rgb_to_hs", "rgb_to_xy"]

RGB_MODES: Final = frozenset({"rgb", "rgbw", "rgbww"})
"""Modes whose JSON command takes ``{"r":…,"g":…,"b":…}``."""
COLOR_MODES: Final = RGB_MODES | {"hs", "xy"}
"""The ``supported_color_modes`` that make a JSON-schema light colourable."""


def rgb_to_hs(red: int, green: int, blue: int) -> tuple[float, float]:
    """Channels 0-255 → hue in degrees (0-360) and saturation in percent (0-100)."""
    hue, saturation, _ = colorsys.rgb_to_hsv(red / 255, green / 255, blue / 255)
    return round(hue * 360, 3), round(saturation * 100, 3)


def _linear(channel: int) -> float:
    """A 0-255 sRGB channel with its gamma removed (0.0-1.0)."""
    value = channel / 255
    return ((value + 0.055) / 1.055) ** 2.4 if value > 0.04045 else value / 12.92


def rgb_to_xy(red: int, green: int, blue: int) -> tuple[float, float]:
    """Channels 0-255 → CIE 1931 chromaticity ``x``, ``y`` (0.0-1.0); black gives (0, 0)."""
    if red + green + blue == 0:
        return 0.0, 0.0
    r, g, b = _linear(red), _linear(green), _linear(blue)
    x = r * 0.664511 + g * 0.154324 + b * 0.162028  # Wide RGB D65
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    return round(x / total, 3), round(y / total, 3)


def as_rgb(value: object) -> tuple[int, int, int] | None:
    """``[red, green, blue]`` (a list or tuple of three whole numbers 0-255), else ``None``."""
    if not isinstance(value, list | tuple) or len(value) != 3:
        return None
    if not all(type(c) is int and 0 <= c <= 255 for c in value):
        return None
    return value[0], value[1], value[2]


def json_color(modes: Iterable[str], rgb: tuple[int, int, int]) -> dict[str, float]:
    """The ``color`` of a json-schema light command, as Home Assistant sends it to a light with
    these colour modes: ``r``/``g``/``b`` (rgb, rgbw, rgbww), else ``h``/``s`` (hs), else
    ``x``/``y``."""
    supported = set(modes)
    if supported & RGB_MODES:
        return {"r": rgb[0], "g": rgb[1], "b": rgb[2]}
    if "hs" in supported:
        hue, saturation = rgb_to_hs(*rgb)
        return {"h": hue, "s": saturation}
    x, y = rgb_to_xy(*rgb)
    return {"x": x, "y": y}
