"""Home actions as MQTT messages, in each device's own payload schema.

A home action is a validated (entity, service, data) triple. :func:`build_messages` turns it into
the messages Home Assistant itself would publish for the same service call on the same MQTT
entity: the same topics, payloads, scaling and command templates. Every refusal is an
:class:`~assistant.errors.ActionError` whose message is one sentence a voice assistant can speak.

Command templates are not Jinja here: a template made only of literal text and ``{{ name }}``
placeholders (``value``, ``entity_id``, and per service the variables Home Assistant passes) is
filled in exactly; anything else makes that service unavailable on the entity.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from ..errors import ActionError
from .color import as_rgb, json_color

if TYPE_CHECKING:
    from .entities import Entity

__all__ = ["SERVICES", "Action", "MqttMessage", "available_services", "build_messages"]


@dataclass(frozen=True, slots=True)
class Action:
    """A validated home action, as mirrored on ``hearth/<id>/action``."""

    entity_id: str
    service: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    """One publish: QoS 1 and not retained, as every home action is sent."""

    topic: str
    payload: str
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class _Service:
    """What one service needs from an entity. Attribute names refer to :class:`Entity` fields."""

    topic: str  # the topic that carries it
    data: frozenset[str] = frozenset()  # data keys it accepts
    payload: str = ""  # a fixed payload that must be declared (not empty) for the service
    template: str = ""  # the command template that shapes its payload, if any
    variables: frozenset[str] = frozenset({"value", "entity_id"})  # what the template may use


_BRIGHTNESS: Final = frozenset({"brightness_pct"})
_POSITION_VARIABLES: Final = frozenset(
    {"value", "entity_id", "position", "position_open", "position_closed"}
)
_SWITCHED: Final = _Service("command_topic", _BRIGHTNESS)
_TEMPLATED: Final = _Service("command_topic", _BRIGHTNESS, template="command_template")

_SPECS: Final[Mapping[str, Mapping[str, _Service]]] = MappingProxyType(
    {
        "light": {
            "turn_on": _Service("command_topic", _BRIGHTNESS | {"rgb_color"}),
            "turn_off": _SWITCHED,
        },
        "switch": {"turn_on": _TEMPLATED, "turn_off": _TEMPLATED},
        "fan": {
            "turn_on": _TEMPLATED,
            "turn_off": _TEMPLATED,
            "set_percentage": _Service(
                "percentage_command_topic",
                frozenset({"percentage"}),
                template="percentage_command_template",
            ),
        },
        "cover": {
            "open_cover": _Service("command_topic", payload="payload_open"),
            "close_cover": _Service("command_topic", payload="payload_close"),
            "stop_cover": _Service("command_topic", payload="payload_stop"),
            "set_cover_position": _Service(
                "set_position_topic",
                frozenset({"position"}),
                template="set_position_template",
                variables=_POSITION_VARIABLES,
            ),
        },
        "lock": {
            "lock": _Service("command_topic", template="command_template"),
            "unlock": _Service("command_topic", template="command_template"),
        },
        "climate": {
            "set_temperature": _Service(
                "temperature_command_topic",
                frozenset({"temperature"}),
                template="temperature_command_template",
            ),
            "set_hvac_mode": _Service(
                "mode_command_topic",
                frozenset({"hvac_mode"}),
                template="mode_command_template",
            ),
        },
        "scene": {"turn_on": _Service("command_topic")},
        "sensor": {},
        "binary_sensor": {},
    }
)

_PHRASES: Final = MappingProxyType(
    {
        "turn_on": "be turned on",
        "turn_off": "be turned off",
        "set_percentage": "have its speed set",
        "open_cover": "open",
        "close_cover": "close",
        "stop_cover": "stop",
        "set_cover_position": "be set to a position",
        "lock": "lock",
        "unlock": "unlock",
        "set_temperature": "have its temperature set",
        "set_hvac_mode": "change its mode",
    }
)
"""How a refusal names each service: "The <name> can't <phrase>"."""

SERVICES: Final[Mapping[str, Mapping[str, frozenset[str]]]] = MappingProxyType(
    {
        domain: MappingProxyType({name: spec.data for name, spec in specs.items()})
        for domain, specs in _SPECS.items()
    }
)
"""Component → service → the data keys it accepts (every key optional unless the service
needs a value: ``percentage``, ``position``, ``temperature``, ``hvac_mode``). A light's
``rgb_color`` is ``[red, green, blue]``, each 0-255."""

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _template_names(template: str) -> set[str] | None:
    """The variables a simple template uses, or ``None`` when it is more than placeholders."""
    rest = _PLACEHOLDER.sub("", template)
    if "{{" in rest or "{%" in rest or "{#" in rest:
        return None
    return set(_PLACEHOLDER.findall(template))


def _render(template: str, value: object, entity: Entity, **extra: object) -> str:
    """Fill a template checked by :func:`_missing`; no template means the value itself."""
    if not template:
        return str(value)
    variables = {"value": value, "entity_id": entity.entity_id, **extra}
    return _PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), template)


def _phrase(service: str) -> str:
    return _PHRASES.get(service, "do that")


def _missing(entity: Entity, service: str, spec: _Service) -> ActionError | None:
    """Why ``entity`` can't carry out ``service`` as declared, or ``None`` when it can."""
    if not getattr(entity, spec.topic):
        if spec.topic == "command_topic":
            return ActionError("no_command_topic", f"The {entity.name} has no command topic.")
        return ActionError("no_command_topic", f"The {entity.name} can't {_phrase(service)}.")
    if spec.payload and not getattr(entity, spec.payload):
        return ActionError("unsupported", f"The {entity.name} can't {_phrase(service)}.")
    if spec.template:
        names = _template_names(getattr(entity, spec.template))
        if names is None or not names <= spec.variables:
            return ActionError(
                "unsupported", f"I can't fill in the command template of the {entity.name}."
            )
    if service == "set_hvac_mode" and not entity.modes:
        return ActionError("unsupported", f"The {entity.name} has no modes to choose from.")
    return None


