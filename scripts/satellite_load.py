"""What each extra Wyoming satellite costs the Hearth that serves it: the ``hearth run``
process's CPU (percent of one core) and resident memory with 0, 1, 2 and 3 satellites
streaming, and the satellite process's own CPU. Real wyoming-satellite 1.0.0
(scripts/setup-satellite.sh), headless, its microphone a program that plays room noise at
real time; the Hearth's own microphone is fed noise at real time too. No commands are said: this
is the cost of listening.

    PYTHONPATH=. .venv/bin/python scripts/satellite_load.py [--seconds 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from broker import Broker, free_port  # noqa: E402
from house import House  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def satellite(python: str, folder: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    support = ROOT / "tests" / "support"
    speaker = f"{sys.executable} {support / 'paced_speaker.py'} {folder / 'out.raw'} 22050"
    process = subprocess.Popen(
        [python, "-m", "wyoming_satellite", "--name", name, "--uri", f"tcp://127.0.0.1:{port}",
         "--no-zeroconf",
         "--mic-command", f"{sys.executable} {support / 'paced_mic.py'} {folder}",
         "--snd-command", speaker],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    raise SystemExit(f"wyoming-satellite {name} did not start")


def phase(python: str, folder: Path, count: int, seconds: float) -> dict[str, float]:
    folder.mkdir(parents=True, exist_ok=True)
    broker = Broker(free_port(), folder)
    broker.start()
    ports = [free_port() for _ in range(count)]
    satellites = [
        satellite(python, folder / f"sat{n}", f"room{n}", port) for n, port in enumerate(ports)
    ]
    extra = "".join(
        f'\n[[rooms.satellites]]\nname = "room{n}"\nhost = "127.0.0.1"\nport = {port}\n'
        for n, port in enumerate(ports)
    )
    house = House(folder, broker.port)
    try:
        room = house.add("kitchen", extra=extra)
        house.wait_ready("kitchen")
        deadline = time.monotonic() + 60
        while sum(" connected; " in line for line in room.lines) < count:
            if time.monotonic() > deadline:
                raise SystemExit("the satellites did not all connect")
            time.sleep(0.2)
        time.sleep(5.0)  # past the start
        pid = room.process.pid
        before = cpu_s(pid), [cpu_s(s.pid) for s in satellites], time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - before[2]
        hearth_cpu = 100 * (cpu_s(pid) - before[0]) / wall
        sat_cpu = [
            100 * (cpu_s(s.pid) - b) / wall for s, b in zip(satellites, before[1], strict=True)
        ]
        return {
            "satellites": count,
            "hearth_cpu_pct": round(hearth_cpu, 1),
            "hearth_rss_mb": round(rss_mb(pid), 1),
            "satellite_cpu_pct": round(sum(sat_cpu) / len(sat_cpu), 1) if sat_cpu else 0.0,
            "satellite_rss_mb": round(sum(rss_mb(s.pid) for s in satellites) / count, 1)
            if count
            else 0.0,
        }
    finally:
        house.stop()
        for process in satellites:
            process.kill()
            process.wait(10)
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    venv = ROOT / ".venv-satellite"
    subprocess.run([str(ROOT / "scripts" / "setup-satellite.sh"), str(venv)], check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hearth-satellites-") as name:
        for count in (0, 1, 2, 3):
            rows.append(
                phase(str(venv / "bin" / "python"), Path(name) / f"p{count}", count, args.seconds)
            )
            if not args.json:
                print(rows[-1], flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
