"""``hearth doctor``: checks what a new installation most often gets wrong, one line each."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..errors import HearthError

__all__ = ["Check", "privacy_checks", "run_checks"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    warn: bool = False  # ok, but a choice a person should know about

    @property
    def status(self) -> str:
        """``ok``, ``WARN`` or ``FAIL``."""
        if not self.ok:
            return "FAIL"
        return "WARN" if self.warn else "ok"


def _microphone(config: Config) -> Check:
    from ..voice.soundcard import MicrophoneSource
    from ..voice.supervise import Health

    problems: list[str] = []

    def on_health(health: Health) -> None:
        if not health.ok:  # the daemon would retry; the doctor reports it and stops
            problems.append(health.message)
            source.close()

    try:
        source = MicrophoneSource(config.audio.input_device, on_health=on_health)
    except HearthError as err:
        return Check("microphone", False, err.message)
    frames = []
    try:
        for frame in source.frames():
            frames.append(frame)
            if len(frames) >= 12:  # about one second
                break
    finally:
        source.close()
    if problems or not frames:
        why = problems[0] if problems else "no audio arrived"
        return Check("microphone", False, f"{source.device_name}: {why}")
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
    from ..mqtt.link import MqttLink
    from ..service.privacy import broker_check

    if not config.privacy.allow_remote and not (allowed := broker_check(config)).allowed:
        return Check(
            "broker",
            False,
            f"not tried: {allowed.reason}; add it to [privacy] allowed_hosts or set "
            "[privacy] allow_remote = true",
        )
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
    from ..assemble import assemble
    from ..events import EventBus
    from ..home.actions import MemoryPublisher

    started = time.perf_counter()
    try:
        hearth = assemble(
            config, bus=EventBus(), publisher=MemoryPublisher(), listen=True, speak=True
        )
    except HearthError as err:
        return [Check("models", False, err.message)]
    checks = [Check("models", True, f"all loaded in {time.perf_counter() - started:.1f} s")]
    stt = hearth.stt
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
    from ..config import data_dir

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


def privacy_checks(config: Config) -> list[Check]:
    """The privacy posture, one line each: where the broker is, TLS, credentials, audio kept."""
    from ..service.privacy import broker_check, is_loopback

    mqtt = config.mqtt
    where = f"{mqtt.host}:{mqtt.port}"
    checks = []
    allowed = broker_check(config)
    if config.privacy.allow_remote:
        checks.append(
            Check(
                "remote",
                True,
                "[privacy] allow_remote = true: the broker may be outside your network "
                f"({allowed.reason}); set it to false to keep Hearth at home",
                warn=True,
            )
        )
    elif allowed.allowed:
        checks.append(Check("remote", True, f"broker allowed: {allowed.reason}"))
    else:
        checks.append(
            Check("remote", False, f"broker refused: {allowed.reason} ([privacy] allowed_hosts)")
        )
    local = is_loopback(mqtt.host)
    if mqtt.tls:
        checks.append(Check("tls", True, f"the broker connection to {where} is encrypted"))
    elif local:
        checks.append(Check("tls", True, "broker on this machine: nothing crosses the network"))
    else:
        checks.append(
            Check(
                "tls",
                True,
                f"broker {where} is off this machine without TLS: commands, transcripts and "
                "replies cross the network in clear; set [mqtt] tls = true",
                warn=True,
            )
        )
    if mqtt.username:
        checks.append(Check("auth", True, f"broker login as {mqtt.username}"))
    else:
        checks.append(
            Check(
                "auth",
                True,
                "anonymous broker access: anything that reaches the broker can send commands "
                "and read transcripts; set [mqtt] username and password_file",
                warn=True,
            )
        )
    journal = getattr(config, "journal", None)
    if getattr(journal, "keep_audio", False):
        checks.append(
            Check(
                "audio",
                True,
                "journal.keep_audio = true: recordings of what was said are kept on disk",
                warn=True,
            )
        )
    else:
        checks.append(Check("audio", True, "no recording is kept (journal.keep_audio is off)"))
    return checks


def run_checks(config: Config, skip_audio: bool = False) -> list[Check]:
    steps: list[Callable[[], Check | list[Check]]] = [
        lambda: privacy_checks(config),
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
