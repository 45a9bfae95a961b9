"""Reading what a Home Assistant process leaves behind: its log file and its sockets."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["LogRecord", "inet_sockets", "parse_log"]

_LOG_START: Final = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (?P<level>[A-Z]+) "
    r"\((?P<thread>[^)]*)\) \[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of ``home-assistant.log`` (continuation lines, e.g. tracebacks, included)."""

    time: str
    level: str
    logger: str
    message: str


def inet_sockets(pid: int) -> list[tuple[str, str, str]]:
    """(protocol, local address, remote address) of every inet socket process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for row in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            cols = row.split()
            if cols[9] in inodes:
                found.append((proto, _address(cols[1]), _address(cols[2])))
    return found


def _address(hex_address: str) -> str:
    """``0100007F:1F90`` (as /proc/net shows it) as ``127.0.0.1:8080``."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        text = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        text = socket.inet_ntop(socket.AF_INET6, words)
    return f"{text}:{int(port, 16)}"


def parse_log(path: Path) -> Iterator[LogRecord]:
    """The records of a ``home-assistant.log``, in order; none if it does not exist yet."""
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return
    current: dict[str, str] | None = None
    for line in text.splitlines():
        match = _LOG_START.match(line)
        if match:
            if current is not None:
                yield LogRecord(**current)
            current = match.groupdict()
            current.pop("thread")
        elif current is not None:
            current["message"] += "\n" + line
    if current is not None:
        yield LogRecord(**current)
