"""The devices as the dashboard lists them: every entity Hearth knows, exposed to voice or not,
and in plain words why (Hearth's side of :class:`~assistant.dashboard.backend.Device`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..config import Config, ExposeConfig
from ..home.entities import Entity, area_id
from ..home.home import EntityState, Home, exposure_filter
from .backend import Device

__all__ = ["device_rows", "expose_rule"]


def expose_rule(expose: ExposeConfig, entity: Entity, where: str = "[expose]") -> str:
    """Which rule of ``expose`` leaves ``entity`` out ("" when none does)."""
    if any(i in expose.exclude for i in entity.all_ids):
        return f"its id is in {where} exclude"
    if expose.entities and not any(i in expose.entities for i in entity.all_ids):
        return f"{where} entities does not list it"
    if expose.areas and entity.area not in {area_id(a) for a in expose.areas}:
        return f"its area ({entity.area_name or entity.area or 'none'}) is not in {where} areas"
    if expose.domains and entity.domain not in expose.domains:
        return f"its domain ({entity.domain}) is not in {where} domains"
    return ""


def device_rows(
    config: Config,
    home: Home,
    profile: str,
    last_actions: Mapping[str, dict[str, Any]],
    states: bool,
) -> list[Device]:
    """Every entity of ``home``: configured first, then discovered; with the latest state when
    ``states`` (the daemon hears them), and the profile's own limits."""
    limit = config.profiles[profile].expose if profile in config.profiles else None
    allowed = exposure_filter(limit) if limit is not None else None
    rows: list[Device] = []
    for entity, exposed, why in home.known():
        if exposed and entity.source == "discovery":
            why = "discovered over MQTT; [expose] lets it through"
        elif not exposed and why.endswith("left out by [expose]"):
            why = f"discovered over MQTT; left out because {expose_rule(config.expose, entity)}"
        if exposed and allowed is not None and not allowed(entity):
            where = f"[profiles.{profile}.expose]"
            rule = expose_rule(limit, entity, where) if limit is not None else ""
            why = f"{why}; but the profile {profile!r} hides it: {rule}"
            exposed = False
        state = home.state(entity.entity_id) if states else None
        rows.append(_row(entity, exposed, why, state, last_actions.get(entity.entity_id)))
    return rows


def _row(
    entity: Entity,
    exposed: bool,
    why: str,
    state: EntityState | None,
    last: dict[str, Any] | None,
) -> Device:
    return {
        "entity_id": entity.entity_id,
        "name": entity.name,
        "domain": entity.domain,
        "area": entity.area_name or entity.area,
        "source": entity.source,
        "exposed": exposed,
        "why": why,
        "command_topic": entity.command_topic,
        "state": state.value if state is not None else None,
        "state_age_s": round(time.monotonic() - state.received, 1) if state is not None else None,
        "last_action": last,
    }
