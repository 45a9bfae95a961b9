"""One house for the Home Assistant acceptance tests: a mosquitto, a real Home Assistant with
the MQTT integration, a light that echoes its commands, other publishers' discovery payloads,
and ``hearth run`` fed silence in real time (with speech on demand), all on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker import Broker, Recorder, free_port, publish_retained
from daemon import Daemon
from discovery_fixtures import FIXTURES, PROBES
from echo_device import EchoLight
from home_assistant import HomeAssistant, start_home_assistant

__all__ = ["HEARTH_UNIQUE_IDS", "NODE", "House", "open_house"]

NODE = "kitchen"
HEARTH_UNIQUE_IDS = tuple(
    f"hearth_{NODE}_{name}"
    for name in (
        "state",
        "last_transcript",
        "last_reply",
        "mute",
        "listen",
        "wake",
        "energy_today",
        "cost_today",
        "cloud_cost_today",
        "turns_today",
    )
)


@dataclass
class House:
    broker: Broker
    ha: HomeAssistant
    recorder: Recorder
    lamp: EchoLight
    hearth: Daemon
    mqtt_mark: int  # Home Assistant's log records before the MQTT integration was added


def _hearth_config(folder: Path, port: int) -> Path:
    """Hearth as a user next to Home Assistant would set it up: the language model off (the
    templates are enough here), and only the light exposed, by Home Assistant's entity id (and
    one id mistyped, which Hearth should point out)."""
    path = folder / "hearth.toml"
    path.write_text(
        f'[assistant]\nnode_id = "{NODE}"\n\n[llm]\nenabled = false\n\n'
        f"[mqtt]\nport = {port}\n\n"
        f'[journal]\npath = "{folder / "journal.sqlite"}"\n\n'
        '[energy]\ncurrency = "EUR"\n\n'
        '[expose]\nentities = ["light.desk_lamp", "light.desk_light"]\n'
    )
    return path


@contextmanager
def open_house(folder: Path) -> Iterator[House]:
    """Start everything, with its files in ``folder``; stop it all when the block ends."""
    broker = Broker(free_port(), folder)
    broker.start()
    ha: HomeAssistant | None = None
    recorder: Recorder | None = None
    lamp: EchoLight | None = None
    hearth: Daemon | None = None
    try:
        ha = start_home_assistant(folder / "home-assistant")
        mark = ha.log_mark()
        ha.add_mqtt(broker.port)
        recorder = Recorder(broker.port)
        lamp = EchoLight(broker.port, "desk_lamp", "Desk lamp")
        others = {**FIXTURES, **PROBES}.values()
        publish_retained(broker.port, [(topic, json.dumps(body)) for topic, body in others])
        hearth = Daemon(_hearth_config(folder, broker.port))
        hearth.wait_line("ready in", timeout_s=300)
        yield House(broker, ha, recorder, lamp, hearth, mark)
    finally:
        if hearth is not None and hearth.process.poll() is None:
            hearth.process.kill()
            hearth.process.wait(10)
        if lamp is not None:
            lamp.close()
        if recorder is not None:
            recorder.close()
        if ha is not None:
            ha.stop()
        broker.stop()
