"""Hearth beside a real Home Assistant (2025.4.4) on one broker, checked through Home
Assistant's own REST and websocket APIs: Hearth's device and entities, the Listen button and
the mute switch, a spoken command to a discovered light, other publishers' entity ids, the
energy dashboard's validation, the last will, and a log with nothing to say about Hearth.

The tests share one house (``conftest.py``) and run in this order; the last will comes last
because it ends Hearth.
"""

from __future__ import annotations

import json
import queue
import signal
import time
from typing import Any

import pytest
from discovery_fixtures import FIXTURES, HOME_ASSISTANT_IDS, PROBES
from ha_house import HEARTH_UNIQUE_IDS, NODE, House
from speech import utterance

from assistant.home.discovery import Discovered, parse_discovery
from assistant.mqtt.announce import MAX_STATE_CHARS

pytestmark = pytest.mark.ha

STATE = f"sensor.hearth_{NODE}_state"
MUTE = f"switch.hearth_{NODE}_mute"
LISTEN = f"button.hearth_{NODE}_listen"
REPLY = f"sensor.hearth_{NODE}_last_reply"
ENERGY = f"sensor.hearth_{NODE}_energy_today"
COST = f"sensor.hearth_{NODE}_cost_today"
LAMP = "light.desk_lamp"
STATISTICS_WAIT_S = 330  # the recorder compiles statistics every 5 minutes (at :00:10, :05:10...)


