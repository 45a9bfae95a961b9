"""Rooms that agree who answers: claim boards joined by an in-memory relay in place of the
broker (the real broker and real pipelines are in tests/e2e/test_rooms.py), the claim parser,
the level meter, and "turn on the lights" meaning the lights of the room that heard it."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant import fakes
from assistant.assemble import Given, assemble
from assistant.config import Config, RoomsConfig
from assistant.events import Event, EventBus, TurnFailed, WakeDetected, WakeYielded
from assistant.home.actions import MemoryPublisher
from assistant.rooms.board import ClaimBoard, Seat, Verdict
from assistant.rooms.claims import Claim, ClaimError, parse_claim
from assistant.voice.audio import ArraySource, MemorySink
from assistant.voice.level import LevelMeter

CONFIG = RoomsConfig(window_s=0.15, takeover_s=0.2, echo_s=0.5)


class House:
    """Claim boards that hear each other's messages at once, as one broker would carry them."""

    def __init__(self, *nodes: str, config: RoomsConfig = CONFIG) -> None:
        self.events: list[Event] = []
        self.boards: dict[str, ClaimBoard] = {}
        self.sent: list[tuple[str, str]] = []
        for node in nodes:
            self.boards[node] = ClaimBoard(config, node, send=self._relay, emit=self.events.append)
        for node in nodes:
            self.deliver(f"hearth/{node}/availability", b"online", retained=True)

    def _relay(self, topic: str, payload: str) -> None:
        self.sent.append((topic, payload))
        self.deliver(topic, payload.encode())

    def deliver(self, topic: str, payload: bytes, retained: bool = False) -> None:
        for board in self.boards.values():
            board.on_message(topic, payload, retained)

    def seat(self, node: str, area: str = "") -> Seat:
        return self.boards[node].seat(node, area)

    def errors(self) -> list[str]:
        return [e.code for e in self.events if isinstance(e, TurnFailed)]