def available_services(entity: Entity) -> tuple[str, ...]:
    """The services ``entity`` can carry out, given the topics and payloads it declares."""
    specs = _SPECS.get(entity.domain, {})
    return tuple(name for name, spec in specs.items() if _missing(entity, name, spec) is None)


def _compact(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _number(entity: Entity, data: Mapping[str, Any], key: str, low: float, high: float) -> float:
    """``data[key]`` as a number in ``low..high`` (booleans, NaN and text refused)."""
    if key not in data:
        raise ActionError("bad_value", f"Tell me the {key} for the {entity.name}.")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ActionError(
            "bad_value", f"The {key} for the {entity.name} must be from {low:g} to {high:g}."
        )
    return value


def _brightness_pct(entity: Entity, data: Mapping[str, Any]) -> int | None:
    if "brightness_pct" not in data:
        return None
    value = data["brightness_pct"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ActionError(
            "bad_value", f"brightness for {entity.name} must be 0 to 100 percent, not {value!r}"
        )
    if not entity.dimmable:
        raise ActionError("not_dimmable", f"The {entity.name} can't be dimmed.")
    return round(value)


_RGB_VARIABLES: Final = frozenset({"value", "entity_id", "red", "green", "blue"})


def _rgb_color(entity: Entity, data: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """``data["rgb_color"]``: three whole numbers 0-255, for a light that takes a colour."""
    if "rgb_color" not in data:
        return None
    rgb = as_rgb(data["rgb_color"])
    if rgb is None:
        raise ActionError(
            "bad_value", f"The colour for the {entity.name} must be three numbers from 0 to 255."
        )
    if not entity.colourable:
        raise ActionError("not_colourable", f"The {entity.name} can't change colour.")
    names = _template_names(entity.rgb_command_template)
    if entity.schema != "json" and (names is None or not names <= _RGB_VARIABLES):
        raise ActionError(
            "unsupported", f"I can't fill in the colour command template of the {entity.name}."
        )
    return rgb


def _on_off(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """Light, switch and fan ``turn_on``/``turn_off``, light brightness included.

    Light, default schema: ``payload_on``/``payload_off`` on ``command_topic``; a brightness goes
    to ``brightness_command_topic`` scaled by ``brightness_scale``, before ``payload_on``
    (``on_command_type`` ``last``), after it (``first``) or instead of it (``brightness``, which
    sends full brightness when none is asked for); an ``rgb_color`` goes first as "R,G,B" to
    ``rgb_command_topic`` (after ``payload_on`` with ``first``). Light, ``json`` schema:
    ``{"state":"ON","color":…,"brightness":…}`` on ``command_topic``. Switch and fan:
    ``payload_on``/``payload_off`` through ``command_template``.
    """
    pct = _brightness_pct(entity, data) if service == "turn_on" else None
    rgb = _rgb_color(entity, data) if service == "turn_on" else None
    turn_on = service == "turn_on" and pct != 0
    if entity.domain == "light" and entity.schema == "json":
        body: dict[str, Any] = {"state": "ON" if turn_on else "OFF"}
        if turn_on and rgb is not None:
            body["color"] = json_color(entity.supported_color_modes, rgb)
        if turn_on and pct is not None:
            body["brightness"] = round(pct * entity.brightness_scale / 100)
        return [MqttMessage(entity.command_topic, _compact(body))]
    payload = entity.payload_on if turn_on else entity.payload_off
    if entity.domain != "light":
        return [
            MqttMessage(entity.command_topic, _render(entity.command_template, payload, entity))
        ]
    if not turn_on:
        return [MqttMessage(entity.command_topic, payload)]
    built = _light_on(entity, payload, pct)
    if rgb is not None:
        channels = dict(zip(("red", "green", "blue"), rgb, strict=True))
        value = ",".join(str(c) for c in rgb)
        color = _render(entity.rgb_command_template, value, entity, **channels)
        built.insert(
            1 if entity.on_command_type == "first" else 0,
            MqttMessage(entity.rgb_command_topic, color),
        )
    return built


def _light_on(entity: Entity, payload: str, pct: int | None) -> list[MqttMessage]:
    """Default-schema light ``turn_on``: ``payload_on`` and a brightness, in order."""
    by_brightness = entity.on_command_type == "brightness" and bool(entity.brightness_command_topic)
    if pct is None and by_brightness:
        pct = 100
    if pct is None:
        return [MqttMessage(entity.command_topic, payload)]
    level = round(pct * entity.brightness_scale / 100)
    level_payload = _render(entity.brightness_command_template, level, entity)
    dim = MqttMessage(entity.brightness_command_topic, level_payload)
    if by_brightness:
        return [dim]
    on = MqttMessage(entity.command_topic, payload)
    return [on, dim] if entity.on_command_type == "first" else [dim, on]


def _fan(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """``set_percentage``: 0 turns the fan off (on ``percentage_command_topic`` as the speed
    below ``speed_range_min`` when the fan has no ``command_topic``); else the percentage scaled
    to ``speed_range_min..speed_range_max`` and rounded up, on ``percentage_command_topic``."""
    if service != "set_percentage":
        return _on_off(entity, service, data)
    pct = round(_number(entity, data, "percentage", 0, 100))
    if pct == 0 and entity.command_topic:
        return build_messages(entity, Action(entity.entity_id, "turn_off"))
    states = entity.speed_range_max - entity.speed_range_min + 1
    speed = -(-pct * states // 100) + entity.speed_range_min - 1
    payload = _render(entity.percentage_command_template, speed, entity)
    return [MqttMessage(entity.percentage_command_topic, payload)]


def _cover(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """Open, close and stop on ``command_topic``; a position (0 closed … 100 open) on
    ``set_position_topic``, scaled between ``position_closed`` and ``position_open``."""
    fixed = {
        "open_cover": entity.payload_open,
        "close_cover": entity.payload_close,
        "stop_cover": entity.payload_stop,
    }
    if service in fixed:
        return [MqttMessage(entity.command_topic, fixed[service])]
    pct = round(_number(entity, data, "position", 0, 100))
    span = entity.position_open - entity.position_closed
    payload = _render(
        entity.set_position_template,
        round(pct * span / 100 + entity.position_closed),
        entity,
        position=pct,
        position_open=entity.position_open,
        position_closed=entity.position_closed,
    )
    return [MqttMessage(entity.set_position_topic, payload)]


def _lock(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """``payload_lock``/``payload_unlock`` on ``command_topic``, through ``command_template``."""
    payload = entity.payload_lock if service == "lock" else entity.payload_unlock
    return [MqttMessage(entity.command_topic, _render(entity.command_template, payload, entity))]


def _climate(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """A target temperature in ``min_temp..max_temp`` (°C or °F, as the device declares),
    snapped to ``temp_step`` and sent as a decimal (``"21.5"``, ``"21.0"``) as Home Assistant
    does; or ``hvac_mode``, one of the declared ``modes``, on ``mode_command_topic``."""
    if service == "set_hvac_mode":
        mode = data.get("hvac_mode")
        if not isinstance(mode, str) or mode not in entity.modes:
            choices = ", ".join(entity.modes)
            raise ActionError("bad_value", f"The {entity.name} can be set to {choices}.")
        payload = _render(entity.mode_command_template, mode, entity)
        return [MqttMessage(entity.mode_command_topic, payload)]
    target = float(_number(entity, data, "temperature", entity.min_temp, entity.max_temp))
    steps = target / entity.temp_step if entity.temp_step > 0 else math.nan
    if math.isfinite(steps):
        target = round(round(steps) * entity.temp_step, 6)
    target = min(max(target, entity.min_temp), entity.max_temp)
    payload = _render(entity.temperature_command_template, float(target), entity)
    return [MqttMessage(entity.temperature_command_topic, payload)]


def _scene(entity: Entity, service: str, data: Mapping[str, Any]) -> list[MqttMessage]:
    """``payload_on`` on ``command_topic``."""
    return [MqttMessage(entity.command_topic, entity.payload_on)]


_BUILDERS: Final[Mapping[str, Callable[[Entity, str, Mapping[str, Any]], list[MqttMessage]]]] = (
    MappingProxyType(
        {
            "light": _on_off,
            "switch": _on_off,
            "fan": _fan,
            "cover": _cover,
            "lock": _lock,
            "climate": _climate,
            "scene": _scene,
        }
    )
)


def build_messages(entity: Entity, action: Action) -> list[MqttMessage]:
    """The messages that carry out ``action`` on ``entity``, in publish order.

    Services and their data keys per component are listed in :data:`SERVICES`. Raises
    :class:`ActionError` with code ``entity_mismatch``, ``unsupported`` (the component or this
    entity can't do it), ``no_command_topic`` (the entity declares no topic for it),
    ``bad_value``, ``not_dimmable`` or ``not_colourable``; never any other exception.
    """
    if entity.entity_id != action.entity_id:
        raise ActionError("entity_mismatch", f"action for {action.entity_id} on {entity.entity_id}")
    builder = _BUILDERS.get(entity.domain)
    if builder is None:
        if entity.domain in _SPECS:
            raise ActionError("unsupported", f"The {entity.name} can only be read, not controlled.")
        raise ActionError("unsupported", f"Hearth can't control the {entity.name} yet.")
    spec = _SPECS[entity.domain].get(action.service)
    if spec is None:
        raise ActionError("unsupported", f"The {entity.name} can't {_phrase(action.service)}.")
    if (problem := _missing(entity, action.service, spec)) is not None:
        raise problem
    data = action.data
    if not isinstance(data, Mapping):
        raise ActionError("bad_value", f"I didn't understand what to do with the {entity.name}.")
    unknown = sorted(repr(key) for key in data if key not in spec.data)
    if unknown:
        raise ActionError(
            "bad_value", f"The {entity.name} doesn't take {', '.join(unknown)} for that."
        )
    return builder(entity, action.service, data)
