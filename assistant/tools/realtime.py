"""``hearth bench --realtime``: held-out spoken commands, played at real time into a running
``hearth run --input -``, timed on one clock from the true end of speech.

The benchmark starts its own mosquitto on a loopback port and its own ``hearth run`` with the
default configuration and a small home (:mod:`assistant.tools.bench_speech`). Once Hearth says
it is online, the audio goes to its standard input frame by frame at the pace a microphone
would give it: 80 ms of audio each 80 ms. The end of each command's speech is known to the
sample, so its moment on the benchmark's monotonic clock is known too; the device message is
timed when it reaches the benchmark's own MQTT client through the broker, and the reply's first
audio when the ``speech_start`` event does. With ``ha``, the same audio goes, between Hearth's
turns, through Home Assistant's local chain (:mod:`assistant.tools.ha_chain`) on the same clock.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np

from ..config.base import toml_value
from ..errors import HearthError
from ..voice.audio import FRAME_SAMPLES, SAMPLE_RATE_HZ
from .bench import _machine
from .bench_speech import BENCH_ENTITIES, Spoken, make_utterances
from .local_broker import LocalBroker
from .realtime_report import (
    NODE,
    Message,
    as_json,
    observe,
    ratios,
    summarise,
    summarise_peer,
    turns_in,
)

__all__ = ["Listener", "PeerChain", "parse_setting", "run_realtime"]

_READY_TIMEOUT_S: Final = 180.0
_EXIT_TIMEOUT_S: Final = 120.0


class Listener:
    """The benchmark's own MQTT client: every message on the broker, with its arrival time."""

    def __init__(self, port: int, client_id: str = "bench-listener") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe("#", qos=0)
        self._client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        at = time.monotonic()
        payload = message.payload.decode("utf-8", "replace")
        with self._lock:
            self.messages.append(Message(at, message.topic, payload))

    def between(self, start: float, end: float) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if start <= m.at < end]

    def wait_for(
        self, topic: str, payload: str, timeout_s: float, alive: Callable[[], bool]
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and alive():
            with self._lock:
                if any(m.topic == topic and m.payload == payload for m in self.messages):
                    return True
            time.sleep(0.05)
        return False

    def wait_for_any(self, topics: set[str], after: float, timeout_s: float) -> float | None:
        """When the first message on one of ``topics`` arrived after ``after``; ``None`` if none
        did within ``timeout_s`` (or ``topics`` is empty)."""
        deadline = time.monotonic() + timeout_s
        while topics and time.monotonic() < deadline:
            with self._lock:
                found = [m.at for m in self.messages if m.at >= after and m.topic in topics]
            if found:
                return min(found)
            time.sleep(0.002)
        return None

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _bench_config(workdir: Path, port: int, overrides: dict[str, Any]) -> Path:
    """Hearth's defaults with the bench's home, broker and data folder, and ``overrides``
    (``"vad.early_match_s": 0``)."""
    sections: dict[str, dict[str, Any]] = {
        "assistant": {"node_id": NODE, "data_dir": str(workdir / "data")},
        "mqtt": {"host": "127.0.0.1", "port": port},
        "dashboard": {"enabled": False},
    }
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        sections.setdefault(section, {})[name] = value
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{name} = {toml_value(value)}" for name, value in values.items()]
        lines.append("")
    for entity in BENCH_ENTITIES:
        lines.append("[[entities]]")
        lines += [f"{name} = {toml_value(value)}" for name, value in entity.items()]
        lines.append("")
    path = workdir / "bench.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _hearth_command() -> list[str]:
    script = Path(sys.executable).with_name("hearth")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main())"]


def _piper_16k() -> Callable[[str], np.ndarray]:
    """The bundled Piper voice, deterministic (no generator noise), as float32 at 16 kHz."""
    import soxr

    from ..config import TtsConfig
    from ..models import resolve_tts
    from ..voice.tts import PiperTextToSpeech

    tts = PiperTextToSpeech(
        resolve_tts("en_US-joe-medium"),
        TtsConfig.model_validate({"cache_replies": 0, "noise_scale": 0.0, "noise_w_scale": 0.0}),
    )
    tts.load()

    def say(text: str) -> np.ndarray:
        audio = np.concatenate(list(tts.sentences(text))).astype(np.float32) / 32768.0
        return soxr.resample(audio, tts.sample_rate_hz, SAMPLE_RATE_HZ).astype(np.float32)

    return say


class _Hog:
    """Two busy processes (as many as the development machine's cores) for the run."""

    def __init__(self, count: int) -> None:
        self._processes = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)
        ]

    def stop(self) -> None:
        for process in self._processes:
            process.send_signal(signal.SIGTERM)
        for process in self._processes:
            process.wait(timeout=10)


class PeerChain(Protocol):
    """A chain run beside Hearth on the same audio (see :mod:`.ha_chain`)."""

    name: str

    def handle(self, spoken: Spoken, start: float) -> dict[str, Any]:
        """Play ``spoken`` at real time from ``start`` (monotonic); its timings and result."""
        ...

    def close(self) -> None: ...


