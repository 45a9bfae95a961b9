"""The model's share of the CPU: the free cores counted, a lower priority than the audio loop
for the thread that runs it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from assistant.understanding import cpu_share


def test_the_run_queue_is_read(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3\nprocs_running 5\nprocs_blocked 0\n")
    assert cpu_share._running_tasks(stat) == 5
    stat.write_text("nothing here\n")
    assert cpu_share._running_tasks(stat) is None


@pytest.mark.parametrize(("running", "cores", "expected"), [(1, 2, 2), (2, 2, 1), (3, 2, 1)])
def test_the_free_cores(
    monkeypatch: pytest.MonkeyPatch, running: int, cores: int, expected: int
) -> None:
    monkeypatch.setattr(cpu_share, "_running_tasks", lambda: running)
    monkeypatch.setattr(cpu_share, "_usable_cores", lambda: cores)
    assert cpu_share.free_cores() == expected


def test_the_model_thread_runs_below_the_caller() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []

    def work() -> None:
        cpu_share.lower_this_thread()
        cpu_share.lower_this_thread()  # once per thread
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [min(19, before + cpu_share.MODEL_NICE)]
    cpu_share.lower_this_thread()  # the main thread keeps its priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
