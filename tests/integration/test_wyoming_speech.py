"""Heavy stages on a bigger box: ``[stt] uri`` and ``[tts] uri`` against the real
wyoming-faster-whisper and wyoming-piper on loopback (scripts/setup-wyoming.sh; models from
Hearth's own packages), and the local model taking over when a server is down, silent, slow or
hangs up, with an error event each time; servers outside ``[privacy] allowed_hosts`` are
refused before anything is sent."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from speech import utterance

from assistant.config import Config, SttConfig, TtsConfig
from assistant.errors import ConfigError
from assistant.events import Event, TurnFailed
from assistant.models import resolve_stt, resolve_tts
from assistant.service.privacy import enforce
from assistant.tools.ha_chain import wyoming_venv
from assistant.voice.stt import WhisperSpeechToText
from assistant.voice.tts import PiperTextToSpeech
from assistant.voice.wyoming_speech import WyomingSpeechToText, WyomingTextToSpeech


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Server:
    def __init__(self, args: list[str], log: Path) -> None:
        self.port = _free_port()
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [*args, "--uri", f"tcp://127.0.0.1:{self.port}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise AssertionError(f"{args[2]} did not start: {log.read_text()[-500:]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_Server, _Server]]:
    python = str(wyoming_venv() / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="hearth-wyoming-test-") as name:
        folder = Path(name)
        voices = folder / "voices"
        voices.mkdir()
        for path in resolve_tts("en_US-joe-medium").paths:
            (voices / path.name).symlink_to(path)
        model = str(resolve_stt("tiny.en").paths[0])
        stt = _Server(
            [python, "-m", "wyoming_faster_whisper", "--model", model,
             "--data-dir", str(folder / "stt"), "--language", "en", "--compute-type", "int8",
             "--beam-size", "1", "--cpu-threads", "2", "--local-files-only"],
            folder / "stt.log",
        )  # fmt: skip
        tts = _Server(
            [python, "-m", "wyoming_piper", "--voice", "en_US-joe-medium", "--data-dir",
             str(voices), "--local-files-only"],
            folder / "tts.log",
        )  # fmt: skip
        yield stt, tts
        stt.stop()
        tts.stop()


@pytest.fixture(scope="module")
def local_stt() -> WhisperSpeechToText:
    model = WhisperSpeechToText(resolve_stt("tiny.en"), SttConfig(), "en")
    model.load()
    return model


@pytest.fixture(scope="module")
def local_tts() -> PiperTextToSpeech:
    voice = PiperTextToSpeech(resolve_tts("en_US-joe-medium"), TtsConfig(cache_replies=0))
    voice.load()
    return voice


class _Counting:
    """The local model, counting how often it was asked."""

    def __init__(self, inner: WhisperSpeechToText) -> None:
        self.inner = inner
        self.calls = 0

    def load(self) -> None:
        return None

    def transcribe(self, audio: np.ndarray, hints: object = ()) -> str:
        self.calls += 1
        return self.inner.transcribe(audio)


def _stt(
    uri: str, local: WhisperSpeechToText, timeout_s: float = 5.0
) -> tuple[WyomingSpeechToText, _Counting, list[Event]]:
    counting = _Counting(local)
    stage = WyomingSpeechToText(uri, timeout_s, counting)  # type: ignore[arg-type]
    events: list[Event] = []
    stage.server.emit = events.append
    return stage, counting, events


COMMANDS = ["Turn on the kitchen light.", "What time is it?", "Turn off the desk lamp."]


@pytest.mark.parametrize("said", COMMANDS)
def test_the_server_transcribes_and_the_local_model_is_not_asked(
    servers: tuple[_Server, _Server], local_stt: WhisperSpeechToText, said: str
) -> None:
    stage, counting, events = _stt(f"tcp://127.0.0.1:{servers[0].port}", local_stt)
    text = stage.transcribe(utterance(0.3, said, 0.5))
    assert text.lower().strip(" .?!") == said.lower().strip(" .?!")
    assert counting.calls == 0 and events == []


def _silent_server(close_at_once: bool) -> tuple[int, threading.Event]:
    """A server that accepts and then says nothing (or hangs up at once)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = int(server.getsockname()[1])
    done = threading.Event()

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                if not close_at_once:
                    done.wait(30)

    threading.Thread(target=serve, daemon=True).start()
    return port, done


