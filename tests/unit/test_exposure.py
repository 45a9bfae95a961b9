"""[expose] takes Home Assistant's entity ids (and older ones) and says when one matches nothing."""

from __future__ import annotations

import json
import logging

import pytest
from discovery_fixtures import FIXTURES

from assistant.config import Config, ExposeConfig, ProfileConfig
from assistant.home.discovery import Discovered, parse_discovery
from assistant.home.entities import Entity
from assistant.home.exposure import check_config_exposure, check_exposure
from assistant.home.home import Home, exposure_filter


def discovered(name: str) -> tuple[str, Entity]:
    topic, payload = FIXTURES[name]
    result = parse_discovery(topic, json.dumps(payload).encode())
    assert isinstance(result, Discovered), result
    return result.key, result.entity


def home_with(*names: str, expose: ExposeConfig | None = None) -> Home:
    home = Home(exposed=exposure_filter(expose or ExposeConfig()))
    for name in names:
        home.discovered(*discovered(name))
    return home


def exposed_ids(home: Home) -> list[str]:
    return sorted(e.entity_id for e in home.registry())


def test_an_id_copied_from_home_assistant_exposes_the_device() -> None:
    home = home_with(
        "tasmota_dimmer",
        "z2m_light",
        expose=ExposeConfig(entities=("light.bedroom_dimmer_bedside_lamp",)),
    )
    assert exposed_ids(home) == ["light.bedroom_dimmer_bedside_lamp"]


def test_an_older_hearth_id_still_exposes_and_excludes() -> None:
    home = home_with(
        "tasmota_dimmer", "z2m_light", expose=ExposeConfig(entities=("light.5c3d9e_li_1",))
    )
    assert exposed_ids(home) == ["light.bedroom_dimmer_bedside_lamp"]
    home = home_with(
        "tasmota_dimmer", "z2m_light", expose=ExposeConfig(exclude=("light.5c3d9e_li_1",))
    )
    assert exposed_ids(home) == ["light.kitchen_ceiling"]


def test_an_id_that_matches_nothing_is_a_warning_with_the_closest_ids() -> None:
    home = home_with("tasmota_dimmer", "z2m_light")
    expose = ExposeConfig(
        entities=("light.bedroom_dimmer_bedside_lamp", "light.bedroom_dimmer", "light.5c3d9e_li_1"),
        exclude=("switch.nothing_like_it",),
    )
    notes = check_exposure(expose, [e for e, _, _ in home.known()])
    assert [(n.level, n.message.split(":")[0]) for n in notes] == [
        (logging.WARNING, "[expose] entities"),
        (logging.INFO, "[expose] entities"),
        (logging.WARNING, "[expose] exclude"),
    ]
    assert "'light.bedroom_dimmer' matches no device" in notes[0].message
    assert "closest known: light.bedroom_dimmer_bedside_lamp" in notes[0].message
    assert "older id of light.bedroom_dimmer_bedside_lamp" in notes[1].message
    assert "closest" not in notes[2].message


def test_profiles_are_checked_and_notes_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    home = home_with("z2m_light")
    config = Config(
        expose=ExposeConfig(entities=("light.kitchen_ceiling",)),
        profiles={"kids": ProfileConfig(expose=ExposeConfig(entities=("light.kitchen",)))},
    )
    with caplog.at_level(logging.INFO, logger="assistant.home.exposure"):
        notes = check_config_exposure(config, [e for e, _, _ in home.known()])
    assert len(notes) == 1
    assert "[profiles.kids.expose] entities: 'light.kitchen' matches no device" in caplog.text


def test_a_clashing_id_gets_a_number_and_keeps_it() -> None:
    home = Home()
    lamp = Entity(entity_id="light.desk_lamp", domain="light", name="Desk lamp", source="discovery")
    home.discovered("light/a/lamp", lamp)
    home.discovered("light/b/lamp", lamp)
    home.discovered("light/a/lamp", lamp)  # announced again: still its own id
    assert sorted(e.entity_id for e in home.registry()) == ["light.desk_lamp", "light.desk_lamp_2"]
