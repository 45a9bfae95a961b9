"""``hearth doctor``: checks what a new installation most often gets wrong, one line each."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import Config
from .errors import HearthError

__all__ = ["Check", "run_checks"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def _microphone(config: Config) -> Check:
    from .audio import MicrophoneSource

    try:
        source = MicrophoneSource(config.audio.input_device)
    except HearthError as err:
        return Check("microphone", False, err.message)
    try:
        frames = []
        for frame in source.frames():
            frames.append(frame)
            if len(frames) >= 12:  # about one second
                break
    finally:
        source.close()
    level = float(np.sqrt(np.mean(np.concatenate(frames).astype(np.float64) ** 2)))
    if level < 1.0:
        return Check(
            "microphone",
            False,
            f"{source.device_name} gives only silence; check the "
            "input level (alsamixer) and the device in [audio] input_device",
        )
    return Check("microphone", True, f"{source.device_name}, level {level:.0f} RMS")


def _broker(config: Config) -> Check:
    from .mqtt import MqttLink

    try:
        link = MqttLink(config.mqtt, config.assistant.node_id)
    except HearthError as err:
        return Check("broker", False, err.message)
    link.start()
    try:
        connected = link.wait_connected(5.0)
    finally:
        link.stop()
    where = f"{config.mqtt.host}:{config.mqtt.port}"
    if connected:
        who = f" as {config.mqtt.username}" if config.mqtt.username else ""
        return Check("broker", True, f"connected to {where}{who}")
    return Check(
        "broker",
        False,
        f"cannot connect to {where} in 5 s: is the broker running, "
        "and are [mqtt] host, port, username and password_file right?",
    )


def _models(config: Config) -> list[Check]:
    from .daemon import build_pipeline
    from .events import EventBus
    from .mqtt import MemoryPublisher

    started = time.perf_counter()
    try:
        loaded = build_pipeline(
            config, bus=EventBus(), publisher=MemoryPublisher(), listen=True, speak=True
        )
    except HearthError as err:
        return [Check("models", False, err.message)]
    checks = [Check("models", True, f"all loaded in {time.perf_counter() - started:.1f} s")]
    stt = loaded.pipeline.stt
    assert stt is not None
    audio = np.zeros(16000 * 2, dtype=np.int16)
    started = time.perf_counter()
    stt.transcribe(audio)
    stt_s = time.perf_counter() - started
    fast = stt_s < 1.5
    checks.append(
        Check(
            "cpu",
            fast,
            f"speech-to-text of a 2 s command took {stt_s:.2f} s"
            + ("" if fast else "; choose a smaller [stt] model or a faster machine"),
        )
    )
    return checks


def _disk(config: Config) -> Check:
    from .answer import data_dir

    folder = data_dir(config)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_mb = shutil.disk_usage(probe).free / 1e6
    ok = free_mb > 100
    return Check(
        "disk",
        ok,
        f"{free_mb:.0f} MB free for {folder}"
        + ("" if ok else "; lists and the journal need at least 100 MB"),
    )


def run_checks(config: Config, skip_audio: bool = False) -> list[Check]:
    steps: list[Callable[[], Check | list[Check]]] = [
        lambda: _broker(config),
        lambda: _models(config),
        lambda: _disk(config),
    ]
    if not skip_audio:
        steps.insert(0, lambda: _microphone(config))
    results: list[Check] = []
    for step in steps:
        found = step()
        results.extend(found if isinstance(found, list) else [found])
    return results
