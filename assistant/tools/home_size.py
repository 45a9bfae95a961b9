"""``hearth bench --devices N …``: what the size of the home costs, on this machine.

For each size, a private mosquitto on a loopback port (its default limits) holds the retained
discovery configs of a generated home (:mod:`assistant.tools.generated_home`); a real
``hearth run --input -`` (fed silence at real time, the default models) is started against it,
and the bench reports: the time from connecting to the broker to knowing every device and the
devices known; READY with the language model's tool prompt read (the daemon's own figure); the
template path (``cmd/ask`` "turn on the Kitchen Light" to the light's message at the broker) and
the model path (``cmd/ask`` a question no template matches, to its ``turn_end``), median and 90th
percentile; the daemon's resident memory after the turns; and the tool prompt of a model turn in
the model's own tokens. With ``--hog`` two busy processes run beside it.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import HearthError
from .generated_home import generate_home
from .local_broker import LocalBroker
from .realtime import Listener, _hearth_command, _Hog
from .realtime_report import spread

__all__ = ["print_home_sizes", "run_home_sizes"]

_NODE: Final = "homesize"
_LIGHT: Final = "Kitchen Light"  # the first device of every generated home
_MODEL_QUESTIONS: Final = ("tell me a joke", "what is the capital of France")
_START_TIMEOUT_S: Final = 900.0
_TURN_TIMEOUT_S: Final = 300.0
_FRAME_SAMPLES: Final = 1280  # 80 ms at 16 kHz


class _Daemon:
    """``hearth run --input -`` fed silence at real time; its log lines with their arrival."""

    def __init__(self, config: Path, output: Path) -> None:
        command = [*_hearth_command(), "run", "--config", str(config), "--input", "-"]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*command, "--output", str(output)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[tuple[float, str]] = []
        self._stop = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._feed, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip()))

    def _feed(self) -> None:
        assert self.process.stdin is not None
        frame = np.zeros(_FRAME_SAMPLES, dtype="<i2").tobytes()
        try:
            while not self._stop.is_set():
                self.process.stdin.write(frame)
                self.process.stdin.flush()
                time.sleep(0.08)
        except (BrokenPipeError, ValueError, OSError):
            return

    def wait_line(self, pattern: str, timeout_s: float) -> tuple[float, re.Match[str]]:
        deadline = time.monotonic() + timeout_s
        compiled = re.compile(pattern)
        while time.monotonic() < deadline and self.process.poll() is None:
            for at, line in list(self.lines):
                found = compiled.search(line)
                if found:
                    return at, found
            time.sleep(0.05)
        tail = "\n".join(line for _, line in self.lines[-15:])
        raise HearthError("bench_failed", f"hearth run never logged {pattern!r}:\n{tail}")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self._stop.set()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _publish_home(port: int, devices: int) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bridge")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = [
            client.publish(d.topic, d.payload, qos=1, retain=True) for d in generate_home(devices)
        ]
        for info in sent:
            info.wait_for_publish(60)
    finally:
        client.loop_stop()
        client.disconnect()


def _config(workdir: Path, port: int) -> Path:
    path = workdir / "homesize.toml"
    path.write_text(
        f'[assistant]\nnode_id = "{_NODE}"\ndata_dir = "{workdir / "data"}"\n\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n\n'
        "[dashboard]\nenabled = false\n\n[journal]\nenabled = false\n",
        encoding="utf-8",
    )
    return path


def _ask(listener: Listener, port: int, text: str, topics: set[str]) -> float | None:
    """Seconds from publishing ``text`` on cmd/ask to the first message on ``topics``."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-ask-{time.time_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        sent = time.monotonic()
        client.publish(f"hearth/{_NODE}/cmd/ask", text, qos=1).wait_for_publish(10)
        arrived = listener.wait_for_any(topics, sent, _TURN_TIMEOUT_S)
        ended = listener.wait_for_any({f"hearth/{_NODE}/event/turn_end"}, sent, _TURN_TIMEOUT_S)
        if ended is None:
            return None
        return None if arrived is None else arrived - sent
    finally:
        client.loop_stop()
        client.disconnect()


