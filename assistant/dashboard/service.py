"""Starting the dashboard from the configuration: ``hearth run`` (the live daemon) and
``hearth dashboard`` (the journal alone)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Final

from ..config import Config, DashboardConfig
from ..errors import EX_UNAVAILABLE, ConfigError
from ..files import KIB, read_text_file
from .backend import DashboardBackend
from .security import token_problem
from .server import DashboardServer

__all__ = ["read_token", "serve_journal", "start_dashboard"]

_LOGGER = logging.getLogger(__name__)

MAX_TOKEN_FILE_BYTES: Final = 4 * KIB


def read_token(config: DashboardConfig) -> str | None:
    """The token from ``dashboard.token_file`` (its first line), ``None`` without one. The file
    must be a regular file of at most 4 KiB; raises :class:`ConfigError` naming it."""
    if not config.token_file:
        return None
    path = Path(config.token_file).expanduser()
    text = read_text_file(path, MAX_TOKEN_FILE_BYTES, "dashboard.token_file")
    lines = text.splitlines()
    token = lines[0].strip() if lines else ""
    problem = token_problem(token)
    if problem is not None:
        raise ConfigError(
            "token_weak",
            f"{path} (dashboard.token_file): {problem}; make one with: python3 -c 'import "
            "secrets; print(secrets.token_urlsafe(32))'",
        )
    return token


def start_dashboard(
    config: DashboardConfig, backend: DashboardBackend, token: str | None
) -> DashboardServer | None:
    """The dashboard for the running daemon, started; ``None`` when it is turned off, or when
    its port is taken (one warning line: the assistant runs on without it)."""
    if not config.enabled:
        return None
    server = DashboardServer(backend, config.host, config.port, token=token)
    try:
        server.start()
    except OSError as err:
        _LOGGER.warning(
            "dashboard: cannot listen on %s:%s (%s); running without the dashboard "
            "(set dashboard.port, or stop what uses it)",
            config.host,
            config.port,
            err.strerror or err,
        )
        return None
    return server


def serve_journal(config: Config, port: int | None = None) -> int:
    """``hearth dashboard``: the pages from the journal alone, until SIGINT or SIGTERM."""
    from .journal_backend import JournalBackend

    section = config.dashboard
    token = read_token(section)
    chosen = section.port if port is None else port
    server = DashboardServer(JournalBackend(lambda: config), section.host, chosen, token=token)
    try:
        server.start()
    except OSError as err:
        print(
            f"hearth: cannot listen on {section.host}:{chosen} ({err.strerror or err}); is "
            "hearth run serving the dashboard there? Set dashboard.port or use --port",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        print(f"dashboard (journal only) on {server.url}", flush=True)
        stop.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.stop()
    return 0
