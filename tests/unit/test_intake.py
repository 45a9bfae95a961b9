"""The discovery intake without a broker: components asked for one at a time, each burst ended by
its marker, a lost marker asked for again, and one announcement per burst."""

from __future__ import annotations

import time

import pytest

from assistant.home.home import Home
from assistant.mqtt import intake as intake_module
from assistant.mqtt.intake import DiscoveryIntake
from assistant.tools.generated_home import GeneratedDevice, generate_home


class FakeLink:
    """Records what the intake subscribes to and the markers it sends."""

    def __init__(self) -> None:
        self.subscribed: list[list[str]] = []
        self.markers: list[str] = []

    def subscribe(self, topics: list[str]) -> None:
        self.subscribed.append(list(topics))

    def send_marker(self, nonce: str) -> None:
        self.markers.append(nonce)


def wait_until(condition, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def run_burst(intake: DiscoveryIntake, link: FakeLink, devices: list[GeneratedDevice]) -> None:
    """Play the broker: each component's retained configs, then the marker that followed."""
    intake.connected()
    answered = 0
    while True:
        wait_until(lambda n=answered: len(link.markers) > n or intake.complete)  # type: ignore[misc]
        if intake.complete:
            return
        filters = [f for f in link.subscribed if f[0].endswith("/+/config")][-1]
        component = filters[0].split("/")[1]
        for device in devices:
            if device.topic.split("/")[1] == component:
                intake.offer(device.topic, device.payload.encode())
        intake.marker(link.markers[answered])
        answered += 1


def test_components_one_at_a_time_then_one_announcement() -> None:
    home, link = Home(), FakeLink()
    heard: list[int] = []
    home.subscribe(lambda registry: heard.append(len(registry)))
    intake = DiscoveryIntake(home, "homeassistant", link.subscribe, link.send_marker)
    intake.start()
    try:
        run_burst(intake, link, generate_home(64))
        assert home.count() == 64
        assert heard == [64]  # the router's lists are rebuilt once, for the whole burst
        components = [f[0].split("/")[1] for f in link.subscribed if f[0].endswith("/+/config")]
        assert len(components) == len(set(components))  # each component asked for once
        assert {"light", "switch", "cover", "lock", "climate"} <= set(components)
        state_topics = {t for f in link.subscribed for t in f if not t.endswith("/config")}
        assert "zigbee2mqtt/Kitchen Light" in state_topics  # subscribed per device as learned
    finally:
        intake.stop()


def test_a_lost_marker_asks_for_the_component_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_module, "MARKER_QUIET_S", 0.05)
    home, link = Home(), FakeLink()
    intake = DiscoveryIntake(home, "homeassistant", link.subscribe, link.send_marker)
    intake.start()
    try:
        intake.connected()
        wait_until(lambda: len(link.markers) == 1)
        first = list(link.subscribed[-1])
        wait_until(lambda: len(link.markers) == 2)  # no marker came back: asked again
        assert link.subscribed[-1] == first
        assert not intake.complete
        intake.marker(link.markers[0])  # the lost one, late: not the one awaited now
        time.sleep(0.02)
        assert link.subscribed[-1] == first
        intake.marker(link.markers[1])
        wait_until(lambda: link.subscribed[-1] != first)  # on to the next component
    finally:
        intake.stop()


def test_a_flood_after_the_burst_is_announced_once_it_pauses() -> None:
    home, link = Home(), FakeLink()
    heard: list[int] = []
    home.subscribe(lambda registry: heard.append(len(registry)))
    intake = DiscoveryIntake(home, "homeassistant", link.subscribe, link.send_marker)
    intake.start()
    try:
        run_burst(intake, link, [])  # an empty broker
        assert heard == []
        for device in generate_home(500):
            intake.offer(device.topic, device.payload.encode())
        wait_until(lambda: heard != [], timeout_s=10)
        assert home.count() == 500
        assert heard == [500]
    finally:
        intake.stop()
