"""Privacy at run time: no hub downloads, and no network peer outside the allowed hosts.

Three guards, applied by the command line before anything else happens:

* :func:`go_offline` sets the offline switches of the model hubs' libraries in the environment
  before any of them is imported (they read them at import time). Models load only from local
  files (see :mod:`assistant.models`), so nothing needs the network anyway; the switches make sure
  a library's own fallback cannot reach out either.
* :func:`check_host` decides whether the configured broker is inside ``[privacy] allowed_hosts``;
  :func:`enforce` refuses a broker outside them (exit 78) unless ``[privacy] allow_remote = true``.
* :func:`guard_connections` installs an audit hook that refuses every Python socket connection to
  an internet address outside the allowed networks, so a name that later resolves elsewhere is
  still refused when the connection is made.

How a host is checked: an IP address must lie in an allowed network. A name is resolved with the
system's resolver and every address it resolves to must lie in an allowed network, whatever its
name. Only a name that cannot be resolved yet (no DNS at boot, mDNS not up) is judged by its name:
it is allowed if it equals a listed name or ends in a listed ``*.suffix``; at connection time the
addresses it resolves to are checked again by :func:`guard_connections`.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from ..config import Config
from ..errors import ConfigError

__all__ = [
    "OFFLINE_ENVIRONMENT",
    "HostCheck",
    "Rules",
    "check_host",
    "enforce",
    "go_offline",
    "guard_connections",
    "is_loopback",
]

_LOGGER = logging.getLogger(__name__)

# Read at import time by huggingface_hub (which faster-whisper uses to fetch models by name),
# transformers and datasets; the last three turn off telemetry and update checks.
OFFLINE_ENVIRONMENT: Final = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "DO_NOT_TRACK": "1",
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


def go_offline(environ: MutableMapping[str, str] | None = None) -> None:
    """Switch the hubs' libraries offline; call before any model library is imported."""
    target = os.environ if environ is None else environ
    target.update(OFFLINE_ENVIRONMENT)


@dataclass(frozen=True, slots=True)
class Rules:
    """``allowed_hosts`` split into networks, exact names and ``*.suffix`` patterns."""

    networks: tuple[Network, ...]
    names: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Rules:
        networks: list[Network] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for entry in entries:
            value = entry.strip().lower()
            if value.startswith("*."):
                suffixes.append(value[1:])
                continue
            try:
                networks.append(ipaddress.ip_network(value.strip("[]"), strict=False))
            except ValueError:
                names.add(value.rstrip("."))
        return cls(tuple(networks), frozenset(names), tuple(suffixes))

    def network_of(self, address: str) -> Network | None:
        """The allowed network that holds ``address`` (an IP literal), or ``None``."""
        try:
            ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return next((net for net in self.networks if ip in net), None)

    def name_allowed(self, name: str) -> bool:
        value = name.lower().rstrip(".")
        return value in self.names or any(value.endswith(s) for s in self.suffixes)


@dataclass(frozen=True, slots=True)
class HostCheck:
    allowed: bool
    reason: str  # a sentence: why the host is (not) allowed
    addresses: tuple[str, ...] = ()


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_loopback(host: str, resolve: Resolver = _resolve) -> bool:
    """True when ``host`` is this machine (every address it resolves to is loopback)."""
    try:
        addresses = [host] if is_ip(host) else resolve(host, 0)
    except OSError:
        return host.lower() == "localhost"
    loopback = Rules.parse(["127.0.0.0/8", "::1/128"])
    return bool(addresses) and all(loopback.network_of(a) for a in addresses)


def check_host(host: str, port: int, rules: Rules, resolve: Resolver = _resolve) -> HostCheck:
    """Whether ``host`` may be connected to under ``rules`` (see the module's docstring)."""
    if is_ip(host):
        net = rules.network_of(host)
        if net is None:
            return HostCheck(False, f"{host} is outside the allowed networks", (host,))
        return HostCheck(True, f"{host} is in {net}", (host,))
    try:
        addresses = resolve(host, port)
    except OSError:
        if rules.name_allowed(host):
            return HostCheck(True, f"{host} cannot be resolved now; its name is allowed")
        return HostCheck(
            False, f"{host} cannot be resolved, and its name is not in the allowed names"
        )
    outside = [a for a in addresses if rules.network_of(a) is None]
    if outside or not addresses:
        return HostCheck(
            False,
            f"{host} resolves to {', '.join(outside) or 'nothing'}, outside the allowed networks",
            tuple(addresses),
        )
    nets = sorted({str(rules.network_of(a)) for a in addresses})
    return HostCheck(
        True, f"{host} resolves to {', '.join(addresses)} (in {', '.join(nets)})", tuple(addresses)
    )


def broker_check(config: Config, resolve: Resolver = _resolve) -> HostCheck:
    """The configured broker against ``[privacy] allowed_hosts``."""
    return check_host(
        config.mqtt.host, config.mqtt.port, Rules.parse(config.privacy.allowed_hosts), resolve
    )


def enforce(config: Config, resolve: Resolver = _resolve) -> None:
    """Refuse a broker outside the allowed hosts (``ConfigError``, exit 78) unless
    ``allow_remote``; otherwise guard every connection this process makes."""
    if config.privacy.allow_remote:
        _LOGGER.warning(
            "[privacy] allow_remote = true: the broker %s may be anywhere", config.mqtt.host
        )
        return
    check = broker_check(config, resolve)
    if not check.allowed:
        raise ConfigError(
            "broker_not_allowed",
            f"mqtt.host: {check.reason}, so Hearth refuses to connect to it; add the host or "
            "its network to [privacy] allowed_hosts, or set [privacy] allow_remote = true if "
            "the broker is meant to be outside your home network",
        )
    _LOGGER.debug("broker allowed: %s", check.reason)
    rules = Rules.parse(config.privacy.allowed_hosts)
    for key, uri in (("stt.uri", config.stt.uri), ("tts.uri", config.tts.uri)):
        if not uri:
            continue
        from ..voice.wyoming_speech import parse_uri

        host, port = parse_uri(uri)
        server = check_host(host, port, rules, resolve)
        if not server.allowed:
            raise ConfigError(
                "server_not_allowed",
                f"{key}: {server.reason}, so Hearth refuses to send it audio or text; add the "
                "host or its network to [privacy] allowed_hosts, or set [privacy] allow_remote "
                "= true if the server is meant to be outside your home network",
            )
    guard_connections(rules, resolve)


_GUARDED: list[Rules] = []  # audit hooks cannot be removed: install one, update its rules


def guard_connections(rules: Rules, resolve: Resolver = _resolve) -> None:
    """Refuse (``PermissionError``) any Python socket connect or sendto to an internet address
    outside ``rules``' networks. Unix sockets (systemd's notify socket) are not affected."""
    if _GUARDED:
        _GUARDED[0] = rules
        return
    _GUARDED.append(rules)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in ("socket.connect", "socket.sendto"):
            return
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return
        host = str(address[0])
        current = _GUARDED[0]
        if is_ip(host):
            allowed = current.network_of(host) is not None
        else:
            try:
                allowed = all(current.network_of(a) for a in resolve(host, int(address[1])))
            except OSError:
                allowed = False
        if not allowed:
            _LOGGER.error("refused a connection to %s: outside [privacy] allowed_hosts", host)
            raise PermissionError(
                errno.EACCES, f"{host} is outside [privacy] allowed_hosts; Hearth refuses it"
            )

    sys.addaudithook(hook)
