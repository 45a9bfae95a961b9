"""The dashboard from the journal file alone: ``hearth dashboard`` while the daemon is not running.

Reads the journal read-only (SQLite ``mode=ro``: this backend never writes, and never connects
anywhere). Turns by number and the daily totals come through
:class:`~assistant.journal.store.JournalStore`; paging (``before``), the last action of each
device and the statistics are this module's own read-only SQL over the store's schema. Nothing
moves on its own here: no events, no asking, no switching profiles.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from ..config import Config
from ..journal.recorder import REPLY_SUFFIX
from ..journal.report import energy_state
from ..journal.store import JournalStore, journal_path
from .backend import (
    AskResult,
    AudioClip,
    AudioWhich,
    BackendInfo,
    DayFigures,
    Device,
    EventCallback,
    EventDict,
    LevelCallback,
    NotFound,
    ProfileList,
    Unavailable,
)
from .home_view import device_rows
from .stats import TokenRates, loads_json, turn_stats

__all__ = ["JournalBackend", "summary", "turn_detail"]

_AUDIO_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}\.wav$")
_STATS_TURNS: Final = 200
_ACTION_TURNS: Final = 500
_SUMMARY_COLUMNS: Final = (
    "id, turn, started, ended, trigger, transcript, layer, intent, reply, outcome, "
    "timings_ms, energy_wh, cloud_cost, audio_file"
)
_NOT_RUNNING: Final = (
    "the assistant is not running (start it with hearth run); this dashboard reads the journal only"
)


def summary(row: sqlite3.Row) -> dict[str, Any]:
    """One line of the turns list (``GET /api/turns``)."""
    timings = loads_json(row["timings_ms"], {})
    return {
        "id": row["id"],
        "turn": row["turn"],
        "started": row["started"],
        "ended": row["ended"],
        "trigger": row["trigger"],
        "transcript": row["transcript"],
        "layer": row["layer"],
        "intent": row["intent"],
        "reply": row["reply"],
        "outcome": row["outcome"],
        "to_publish_ms": timings.get("to_publish"),
        "to_first_audio_ms": timings.get("to_first_audio"),
        "energy_wh": row["energy_wh"],
        "cloud_cost": row["cloud_cost"],
        "has_audio": bool(row["audio_file"]),
    }


def turn_detail(row: sqlite3.Row, price_per_kwh: float, reply_kept: bool) -> dict[str, Any]:
    """Everything the journal has of one turn (``GET /api/turns/<key>``)."""
    events = [{k: v for k, v in e.items() if k != "mono"} for e in loads_json(row["events"], [])]
    return {
        **summary(row),
        "day": row["day"],
        "profile": row["profile"],
        "wake_model": row["wake_model"],
        "wake_score": row["wake_score"],
        "sentence": row["sentence"],
        "llm": loads_json(row["llm"], []),
        "actions": loads_json(row["actions"], []),
        "errors": loads_json(row["errors"], []),
        "timings_ms": loads_json(row["timings_ms"], {}),
        "cpu_s": loads_json(row["cpu_s"], {}),
        "cpu_total_s": row["cpu_total_s"],
        "energy_method": row["energy_method"],
        "electricity_cost": row["energy_wh"] / 1000 * price_per_kwh,
        "speech_s": row["speech_s"],
        "reply_audio_s": row["reply_audio_s"],
        "audio": {"command": bool(row["audio_file"]), "reply": reply_kept},
        "events": events,
    }


class JournalBackend:
    """:class:`~assistant.dashboard.backend.DashboardBackend` over the journal of ``config``.

    ``config`` is a callable so that the daemon's backend can follow a reloaded configuration;
    ``token_rates`` gives the language model's measured speed when a daemon reports it."""

    def __init__(
        self, config: Callable[[], Config], token_rates: Callable[[], TokenRates] | None = None
    ) -> None:
        self._config = config
        self._token_rates = token_rates or (lambda: TokenRates())

    @property
    def config(self) -> Config:
        return self._config()

    @property
    def path(self) -> Path:
        return journal_path(self.config)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection | None]:
        """A read-only connection, or ``None`` while there is no journal (yet); a journal that
        cannot be read is a 503 ``journal_unreadable``, not a 500."""
        path = self.path
        if not path.is_file():
            yield None
            return
        try:
            db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=2.0)
        except sqlite3.Error as err:
            raise _unreadable(path, err) from None
        db.row_factory = sqlite3.Row
        try:
            made = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'turns'"
            ).fetchone()
            yield db if made else None  # the daemon creates the tables with its first write
        except sqlite3.Error as err:
            raise _unreadable(path, err) from None
        finally:
            db.close()

    def _find(self, key: str) -> sqlite3.Row | None:
        with self._db() as db:
            if db is None:
                return None
            return JournalStore(db, self.path, self.config.journal).find(key)

    def _audio_folder(self) -> Path:
        return self.path.parent / "journal-audio"

    # -- the Protocol --------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        config = self.config
        path = self.path
        note = "" if path.is_file() else f"No journal yet at {path}: no turn has been recorded."
        return {
            "name": config.assistant.name,
            "node_id": config.assistant.node_id,
            "live": False,
            "keep_audio": config.journal.keep_audio,
            "currency": config.energy.currency,
            "wake_threshold": config.wake.threshold,
            "vad_threshold": config.vad.threshold,
            "note": note,
        }

    def subscribe(self, on_event: EventCallback, on_level: LevelCallback) -> Callable[[], None]:
        return lambda: None  # no daemon, no events

    def event_json(self, item: object) -> EventDict:
        if not isinstance(item, dict):
            raise TypeError(f"not an event dict: {type(item).__name__}")
        return item

    def turns(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        with self._db() as db:
            if db is None:
                return []
            rows = db.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM turns WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before if before is not None else 2**62, limit),
            ).fetchall()
        return [summary(r) for r in rows]

    def turn(self, key: str) -> dict[str, Any]:
        row = self._find(key)
        if row is None:
            raise NotFound("no_turn", f"no turn {key!r} in the journal")
        reply_kept = (self._audio_folder() / f"{row['turn']}{REPLY_SUFFIX}").is_file()
        return turn_detail(row, self.config.energy.price_per_kwh, reply_kept)

    def days(self, n: int) -> list[DayFigures]:
        config = self.config
        today = date.today()
        names = [(today - timedelta(days=back)).isoformat() for back in range(n - 1, -1, -1)]
        with self._db() as db:
            if db is None:
                return [_empty_day(day, config.energy.currency) for day in names]
            store = JournalStore(db, self.path, config.journal)
            states = [energy_state(store.day_totals(day), config) for day in names]
        return [
            {
                "day": s["day"],
                "turns": s["turns"],
                "energy_kwh": s["energy_kwh"],
                "turn_energy_kwh": s["turn_energy_kwh"],
                "listening_energy_kwh": s["listening_energy_kwh"],
                "cost": s["cost"],
                "cloud_cost": s["cloud_cost"],
                "currency": s["currency"],
                "method": s["method"] if s["turns"] or s["energy_kwh"] else "",
            }
            for s in states
        ]

    def devices(self) -> list[Device]:
        from ..assemble import make_home

        config = self.config
        home = make_home(config)  # the configured devices; discovered ones need the daemon
        return device_rows(config, home, self.profiles()["current"], self.last_actions(), False)

    def last_actions(self) -> dict[str, dict[str, Any]]:
        """The newest action on each entity, from the last 500 turns that acted."""
        found: dict[str, dict[str, Any]] = {}
        with self._db() as db:
            if db is None:
                return found
            rows = db.execute(
                "SELECT id, turn, ended, actions FROM turns WHERE actions != '[]' ORDER BY id "
                "DESC LIMIT ?",
                (_ACTION_TURNS,),
            ).fetchall()
        for row in rows:
            for action in loads_json(row["actions"], []):
                entity_id = action.get("entity_id")
                if isinstance(entity_id, str) and entity_id not in found:
                    found[entity_id] = {
                        "id": row["id"],
                        "turn": row["turn"],
                        "ended": row["ended"],
                        "service": action.get("service"),
                        "messages": action.get("messages", []),
                    }
        return found

    def profiles(self) -> ProfileList:
        config = self.config
        current = config.assistant.profile
        with self._db() as db:
            if db is not None:
                row = db.execute("SELECT profile FROM turns ORDER BY id DESC LIMIT 1").fetchone()
                if row is not None and (not row["profile"] or row["profile"] in config.profiles):
                    current = row["profile"]
        return {
            "current": current,
            "switchable": False,
            "profiles": [
                {"name": name, "description": p.description}
                for name, p in sorted(config.profiles.items())
            ],
        }

    def switch_profile(self, name: str) -> ProfileList:
        raise Unavailable("not_running", f"switching profiles needs the daemon: {_NOT_RUNNING}")

    def ask(self, text: str) -> AskResult:
        raise Unavailable("not_running", f"asking needs the daemon: {_NOT_RUNNING}")

    def audio(self, key: str, which: AudioWhich) -> AudioClip:
        row = self._find(key)
        if row is None:
            raise NotFound("no_turn", f"no turn {key!r} in the journal")
        name = row["audio_file"] if which == "command" else f"{row['turn']}{REPLY_SUFFIX}"
        if not name or not _AUDIO_NAME.match(name.replace(REPLY_SUFFIX, ".wav")):
            raise NotFound(
                "no_audio", "no audio kept for this turn (journal.keep_audio is off, or it expired)"
            )
        try:
            data = (self._audio_folder() / name).read_bytes()
        except OSError:
            raise NotFound(
                "no_audio", f"no {which} audio kept for this turn (keep_audio off, or expired)"
            ) from None
        return {"content_type": "audio/wav", "data": data}

    def stats(self) -> dict[str, Any]:
        with self._db() as db:
            rows = (
                db.execute(
                    "SELECT * FROM turns WHERE trigger != 'say' ORDER BY id DESC LIMIT ?",
                    (_STATS_TURNS,),
                ).fetchall()
                if db is not None
                else []
            )
        return turn_stats(rows, self.config, self._token_rates())


def _unreadable(path: Path, err: sqlite3.Error) -> Unavailable:
    return Unavailable("journal_unreadable", f"{path}: cannot read the journal ({err})")


def _empty_day(day: str, currency: str) -> DayFigures:
    return {
        "day": day,
        "turns": 0,
        "energy_kwh": 0.0,
        "turn_energy_kwh": 0.0,
        "listening_energy_kwh": 0.0,
        "cost": 0.0,
        "cloud_cost": 0.0,
        "currency": currency,
        "method": "",
    }
