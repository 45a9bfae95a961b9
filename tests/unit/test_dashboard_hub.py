"""The dashboard's event hub alone: peak-hold thinning of the levels, the snapshot, bounded
queues; and the waterfall of a typed turn."""

from __future__ import annotations

import json
import time

from dashboard_fake import voice_turn_events

from assistant.dashboard.charts import waterfall
from assistant.dashboard.hub import Client, EventHub


def _frames(client: Client) -> list[dict[str, object]]:
    taken = client.take(0.0)
    assert taken is not None
    return [json.loads(f.removeprefix("data: ")) for f in taken[0]]


def _drain(hub: EventHub, until: float) -> None:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        time.sleep(0.02)


def test_levels_are_thinned_but_a_spike_is_kept() -> None:
    hub = EventHub(lambda item: item, level_hz=5.0, tick_s=0.01)  # type: ignore[arg-type,return-value]
    hub.start()
    client = hub.connect()
    assert client is not None
    try:
        for number in range(25):  # 2 s of 80 ms frames
            score = 0.97 if number == 11 else 0.03
            hub.offer_level(score, None)
            time.sleep(0.08)
        _drain(hub, 0.4)
        levels = [f for f in _frames(client) if f["type"] == "level"]
        assert 5 <= len(levels) <= 13, len(levels)
        assert max(float(f["wake"]) for f in levels) == 0.97  # type: ignore[arg-type]
        assert hub.stats.levels_in == 25
    finally:
        hub.stop()


def test_snapshot_holds_the_turn_and_the_last_turn() -> None:
    hub = EventHub(lambda item: item, tick_s=0.01)  # type: ignore[arg-type,return-value]
    hub.start()
    try:
        first = voice_turn_events("aaaaaaaaaaaa", time.time())
        second = voice_turn_events("bbbbbbbbbbbb", time.time())
        for event in [*first, *second[:3]]:
            hub.offer(event)
        hub.offer({"type": "state", "turn": None, "state": "thinking"})
        _drain(hub, 0.4)
        snap = hub.snapshot()
        assert snap["state"] == "thinking"
        assert [e["type"] for e in snap["last"]] == [e["type"] for e in first]
        assert [e["turn"] for e in snap["turn"]] == ["bbbbbbbbbbbb"] * 3
    finally:
        hub.stop()


def test_a_bad_event_is_counted_not_fatal() -> None:
    def convert(item: object) -> dict[str, object]:
        if item == "bad":
            raise ValueError("cannot")
        assert isinstance(item, dict)
        return item

    hub = EventHub(convert, tick_s=0.01)
    hub.start()
    try:
        hub.offer("bad")
        hub.offer({"type": "state", "turn": None, "state": "idle"})
        _drain(hub, 0.3)
        assert hub.stats.convert_errors == 1 and hub.snapshot()["state"] == "idle"
    finally:
        hub.stop()


def test_a_full_client_queue_drops_the_oldest() -> None:
    client = Client(limit=3)
    for number in range(5):
        client.push(f"data: {number}\n\n")
    taken = client.take(0.0)
    assert taken == (["data: 2\n\n", "data: 3\n\n", "data: 4\n\n"], 2)
    client.close()
    assert client.take(0.0) is None


def test_the_waterfall_of_a_typed_turn_has_no_wake_or_stt() -> None:
    events = voice_turn_events("cccccccccccc", 1000.0)
    typed = [e for e in events if e["type"] not in ("wake", "speech_end")]
    typed[0] = {**typed[0], "stt_ms": 0.0}
    end = typed[-1]
    detail = {
        "events": typed,
        "timings_ms": {
            k: v for k, v in end["timings_ms"].items() if k not in ("wake", "endpoint", "stt")
        },
        "cpu_s": {k: v for k, v in end["cpu_s"].items() if k not in ("endpoint", "stt")},
    }
    stages = [s.stage for s in waterfall(detail)]
    assert stages == ["router", "skill", "action", "tts"]
    assert all(s.start_ms <= s.end_ms for s in waterfall(detail))


def test_levels_are_not_kept_while_no_page_is_open() -> None:
    hub = EventHub(lambda item: item, tick_s=0.01)  # type: ignore[arg-type,return-value]
    hub.start()
    try:
        for _ in range(50):
            hub.offer_level(0.5, None)
        _drain(hub, 0.2)
        assert hub.stats.levels_in == 0
        client = hub.connect()
        assert client is not None
        hub.offer_level(0.25, None)
        _drain(hub, 0.4)
        assert hub.stats.levels_in == 1
        assert [f["wake"] for f in _frames(client) if f["type"] == "level"] == [0.25]
        hub.disconnect(client)
        hub.offer_level(0.5, None)
        _drain(hub, 0.2)
        assert hub.stats.levels_in == 1
    finally:
        hub.stop()


def test_a_flood_of_levels_never_pushes_out_an_event() -> None:
    hub = EventHub(lambda item: item, tick_s=0.01)  # type: ignore[arg-type,return-value]
    client = hub.connect()  # before start: everything waits in the inboxes
    assert client is not None
    hub.offer({"type": "state", "turn": None, "state": "listening"})
    for _ in range(10000):  # a WAV file read far faster than real time
        hub.offer_level(0.1, None)
    hub.offer({"type": "state", "turn": None, "state": "thinking"})
    hub.start()
    try:
        _drain(hub, 0.5)
        states = [f["state"] for f in _frames(client) if f["type"] == "state"]
        assert states == ["listening", "thinking"]
    finally:
        hub.stop()
