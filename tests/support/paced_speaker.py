"""A speaker for a headless wyoming-satellite (its --snd-command): raw s16le from standard
input, appended to a file at the pace it would be heard (the rate given, mono)."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(path: Path, rate_hz: int) -> None:
    chunk = rate_hz // 10 * 2  # 100 ms of 16-bit mono
    started = time.monotonic()
    written = 0
    with path.open("ab") as out:
        while data := sys.stdin.buffer.read(chunk):
            out.write(data)
            out.flush()
            written += len(data)
            time.sleep(max(0.0, started + written / 2 / rate_hz - time.monotonic()))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