@pytest.mark.parametrize("fault", ["down", "silent", "hangs_up"])
def test_a_failing_server_costs_at_most_its_deadline_then_the_local_model_answers(
    local_stt: WhisperSpeechToText, fault: str
) -> None:
    if fault == "down":
        port, done = _free_port(), threading.Event()
    else:
        port, done = _silent_server(close_at_once=fault == "hangs_up")
    stage, counting, events = _stt(f"tcp://127.0.0.1:{port}", local_stt, timeout_s=1.0)
    started = time.monotonic()
    text = stage.transcribe(utterance(0.3, "Turn on the kitchen light.", 0.5))
    waited = time.monotonic() - started
    done.set()
    assert "kitchen light" in text.lower()
    assert counting.calls == 1
    assert [e.code for e in events if isinstance(e, TurnFailed)] == ["stt_server_failed"]
    assert f"tcp://127.0.0.1:{port}" in events[0].message  # type: ignore[attr-defined]
    assert waited < 30  # the deadline held: a silent server is not waited for forever


def test_the_server_speaks_at_the_local_voices_rate(
    servers: tuple[_Server, _Server], local_tts: PiperTextToSpeech, local_stt: WhisperSpeechToText
) -> None:
    stage = WyomingTextToSpeech(f"tcp://127.0.0.1:{servers[1].port}", 5.0, local_tts)
    events: list[Event] = []
    stage.server.emit = events.append
    stage.load()
    audio = np.concatenate(list(stage.sentences("Turned on the kitchen light.")))
    assert events == []
    assert stage.sample_rate_hz == 22050 and len(audio) / 22050 > 0.8
    import soxr

    heard = soxr.resample(audio.astype(np.float32), 22050, 16000).astype(np.int16)
    heard_text = local_stt.transcribe(heard).lower()  # the server's voice varies a little
    assert "turned on" in heard_text and "kitchen" in heard_text


def test_a_speech_server_that_is_down_leaves_the_local_voice_to_speak(
    local_tts: PiperTextToSpeech,
) -> None:
    stage = WyomingTextToSpeech(f"tcp://127.0.0.1:{_free_port()}", 1.0, local_tts)
    events: list[Event] = []
    stage.server.emit = events.append
    audio = np.concatenate(list(stage.sentences("Turned on the kitchen light.")))
    assert len(audio) / 22050 > 0.8
    assert [e.code for e in events if isinstance(e, TurnFailed)] == ["tts_server_failed"]


@pytest.mark.parametrize("key", ["stt", "tts"])
def test_a_server_outside_the_allowed_hosts_is_refused(key: str) -> None:
    config = Config.model_validate({key: {"uri": "tcp://203.0.113.7:10300"}})
    with pytest.raises(ConfigError) as refused:
        enforce(config, resolve=lambda host, port: [host])
    assert refused.value.code == "server_not_allowed"
    assert refused.value.message.startswith(f"{key}.uri: 203.0.113.7 is outside")


@pytest.mark.parametrize(
    "uri", ["10.0.0.5:10300", "http://10.0.0.5:10300", "tcp://host", "tcp://h:99999"]
)
def test_a_malformed_uri_is_a_configuration_error(uri: str) -> None:
    from assistant.config import parse_config

    with pytest.raises(ConfigError) as refused:
        parse_config({"stt": {"uri": uri}})
    assert "stt.uri" in refused.value.message and "tcp://host:port" in refused.value.message


def test_an_assembled_hearth_hears_through_the_server_and_speaks_through_the_other(
    servers: tuple[_Server, _Server], tmp_path: Path
) -> None:
    from assistant.assemble import assemble
    from assistant.events import EventBus, Transcript
    from assistant.home.actions import MemoryPublisher
    from assistant.voice.audio import ArraySource, MemorySink

    config = Config.model_validate(
        {
            "assistant": {"data_dir": str(tmp_path), "area": "Kitchen"},
            "llm": {"enabled": False},
            "stt": {"uri": f"tcp://127.0.0.1:{servers[0].port}"},
            "tts": {"uri": f"tcp://127.0.0.1:{servers[1].port}"},
            "entities": [
                {"domain": "light", "name": "Kitchen Light", "unique_id": "kitchen_light",
                 "command_topic": "z2m/kitchen_light/set", "suggested_area": "Kitchen"}
            ],
        }
    )  # fmt: skip
    bus, publisher, sink = EventBus(), MemoryPublisher(), MemorySink()
    events: list[Event] = []
    bus.subscribe(events.append)
    hearth = assemble(config, bus=bus, publisher=publisher, listen=True, speak=True)
    assert isinstance(hearth.stt, WyomingSpeechToText)
    assert isinstance(hearth.tts, WyomingTextToSpeech)
    loop = hearth.hearing_loop(sink)
    audio = utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the lights.", 2.0)
    assert loop.run(ArraySource(audio)) == 1
    assert [m.topic for m in publisher.messages] == ["z2m/kitchen_light/set"]
    assert [e.text for e in events if isinstance(e, Transcript)] == ["Turn on the lights."]
    assert not [e for e in events if isinstance(e, TurnFailed)]
    assert sum(len(chunk) for chunk, _ in sink.chunks) / 22050 > 0.8
