"""systemd's notify protocol, with a datagram socket standing in for systemd."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from broker import Broker
from hearth_cli import HEARTH, write_config

from assistant.service.notify import Notifier, Watchdog


def listen(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    return sock


def drain(sock: socket.socket, until: float) -> list[str]:
    lines: list[str] = []
    while time.monotonic() < until:
        try:
            lines.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
    return lines


def test_outside_systemd_nothing_happens(monkeypatch: object) -> None:
    notifier = Notifier("")
    assert not notifier.enabled
    notifier.ready("x")  # no socket: no error


def test_watchdog_pings_only_while_alive(tmp_path: Path, monkeypatch: object) -> None:
    sock = listen(tmp_path / "notify")
    os.environ["WATCHDOG_USEC"] = "200000"
    try:
        alive = [True]
        dog = Watchdog(Notifier(str(tmp_path / "notify")), lambda: alive[0])
        dog.start()
        pings = drain(sock, time.monotonic() + 0.6)
        alive[0] = False
        drain(sock, time.monotonic() + 0.15)
        after = drain(sock, time.monotonic() + 0.5)
        dog.stop()
    finally:
        del os.environ["WATCHDOG_USEC"]
        sock.close()
    assert pings.count("WATCHDOG=1") >= 3
    assert after == []


def test_daemon_tells_systemd_ready_status_and_stopping(tmp_path: Path, broker: Broker) -> None:
    sock = listen(tmp_path / "notify")
    config = write_config(tmp_path, broker.port, node_id="notified")
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "400000"}
    process = subprocess.Popen(
        [HEARTH, "run", "--config", str(config), "--input", "-", "--output", str(tmp_path / "o")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while "READY=1" not in lines and time.monotonic() < deadline:
            lines += drain(sock, time.monotonic() + 0.5)
        assert process.stdin is not None
        for _ in range(15):  # 1.2 s of silence, paced like a microphone
            process.stdin.write(bytes(2560))
            process.stdin.flush()
            time.sleep(0.08)
        lines += drain(sock, time.monotonic() + 0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        lines += drain(sock, time.monotonic() + 0.3)
    finally:
        if process.poll() is None:
            process.kill()
        sock.close()
    assert "READY=1" in lines
    assert "STATUS=listening for hey jarvis; broker connected; 0 turns today" in lines
    assert "WATCHDOG=1" in lines
    assert lines[-2:] == ["STOPPING=1", "STATUS=stopping"]
