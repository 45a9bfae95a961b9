"""What the dashboard costs the assistant: the hearing loop's time per 80 ms frame, the CPU of
the dashboard's threads and of the whole process, and the resident memory, with the real wake
word, VAD and speech-to-text models on audio paced in real time.

    PYTHONPATH=. .venv/bin/python scripts/dashboard_load.py [--seconds 40] [--json]

Four phases of ``--seconds`` each, a spoken turn ("Hey Jarvis. Turn on the kitchen light.")
every 15 s: no dashboard; the dashboard with no page open; one headless Chromium on the live
page; eight event streams (the most the dashboard allows). The frame time is the loop's own
work on a frame while it waits for the wake word (wake word score, level tap, commands between
frames), from handing the frame over until the loop asks for the next one; frames inside a
turn are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

TICKS = os.sysconf("SC_CLK_TCK")
FRAME = 1280
TURN_EVERY_S = 15.0


class PacedSource:
    """Silence in real time, with a spoken command every ``TURN_EVERY_S``; records the loop's
    time on each frame it takes while no turn is open."""

    live = True

    def __init__(self, speech: np.ndarray, activity: Any) -> None:
        self._speech = speech
        self._activity = activity
        self.stopped = threading.Event()
        self.frame_ms: list[float] = []

    def frames(self) -> Iterator[np.ndarray]:
        silent = np.zeros(FRAME, dtype=np.int16)
        pending: list[np.ndarray] = []
        started = time.monotonic()
        next_turn = started + 3.0
        due = started
        while not self.stopped.is_set():
            now = time.monotonic()
            if now >= next_turn:
                pending = [self._speech[i : i + FRAME] for i in range(0, len(self._speech), FRAME)]
                next_turn += TURN_EVERY_S
            frame = pending.pop(0) if pending else silent
            if len(frame) < FRAME:
                frame = np.pad(frame, (0, FRAME - len(frame)))
            waiting = not pending and not self._activity.in_turn
            handed = time.perf_counter()
            yield frame
            if waiting and not self._activity.in_turn:
                self.frame_ms.append(1000 * (time.perf_counter() - handed))
            due += 0.08
            time.sleep(max(0.0, due - time.monotonic()))

    def close(self) -> None:
        self.stopped.set()


def _thread_cpu_s(native_ids: set[int]) -> float:
    total = 0.0
    for tid in native_ids:
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def _dashboard_threads() -> set[int]:
    return {
        t.native_id
        for t in threading.enumerate()
        if t.native_id is not None
        and (t.name.startswith("dashboard") or "process_request" in t.name)
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _chromium_cpu_s() -> float:
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"chromium" not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def _stream(port: int, stop: threading.Event) -> None:
    """One ``/api/events`` client that reads everything until stopped."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except TimeoutError:
                continue


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _phase(name: str, seconds: float, source: PacedSource) -> dict[str, Any]:
    source.frame_ms.clear()
    threads = _dashboard_threads()
    before = (_thread_cpu_s(threads), time.process_time(), _chromium_cpu_s())
    wall = time.monotonic()
    time.sleep(seconds)
    threads |= _dashboard_threads()
    after = (_thread_cpu_s(threads), time.process_time(), _chromium_cpu_s())
    span = time.monotonic() - wall
    frames = list(source.frame_ms)
    return {
        "phase": name,
        "frames": len(frames),
        "frame_ms_median": round(statistics.median(frames), 2),
        "frame_ms_p90": round(_percentile(frames, 0.9), 2),
        "frame_ms_p99": round(_percentile(frames, 0.99), 2),
        "frame_ms_max": round(max(frames), 2),
        "process_cpu_pct": round(100 * (after[1] - before[1]) / span, 1),
        "dashboard_threads_cpu_pct": round(100 * (after[0] - before[0]) / span, 2),
        "chromium_cpu_pct": round(100 * (after[2] - before[2]) / span, 1),
        "rss_mb": round(_rss_mb(), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each phase")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()

    from assistant.service.privacy import go_offline

    go_offline()
    from speech import utterance

    from assistant.assemble import assemble
    from assistant.config import Config
    from assistant.events import EventBus
    from assistant.home.actions import MemoryPublisher

    state = Path(tempfile.mkdtemp(prefix="hearth-dashboard-load-"))
    config = Config.model_validate(
        {
            "assistant": {"data_dir": str(state), "node_id": "kitchen"},
            "llm": {"enabled": False},
            "dashboard": {"port": 0},
            "entities": [
                {
                    "domain": "light",
                    "name": "Kitchen Light",
                    "unique_id": "kitchen_light",
                    "command_topic": "k/set",
                }
            ],
        }
    )
    bus = EventBus()
    hearth = assemble(config, bus=bus, publisher=MemoryPublisher(), listen=True, speak=False)
    loop = hearth.hearing_loop(None)
    speech = utterance("Hey Jarvis.", 0.6, "Turn on the kitchen light.", 1.5)
    source = PacedSource(speech, loop.activity)
    from assistant.journal.recording import start_journal

    recording = start_journal(config, bus, None, loop)
    runner = threading.Thread(target=loop.run, args=(source,), name="hearing", daemon=True)
    runner.start()
    time.sleep(2.0)
    results = [_phase("no dashboard", args.seconds, source)]
    rss_before = _rss_mb()

    from assistant.dashboard.hearth_backend import HearthBackend
    from assistant.dashboard.server import DashboardServer

    backend = HearthBackend(lambda: hearth, loop)
    server = DashboardServer(backend, "127.0.0.1", 0)
    server.start()
    results.append(_phase("dashboard, no page", args.seconds, source))

    from browser import chrome

    with tempfile.TemporaryDirectory() as profile:
        driver = chrome(Path(profile))
        try:
            driver.get(server.url)
            results.append(_phase("one live page (Chromium)", args.seconds, source))
            counts = driver.execute_script("return window.hearthCounts")
        finally:
            driver.quit()
    stop = threading.Event()
    readers = [
        threading.Thread(target=_stream, args=(server.port, stop), daemon=True) for _ in range(8)
    ]
    for reader in readers:
        reader.start()
    time.sleep(0.5)
    results.append(_phase("eight event streams", args.seconds, source))
    stop.set()
    for reader in readers:
        reader.join(5)
    rss_after = _rss_mb()
    hub = server.hub.stats
    server.stop()
    backend.close()
    loop.stop()
    source.close()
    runner.join(10)
    if recording is not None:
        recording.close()
    report = {
        "phases": results,
        "dashboard_rss_mb": round(rss_after - rss_before, 1),
        "page_counts": counts,
        "hub": {"levels_in": hub.levels_in, "levels_out": hub.levels_out, "sent": hub.sent},
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{'phase':28} {'frames':>6} {'median':>7} {'p90':>6} {'p99':>6} {'max':>7} "
        f"{'proc %':>7} {'dash %':>7} {'chrome %':>8} {'RSS MB':>7}"
    )
    for r in results:
        print(
            f"{r['phase']:28} {r['frames']:>6} {r['frame_ms_median']:>7} {r['frame_ms_p90']:>6} "
            f"{r['frame_ms_p99']:>6} {r['frame_ms_max']:>7} {r['process_cpu_pct']:>7} "
            f"{r['dashboard_threads_cpu_pct']:>7} {r['chromium_cpu_pct']:>8} {r['rss_mb']:>7}"
        )
    print(f"dashboard memory (RSS after - before): {report['dashboard_rss_mb']} MB")
    print(f"load average {report['load_average']} on {report['cpus']} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
