"""Speech-to-text on a Wyoming server against the local model: the same commands (Piper and
espeak-ng voices) transcribed by Hearth's own tiny.en and by wyoming-faster-whisper (the same
model, int8, beam 1, 2 threads) through ``[stt] uri``, alternating, on loopback. Prints the
median and 90th percentile of each, in milliseconds, and how often each gave the words said.

    PYTHONPATH=. .venv/bin/python scripts/stt_server_speed.py [--rounds 3] [--json]

On one machine the server shares the CPU with Hearth, so this measures what the protocol costs;
the speed-up of a bigger box is the ratio of its local figure to this machine's.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from speech import utterance  # noqa: E402

from assistant.config import SttConfig  # noqa: E402
from assistant.models import resolve_stt  # noqa: E402
from assistant.tools.ha_chain import wyoming_venv  # noqa: E402
from assistant.voice.stt import WhisperSpeechToText  # noqa: E402
from assistant.voice.wyoming_speech import WyomingSpeechToText  # noqa: E402

COMMANDS = (
    "Turn on the kitchen light.",
    "Turn off the desk lamp.",
    "What time is it?",
    "Set the kitchen light to fifty percent.",
    "Is the front door locked?",
)
VOICES = ("piper", "en-us", "en-gb", "en-us+f3")


def spoken(voice: str, text: str) -> np.ndarray:
    if voice == "piper":
        return utterance(0.3, text, 0.5)
    import soxr

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "--stdout", text], capture_output=True, check=True
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    audio = soxr.resample(samples.astype(np.float32) / 32768, rate, 16000)
    pad = np.zeros(4800, dtype=np.int16)
    return np.concatenate([pad, (np.clip(audio, -1, 1) * 32767).astype(np.int16), pad])


def words(text: str) -> str:
    return " ".join(text.lower().replace("%", " percent").strip(" .?!").split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    python = str(wyoming_venv() / "bin" / "python")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory(prefix="hearth-stt-speed-") as folder:
        model = str(resolve_stt("tiny.en").paths[0])
        server = subprocess.Popen(
            [python, "-m", "wyoming_faster_whisper", "--model", model,
             "--data-dir", folder, "--language", "en", "--compute-type", "int8", "--beam-size",
             "1", "--cpu-threads", "2", "--local-files-only", "--uri", f"tcp://127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("wyoming-faster-whisper did not start")
                time.sleep(0.2)
            local = WhisperSpeechToText(resolve_stt("tiny.en"), SttConfig(), "en")
            local.load()
            remote = WyomingSpeechToText(f"tcp://127.0.0.1:{port}", 30.0, local)
            remote.transcribe(spoken("piper", "Ready."))  # the server loads its model now
            times: dict[str, list[float]] = {"local": [], "server": []}
            right = {"local": 0, "server": 0}
            for _ in range(args.rounds):
                for voice in VOICES:
                    for said in COMMANDS:
                        audio = spoken(voice, said)
                        for name, stage in (("local", local), ("server", remote)):
                            started = time.perf_counter()
                            text = stage.transcribe(audio)
                            times[name].append(1000 * (time.perf_counter() - started))
                            right[name] += words(text) == words(said)
            assert remote.server.failures == 0, "the server failed; the figures would be local"
        finally:
            server.terminate()
            server.wait(10)
    result = {
        name: {
            "n": len(values),
            "median_ms": round(statistics.median(values)),
            "p90_ms": round(sorted(values)[int(0.9 * (len(values) - 1))]),
            "words_right": right[name],
        }
        for name, values in times.items()
    }
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
