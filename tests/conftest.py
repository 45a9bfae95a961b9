"""Shared fixtures: a real mosquitto on a free loopback port, an MQTT recorder, and a state
folder for Hearth's files. The helpers themselves live in ``tests/support``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import Broker, Recorder, free_port
from hypothesis import settings

# speed is measured by `hearth bench`, not asserted by the tests: no per-example deadline
settings.register_profile("hearth", deadline=None)
settings.load_profile("hearth")


@pytest.fixture(scope="session", autouse=True)
def state_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Hearth's files (journal, lists, timers) go to a test folder, never to the home folder
    of whoever runs the tests: ``$STATE_DIRECTORY`` is where Hearth keeps them when
    ``assistant.data_dir`` is not set, and subprocesses inherit it."""
    folder = tmp_path_factory.mktemp("state")
    before = os.environ.get("STATE_DIRECTORY")
    os.environ["STATE_DIRECTORY"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("STATE_DIRECTORY", None)
    else:
        os.environ["STATE_DIRECTORY"] = before


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    instance = Broker(free_port(), tmp_path_factory.mktemp("broker"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def recorder(broker: Broker) -> Iterator[Recorder]:
    rec = Recorder(broker.port)
    yield rec
    rec.close()
