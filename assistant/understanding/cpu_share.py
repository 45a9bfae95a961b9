"""The language model's share of the CPU on a machine that does other work too.

The model's thread runs one step below the audio loop's priority, so that listening never
waits for the model; llama.cpp's worker threads inherit it. Its threads sleep while they wait
(``OMP_WAIT_POLICY=PASSIVE``, set by the command line). :func:`free_cores` says how many cores
are free now, for ``hearth bench``. Measured under two busy processes on 2 cores, fewer threads
than ``llm.n_threads`` (one per free core) and a lower priority than one step both made a tool
call slower, not faster: the model's share of a busy CPU grows with its threads and its weight.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Final

__all__ = ["MODEL_NICE", "free_cores", "lower_this_thread"]

_LOGGER = logging.getLogger(__name__)

MODEL_NICE: Final = 1  # added to the model thread's nice value: below the audio loop
_SAMPLES: Final = 3  # readings of the run queue, the fewest counts (one reading is noisy)
_SAMPLE_GAP_S: Final = 0.002
_lowered = threading.local()


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _running_tasks(stat: Path = Path("/proc/stat")) -> int | None:
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("procs_running"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def free_cores() -> int:
    """Cores not taken by other running tasks now (this thread counted as not running)."""
    cores = _usable_cores()
    readings = []
    for index in range(_SAMPLES):
        if index:
            time.sleep(_SAMPLE_GAP_S)
        running = _running_tasks()
        if running is None:
            return cores
        readings.append(running)
    others = max(0, min(readings) - 1)
    return max(1, cores - others)


def lower_this_thread(step: int = MODEL_NICE) -> None:
    """Lower the calling thread's priority by ``step`` (once per thread; never the main
    thread, whose priority the whole process would keep). The worker threads llama.cpp starts
    from it inherit it."""
    if threading.current_thread() is threading.main_thread() or getattr(_lowered, "done", False):
        return
    _lowered.done = True
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + step)
    except (AttributeError, OSError) as err:  # not Linux, or not allowed: run as it is
        _LOGGER.debug("cannot lower the model thread's priority: %s", err)
