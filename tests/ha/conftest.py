"""The house every Home Assistant acceptance test uses, started once for the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ha_house import House, open_house
from home_assistant import HA_VENV


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[House]:
    if not (HA_VENV / "bin" / "hass").exists():
        pytest.fail(
            f"no Home Assistant in {HA_VENV}: run `make ha-venv` (scripts/setup-ha.sh, which "
            "needs Python 3.13), or set HA_VENV"
        )
    with open_house(tmp_path_factory.mktemp("house")) as built:
        yield built
