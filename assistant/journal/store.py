"""The journal's SQLite file: schema, writes, retention and the queries the commands use.

stdlib ``sqlite3`` in WAL mode, so ``hearth history`` can read while the daemon writes. One
table row per turn; lists (actions, errors, the model's exchange, the events) are JSON columns.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..config import Config, JournalConfig
from ..errors import ConfigError
from ..files import private_file, private_folder

__all__ = ["SCHEMA", "DayTotals", "JournalStore", "journal_path"]

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS turns (
    id            INTEGER PRIMARY KEY,   -- the number hearth history shows
    turn          TEXT NOT NULL UNIQUE,  -- the turn id of the events
    started       REAL NOT NULL,         -- Unix time of the turn's first event
    ended         REAL NOT NULL,         -- Unix time of its turn_end event
    day           TEXT NOT NULL,         -- local date of the end, YYYY-MM-DD
    profile       TEXT NOT NULL,         -- the profile in use ('' none)
    trigger       TEXT NOT NULL,         -- wake, mqtt, follow_up, text, say
    wake_model    TEXT,
    wake_score    REAL,
    transcript    TEXT NOT NULL,
    layer         TEXT NOT NULL,         -- template, llm, llm_answer; '' when nothing decided
    intent        TEXT NOT NULL,
    sentence      TEXT NOT NULL,         -- the template that matched, or the model's call
    llm           TEXT,                  -- JSON: the model's prompt, raw outputs, verdicts, call
    actions       TEXT NOT NULL,         -- JSON: entity, service, data, (topic, payload) pairs
    reply         TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    errors        TEXT NOT NULL,         -- JSON: code and message of each error event
    timings_ms    TEXT NOT NULL,         -- JSON: as in the turn_end event
    cpu_s         TEXT NOT NULL,         -- JSON: process CPU seconds by stage
    cpu_total_s   REAL NOT NULL,         -- process CPU seconds from first event to turn_end
    energy_wh     REAL NOT NULL,
    energy_method TEXT NOT NULL,         -- rapl (measured) or estimate (CPU time x watts)
    cloud_cost    REAL NOT NULL,         -- the same turn through cloud services, energy.currency
    speech_s      REAL NOT NULL,         -- command audio handed to speech-to-text
    reply_audio_s REAL NOT NULL,         -- spoken reply
    audio_file    TEXT,                  -- WAV beside the journal (journal.keep_audio)
    events        TEXT NOT NULL          -- JSON: every event of the turn, in order
);
CREATE INDEX IF NOT EXISTS turns_day ON turns(day);
CREATE TABLE IF NOT EXISTS listening (   -- CPU between turns: the always-on wake word
    day       TEXT PRIMARY KEY,
    cpu_s     REAL NOT NULL,
    energy_wh REAL NOT NULL
);
"""

_COLUMNS: Final = (
    *("turn", "started", "ended", "day", "profile", "trigger", "wake_model", "wake_score"),
    *("transcript", "layer", "intent", "sentence", "llm", "actions", "reply", "outcome"),
    *("errors", "timings_ms", "cpu_s", "cpu_total_s", "energy_wh", "energy_method"),
    *("cloud_cost", "speech_s", "reply_audio_s", "audio_file", "events"),
)


def journal_path(config: Config) -> Path:
    """``journal.path``, else ``journal.sqlite`` in the data directory."""
    from ..config import data_dir

    if config.journal.path:
        return Path(config.journal.path).expanduser()
    return data_dir(config) / "journal.sqlite"


@dataclass(frozen=True, slots=True)
class DayTotals:
    """One day's figures; energy in watt-hours, money in ``energy.currency``."""

    day: str
    turns: int
    turn_cpu_s: float
    turn_wh: float
    listening_cpu_s: float
    listening_wh: float
    cloud_cost: float
    methods: tuple[str, ...]

    @property
    def energy_wh(self) -> float:
        return self.turn_wh + self.listening_wh


