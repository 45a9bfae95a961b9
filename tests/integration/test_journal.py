"""The interaction journal: what `hearth explain` tells of a spoken command is what happened on
the broker and in the event stream; the model's prompt and raw output are kept; an unwritable
journal costs one error event and nothing else; retention, audio, history and --clear."""

from __future__ import annotations

import json
import sqlite3
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from broker import Broker, Recorder
from hearth_cli import ENTITIES_TOML, run_hearth, write_config
from speech import utterance, write_wav

from assistant.assemble import assemble, make_home
from assistant.cli import main
from assistant.config import Config, parse_config
from assistant.events import (
    Event,
    EventBus,
    ModelConsulted,
    Reply,
    Transcript,
    TurnFailed,
    TurnFinished,
    WakeDetected,
)
from assistant.home.actions import MemoryPublisher
from assistant.journal.recorder import Journal
from assistant.journal.recording import start_journal
from assistant.journal.store import DayTotals, JournalStore


def _config(tmp_path: Path, extra: str = "") -> Config:
    import tomllib

    text = f'[journal]\npath = "{tmp_path / "state" / "journal.sqlite"}"\n{extra}\n'
    return parse_config(tomllib.loads(text + ENTITIES_TOML))


def _turn(bus: EventBus, turn: str, text: str = "turn on the kitchen light") -> None:
    """The events of one short voice turn, as the pipeline emits them."""
    bus.emit(WakeDetected(turn=turn, model="hey_jarvis", score=0.91, audio_s=1.2, wake_ms=4.0))
    bus.emit(Transcript(turn=turn, text=text, stt_ms=512.0))
    bus.emit(Reply(turn=turn, text="Turned on the Kitchen Light."))
    bus.emit(TurnFinished(turn=turn, outcome="ok", timings_ms={"stt": 512.0}, cpu_s={"stt": 0.4}))