def run_realtime(
    runs: int = 20,
    overrides: dict[str, Any] | None = None,
    *,
    hog: bool = False,
    peer: Callable[[int, Callable[[str], None]], PeerChain] | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> dict[str, Any]:
    """Play ``runs`` held-out utterances into a running Hearth (and ``peer``, built with the
    broker's port, between its turns); returns the report."""
    overrides = dict(overrides or {})
    log(f"making {runs} utterances (espeak-ng and Piper voices, room noise)")
    piper = _piper_16k()
    utterances = make_utterances(runs, piper, piper("Hey Jarvis."))
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
        workdir = Path(folder)
        with LocalBroker(workdir) as broker:
            listener = Listener(broker.port)
            chain = peer(broker.port, log) if peer is not None else None
            hogs = _Hog(2) if hog else None
            try:
                result = _play(workdir, broker.port, overrides, utterances, listener, chain, log)
            finally:
                if hogs is not None:
                    hogs.stop()
                if chain is not None:
                    chain.close()
                listener.close()
    result["conditions"] = {
        "cpu_hog": "two busy processes" if hog else "none",
        "overrides": overrides,
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }
    result["machine"] = _machine()
    return result


def _play(
    workdir: Path,
    port: int,
    overrides: dict[str, Any],
    utterances: Sequence[Spoken],
    listener: Listener,
    chain: PeerChain | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    config = _bench_config(workdir, port, overrides)
    stderr = (workdir / "hearth.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [
            *_hearth_command(),
            "run",
            "--config",
            str(config),
            "--input",
            "-",
            "--output",
            str(workdir / "replies.wav"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    assert process.stdin is not None
    try:
        if not listener.wait_for(
            f"hearth/{NODE}/availability",
            "online",
            _READY_TIMEOUT_S,
            lambda: process.poll() is None,
        ):
            raise HearthError("bench_failed", "hearth run did not come online: " + _tail(workdir))
        ready_s = time.monotonic() - started
        log(f"hearth online after {ready_s:.1f} s; playing at real time")
        t0 = time.monotonic()
        written = 0  # samples written to Hearth
        late_s = 0.0
        blocks: list[tuple[Spoken, int]] = []  # utterance, first sample in Hearth's stream
        peer_runs: list[dict[str, Any]] = []
        for index, spoken in enumerate(utterances):
            blocks.append((spoken, written))
            written, late = _write(process.stdin, spoken.audio, t0, written)
            late_s = max(late_s, late)
            if chain is not None:
                quiet = np.zeros(len(spoken.audio), dtype=np.int16)
                start = t0 + written / SAMPLE_RATE_HZ
                worker = _Thread(functools.partial(chain.handle, spoken, start))
                written, late = _write(process.stdin, quiet, t0, written)
                late_s = max(late_s, late)
                peer_runs.append(worker.join())
            log(f"  {index + 1}/{len(utterances)} {spoken.voice}, {spoken.condition.name}")
        written, _ = _write(process.stdin, np.zeros(SAMPLE_RATE_HZ, dtype=np.int16), t0, written)
        process.stdin.close()
        if process.wait(timeout=_EXIT_TIMEOUT_S) != 0:
            raise HearthError("bench_failed", "hearth run failed: " + _tail(workdir))
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        stderr.close()
    turns = turns_in(listener.between(started, time.monotonic()))
    observed = [
        observe(
            index,
            spoken,
            t0 + (start + spoken.speech_end) / SAMPLE_RATE_HZ,
            (start, start + len(spoken.audio)),
            turns,
        )
        for index, (spoken, start) in enumerate(blocks)
    ]
    report: dict[str, Any] = {
        "ready_s": round(ready_s, 2),
        "writer_late_max_s": round(late_s, 3),
        "hearth": summarise(observed),
        "utterances": [as_json(o) for o in observed],
    }
    if chain is not None:
        report["peer"] = {"name": chain.name, **summarise_peer(peer_runs), "runs": peer_runs}
        report["ratio"] = ratios(report["hearth"], report["peer"])
    return report


class _Thread:
    """Run ``work`` in a thread; :meth:`join` returns its result or raises its error."""

    def __init__(self, work: Callable[[], dict[str, Any]]) -> None:
        self._result: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], dict[str, Any]]) -> None:
        try:
            self._result = work()
        except BaseException as err:  # handed to join()
            self._error = err

    def join(self) -> dict[str, Any]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _write(stdin: Any, audio: np.ndarray, t0: float, written: int) -> tuple[int, float]:
    """Write ``audio`` frame by frame, each when a microphone would have finished recording it;
    returns the samples written so far and the latest a write came."""
    late = 0.0
    for start in range(0, len(audio), FRAME_SAMPLES):
        frame = audio[start : start + FRAME_SAMPLES]
        due = t0 + (written + len(frame)) / SAMPLE_RATE_HZ
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        stdin.write(np.asarray(frame, dtype="<i2").tobytes())
        stdin.flush()
        late = max(late, time.monotonic() - due)
        written += len(frame)
    return written, late


def _tail(workdir: Path) -> str:
    try:
        lines = (workdir / "hearth.log").read_text("utf-8", "replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(lines[-3:]) or "(empty log)"


def parse_setting(item: str) -> tuple[str, Any] | None:
    """``"vad.early_match_s=0"`` as ``("vad.early_match_s", 0)``; numbers and true/false are
    typed, anything else is text. ``None`` if it is not ``section.key=value``."""
    key, sep, text = item.partition("=")
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not section or not name:
        return None
    value: Any = text.strip()
    if value in ("true", "false"):
        value = value == "true"
    else:
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                continue
    return f"{section}.{name}", value
