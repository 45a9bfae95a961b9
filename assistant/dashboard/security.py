"""Who may read and who may write: the token rule, the Host rule, the same-origin rule.

Pure functions of the request's headers, so they are tested without a socket.

- Token: when a token is configured, a request carries it as ``Authorization: Bearer TOKEN``
  or as the cookie the dashboard sets after one visit with ``?token=TOKEN``. The cookie holds
  an HMAC of the token, not the token.
- Host: without a token the dashboard is on loopback; it then answers only requests whose
  ``Host`` is a loopback name, so a web page elsewhere cannot reach it by DNS rebinding.
- Same origin: a write (POST) must say where it comes from, ``Origin`` (or, without it,
  ``Referer``) naming the same host and port as ``Host``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Final
from urllib.parse import urlsplit

__all__ = ["COOKIE_NAME", "MIN_TOKEN_CHARS", "Access", "Headers", "is_loopback", "token_problem"]

COOKIE_NAME: Final = "hearth_dashboard"
_COOKIE_CONTEXT: Final = b"hearth-dashboard-cookie-v1"
MIN_TOKEN_CHARS: Final = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) reaches only this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_problem(token: str) -> str | None:
    """What is wrong with ``token`` as a dashboard token, or ``None`` when it will do."""
    if len(token) < MIN_TOKEN_CHARS or not token.isascii() or not token.isprintable():
        return f"the token must be one line of {MIN_TOKEN_CHARS} or more printable ASCII characters"
    return None


class Headers(Mapping[str, str]):
    """Request headers, looked up without regard to case (the last of repeated ones wins)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = {name.lower(): value for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _host_name(host: str) -> str:
    """``[::1]:8741`` → ``::1``; ``localhost:8741`` → ``localhost``."""
    host = host.strip()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass(frozen=True, slots=True)
class Access:
    """The rules for one server: its token (``None``: loopback without login)."""

    token: str | None

    @property
    def needs_token(self) -> bool:
        return self.token is not None

    def cookie_value(self) -> str:
        """What the login cookie holds: an HMAC of the token, never the token itself."""
        if self.token is None:
            raise ValueError("no token is configured, so there is no cookie")
        return hmac.new(self.token.encode(), _COOKIE_CONTEXT, hashlib.sha256).hexdigest()

    def token_matches(self, offered: str) -> bool:
        if self.token is None:
            return False
        return hmac.compare_digest(offered.encode("utf-8", "replace"), self.token.encode())

    def bearer(self, headers: Mapping[str, str]) -> bool:
        """Whether ``Authorization: Bearer`` carries the token (no browser adds it by itself,
        so such a request is not a cross-site one)."""
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(value.strip())

    def authorized(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries the token (always true when none is configured)."""
        if self.token is None:
            return True
        if self.bearer(headers):
            return True
        raw = headers.get("Cookie", "")
        if not raw:
            return False
        try:
            cookies = SimpleCookie(raw)
        except CookieError:
            return False
        morsel = cookies.get(COOKIE_NAME)
        return morsel is not None and hmac.compare_digest(
            morsel.value.encode("utf-8", "replace"), self.cookie_value().encode()
        )

    def host_allowed(self, host: str | None) -> bool:
        """Without a token, only a loopback ``Host``; with one, any (the token decides)."""
        if self.token is not None:
            return True
        return bool(host) and is_loopback(_host_name(host or ""))

    @staticmethod
    def same_origin(headers: Mapping[str, str]) -> bool:
        """Whether a write comes from a page of this dashboard."""
        host = headers.get("Host", "").strip().lower()
        if not host:
            return False
        origin = headers.get("Origin")
        if origin is not None:
            where = origin.strip()
        else:
            where = headers.get("Referer", "").strip()
            if not where:
                return False
        try:
            parts = urlsplit(where)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host