def decide_together(seats: dict[str, Seat], levels: dict[str, float]) -> dict[str, Verdict]:
    """Each room decides in its own thread, as its hearing loop would, all at once."""
    verdicts: dict[str, Verdict] = {}
    start = threading.Barrier(len(seats))

    def run(name: str) -> None:
        start.wait()
        verdicts[name] = seats[name].decide(0.9, levels[name], time.time())

    threads = [threading.Thread(target=run, args=(name,)) for name in seats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    return verdicts


def claim_message(**overrides: Any) -> bytes:
    body = {"v": 1, "kind": "claim", "room": "x", "ts": time.time(), "score": 0.9, "level_db": 20.0}
    body.update(overrides)
    return json.dumps(body).encode()


def test_a_room_alone_answers_at_once() -> None:
    board = ClaimBoard(CONFIG, "kitchen", send=lambda t, p: None, emit=lambda e: None)
    verdict = board.seat("kitchen", "Kitchen").decide(0.9, 25.0, time.time())
    assert verdict.won and verdict.reason == "alone" and verdict.wait_ms == 0.0


def test_an_offline_peer_does_not_make_a_room_wait() -> None:
    house = House("kitchen", "hall")
    house.deliver("hearth/hall/availability", b"offline", retained=True)
    verdict = house.seat("kitchen").decide(0.9, 25.0, time.time())
    assert verdict.won and verdict.reason == "alone"


@pytest.mark.parametrize("loudest", ["kitchen", "hall", "bedroom"])
def test_of_three_rooms_exactly_the_loudest_answers(loudest: str) -> None:
    house = House("kitchen", "hall", "bedroom")
    seats = {name: house.seat(name) for name in house.boards}
    levels = {name: (30.0 if name == loudest else 18.0 + len(name)) for name in seats}
    verdicts = decide_together(seats, levels)
    assert [name for name, v in verdicts.items() if v.won] == [loudest]
    assert all(v.winner == loudest for v in verdicts.values())
    assert all(v.wait_ms <= 1000 * CONFIG.window_s + 50 for v in verdicts.values())
    assert house.errors() == []


def test_once_every_room_has_claimed_nobody_waits_out_the_window() -> None:
    config = RoomsConfig(window_s=0.2, takeover_s=0.2)
    house = House("kitchen", "hall", config=config)
    verdicts = decide_together(
        {"kitchen": house.seat("kitchen"), "hall": house.seat("hall")},
        {"kitchen": 30.0, "hall": 10.0},
    )
    assert verdicts["kitchen"].won and verdicts["kitchen"].claims == 2
    assert verdicts["kitchen"].wait_ms < 150  # both claims in: decided before the 200 ms


def test_a_room_that_wakes_after_the_round_closed_keeps_quiet() -> None:
    house = House("kitchen", "hall")
    house.deliver("hearth/hall/claim", claim_message(room="hall", ts=time.time() - 0.4))
    verdict = house.seat("kitchen").decide(0.9, 40.0, time.time())
    assert not verdict.won and verdict.reason == "decided" and verdict.winner == "hall"


def test_a_winner_that_vanishes_mid_round_is_passed_over() -> None:
    """A claim that beats this room but whose room never takes the turn (killed after
    claiming): this room takes it once rooms.takeover_s has passed."""
    house = House("kitchen", "ghost")
    del house.boards["ghost"]  # nobody answers for it any more
    house.deliver("hearth/ghost/claim", claim_message(room="ghost", level_db=60.0))
    started = time.monotonic()
    verdict = house.seat("kitchen").decide(0.9, 20.0, time.time())
    assert verdict.won and verdict.reason == "takeover"
    assert time.monotonic() - started < CONFIG.window_s + CONFIG.takeover_s + 0.2


def test_wake_words_while_another_room_speaks_are_ignored() -> None:
    house = House("kitchen", "hall")
    house.deliver("hearth/hall/state", b"speaking", retained=True)
    verdict = house.seat("kitchen").decide(0.9, 40.0, time.time())
    assert not verdict.won and verdict.reason == "speaking" and verdict.winner == "hall"
    house.deliver("hearth/hall/state", b"idle", retained=True)
    assert (
        house.seat("kitchen").decide(0.9, 40.0, time.time()).reason == "speaking"
    )  # its echo may follow
    time.sleep(CONFIG.echo_s + 0.05)
    assert house.seat("kitchen").decide(0.9, 40.0, time.time()).won


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json", "bad_claim"),
        (b"[1, 2]", "bad_claim"),
        (claim_message(v=2), "bad_claim"),
        (claim_message(level_db="loud"), "bad_claim"),
        (claim_message(score=float("nan")), "bad_claim"),
        (claim_message(room=""), "bad_claim"),
        (b"{" + b" " * 5000 + b"}", "bad_claim"),
        (claim_message(ts=time.time() + 3600), "claim_from_future"),
    ],
    ids=["text", "array", "version", "level", "nan", "room", "huge", "future"],
)
def test_a_bad_claim_is_refused_with_an_error_and_does_not_count(payload: bytes, code: str) -> None:
    house = House("kitchen", "hall")
    house.deliver("hearth/hall/claim", payload)
    assert house.errors() == [code]
    assert all(code in e.message or "hearth/hall/claim" in e.message for e in house.events)  # type: ignore[attr-defined]
    del house.boards["hall"]
    house.deliver("hearth/hall/availability", b"offline", retained=True)
    assert house.seat("kitchen").decide(0.9, 10.0, time.time()).reason == "alone"


def test_a_flood_of_claims_is_ignored_with_one_error() -> None:
    house = House("kitchen", "hall")
    for n in range(50):
        house.deliver("hearth/hall/claim", claim_message(room=f"r{n}", level_db=90.0))
    assert house.errors() == ["claim_flood"]
    assert len(house.boards["kitchen"]._claims) <= 9  # what came before it was a flood


def test_a_retained_claim_is_refused() -> None:
    house = House("kitchen", "hall")
    house.deliver("hearth/hall/claim", claim_message(room="hall"), retained=True)
    assert house.errors() == ["bad_claim"]


def test_two_rooms_of_one_hearth_agree_without_a_broker() -> None:
    board = ClaimBoard(CONFIG, "house", send=lambda t, p: None, emit=lambda e: None)
    seats = {"near": board.seat("near", "Kitchen"), "far": board.seat("far", "Hall")}
    verdicts = decide_together(seats, {"near": 35.0, "far": 12.0})
    assert verdicts["near"].won and not verdicts["far"].won
    assert verdicts["far"].winner == "house/near"


def test_claims_read_back_as_they_were_written() -> None:
    claim = Claim("kitchen", "kitchen", 1764700000.25, 0.97, 31.5, "Kitchen", of=2)
    assert parse_claim("kitchen", claim.to_json().encode()) == claim


@given(st.binary(max_size=300))
def test_any_bytes_are_a_claim_or_a_claim_error(payload: bytes) -> None:
    with contextlib.suppress(ClaimError):
        parse_claim("n", payload)