def _prompt_tokens(listener: Listener, since: float) -> int | None:
    """The tool prompt of the last model turn, in the bundled model's tokens."""
    from ..models import resolve_llm

    prompts = [
        json.loads(m.payload)
        for m in listener.between(since, time.monotonic() + 1)
        if m.topic == f"hearth/{_NODE}/event/llm"
    ]
    tool = [p for p in prompts if p.get("layer") == "llm" and p.get("prompt")]
    if not tool:
        return None
    from llama_cpp import Llama

    vocab = Llama(str(resolve_llm("smollm2-135m").paths[0]), vocab_only=True, verbose=False)
    text = tool[-1]["prompt"][0]["content"]
    return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _one_size(devices: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hearth-homesize-") as folder:
        workdir = Path(folder)
        with LocalBroker(workdir) as broker:
            _publish_home(broker.port, devices)
            listener = Listener(broker.port, "bench-homesize")
            daemon = _Daemon(_config(workdir, broker.port), workdir / "replies.wav")
            try:
                connected, _ = daemon.wait_line(r"connected to broker", _START_TIMEOUT_S)
                learned, known = daemon.wait_line(r"discovery: (\d+) entities", _START_TIMEOUT_S)
                _, ready = daemon.wait_line(r"ready in ([\d.]+) s with it", _START_TIMEOUT_S)
                light = f"zigbee2mqtt/{_LIGHT}/set"
                template = [
                    _ask(listener, broker.port, f"turn {state} the {_LIGHT}", {light})
                    for _ in range(runs)
                    for state in ("on", "off")
                ]
                since = time.monotonic()
                end = {f"hearth/{_NODE}/event/turn_end"}
                model = [
                    _ask(listener, broker.port, question, end)
                    for _ in range(runs)
                    for question in _MODEL_QUESTIONS
                ]
                rss_mb = daemon.rss_mb()
                tokens = _prompt_tokens(listener, since)
            finally:
                daemon.stop()
                listener.close()
    return {
        "devices": devices,
        "known": int(known.group(1)),
        "learn_s": round(learned - connected, 2),
        "ready_s": float(ready.group(1)),
        "template": spread([1000 * t for t in template if t is not None]),
        "template_missed": sum(t is None for t in template),
        "model": spread([1000 * t for t in model if t is not None]),
        "model_missed": sum(t is None for t in model),
        "rss_mb": round(rss_mb),
        "prompt_tokens": tokens,
    }


def run_home_sizes(sizes: Sequence[int], runs: int = 3, hog: bool = False) -> dict[str, Any]:
    """One row per home size (see the module's docstring)."""
    hogs = _Hog(2) if hog else None
    try:
        rows = [_one_size(size, runs) for size in sizes]
    finally:
        if hogs is not None:
            hogs.stop()
    return {"hog": hog, "runs": runs, "sizes": rows}


def print_home_sizes(report: dict[str, Any]) -> None:
    condition = "two busy processes beside it" if report["hog"] else "idle"
    print(f"home size ({condition}; template and model turns: median / p90)")
    print(
        f"{'devices':>7} {'known':>6} {'learn s':>8} {'READY s':>8} {'template ms':>15} "
        f"{'model ms':>17} {'RSS MB':>7} {'prompt tok':>10}"
    )
    for row in report["sizes"]:
        t, m = row["template"], row["model"]
        print(
            f"{row['devices']:>7} {row['known']:>6} {row['learn_s']:>8.2f} {row['ready_s']:>8.1f} "
            f"{t['median_ms']!s:>7} / {t['p90_ms']!s:<6} {m['median_ms']!s:>8} / {m['p90_ms']!s:<7}"
            f" {row['rss_mb']:>7} {row['prompt_tokens']!s:>10}"
        )
