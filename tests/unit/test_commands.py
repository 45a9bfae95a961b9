"""The inbound MQTT API: every payload gives a command or a refusal that names the topic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.mqtt.commands import (
    MAX_PAYLOAD_BYTES,
    Ask,
    Cancel,
    CommandError,
    Listen,
    Mute,
    Say,
    parse_command,
)

BASE = "hearth/kitchen"


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("say", b"Dinner is ready.", Say("Dinner is ready.")),
        ("say", b'{"text": "Dinner is ready."}', Say("Dinner is ready.")),
        ("ask", b"turn on the kitchen light", Ask("turn on the kitchen light")),
        ("ask", b"  what\x07 time\nis it  ", Ask("what time is it")),
        ("ask", "wie spät ist es 🕒".encode(), Ask("wie spät ist es 🕒")),
        ("listen", b"", Listen()),
        ("listen", b"LISTEN", Listen()),
        ("mute", b"ON", Mute(True)),
        ("mute", b"off", Mute(False)),
        ("cancel", b"", Cancel()),
    ],
)
def test_valid_commands(name: str, payload: bytes, expected: object) -> None:
    assert parse_command(BASE, f"{BASE}/cmd/{name}", payload) == expected


@pytest.mark.parametrize(
    ("name", "payload", "code"),
    [
        ("say", b"", "bad_command"),
        ("ask", b"   \n\t", "bad_command"),
        ("ask", b"\xff\xfe not utf-8", "bad_encoding"),
        ("ask", b"x" * (MAX_PAYLOAD_BYTES + 1), "payload_too_large"),
        ("say", b'{"text": 5}', "bad_command"),
        ("say", b"{not json", "bad_command"),
        ("mute", b"maybe", "bad_command"),
        ("reboot", b"now", "unknown_command"),
    ],
)
def test_refusals_name_the_topic(name: str, payload: bytes, code: str) -> None:
    topic = f"{BASE}/cmd/{name}"
    with pytest.raises(CommandError) as caught:
        parse_command(BASE, topic, payload)
    assert caught.value.code == code
    assert caught.value.message.startswith(topic)
    assert "\n" not in caught.value.message


@given(name=st.text(max_size=12), payload=st.binary(max_size=5000))
def test_any_payload_gives_a_command_or_a_refusal(name: str, payload: bytes) -> None:
    try:
        command = parse_command(BASE, f"{BASE}/cmd/{name}", payload)
    except CommandError as err:
        assert err.message
        return
    assert isinstance(command, Say | Ask | Listen | Mute | Cancel)
    if isinstance(command, Say | Ask):
        assert command.text and command.text == command.text.strip()
        assert all(ch.isprintable() for ch in command.text)
