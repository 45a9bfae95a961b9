"""Entity ids as Home Assistant gives them, for real publishers' payloads and for probes."""

from __future__ import annotations

import json

import pytest
from discovery_fixtures import FIXTURES, HOME_ASSISTANT_IDS, PROBES

from assistant.home.discovery import Discovered, parse_discovery
from assistant.home.entity_ids import free_entity_id, slugify

PAYLOADS = {**FIXTURES, **PROBES}


def test_every_payload_has_a_reference_id() -> None:
    assert sorted(HOME_ASSISTANT_IDS) == sorted(PAYLOADS)


@pytest.mark.parametrize("name", sorted(HOME_ASSISTANT_IDS))
def test_ids_are_the_ones_home_assistant_gives(name: str) -> None:
    topic, payload = PAYLOADS[name]
    result = parse_discovery(topic, json.dumps(payload).encode())
    assert isinstance(result, Discovered), result
    in_2025_4, newest = HOME_ASSISTANT_IDS[name]
    assert result.entity.entity_id == newest
    assert in_2025_4 in result.entity.all_ids  # a configuration written for 2025.4 matches too


def test_clashing_ids_get_a_number_as_in_home_assistant() -> None:
    assert free_entity_id("light.desk", set()) == "light.desk"
    assert free_entity_id("light.desk", {"light.desk"}) == "light.desk_2"
    assert free_entity_id("light.desk", {"light.desk", "light.desk_2"}) == "light.desk_3"
    long = "light." + "x" * 249
    assert free_entity_id(long, {long}) == long[:253] + "_2"


def test_slugs_are_home_assistants() -> None:
    assert slugify("Living Room") == "living_room"
    assert slugify("garage-door Garage Door") == "garage_door_garage_door"
    assert slugify("Mike's lamp") == "mike_s_lamp"
    assert slugify("Küche") == "kuche"
    assert slugify("1,000 watts") == "1000_watts"
    assert slugify("???") == "unknown"
    assert slugify("") == ""
