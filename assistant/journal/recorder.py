"""The interaction journal: every turn, as a row in a local SQLite file.

The :class:`Journal` subscribes to the event stream. It keeps a turn's events in memory while
the turn runs, and on ``turn_end`` hands them to its own writer thread, which builds the row and
writes it; the audio thread only appends to a list. The row holds what the events say (wake word
and score, transcript, the router's layer and reason, the model's prompt and raw output, the
messages published, the reply, timings and CPU time by stage, outcome and errors) plus the
energy of the turn and what it would have cost through cloud services.

If the journal cannot be written (disk full, read-only, a path that is not a folder), the voice
loop goes on: one ``error`` event with code ``journal_unwritable`` is emitted, the rows wait in
memory (up to a limit) and are written when a later attempt succeeds.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from ..config import Config
from ..events import (
    Event,
    ProfileChanged,
    ReplyAudioStarted,
    TurnFailed,
    TurnFinished,
    event_to_json,
)
from ..files import private_file, private_folder
from .energy import CloudUsage, EnergyMeter, Mark, cloud_cost
from .store import DayTotals, JournalStore, journal_path

__all__ = ["REPLY_SUFFIX", "Journal", "TurnEnergy", "build_row"]

_LOGGER = logging.getLogger(__name__)

_MAX_WAITING: Final = 1000  # rows kept in memory while the journal cannot be written
_RETRY_S: Final = 30.0  # how often an unwritable journal is tried again when idle
_MAX_OPEN_TURNS: Final = 64
_MAX_REPLY_S: Final = 120.0  # reply audio kept per turn (journal.keep_audio)
REPLY_SUFFIX: Final = ".reply.wav"  # journal-audio/<turn>.reply.wav: the spoken reply


@dataclass(frozen=True, slots=True)
class TurnEnergy:
    cpu_total_s: float
    energy_wh: float
    method: str


def _first(events: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((e for e in events if e["type"] == kind), None)


def _trigger(events: list[dict[str, Any]]) -> str:
    if _first(events, "wake"):
        return "wake"
    listen = _first(events, "listen")
    if listen:
        return str(listen.get("trigger", "listen"))
    return "text" if _first(events, "transcript") else "say"


def build_row(
    events: list[dict[str, Any]], profile: str, energy: TurnEnergy, config: Config
) -> dict[str, Any]:
    """The journal row of one turn, from its events (as :func:`event_to_json` gives them)."""
    end = events[-1]
    wake = _first(events, "wake") or {}
    transcript = _first(events, "transcript") or {}
    intent = _first(events, "intent") or {}
    llm = [e for e in events if e["type"] == "llm"]
    speech = _first(events, "speech_end") or {}
    spoken = [e.get("audio_s", 0.0) for e in events if e["type"] == "speech_end_reply"]
    replies = [e["text"] for e in events if e["type"] == "reply"]
    actions = [
        {k: e[k] for k in ("entity_id", "service", "data", "messages", "queued")}
        for e in events
        if e["type"] == "action"
    ]
    errors = [{"code": e["code"], "message": e["message"]} for e in events if e["type"] == "error"]
    reply = " ".join(replies)
    usage = CloudUsage(
        speech_s=float(speech.get("speech_s", 0.0)),
        prompt_chars=len(transcript.get("text", "")),
        reply_chars=len(reply),
        reply_audio_s=float(sum(spoken)),
    )
    trigger = _trigger(events)
    return {
        "turn": end["turn"],
        "started": events[0]["ts"],
        "ended": end["ts"],
        "day": time.strftime("%Y-%m-%d", time.localtime(end["ts"])),
        "profile": profile,
        "trigger": trigger,
        "wake_model": wake.get("model"),
        "wake_score": wake.get("score"),
        "transcript": transcript.get("text", ""),
        "layer": intent.get("layer", ""),
        "intent": intent.get("intent", ""),
        "sentence": intent.get("sentence", ""),
        "llm": json.dumps(llm) if llm else None,
        "actions": json.dumps(actions),
        "reply": reply,
        "outcome": end.get("outcome", ""),
        "errors": json.dumps(errors),
        "timings_ms": json.dumps(end.get("timings_ms", {})),
        "cpu_s": json.dumps(end.get("cpu_s", {})),
        "cpu_total_s": energy.cpu_total_s,
        "energy_wh": energy.energy_wh,
        "energy_method": energy.method,
        "cloud_cost": 0.0 if trigger == "say" else cloud_cost(usage, config.energy),
        "speech_s": usage.speech_s,
        "reply_audio_s": usage.reply_audio_s,
        "audio_file": None,
        "events": json.dumps(events, default=str),
    }


@dataclass(slots=True)
class _OpenTurn:
    mark: Mark
    profile: str
    events: list[dict[str, Any]] = field(default_factory=list)


Op = Callable[[JournalStore], None]


def _retry(store: JournalStore) -> None:
    """An empty operation: opening the store is the attempt."""


class Journal:
    """Event-stream subscriber that records each turn; see the module docstring.

    ``listening``: count the CPU time between turns (the always-on wake word) as listening,
    day by day. ``on_written`` receives today's totals after each write, in the writer thread.
    """

    def __init__(
        self,
        config: Config,
        *,
        emit: Callable[[Event], None] | None = None,
        listening: bool = True,
        on_written: Callable[[DayTotals], None] | None = None,
    ) -> None:
        self.config = config
        self.path = journal_path(config)
        self.meter = EnergyMeter(config.energy)
        self.on_written = on_written
        self.write_ms: list[float] = []  # time to write each turn's row, last 100
        self._emit = emit or (lambda event: None)
        self._profile = config.assistant.profile
        self._open: dict[str, _OpenTurn] = {}
        self._lock = threading.Lock()
        self._idle: Mark | None = self.meter.mark(time.process_time()) if listening else None
        self._queue: queue.Queue[Op | None] = queue.Queue()
        self._waiting: list[Op] = []
        self._failing = False
        self._audio: dict[str, np.ndarray] = {}
        self._speaking: str | None = None  # the turn whose reply is being played
        self._reply: dict[str, tuple[int, list[np.ndarray]]] = {}  # turn -> (rate, chunks)
        self._thread = threading.Thread(target=self._run, name="hearth-journal", daemon=True)
        self._thread.start()

    # -- the event stream (emitting thread) --------------------------------------------------

    def on_event(self, event: Event) -> None:
        if isinstance(event, ProfileChanged):
            self._profile = event.profile
            return
        if event.turn is None:
            return
        if isinstance(event, ReplyAudioStarted):
            self._speaking = event.turn
        body = event_to_json(event)
        body["mono"] = event.mono
        with self._lock:
            open_turn = self._open.get(event.turn)
            if open_turn is None:
                open_turn = self._start_turn(event.turn)
            open_turn.events.append(body)
            if not isinstance(event, TurnFinished):
                return
            del self._open[event.turn]
            cpu_now = time.process_time()
            energy_wh, method = self.meter.since(open_turn.mark, cpu_now)
            if self._idle is not None:
                self._idle = self.meter.mark(cpu_now)
        energy = TurnEnergy(round(cpu_now - open_turn.mark.cpu_s, 4), energy_wh, method.value)
        audio = self._audio.pop(event.turn, None)
        reply = self._reply.pop(event.turn, None)
        if self._speaking == event.turn:
            self._speaking = None
        events, profile = open_turn.events, open_turn.profile
        self._queue.put(
            lambda store: self._write_turn(store, events, profile, energy, audio, reply)
        )

    def _start_turn(self, turn: str) -> _OpenTurn:
        cpu_now = time.process_time()
        if self._idle is not None:
            cpu_s = cpu_now - self._idle.cpu_s
            self._queue.put(self._listening_op(cpu_s))
        if len(self._open) >= _MAX_OPEN_TURNS:  # turns that never ended: drop the oldest
            self._open.pop(next(iter(self._open)))
        opened = _OpenTurn(self.meter.mark(cpu_now), self._profile)
        self._open[turn] = opened
        return opened

    def _listening_op(self, cpu_s: float) -> Op:
        day = time.strftime("%Y-%m-%d")
        energy_wh = self.meter.estimate(cpu_s)
        return lambda store: store.add_listening(day, cpu_s, energy_wh)

    def keep_audio(self, turn: str, audio: np.ndarray) -> None:
        """Audio tap: the command audio of a turn, written with its row if ``keep_audio``."""
        if self.config.journal.keep_audio:
            self._audio[turn] = audio.copy()

    def keep_reply(self, audio: np.ndarray, sample_rate_hz: int) -> None:
        """Sink tap: a piece of the reply as it is played, kept with the turn whose speech
        started last (up to two minutes) if ``keep_audio``."""
        turn = self._speaking
        if turn is None or not self.config.journal.keep_audio:
            return
        rate, chunks = self._reply.setdefault(turn, (sample_rate_hz, []))
        kept = sum(len(c) for c in chunks)
        if rate == sample_rate_hz and kept + len(audio) <= _MAX_REPLY_S * rate:
            chunks.append(audio.copy())

    def flush_listening(self) -> None:
        """Count the listening so far (at midnight, so each day gets its own)."""
        with self._lock:
            if self._idle is None or self._open:
                return
            cpu_now = time.process_time()
            self._queue.put(self._listening_op(cpu_now - self._idle.cpu_s))
            self._idle = self.meter.mark(cpu_now)
        self._queue.put(self._publish_op())

    def _publish_op(self) -> Op:
        def publish(store: JournalStore) -> None:
            if self.on_written is not None:
                self.on_written(store.day_totals(time.strftime("%Y-%m-%d")))

        return publish

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (if the journal can be written) and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout_s)

    # -- the writer thread -------------------------------------------------------------------

    def _write_turn(
        self,
        store: JournalStore,
        events: list[dict[str, Any]],
        profile: str,
        energy: TurnEnergy,
        audio: np.ndarray | None,
        reply: tuple[int, list[np.ndarray]] | None = None,
    ) -> None:
        started = time.perf_counter()
        row = build_row(events, profile, energy, self.config)
        if audio is not None:
            row["audio_file"] = self._write_wav(f"{row['turn']}.wav", audio)
        if reply is not None and reply[1]:
            self._write_wav(row["turn"] + REPLY_SUFFIX, np.concatenate(reply[1]), reply[0])
        store.insert_turn(row)
        self.write_ms = [*self.write_ms[-99:], 1000 * (time.perf_counter() - started)]
        _LOGGER.debug("journal: turn %s written in %.1f ms", row["turn"], self.write_ms[-1])
        if self.on_written is not None:
            self.on_written(store.day_totals(row["day"]))

    def _write_wav(self, name: str, audio: np.ndarray, rate_hz: int = 16000) -> str:
        folder = private_folder(self.path.parent / "journal-audio")
        path = private_file(folder / name)
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate_hz)
            wav.writeframes(np.asarray(audio, dtype="<i2").tobytes())
        return path.name

    def _run(self) -> None:
        store: JournalStore | None = None
        stopping = False
        while not stopping:
            try:
                op = self._queue.get(timeout=_RETRY_S if self._waiting else None)
            except queue.Empty:
                op = _retry  # nothing new: try the waiting rows again
            if op is None:
                stopping = True
            else:
                self._waiting.append(op)
            if len(self._waiting) > _MAX_WAITING:
                del self._waiting[: len(self._waiting) - _MAX_WAITING]
            try:
                if store is None:
                    store = JournalStore.open(self.path, self.config.journal)
                while self._waiting:
                    self._waiting[0](store)
                    self._waiting.pop(0)
            except (sqlite3.Error, OSError) as err:
                if store is not None:
                    store.close()
                store = None
                self._unwritable(err)
                continue
            except Exception:  # a bug in building a row must not stop the journal
                _LOGGER.exception("journal: cannot record a turn")
                self._waiting.pop(0)
                continue
            if self._failing:
                _LOGGER.info("journal %s is writable again", self.path)
                self._failing = False
        if store is not None:
            store.close()

    def _unwritable(self, err: BaseException) -> None:
        if self._failing:
            return
        self._failing = True
        message = (
            f"{self.path}: cannot write the journal ({err}); turns are kept in memory and "
            f"written when it can be (check the disk, or set journal.enabled = false)"
        )
        _LOGGER.error("%s", message)
        self._emit(TurnFailed(turn=None, code="journal_unwritable", message=message))
