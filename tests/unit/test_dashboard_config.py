"""``[dashboard]``: its defaults, the rule that an address beyond loopback needs a token file,
and how the token file is read (a regular file, one line, a size limit)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dashboard_http import TOKEN

from assistant.config import DashboardConfig, parse_config
from assistant.dashboard.security import is_loopback
from assistant.dashboard.service import read_token
from assistant.errors import ConfigError


def test_the_defaults_serve_loopback_on_8741() -> None:
    section = parse_config({}).dashboard
    assert (section.enabled, section.host, section.port, section.token_file) == (
        True,
        "127.0.0.1",
        8741,
        "",
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    assert parse_config({"dashboard": {"host": host}}).dashboard.host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "hearth.lan", "127.0.0.1.nip"])
def test_beyond_loopback_without_a_token_file_is_refused_in_one_line(host: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"dashboard": {"host": host}}, "home.toml")
    message = caught.value.message
    assert message.startswith("home.toml: 'dashboard': ") and "dashboard.token_file" in message
    assert "\n" not in message
    assert parse_config({"dashboard": {"host": host, "token_file": "/t"}}).dashboard.host == host


@pytest.mark.parametrize(
    ("section", "wanted"),
    [
        ({"port": "8741"}, "'dashboard.port': expected a whole number, not text"),
        ({"port": 70000}, "'dashboard.port'"),
        ({"enabled": "yes"}, "'dashboard.enabled'"),
        ({"hots": "x"}, "unknown key 'dashboard.hots'"),
        ({"host": ""}, "'dashboard.host'"),
    ],
)
def test_bad_keys_are_named(section: dict[str, object], wanted: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"dashboard": section})
    assert wanted in caught.value.message


def _section(path: Path | str) -> DashboardConfig:
    return DashboardConfig(host="0.0.0.0", token_file=str(path))


def test_the_token_is_the_first_line(tmp_path: Path) -> None:
    good = tmp_path / "token"
    good.write_text(f"  {TOKEN}  \nignored\n")
    assert read_token(_section(good)) == TOKEN
    assert read_token(DashboardConfig()) is None


def test_token_files_that_cannot_be_used(tmp_path: Path) -> None:
    weak = tmp_path / "weak"
    weak.write_text("short\n")
    big = tmp_path / "big"
    big.write_text(TOKEN + "\n" + "x" * 5000)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" * 20)
    empty = tmp_path / "empty"
    empty.write_text("")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it must not wait for a writer
    cases = {
        tmp_path / "missing": "cannot open it: No such file or directory",
        tmp_path: "a folder",
        fifo: "not a regular file",
        Path("/dev/zero"): "not a regular file",
        big: "more than the 4096 allowed",
        binary: "not UTF-8 text",
        weak: "16 or more printable ASCII characters",
        empty: "16 or more printable ASCII characters",
    }
    for path, wanted in cases.items():
        with pytest.raises(ConfigError) as caught:
            read_token(_section(path))
        assert wanted in caught.value.message, (path, caught.value.message)
        assert str(path) in caught.value.message and "dashboard.token_file" in caught.value.message
