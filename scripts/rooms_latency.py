"""What arbitration adds between a wake word and listening: the wall time of the claim board's
decision (the claim sent, the wait for the other rooms, the ``won`` sent) for one, two and three
Hearths on a real mosquitto on loopback, each with the daemon's own MQTT link and claim board.
Every round all rooms hear the wake word at the same moment, at levels drawn at random; the
nearest answers. Prints, per number of rooms, the median and 90th percentile of the added time
for the room that answered and for every room, the reasons, and how many rounds had exactly one
answer.

    PYTHONPATH=. .venv/bin/python scripts/rooms_latency.py [--rounds 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from broker import Broker, free_port  # noqa: E402

from assistant.config import MqttConfig, RoomsConfig  # noqa: E402
from assistant.mqtt.link import MqttLink  # noqa: E402
from assistant.rooms.board import ClaimBoard, Seat, Verdict  # noqa: E402

NODES = ("kitchen", "hall", "bedroom")
BETWEEN_S = 1.3  # rounds further apart than a claim is remembered as "just before"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def house(port: int, count: int) -> tuple[list[MqttLink], list[ClaimBoard]]:
    links, boards = [], []
    for node in NODES[:count]:
        link = MqttLink(MqttConfig(port=port), node)
        board = ClaimBoard(RoomsConfig(), node, send=link.send, emit=lambda event: None)
        link.listen(ClaimBoard.topics, board.on_message)
        link.start()
        if not link.wait_connected(10):
            raise SystemExit(f"{node}: no broker on 127.0.0.1:{port}")
        link.mark_ready()
        links.append(link)
        boards.append(board)
    time.sleep(1.0)  # every board has read the others' retained availability
    return links, boards


Round = list[tuple[Verdict, float, float]]  # each room's verdict, added ms, level dB


def one_round(seats: list[Seat], levels: list[float], heard_at: float) -> Round:
    """Every room decides at once, each in its own thread, as its hearing loop would."""
    verdicts: list[Any] = [None] * len(seats)
    start = threading.Barrier(len(seats))

    def decide(i: int) -> None:
        start.wait()
        began = time.perf_counter()
        verdict = seats[i].decide(0.9, levels[i], heard_at)
        verdicts[i] = (verdict, 1000 * (time.perf_counter() - began), levels[i])

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(len(seats))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return verdicts


def rounds(boards: list[ClaimBoard], count: int, rng: random.Random) -> list[Round]:
    seats = [board.seat(board.node_id, board.node_id.title()) for board in boards]
    results: list[Round] = []
    for _ in range(count):
        levels = [rng.uniform(10.0, 40.0) for _ in seats]
        results.append(one_round(seats, levels, time.time()))
        time.sleep(BETWEEN_S)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(16)
    report: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        broker = Broker(free_port(), Path(folder))
        broker.start()
        try:
            for count in (1, 2, 3):
                links, boards = house(broker.port, count)
                try:
                    results = rounds(boards, args.rounds, rng)
                finally:
                    for link in links:
                        link.stop()
                winners = [ms for r in results for v, ms, _ in r if v.won]
                every = [ms for r in results for _, ms, _ in r]
                report[str(count)] = {
                    "rounds": len(results),
                    "exactly_one": sum(sum(v.won for v, _, _ in r) == 1 for r in results),
                    "loudest": sum(max(r, key=lambda x: x[2])[0].won for r in results),
                    "answered_ms": [statistics.median(winners), percentile(winners, 0.9)],
                    "every_room_ms": [statistics.median(every), percentile(every, 0.9)],
                    "max_ms": max(every),
                    "reasons": dict(Counter(v.reason for r in results for v, _, _ in r)),
                }
        finally:
            broker.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for rooms, row in report.items():
        print(
            f"{rooms} room(s), {row['rounds']} rounds: exactly one answered {row['exactly_one']}, "
            f"the loudest {row['loudest']}; "
            f"added before listening, the room that answered: median "
            f"{row['answered_ms'][0]:.2f} ms, p90 {row['answered_ms'][1]:.2f} ms; every room: "
            f"median {row['every_room_ms'][0]:.2f} ms, p90 {row['every_room_ms'][1]:.2f} ms, "
            f"max {row['max_ms']:.2f} ms; {row['reasons']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