def _rows(path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM turns ORDER BY id").fetchall()
    finally:
        db.close()


def test_explain_tells_a_spoken_command_as_it_happened(
    tmp_path: Path, broker: Broker, recorder: Recorder
) -> None:
    journal = tmp_path / "journal.sqlite"
    config = write_config(tmp_path, broker.port, extra=f'\n[journal]\npath = "{journal}"\n')
    wav = write_wav(
        tmp_path / "in.wav", utterance(1.0, "Hey Jarvis.", 0.6, "Turn on the kitchen light.", 2.0)
    )
    ran = run_hearth(
        "run", "--config", str(config), "--input", str(wav), "--output", str(tmp_path / "o.wav")
    )
    assert ran.returncode == 0, ran.stderr
    recorder.wait_for("hearth/kitchen/event/turn_end")

    shown = run_hearth("explain", "last", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    transcript = json.loads(recorder.on("hearth/kitchen/event/transcript")[0])["text"]
    intent = json.loads(recorder.on("hearth/kitchen/event/intent")[0])
    turn_end = json.loads(recorder.on("hearth/kitchen/event/turn_end")[0])
    wake = json.loads(recorder.on("hearth/kitchen/event/wake")[0])
    assert f"heard {json.dumps(transcript)}" in text
    assert intent["layer"] == "template" and f"template {json.dumps(intent['sentence'])}" in text
    received = [(t, p) for t, p, _ in recorder.messages if t == "zigbee2mqtt/kitchen_light/set"]
    assert received
    for topic, payload in received:
        assert f"ublished {payload} to {topic}" in text  # (P)ublished
    assert f"scored {wake['score']:.2f}" in text
    timings_line = next(line for line in text.splitlines() if line.startswith("Timings (ms):"))
    assert timings_line == "Timings (ms): " + ", ".join(
        f"{k} {v:.1f}" for k, v in turn_end["timings_ms"].items()
    )
    cpu_line = next(line for line in text.splitlines() if line.startswith("CPU seconds"))
    for stage, seconds in turn_end["cpu_s"].items():
        assert f"{stage} {seconds:.3f}" in cpu_line
    assert {"endpoint", "stt", "tts"} <= set(turn_end["cpu_s"])

    (row,) = _rows(journal)
    assert row["turn"] == turn_end["turn"] and row["transcript"] == transcript
    assert row["wake_score"] == pytest.approx(wake["score"], abs=1e-3)
    assert json.loads(row["timings_ms"]) == turn_end["timings_ms"]
    assert [tuple(m) for a in json.loads(row["actions"]) for m in a["messages"]] == received
    assert row["energy_wh"] > 0 and row["cpu_total_s"] >= sum(turn_end["cpu_s"].values()) * 0.9
    method_words = "measured with Intel RAPL" if row["energy_method"] == "rapl" else "estimated"
    assert method_words in text

    history = run_hearth("history", "--config", str(config))
    assert history.returncode == 0 and transcript in history.stdout
    report = run_hearth("report", "--days", "1", "--config", str(config))
    today = time.strftime("%Y-%m-%d")
    line = next(x for x in report.stdout.splitlines() if x.startswith(today))
    assert line.split()[1] == "1" and row["energy_method"] in line


@pytest.mark.soak  # loads the language model and reads its tool prompt: 30-80 s on 2 cores
def test_the_models_prompt_and_raw_output_are_journaled(tmp_path: Path) -> None:
    config = _config(tmp_path, "\n[llm]\nmax_tokens = 8\ntimeout_s = 60.0\n")
    bus = EventBus()
    consulted: list[Event] = []
    bus.subscribe(lambda e: consulted.append(e) if isinstance(e, ModelConsulted) else None)
    hearth = assemble(
        config,
        bus=bus,
        publisher=MemoryPublisher(),
        listen=False,
        speak=False,
        home=make_home(config),
    )
    hearth.prepare()  # as hearth run does once it listens
    recording = start_journal(config, bus, None)
    assert recording is not None
    said = "could you make the kitchen a bit brighter for me"
    hearth.answerer().run_text(said)
    recording.close()

    assert consulted, "the templates matched; the test needs a sentence they miss"
    (row,) = _rows(recording.journal.path)
    stored = json.loads(row["llm"])
    assert len(stored) == len(consulted)
    for kept, event in zip(stored, consulted, strict=True):
        assert isinstance(event, ModelConsulted)
        assert kept["prompt"][-1] == {"role": "user", "content": said}
        assert kept["prompt"][0]["role"] == "system" and kept["prompt"][0]["content"]
        assert kept["outputs"] == list(event.outputs) and all(kept["outputs"])
        assert kept["verdicts"] == list(event.verdicts)
        assert kept["call"] == json.loads(json.dumps(event.call))
    assert json.loads(row["cpu_s"]).get("llm", 0) > 0
    explained = main(["explain", "last", "--config", str(_write(tmp_path, config))])
    assert explained == 0


def _write(tmp_path: Path, config: Config) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[journal]\npath = "{config.journal.path}"\n')
    return path


def test_an_unwritable_journal_is_one_error_and_catches_up_later(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the journal's folder should be")
    config = _config(tmp_path)
    bus = EventBus()
    errors: list[TurnFailed] = []
    bus.subscribe(lambda e: errors.append(e) if isinstance(e, TurnFailed) else None)
    journal = Journal(config, emit=bus.emit, listening=False)
    bus.subscribe(journal.on_event)

    for number in range(3):
        started = time.perf_counter()
        _turn(bus, f"turn{number}")
        assert time.perf_counter() - started < 1.0  # the voice loop does not wait on the disk
    deadline = time.monotonic() + 5
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert [e.code for e in errors] == ["journal_unwritable"]
    assert str(journal.path) in errors[0].message
    assert bus.handler_errors == []

    blocker.unlink()
    blocker.mkdir()
    _turn(bus, "turn3")
    journal.close()
    assert [r["turn"] for r in _rows(journal.path)] == ["turn0", "turn1", "turn2", "turn3"]
    assert [e.code for e in errors] == ["journal_unwritable"]
    assert len(journal.write_ms) == 4


def test_retention_audio_and_history_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "keep_audio = true\nkeep_days = 2\naudio_keep_days = 1\n")
    bus = EventBus()
    journal = Journal(config, emit=bus.emit, listening=False)
    bus.subscribe(journal.on_event)
    audio = (np.sin(np.arange(8000) / 10) * 8000).astype(np.int16)
    journal.keep_audio("spoken", audio)
    _turn(bus, "spoken")
    _turn(bus, "typed")
    journal.close()
    rows = {r["turn"]: r for r in _rows(journal.path)}
    wav_path = journal.path.parent / "journal-audio" / rows["spoken"]["audio_file"]
    with wave.open(str(wav_path)) as wav:
        kept = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.array_equal(kept, audio) and rows["typed"]["audio_file"] is None

    store = JournalStore.open(journal.path, config.journal)
    store.prune(now=time.time() + 1.5 * 86400)  # audio past its day, turns still kept
    assert not wav_path.exists() and len(store.recent(10)) == 2
    store.prune(now=time.time() + 3 * 86400)  # turns past keep_days
    assert store.recent(10) == []
    store.close()

    config_file = _write(tmp_path, config)
    journal = Journal(config, emit=bus.emit, listening=False)
    bus.subscribe(journal.on_event)
    _turn(bus, "again", "what time is it")
    journal.close()
    assert main(["history", "--config", str(config_file)]) == 0
    assert "what time is it" in capsys.readouterr().out
    assert main(["history", "--clear", "--config", str(config_file)]) == 0
    assert "deleted 1 turn(s)" in capsys.readouterr().out
    assert _rows(journal.path) == []
    assert main(["explain", "last", "--config", str(config_file)]) == 1
    assert "no turn 'last'" in capsys.readouterr().err


def test_journal_disabled_keeps_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, "enabled = false\n")
    bus = EventBus()
    assert start_journal(config, bus, None) is None
    _turn(bus, "private")
    assert not (tmp_path / "state").exists()
    path = tmp_path / "config.toml"
    path.write_text(f'[journal]\nenabled = false\npath = "{config.journal.path}"\n')
    assert main(["history", "--config", str(path)]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "journal.enabled is false" in err


def test_midnight_counts_the_listening_and_updates_the_day(tmp_path: Path) -> None:
    config = _config(tmp_path)
    days: list[DayTotals] = []
    journal = Journal(config, listening=True, on_written=days.append)
    started = time.process_time()
    while time.process_time() - started < 0.1:  # the wake word's work between turns
        sum(i * i for i in range(1000))
    journal.flush_listening()  # what the midnight timer calls
    journal.close()
    (today,) = days
    assert today.day == time.strftime("%Y-%m-%d") and today.turns == 0
    assert today.listening_cpu_s >= 0.1
    assert today.listening_wh == pytest.approx(journal.meter.estimate(today.listening_cpu_s))
