"""Home Assistant's local voice chain, run beside Hearth by ``hearth bench --realtime --ha``.

The chain as Home Assistant's Assist pipeline runs it with its local add-ons: after the wake word,
the command's audio streams at real time to wyoming-faster-whisper (Whisper tiny.en, int8,
beam 1, 2 threads, the device names as its prompt); an ideal voice activity detector stops the
stream 0.7 s after the true end of speech (Home Assistant's default silence; a real detector
only adds to this); the transcript goes to hassil with the home-assistant-intents sentences,
and the intent's devices get their MQTT command at once; the intent's response is then spoken
by wyoming-piper with the same joe voice. The servers run from their own virtual environment
(``scripts/setup-wyoming.sh``) with the model files of Hearth's own packages: nothing is fetched.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import HearthError
from ..models import resolve_stt, resolve_tts
from ..voice.audio import FRAME_SAMPLES, SAMPLE_RATE_HZ
from .bench_speech import BENCH_ENTITIES, Spoken
from .local_broker import free_port
from .realtime import Listener
from .realtime_report import payload_matches

__all__ = ["HomeAssistantChain"]

VAD_SILENCE_S: Final = 0.7  # Home Assistant's default: silence after speech that ends a command
_START_TIMEOUT_S: Final = 120.0
_TURN_TIMEOUT_S: Final = 60.0
_ROOT: Final = Path(__file__).resolve().parents[2]
_NOT_UNDERSTOOD: Final = "Sorry, I couldn't understand that"  # Home Assistant's own words


def wyoming_venv() -> Path:
    """The Wyoming servers' virtual environment, made by ``scripts/setup-wyoming.sh`` if need be
    (``$HEARTH_WYOMING_VENV``, else ``.venv-wyoming`` beside Hearth's source)."""
    venv = Path(os.environ.get("HEARTH_WYOMING_VENV") or _ROOT / ".venv-wyoming")
    script = _ROOT / "scripts" / "setup-wyoming.sh"
    if not script.exists():
        raise HearthError(
            "missing_tool",
            f"{script} not found: run hearth bench --ha from Hearth's source folder",
        )
    done = subprocess.run(["bash", str(script), str(venv)], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise HearthError("missing_tool", f"{script} {venv} failed: {last}")
    return venv


class _Server:
    """One Wyoming server on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [*args, "--uri", f"tcp://127.0.0.1:{self.port}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._log_path = log

    def wait_ready(self) -> None:
        import socket

        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        tail = self._log_path.read_text("utf-8", "replace").strip().splitlines()[-2:]
        raise HearthError("bench_failed", f"{self.name} did not start: {' | '.join(tail)}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _names() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e["name"], f"{e['domain']}.{e['unique_id']}", {"domain": e["domain"]})
        for e in BENCH_ENTITIES
    ]


class _Intents:
    """hassil with the home-assistant-intents sentences, and the bench home as its lists."""

    def __init__(self) -> None:
        from hassil import Intents
        from hassil.intents import SlotList, TextSlotList
        from home_assistant_intents import get_intents

        data = get_intents("en")
        if data is None:
            raise HearthError("bench_failed", "home-assistant-intents has no English sentences")
        self._responses = data.get("responses", {}).get("intents", {})
        self._intents = Intents.from_dict(data)
        self._lists: dict[str, SlotList] = {
            "name": TextSlotList.from_tuples(_names(), allow_template=False),
            "area": TextSlotList.from_strings(
                sorted({e["suggested_area"] for e in BENCH_ENTITIES}), allow_template=False
            ),
            "floor": TextSlotList.from_tuples([], allow_template=False),
        }
        self.recognise("turn on the porch light")  # the first call builds hassil's caches

    def recognise(self, text: str) -> tuple[list[tuple[str, str]], str] | None:
        """The device messages and the spoken response for ``text``, or ``None``."""
        from hassil import recognize

        result = recognize(text, self._intents, slot_lists=self._lists)
        if result is None:
            return None
        slots = {name: entity.value for name, entity in result.entities.items()}
        targets = [
            e
            for e in BENCH_ENTITIES
            if f"{e['domain']}.{e['unique_id']}" == slots.get("name")
            or (
                "name" not in slots
                and e["suggested_area"] == slots.get("area")
                and slots.get("domain", e["domain"]) == e["domain"]
            )
        ]
        messages = [m for e in targets if (m := _message(result.intent.name, e, slots))]
        domain = str(slots.get("domain") or (targets[0]["domain"] if targets else ""))
        return messages, self._response(result.intent.name, result.response or "default", domain)

    def _response(self, intent: str, key: str, domain: str) -> str:
        text = str(self._responses.get(intent, {}).get(key, "Done"))
        text = text.split("%}")[-1]  # the domain table's template, as its plain sentence
        return re.sub(r"\{\{[^}]*\}\}", f"the {domain}" if domain else "it", text).strip()


def _message(intent: str, entity: dict[str, Any], slots: dict[str, Any]) -> tuple[str, str] | None:
    """The MQTT command Home Assistant's MQTT integration sends for ``intent``."""
    topic = entity["command_topic"]
    if entity.get("schema") == "json":
        if intent == "HassTurnOn":
            return topic, json.dumps({"state": "ON"})
        if intent == "HassTurnOff":
            return topic, json.dumps({"state": "OFF"})
        if intent == "HassLightSet" and "brightness" in slots:
            level = round(float(slots["brightness"]) * 255 / 100)
            return topic, json.dumps({"state": "ON", "brightness": level})
        return None
    if intent in ("HassTurnOn", "HassTurnOff"):
        return topic, "ON" if intent == "HassTurnOn" else "OFF"
    return None


class HomeAssistantChain:
    """wyoming-faster-whisper, an ideal VAD, hassil, MQTT and wyoming-piper, on one clock."""

    name = "home assistant chain"

    def __init__(self, broker_port: int, log: Callable[[str], None]) -> None:
        venv = wyoming_venv()
        self._folder = tempfile.TemporaryDirectory(prefix="hearth-wyoming-")
        self._servers: list[_Server] = []
        self._listener = Listener(broker_port, "bench-ha-listener")  # times its device messages
        self._mqtt: Any = None
        try:
            self._start(venv, Path(self._folder.name), broker_port)
        except BaseException:
            self.close()
            raise
        log(f"home assistant chain ready (servers from {venv})")

    def _start(self, venv: Path, folder: Path, broker_port: int) -> None:
        import paho.mqtt.client as mqtt

        voices = folder / "voices"
        voices.mkdir()
        for path in resolve_tts("en_US-joe-medium").paths:
            (voices / path.name).symlink_to(path)
        prompt = ", ".join(e["name"] for e in BENCH_ENTITIES)
        python = str(venv / "bin" / "python")
        self._stt = _Server(
            "wyoming-faster-whisper",
            [python, "-m", "wyoming_faster_whisper", "--model",
             str(resolve_stt("tiny.en").paths[0]), "--data-dir", str(folder / "stt"),
             "--language", "en", "--compute-type", "int8", "--beam-size", "1",
             "--cpu-threads", "2", "--initial-prompt", prompt, "--local-files-only"],
            folder / "stt.log",
        )  # fmt: skip
        self._servers.append(self._stt)
        self._tts = _Server(
            "wyoming-piper",
            [python, "-m", "wyoming_piper", "--voice", "en_US-joe-medium", "--data-dir",
             str(voices), "--local-files-only"],
            folder / "tts.log",
        )  # fmt: skip
        self._servers.append(self._tts)
        for server in self._servers:
            server.wait_ready()
        self._intents = _Intents()
        self._mqtt = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-ha-mqtt")
        self._mqtt.connect("127.0.0.1", broker_port)
        self._mqtt.loop_start()

    def handle(self, spoken: Spoken, start: float) -> dict[str, Any]:
        return asyncio.run(asyncio.wait_for(self._turn(spoken, start), _TURN_TIMEOUT_S))

    async def _turn(self, spoken: Spoken, start: float) -> dict[str, Any]:
        from wyoming.asr import Transcribe, Transcript
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.client import AsyncTcpClient

        command_from = spoken.command_start
        stop_at = spoken.speech_end + round(VAD_SILENCE_S * SAMPLE_RATE_HZ)
        speech_end = start + spoken.speech_end / SAMPLE_RATE_HZ
        # the stream opens when the wake word fires: the command's first frame
        await _until(start + command_from / SAMPLE_RATE_HZ)
        async with AsyncTcpClient("127.0.0.1", self._stt.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=SAMPLE_RATE_HZ, width=2, channels=1).event())
            for first in range(command_from, stop_at, FRAME_SAMPLES):
                last = min(first + FRAME_SAMPLES, stop_at)
                await _until(start + last / SAMPLE_RATE_HZ)
                chunk = np.asarray(spoken.audio[first:last], dtype="<i2").tobytes()
                await client.write_event(
                    AudioChunk(rate=SAMPLE_RATE_HZ, width=2, channels=1, audio=chunk).event()
                )
            await client.write_event(AudioStop().event())
            while True:
                event = await client.read_event()
                if event is None:
                    raise HearthError("bench_failed", "wyoming-faster-whisper closed the stream")
                if Transcript.is_type(event.type):
                    text = Transcript.from_event(event).text
                    break
        heard_at = time.monotonic()
        understood = self._intents.recognise(text)
        messages, reply = understood if understood is not None else ([], _NOT_UNDERSTOOD)
        sent_at = time.monotonic()
        for topic, payload in messages:
            self._mqtt.publish(topic, payload, qos=0)
        arrived = self._listener.wait_for_any(
            {topic for topic, _ in messages}, after=sent_at, timeout_s=10.0
        )
        first_audio = await self._speak(reply)
        correct = (
            len(messages) == 1
            and messages[0][0] == spoken.command.topic
            and payload_matches(spoken.command.payload, messages[0][1])
        )
        return {
            "voice": spoken.voice,
            "condition": spoken.condition.name,
            "command": spoken.command.text,
            "transcript": text,
            "reply": reply,
            "correct": correct,
            "stt_ms": round(1000 * (heard_at - speech_end) - 1000 * VAD_SILENCE_S, 1),
            "to_publish_ms": _ms(arrived - speech_end) if arrived is not None else None,
            "to_first_audio_ms": _ms(first_audio - speech_end),
        }

    async def _speak(self, text: str) -> float:
        """Ask wyoming-piper for ``text``; when its first audio arrived (monotonic)."""
        from wyoming.audio import AudioChunk, AudioStop
        from wyoming.client import AsyncTcpClient
        from wyoming.tts import Synthesize

        first: float | None = None
        async with AsyncTcpClient("127.0.0.1", self._tts.port) as client:
            await client.write_event(Synthesize(text=text).event())
            while True:
                event = await client.read_event()
                if event is None:
                    raise HearthError("bench_failed", "wyoming-piper closed the stream")
                if AudioChunk.is_type(event.type) and first is None:
                    first = time.monotonic()
                if AudioStop.is_type(event.type):
                    break
        if first is None:
            raise HearthError("bench_failed", f"wyoming-piper gave no audio for {text!r}")
        return first

    def close(self) -> None:
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
        self._listener.close()
        for server in self._servers:
            server.stop()
        self._folder.cleanup()


async def _until(when: float) -> None:
    wait = when - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 1)
