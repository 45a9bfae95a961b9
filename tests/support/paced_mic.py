"""A microphone for a headless wyoming-satellite (its --mic-command): raw 16 kHz mono s16le on
standard output at real time, silence with a little noise, and whenever a file ``next.raw``
appears in the folder given, that sound instead (the file is renamed ``played-N.raw``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CHUNK = 1024  # samples: 64 ms at 16 kHz


def main(folder: Path) -> None:
    rng = np.random.default_rng(7)
    out = sys.stdout.buffer
    sound = np.zeros(0, dtype=np.int16)
    played = 0
    next_at = time.monotonic()
    while True:
        if not len(sound) and (folder / "next.raw").exists():
            path = folder / "next.raw"
            sound = np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.int16)
            played += 1
            path.rename(folder / f"played-{played}.raw")
        noise = (rng.standard_normal(CHUNK) * 30).astype(np.int16)
        piece, sound = sound[:CHUNK], sound[CHUNK:]
        noise[: len(piece)] = np.clip(noise[: len(piece)] + piece.astype(np.int32), -32768, 32767)
        out.write(noise.astype("<i2").tobytes())
        out.flush()
        next_at += CHUNK / 16000
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
