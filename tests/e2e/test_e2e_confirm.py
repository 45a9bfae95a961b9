"""Spoken confirmation end to end: `hearth run --input` with a real broker."""

from __future__ import annotations

import json
from pathlib import Path

from broker import Broker, Recorder
from hearth_cli import run_hearth
from speech import utterance, write_wav

LOCK = """
[llm]
enabled = false

[[entities]]
domain = "lock"
name = "Front Door"
unique_id = "front_door"
command_topic = "zigbee2mqtt/Front Door/set"
suggested_area = "Hall"
"""


def test_unlock_then_yes_then_no(tmp_path: Path, broker: Broker, recorder: Recorder) -> None:
    config = tmp_path / "lock.toml"
    config.write_text(f'[assistant]\nnode_id = "porch"\n[mqtt]\nport = {broker.port}\n{LOCK}')
    # "Please": tiny.en hears a sentence-initial "Unlock the front door" as "I'm off the front
    # door" in this voice (see the README's limits)
    audio = utterance(
        1.0,
        "Hey Jarvis.",
        0.6,
        "Please unlock the front door.",
        1.0,
        "Yes.",
        2.5,
        "Hey Jarvis.",
        0.6,
        "Please unlock the front door.",
        1.0,
        "No.",
        2.5,
    )
    wav = write_wav(tmp_path / "in.wav", audio)
    result = run_hearth(
        "run", "--config", str(config), "--input", str(wav), "--output", str(tmp_path / "out.wav")
    )
    assert result.returncode == 0, result.stderr

    recorder.wait_for("hearth/porch/availability", 2)
    assert recorder.on("zigbee2mqtt/Front Door/set") == ["UNLOCK"]
    replies = [json.loads(p)["text"] for p in recorder.on("hearth/porch/event/reply")]
    assert replies == [
        "Do you want me to unlock the Front Door?",
        "Unlocked the Front Door.",
        "Do you want me to unlock the Front Door?",
        "Okay, I won't.",
    ]
    listens = [json.loads(p)["trigger"] for p in recorder.on("hearth/porch/event/listen")]
    assert listens == ["follow_up", "follow_up"]