@given(
    st.dictionaries(
        st.sampled_from(["v", "kind", "room", "ts", "score", "level_db", "of"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    )
)
def test_any_json_object_is_a_claim_or_a_claim_error(body: dict[str, Any]) -> None:
    try:
        claim = parse_claim("n", json.dumps(body).encode())
    except ClaimError:
        return
    assert 0.0 <= claim.score <= 1.0 and claim.room


def test_the_level_is_the_wake_word_over_the_rooms_noise() -> None:
    rng = np.random.default_rng(1)
    meter = LevelMeter()
    for _ in range(100):  # 8 s of noise at about -50 dBFS
        meter.add((rng.standard_normal(1280) * 100).astype(np.int16))
    for _ in range(10):  # then speech 30 dB louder
        meter.add((rng.standard_normal(1280) * 3160).astype(np.int16))
    assert 28.0 < meter.over_floor_db() < 32.0


ENTITIES = [
    {
        "domain": "light",
        "name": f"{area} Light",
        "unique_id": f"{area.lower()}_light",
        "command_topic": f"z2m/{area.lower()}_light/set",
        "suggested_area": area,
    }
    for area in ("Kitchen", "Hall")
]


def test_turn_on_the_lights_means_the_lights_of_the_room_that_heard_it(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "entities": ENTITIES,
            "llm": {"enabled": False},
            "assistant": {"data_dir": str(tmp_path), "area": "Hall", "node_id": "hall"},
        }
    )
    publisher, bus = MemoryPublisher(), EventBus()
    given_stages = Given(
        wake=fakes.MarkedWake(),
        vad=fakes.LevelVad(),
        stt=fakes.ScriptedStt(["Turn on the lights."]),
        tts=fakes.SilentTts(),
    )
    hearth = assemble(
        config, bus=bus, publisher=publisher, listen=True, speak=True, given=given_stages
    )
    events: list[Event] = []
    bus.subscribe(events.append)
    board = ClaimBoard(CONFIG, "hall", send=lambda t, p: None, emit=bus.emit)
    loop = hearth.hearing_loop(MemorySink(), board.seat("hall", "Hall"), room="hall")
    stream = fakes.stream(fakes.silence(0.5), fakes.wake_mark(), fakes.speech(0), fakes.silence(1))
    assert loop.run(ArraySource(stream)) == 1
    assert [m.topic for m in publisher.messages] == ["z2m/hall_light/set"]
    wake = next(e for e in events if isinstance(e, WakeDetected))
    assert wake.room == "hall" and wake.arbitration_ms == 0.0
    assert bus.handler_errors == []


def test_a_room_that_loses_drops_the_command(tmp_path: Path) -> None:
    config = Config.model_validate(
        {"entities": ENTITIES, "llm": {"enabled": False}, "assistant": {"data_dir": str(tmp_path)}}
    )
    publisher, bus = MemoryPublisher(), EventBus()
    given_stages = Given(
        wake=fakes.MarkedWake(),
        vad=fakes.LevelVad(),
        stt=fakes.ScriptedStt(["Turn on the lights."]),
        tts=fakes.SilentTts(),
    )
    hearth = assemble(
        config, bus=bus, publisher=publisher, listen=True, speak=True, given=given_stages
    )
    events: list[Event] = []
    bus.subscribe(events.append)
    house = House("kitchen", "hall")
    loop = hearth.hearing_loop(MemorySink(), house.seat("kitchen", "Kitchen"), room="kitchen")
    stream = fakes.stream(fakes.silence(0.5), fakes.wake_mark(), fakes.speech(0), fakes.silence(1))
    now = time.time()  # the hall heard it too, louder, just now, and took the turn
    house.deliver("hearth/hall/claim", claim_message(room="hall", level_db=150.0, ts=now))
    won = {"v": 1, "kind": "won", "room": "hall", "ts": now}
    house.deliver("hearth/hall/claim", json.dumps(won).encode())
    assert loop.run(ArraySource(stream)) == 0
    assert publisher.messages == []
    yielded = [e for e in events if isinstance(e, WakeYielded)]
    assert len(yielded) == 1 and yielded[0].winner == "hall"


def test_a_claim_that_arrives_late_but_was_made_first_still_counts() -> None:
    """The other room's claim reaches this one only after its own was sent (a slow network or
    a busy machine): it still belongs to the round, and the louder one answers."""
    house = House("kitchen", "hall")
    heard_at = time.time()
    threading.Timer(
        0.05,
        lambda: house.deliver(
            "hearth/hall/claim", claim_message(room="hall", ts=heard_at - 0.05, level_db=50.0)
        ),
    ).start()
    threading.Timer(
        0.08,
        lambda: house.deliver(
            "hearth/hall/claim",
            json.dumps({"v": 1, "kind": "won", "room": "hall", "ts": heard_at - 0.05}).encode(),
        ),
    ).start()
    verdict = house.seat("kitchen").decide(0.9, 20.0, heard_at)
    assert not verdict.won and verdict.winner == "hall"


def test_a_room_behind_its_source_claims_the_time_the_audio_was_heard() -> None:
    from assistant.voice.clock import StreamClock

    now = [1000.0]
    clock = StreamClock(lambda: now[0])
    for n in range(1, 51):  # 4 s read in real time
        now[0] += 0.08
        clock.tick(0.08 * n)
    now[0] += 3.0  # a turn ran for 3 s; then 3 s of waiting frames are read in a burst
    for n in range(51, 89):
        clock.tick(0.08 * n)
        now[0] += 0.001
    assert abs(clock.at(0.08 * 88) - (1000.0 + 0.08 * 88)) < 0.01


class SlowHouse(House):
    """A house whose broker carries some rooms' messages to some others late (a busy machine):
    ``slow[(sender, receiver)]`` seconds."""

    def __init__(self, *nodes: str, slow: dict[tuple[str, str], float], config: RoomsConfig):
        self.slow = slow
        super().__init__(*nodes, config=config)

    def _relay(self, topic: str, payload: str) -> None:
        self.sent.append((topic, payload))
        sender = topic.split("/")[1]
        for node, board in self.boards.items():
            delay = self.slow.get((sender, node), 0.0)
            if delay:
                threading.Timer(delay, board.on_message, (topic, payload.encode(), False)).start()
            else:
                board.on_message(topic, payload.encode(), False)


WIDE = RoomsConfig(window_s=0.2, takeover_s=0.4, echo_s=0.5)


def decide_at(seat: Seat, after_s: float, level_db: float, heard_at: float) -> Any:
    """``seat`` decides ``after_s`` from now in its own thread; the thread and its verdict."""
    verdict: dict[str, Verdict] = {}

    def run() -> None:
        time.sleep(after_s)
        verdict["v"] = seat.decide(0.9, level_db, heard_at)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, verdict


def test_a_claim_that_went_out_too_late_for_the_other_room_does_not_answer_twice() -> None:
    """The kitchen is louder, but its loop is behind its audio: its claim goes out after the
    hall closed its window alone and took the turn, while the hall's won is still on its way.
    The kitchen hears it within a round trip and keeps quiet: one room answers."""
    house = SlowHouse("kitchen", "hall", slow={("hall", "kitchen"): 0.06}, config=WIDE)
    heard_at = time.time()
    hall_thread, hall = decide_at(house.seat("hall"), 0.0, 10.0, heard_at)
    kitchen_thread, kitchen = decide_at(house.seat("kitchen"), 0.22, 30.0, heard_at)
    hall_thread.join(5)
    kitchen_thread.join(5)
    assert hall["v"].won and hall["v"].reason == "best"
    assert not kitchen["v"].won and kitchen["v"].winner == "hall"


def test_a_late_claim_that_was_counted_still_answers() -> None:
    """The kitchen's claim goes out late but within the hall's window: the hall counted it and
    waits for the kitchen, which takes the turn once a round trip brought no other won."""
    house = House("kitchen", "hall", config=WIDE)
    heard_at = time.time() - 0.05
    hall_thread, hall = decide_at(house.seat("hall"), 0.0, 10.0, heard_at)
    kitchen_thread, kitchen = decide_at(house.seat("kitchen"), 0.15, 30.0, heard_at)
    hall_thread.join(5)
    kitchen_thread.join(5)
    assert kitchen["v"].won and kitchen["v"].reason == "best"
    assert not hall["v"].won and hall["v"].reason == "lost" and hall["v"].winner == "kitchen"


def test_a_room_that_took_the_round_with_a_later_claim_keeps_the_others_quiet() -> None:
    """The hall heard the wake word's loudest moment 80 ms after the kitchen did, and took the
    round alone before the kitchen's claim went out: the kitchen keeps quiet."""
    house = House("kitchen", "hall", config=WIDE)
    heard_at = time.time()
    hall = house.seat("hall").decide(0.9, 10.0, heard_at)
    assert hall.won
    kitchen = house.seat("kitchen").decide(0.9, 30.0, heard_at - 0.08)
    assert not kitchen.won and kitchen.winner == "hall"
