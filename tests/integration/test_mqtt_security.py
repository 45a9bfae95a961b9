"""TLS, username and password, MQTT 3.1.1 and 5, against a mosquitto that requires them."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import free_port
from hearth_cli import run_hearth

from assistant.config import MqttConfig
from assistant.home.entities import MqttMessage
from assistant.mqtt.link import MqttLink


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """mosquitto on TLS with a CA made here, anonymous access off, user hearth / s3cret."""
    work = tmp_path_factory.mktemp("tls")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        cwd=work,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=work,
    )
    (work / "san.ext").write_text("subjectAltName = IP:127.0.0.1\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
        cwd=work,
    )
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(work / "passwd"), "hearth", "s3cret"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    (work / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {work}/passwd\n"
        f"cafile {work}/ca.crt\ncertfile {work}/server.crt\nkeyfile {work}/server.key\n"
        "persistence false\nuser root\n"
    )
    process = subprocess.Popen(
        ["mosquitto", "-c", str(work / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    (work / "password").write_text("s3cret\n")
    (work / "wrong").write_text("guess\n")
    yield port, work
    process.terminate()
    process.wait(10)


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_tls_with_password(secure_broker: tuple[int, Path], protocol: str) -> None:
    port, work = secure_broker
    config = MqttConfig(  # type: ignore[call-arg]
        port=port,
        tls=True,
        ca_file=str(work / "ca.crt"),
        username="hearth",
        password_file=str(work / "password"),
        protocol=protocol,
    )
    link = MqttLink(config, "secure")
    link.start()
    try:
        assert link.wait_connected(10)
        link.publish(MqttMessage("home/test/set", "ON"))
        assert link.flush(5)
    finally:
        link.stop()
    assert link.callback_errors == []


def test_wrong_password_never_connects(secure_broker: tuple[int, Path]) -> None:
    port, work = secure_broker
    config = MqttConfig(  # type: ignore[call-arg]
        port=port,
        tls=True,
        ca_file=str(work / "ca.crt"),
        username="hearth",
        password_file=str(work / "wrong"),
    )
    link = MqttLink(config, "intruder")
    link.start()
    try:
        assert not link.wait_connected(3)
    finally:
        link.stop()
    assert link.callback_errors == []


def test_ask_over_tls(secure_broker: tuple[int, Path], tmp_path: Path) -> None:
    port, work = secure_broker
    config = tmp_path / "tls.toml"
    config.write_text(
        f'[assistant]\nnode_id = "tls"\n[llm]\nenabled = false\n[mqtt]\nport = {port}\ntls = true\n'
        f'ca_file = "{work}/ca.crt"\nusername = "hearth"\npassword_file = "{work}/password"\n'
        '[[entities]]\ndomain = "switch"\nname = "Kettle"\nunique_id = "kettle"\n'
        'command_topic = "home/kettle/set"\n'
    )
    result = run_hearth("ask", "--config", str(config), "turn on the kettle")
    assert result.stdout.strip() == "Turned on the Kettle.", result.stderr
    missing = tmp_path / "missing.toml"
    missing.write_text(f'[mqtt]\nport = {port}\ntls = true\nca_file = "{work}/nope.crt"\n')
    result = run_hearth("ask", "--config", str(missing), "what time is it")
    assert result.returncode == 78 and "mqtt.ca_file" in result.stderr
