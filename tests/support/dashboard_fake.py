"""A scripted DashboardBackend for the dashboard's HTTP and browser tests: turns in memory,
events and audio levels emitted by the test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from assistant.dashboard.backend import (
    AskResult,
    AudioClip,
    AudioWhich,
    BackendError,
    BackendInfo,
    DayFigures,
    Device,
    EventCallback,
    EventDict,
    LevelCallback,
    NotFound,
    ProfileList,
)


def voice_turn_events(
    turn: str, t0: float, text: str = "turn on the kitchen light"
) -> list[EventDict]:
    """The events of one voice turn as the pipeline emits them (event_to_json shape)."""

    def ev(kind: str, dt: float, **fields: Any) -> EventDict:
        return {"v": 1, "type": kind, "turn": turn, "ts": round(t0 + dt, 3), **fields}

    return [
        ev("wake", 0.0, model="hey_jarvis", score=0.93, audio_s=1.84, wake_ms=1.7),
        ev("speech_end", 1.6, reason="silence", speech_s=1.9, endpoint_ms=700.0),
        ev("transcript", 2.3, text=text, stt_ms=690.0),
        ev(
            "intent",
            2.31,
            intent="HassTurnOn",
            slots={"name": "light.kitchen_light"},
            layer="template",
            sentence="<turn> on [<the>] {name}",
            router_ms=9.5,
        ),
        ev(
            "action",
            2.312,
            entity_id="light.kitchen_light",
            service="turn_on",
            data={},
            messages=[["zigbee2mqtt/kitchen_light/set", '{"state":"ON"}']],
            publish_ms=0.2,
            queued=False,
        ),
        ev("reply", 2.313, text="Turned on the Kitchen Light."),
        ev("speech_start", 2.6, tts_ms=287.0),
        ev("speech_end_reply", 3.9, audio_s=1.3),
        ev(
            "turn_end",
            3.91,
            outcome="ok",
            timings_ms={
                "wake": 1.7,
                "endpoint": 700.0,
                "stt": 690.0,
                "router": 9.5,
                "action": 0.2,
                "to_publish": 712.4,
                "tts_first_audio": 287.0,
                "to_first_audio": 1000.6,
            },
            cpu_s={
                "endpoint": 0.011,
                "stt": 1.234,
                "router": 0.006,
                "skill": 0.0001,
                "action": 0.0002,
                "tts": 0.118,
            },
        ),
    ]


class FakeBackend:
    def __init__(self, *, live: bool = True, turns: int = 3, days: int = 14) -> None:
        self.live = live
        self._subscribers: list[EventCallback] = []
        self._level_taps: list[LevelCallback] = []
        self._lock = threading.Lock()
        self.asked: list[str] = []
        self.current_profile = ""
        self._turns: list[dict[str, Any]] = []
        now = time.time() - 3600
        for number in range(1, turns + 1):
            events = voice_turn_events(f"abc{number:09x}", now + 60 * number)
            end = events[-1]
            self._turns.append(
                {
                    "id": number,
                    "turn": end["turn"],
                    "started": events[0]["ts"],
                    "ended": end["ts"],
                    "day": date.today().isoformat(),
                    "trigger": "wake",
                    "profile": "",
                    "wake_model": "hey_jarvis",
                    "wake_score": 0.93,
                    "transcript": "turn on the kitchen light",
                    "layer": "template",
                    "intent": "HassTurnOn",
                    "sentence": "<turn> on [<the>] {name}",
                    "llm": [],
                    "actions": [
                        {
                            k: events[4][k]
                            for k in ("entity_id", "service", "data", "messages", "queued")
                        }
                    ],
                    "reply": "Turned on the Kitchen Light.",
                    "outcome": "ok",
                    "errors": [],
                    "timings_ms": end["timings_ms"],
                    "cpu_s": end["cpu_s"],
                    "cpu_total_s": 1.41,
                    "energy_wh": 0.00116,
                    "energy_method": "estimate",
                    "electricity_cost": 0.00116 / 1000 * 0.16,
                    "cloud_cost": 0.00051,
                    "speech_s": 1.9,
                    "reply_audio_s": 1.3,
                    "to_publish_ms": 712.4,
                    "to_first_audio_ms": 1000.6,
                    "has_audio": True,
                    "audio": {"command": True, "reply": False},
                    "events": events,
                }
            )
        if self._turns:
            self._turns[-1]["layer"] = "llm"
            self._turns[-1]["llm"] = [
                {
                    "layer": "llm",
                    "prompt": [
                        {"role": "system", "content": "You control a home. Tools: HassTurnOn."},
                        {"role": "user", "content": "make it <script>alert(1)</script> brighter"},
                    ],
                    "outputs": ['{"tool": "HassLightSet", "name": "kitchen"}', "not json <b>"],
                    "verdicts": ["valid", "refused: not a tool call"],
                    "call": {"tool": "HassLightSet", "name": "light.kitchen_light"},
                    "llm_ms": 1834.5,
                }
            ]
        self._days = days

    # -- test side ---------------------------------------------------------------------------

    def emit(self, event: EventDict) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(event)

    def level(self, wake: float | None, vad: float | None) -> None:
        """One audio frame's level, as the hearing loop's tap gives it."""
        for tap in list(self._level_taps):
            tap(wake, vad)

    # -- Protocol ----------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        return {
            "name": "Hearth",
            "node_id": "kitchen",
            "live": self.live,
            "keep_audio": True,
            "currency": "USD",
            "wake_threshold": 0.5,
            "vad_threshold": 0.5,
            "note": "",
        }

    def subscribe(self, on_event: EventCallback, on_level: LevelCallback) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(on_event)
            self._level_taps.append(on_level)

        def unsubscribe() -> None:
            with self._lock:
                if on_event in self._subscribers:
                    self._subscribers.remove(on_event)
                if on_level in self._level_taps:
                    self._level_taps.remove(on_level)

        return unsubscribe

    def event_json(self, item: object) -> EventDict:
        if not isinstance(item, dict):
            raise TypeError(f"not an event dict: {type(item).__name__}")
        return item

    def turns(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        keys = (
            "id",
            "turn",
            "started",
            "ended",
            "trigger",
            "transcript",
            "layer",
            "intent",
            "reply",
            "outcome",
        )
        rows = [t for t in reversed(self._turns) if before is None or t["id"] < before]
        return [
            {
                **{k: t[k] for k in keys},
                "to_publish_ms": t["to_publish_ms"],
                "to_first_audio_ms": t["to_first_audio_ms"],
                "energy_wh": t["energy_wh"],
                "cloud_cost": t["cloud_cost"],
                "has_audio": True,
            }
            for t in rows[:limit]
        ]

    def turn(self, key: str) -> dict[str, Any]:
        for t in self._turns:
            if (
                key == str(t["id"])
                or t["turn"].startswith(key)
                or (key == "last" and t is self._turns[-1])
            ):
                return t
        raise NotFound("no_turn", f"no turn {key!r}")

    def days(self, n: int) -> list[DayFigures]:
        today = date.today()
        out: list[DayFigures] = []
        for back in range(n - 1, -1, -1):
            turns = (back * 7) % 11
            out.append(
                {
                    "day": (today - timedelta(days=back)).isoformat(),
                    "turns": turns,
                    "energy_kwh": 0.0006 + turns * 1.2e-6,
                    "turn_energy_kwh": turns * 1.2e-6,
                    "listening_energy_kwh": 0.0006,
                    "cost": (0.0006 + turns * 1.2e-6) * 0.16,
                    "cloud_cost": turns * 0.0005,
                    "currency": "USD",
                    "method": "estimate",
                }
            )
        return out

    def devices(self) -> list[Device]:
        return [
            {
                "entity_id": "light.kitchen_light",
                "name": "Kitchen Light",
                "domain": "light",
                "area": "Kitchen",
                "source": "config",
                "exposed": True,
                "why": "declared in [[entities]]",
                "command_topic": "zigbee2mqtt/kitchen_light/set",
                "state": "ON",
                "state_age_s": 4.0,
                "last_action": None,
            },
            {
                "entity_id": "switch.garage",
                "name": "Garage <door>",
                "domain": "switch",
                "area": "",
                "source": "discovery",
                "exposed": False,
                "why": "excluded by [expose] exclude",
                "command_topic": "garage/set",
                "state": None,
                "state_age_s": None,
                "last_action": None,
            },
        ]

    def profiles(self) -> ProfileList:
        return {
            "current": self.current_profile,
            "switchable": self.live,
            "profiles": [
                {"name": "homework", "description": "short answers"},
                {"name": "party", "description": ""},
            ],
        }

    def switch_profile(self, name: str) -> ProfileList:
        if name and name not in ("homework", "party"):
            raise NotFound("no_profile", f"no profile {name!r}")
        self.current_profile = name
        self.emit({"v": 1, "type": "profile", "turn": None, "ts": time.time(), "profile": name})
        return self.profiles()

    def ask(self, text: str) -> AskResult:
        if "\x00" in text:
            raise BackendError("bad_command", "control characters are not allowed")
        self.asked.append(text)
        return {
            "accepted": True,
            "text": text,
            "turn": None,
            "note": "the reply follows on the live page",
        }

    def stats(self) -> dict[str, Any]:
        return {
            "turns": 3,
            "stt_rtf": 0.36,
            "stt_ms": 690.0,
            "wake_ms_per_frame": 1.7,
            "models": {"stt": "tiny.en"},
        }

    def audio(self, key: str, which: AudioWhich) -> AudioClip:
        self.turn(key)
        if which != "command":
            raise NotFound("no_audio", "no reply audio")
        return {"content_type": "audio/wav", "data": b"RIFF\x24\x00\x00\x00WAVEfmt "}