def wait_registered(house: House, unique_ids: tuple[str, ...], timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        registry = house.ha.registry_by_unique_id()
        if all(u in registry for u in unique_ids) or time.monotonic() > deadline:
            return registry
        time.sleep(0.5)


def test_hearth_appears_as_one_device_with_ten_entities(house: House) -> None:
    registry = wait_registered(house, HEARTH_UNIQUE_IDS)
    missing = [u for u in HEARTH_UNIQUE_IDS if u not in registry]
    assert not missing, f"not in Home Assistant: {missing}"
    devices = [
        d for d in house.ha.call("config/device_registry/list") if d["name"] == "Hearth kitchen"
    ]
    assert len(devices) == 1
    assert (devices[0]["manufacturer"], devices[0]["model"]) == ("Hearth", "Local voice assistant")
    for unique_id in HEARTH_UNIQUE_IDS:
        entry = registry[unique_id]
        component = entry["entity_id"].split(".")[0]
        assert entry["entity_id"] == f"{component}.{unique_id}"  # the id Hearth asked for
        assert entry["device_id"] == devices[0]["id"]
    assert house.ha.wait_state(STATE, lambda s: s["state"] == "idle")["state"] == "idle"
    assert house.ha.wait_state(MUTE, lambda s: s["state"] == "off")["state"] == "off"
    energy = house.ha.wait_state(ENERGY, lambda s: s["state"] not in ("unknown", "unavailable"))
    assert float(energy["state"]) >= 0
    assert energy["attributes"]["unit_of_measurement"] == "kWh"
    assert energy["attributes"]["device_class"] == "energy"


def test_a_long_reply_fits_the_state_and_stays_whole_in_an_attribute(house: House) -> None:
    text = " ".join(["This reply is long on purpose, longer than a state may be."] * 6)
    assert len(text) > MAX_STATE_CHARS
    house.recorder.client.publish(f"hearth/{NODE}/cmd/say", text, qos=1)
    state = house.ha.wait_state(REPLY, lambda s: s["attributes"].get("text") == text, 120)
    assert state["state"] == text[:MAX_STATE_CHARS].strip()  # Home Assistant trims a state
    house.recorder.client.publish(f"hearth/{NODE}/cmd/say", "Short again.", qos=1)
    short = house.ha.wait_state(REPLY, lambda s: s["state"] == "Short again.", 60)
    assert short["attributes"]["text"] == "Short again."


def test_mute_and_listen_reach_hearth_and_the_switch_stays_on_for_the_turn(house: House) -> None:
    ha = house.ha
    ha.call_service("switch", "turn_on", MUTE)
    ha.wait_state(STATE, lambda s: s["state"] == "muted")
    assert ha.wait_state(MUTE, lambda s: s["state"] == "on")["state"] == "on"
    with ha.ws() as ws:
        changes = ws.subscribe_state_changed()
        ha.call_service("button", "press", LISTEN)  # a turn without the wake word, while muted
        ha.wait_state(STATE, lambda s: s["state"] == "listening", 30)
        ha.wait_state(STATE, lambda s: s["state"] == "muted", 60)  # nobody spoke: no_speech
        time.sleep(1)
        seen = drain(changes)
    states = [(e["data"]["entity_id"], (e["data"]["new_state"] or {}).get("state")) for e in seen]
    assert (STATE, "listening") in states
    assert [s for entity, s in states if entity == MUTE] == [], states  # never off
    assert ha.state(MUTE)["state"] == "on"  # type: ignore[index]
    ha.call_service("switch", "turn_off", MUTE)
    ha.wait_state(STATE, lambda s: s["state"] == "idle")
    assert ha.wait_state(MUTE, lambda s: s["state"] == "off")["state"] == "off"


def drain(events: queue.SimpleQueue[Any]) -> list[dict[str, Any]]:
    found = []
    while not events.empty():
        found.append(events.get_nowait())
    return found


def test_a_spoken_command_changes_the_light_in_home_assistant(house: House) -> None:
    ha, hearth = house.ha, house.hearth
    assert ha.wait_state(LAMP, lambda s: s["state"] == "off")["state"] == "off"
    hearth.say(utterance("Hey Jarvis.", 0.5, "Turn on the desk lamp.", 1.0))
    assert ha.wait_state(LAMP, lambda s: s["state"] == "on", 120)["state"] == "on"
    hearth.say(utterance("Hey Jarvis.", 0.5, "Set the desk lamp to 40 percent.", 1.0))
    dimmed = ha.wait_state(LAMP, lambda s: s["attributes"].get("brightness") == 102, 120)
    assert dimmed["state"] == "on"
    hearth.say(utterance("Hey Jarvis.", 0.5, "Turn off the desk lamp.", 1.0))
    assert ha.wait_state(LAMP, lambda s: s["state"] == "off", 120)["state"] == "off"
    actions = [json.loads(p) for p in house.recorder.on(f"hearth/{NODE}/action")]
    assert [a["entity_id"] for a in actions] == [LAMP] * 3  # Home Assistant's id, on the wire
    assert [a["service"] for a in actions] == ["turn_on", "turn_on", "turn_off"]
    assert house.lamp.errors == []


def test_other_publishers_entities_have_the_ids_hearth_gives_them(house: House) -> None:
    payloads = {**FIXTURES, **PROBES}
    unique = {n: p.get("unique_id") or p.get("uniq_id") for n, (_, p) in payloads.items()}
    registry = wait_registered(house, tuple(u for u in unique.values() if u), 60)
    states = {s["entity_id"]: s for s in house.ha.request("GET", "/api/states")}
    for name, (topic, payload) in payloads.items():
        if unique[name]:
            in_ha = registry[unique[name]]["entity_id"]
        else:  # not registered without a unique id: find it by its name
            in_ha = next(
                entity_id
                for entity_id, state in states.items()
                if state["attributes"].get("friendly_name") == payload["name"]
            )
        assert in_ha == HOME_ASSISTANT_IDS[name][0], name
        result = parse_discovery(topic, json.dumps(payload).encode())
        assert isinstance(result, Discovered), result
        assert in_ha in result.entity.all_ids, name
        if "default_entity_id" not in payload and name != "device_without_name":
            assert result.entity.entity_id == in_ha, name  # the very same id


def test_the_energy_sensors_pass_the_energy_dashboards_validation(house: House) -> None:
    """Every check on the sensors themselves (recorded, numeric, device class, unit, state
    class) passes at once; the statistics Home Assistant compiles every five minutes are
    awaited, so this test takes up to five and a half minutes."""
    ha = house.ha
    grid = {
        "type": "grid",
        "flow_from": [
            {
                "stat_energy_from": ENERGY,
                "stat_cost": COST,
                "entity_energy_price": None,
                "number_energy_price": None,
            }
        ],
        "flow_to": [],
        "cost_adjustment_day": 0,
    }
    ha.call(
        "energy/save_prefs",
        energy_sources=[grid],
        device_consumption=[{"stat_consumption": ENERGY}],
    )
    first = issues(ha.call("energy/validate"))
    assert {kind for kind, _ in first} <= {"statistics_not_defined"}, first
    assert ha.call("recorder/validate_statistics") == {}
    deadline = time.monotonic() + STATISTICS_WAIT_S
    while (found := issues(ha.call("energy/validate"))) and time.monotonic() < deadline:
        time.sleep(5)
    assert found == [], found


def issues(validation: dict[str, Any]) -> list[tuple[str, str]]:
    """(issue type, entity id) of every issue in an ``energy/validate`` answer."""
    groups = [*validation["energy_sources"], *validation["device_consumption"]]
    return [
        (issue["type"], entity[0])
        for group in groups
        for issue in group
        for entity in issue["affected_entities"]
    ]


def test_the_last_will_makes_hearths_entities_unavailable(house: House) -> None:
    house.hearth.process.send_signal(signal.SIGKILL)  # no goodbye: only the will says it
    house.hearth.process.wait(10)
    registry = house.ha.registry_by_unique_id()
    for unique_id in HEARTH_UNIQUE_IDS:
        entity_id = registry[unique_id]["entity_id"]
        assert house.ha.wait_state(entity_id, lambda s: s["state"] == "unavailable", 60)
    assert house.recorder.on(f"hearth/{NODE}/availability")[-1] == "offline"


def test_home_assistant_had_nothing_to_say_about_hearths_payloads(house: House) -> None:
    ha = house.ha
    since = house.mqtt_mark
    problems = ha.log_records(since=since)
    assert problems == [], "\n".join(f"{r.level} [{r.logger}] {r.message}" for r in problems)
    infos = ha.log_records(f"hearth_{NODE}", levels=frozenset({"INFO"}), since=since)
    nameless = [r for r in infos if "always needs to include a name" in r.message]
    assert nameless == []
    for protocol, local, remote in ha.sockets():
        loopback = local.startswith(("127.", "::1", "::ffff:127."))
        listening_for_mdns = protocol.startswith("udp") and local.endswith(":5353")
        assert loopback or listening_for_mdns, (protocol, local, remote)
        assert remote.rsplit(":", 1)[0] in ("0.0.0.0", "::", "127.0.0.1", "::1"), remote
    assert [line for line in house.hearth.lines if "Traceback" in line] == []
    warnings = [line for line in house.hearth.lines if "WARNING" in line]
    assert len(warnings) == 1, warnings  # the mistyped id in [expose], and nothing else
    assert (
        "[expose] entities: 'light.desk_light' matches no device Hearth knows; "
        "closest known: light.desk_lamp"
    ) in warnings[0]
