"""``[dashboard]``: the local web dashboard, and the rule that an address beyond loopback needs a
token file."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import Section

__all__ = ["DashboardConfig"]


class DashboardConfig(Section):
    """The local web dashboard that ``hearth run`` serves (``hearth dashboard`` serves it from
    the journal alone). Bound to loopback it needs no login; any other address needs
    ``token_file``, and then every request carries the token."""

    enabled: bool = Field(True, description="false: hearth run serves no dashboard.")
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address to listen on; beyond loopback only with token_file.",
    )
    port: int = Field(8741, ge=0, le=65535, description="TCP port; 0: any free one.")
    token_file: str = Field(
        "",
        description="A file whose first line is the token (16 or more printable ASCII "
        "characters); empty: no token, loopback only.",
    )

    @model_validator(mode="after")
    def _beyond_loopback_needs_token(self) -> DashboardConfig:
        from ..dashboard.security import is_loopback

        if not is_loopback(self.host) and not self.token_file:
            raise ValueError(
                f"host {self.host!r} reaches beyond this machine, so set dashboard.token_file "
                "too (a file with one long random line), or bind to 127.0.0.1"
            )
        return self