class JournalStore:
    """One connection to the journal file."""

    def __init__(self, connection: sqlite3.Connection, path: Path, config: JournalConfig):
        self._db = connection
        self.path = path
        self._config = config
        self._pruned_day = ""

    @classmethod
    def open(cls, path: Path, config: JournalConfig) -> JournalStore:
        """Open for writing, creating the file and its folder; raises ``OSError`` or
        ``sqlite3.Error`` when that is not possible."""
        private_folder(path.parent)
        private_file(path)  # before SQLite opens it: its -wal and -shm files take its mode
        db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.commit()
        except sqlite3.Error:
            db.close()
            raise
        store = cls(db, path, config)
        store.prune()
        return store

    @classmethod
    def read(cls, config: Config) -> JournalStore:
        """Open the configured journal for a command; a clear error if there is none."""
        path = journal_path(config)
        if not path.is_file():
            hint = (
                "journal.enabled is false"
                if not config.journal.enabled
                else "no turn has been recorded yet"
            )
            raise ConfigError("journal_missing", f"{path}: no journal here ({hint})")
        try:
            db = sqlite3.connect(path, timeout=5.0)
            db.row_factory = sqlite3.Row
            db.execute("SELECT 1 FROM turns LIMIT 1")
        except sqlite3.Error as err:
            raise ConfigError(
                "journal_unreadable", f"{path}: cannot read the journal: {err}"
            ) from None
        return cls(db, path, config.journal)

    def close(self) -> None:
        self._db.close()

    # -- writing -----------------------------------------------------------------------------

    def insert_turn(self, row: dict[str, Any]) -> None:
        self.prune()
        names = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO turns ({names}) VALUES ({marks})",
                [row[c] for c in _COLUMNS],
            )

    def add_listening(self, day: str, cpu_s: float, energy_wh: float) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO listening (day, cpu_s, energy_wh) VALUES (?, ?, ?) "
                "ON CONFLICT(day) DO UPDATE SET cpu_s = cpu_s + excluded.cpu_s, "
                "energy_wh = energy_wh + excluded.energy_wh",
                (day, cpu_s, energy_wh),
            )

    def prune(self, now: float | None = None) -> None:
        """Delete turns older than ``journal.keep_days`` and audio older than
        ``journal.audio_keep_days``; once a day unless ``now`` is given."""
        today = time.strftime("%Y-%m-%d")
        if now is None and self._pruned_day == today:
            return
        now = time.time() if now is None else now
        self._pruned_day = today
        turn_limit = now - 86400 * self._config.keep_days
        audio_limit = now - 86400 * self._config.audio_keep_days
        old_audio = self._db.execute(
            "SELECT turn, audio_file FROM turns WHERE audio_file IS NOT NULL AND ended < ?",
            (max(turn_limit, audio_limit),),
        ).fetchall()
        for row in old_audio:
            (self.path.parent / "journal-audio" / row["audio_file"]).unlink(missing_ok=True)
        for reply in (self.path.parent / "journal-audio").glob("*.reply.wav"):
            with contextlib.suppress(OSError):
                if reply.stat().st_mtime < max(turn_limit, audio_limit):
                    reply.unlink()
        with self._db:
            self._db.execute(
                "UPDATE turns SET audio_file = NULL WHERE ended < ?",
                (max(turn_limit, audio_limit),),
            )
            self._db.execute("DELETE FROM turns WHERE ended < ?", (turn_limit,))
            first_day = time.strftime("%Y-%m-%d", time.localtime(turn_limit))
            self._db.execute("DELETE FROM listening WHERE day < ?", (first_day,))

    def clear(self) -> int:
        """Delete every turn, its audio and the listening figures; returns how many turns."""
        audio = self._db.execute("SELECT audio_file FROM turns WHERE audio_file IS NOT NULL")
        for row in audio.fetchall():
            (self.path.parent / "journal-audio" / row["audio_file"]).unlink(missing_ok=True)
        for reply in (self.path.parent / "journal-audio").glob("*.reply.wav"):
            reply.unlink(missing_ok=True)
        with self._db:
            count = self._db.execute("DELETE FROM turns").rowcount
            self._db.execute("DELETE FROM listening")
        self._db.execute("VACUUM")
        return int(count)

    # -- reading -----------------------------------------------------------------------------

    def recent(self, limit: int) -> list[sqlite3.Row]:
        rows = self._db.execute("SELECT * FROM turns ORDER BY id DESC LIMIT ?", (limit,))
        return list(reversed(rows.fetchall()))

    def find(self, key: str) -> sqlite3.Row | None:
        """A turn by ``last``, its number in the history, or its turn id (or a prefix)."""
        args: tuple[Any, ...] = ()
        if key == "last":
            query = "SELECT * FROM turns ORDER BY id DESC LIMIT 1"
        elif key.isdigit():
            query, args = "SELECT * FROM turns WHERE id = ?", (int(key),)
        else:
            query, args = "SELECT * FROM turns WHERE turn LIKE ? ORDER BY id DESC", (f"{key}%",)
        row: sqlite3.Row | None = self._db.execute(query, args).fetchone()
        return row

    def day_totals(self, day: str) -> DayTotals:
        turns = self._db.execute(
            "SELECT COUNT(*) AS n, COALESCE(SUM(cpu_total_s), 0) AS cpu, "
            "COALESCE(SUM(energy_wh), 0) AS wh, COALESCE(SUM(cloud_cost), 0) AS cloud, "
            "GROUP_CONCAT(DISTINCT energy_method) AS methods "
            "FROM turns WHERE day = ? AND trigger != 'say'",
            (day,),
        ).fetchone()
        listening = self._db.execute(
            "SELECT cpu_s, energy_wh FROM listening WHERE day = ?", (day,)
        ).fetchone()
        return DayTotals(
            day=day,
            turns=int(turns["n"]),
            turn_cpu_s=float(turns["cpu"]),
            turn_wh=float(turns["wh"]),
            listening_cpu_s=float(listening["cpu_s"]) if listening else 0.0,
            listening_wh=float(listening["energy_wh"]) if listening else 0.0,
            cloud_cost=float(turns["cloud"]),
            methods=tuple(sorted((turns["methods"] or "").split(","))) if turns["n"] else (),
        )
