"""The dashboard of a real ``hearth run`` in Debian's headless Chromium: spoken commands (Piper
test speech) fed in real time, real models, a real mosquitto, the journal keeping audio.

The live page shows each turn's stages and transcript within a second of its end; the turn page
shows the numbers of the ``turn_end`` event and of ``hearth explain``; the energy chart has a bar
per day with ``hearth report``'s counts; the box types a command as ``cmd/ask`` would; and
``hearth dashboard`` serves the same journal alone, behind a token when one is set. Each page is
saved as a screenshot (``$HEARTH_DASHBOARD_SHOTS``: the README's ``docs/dashboard``)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from broker import Broker, Recorder
from browser import chrome, save_page, shots_folder
from daemon import Daemon
from dashboard_http import TOKEN, request
from hearth_cli import HEARTH, run_hearth, write_config
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from speech import utterance

STAGES = ("wake", "endpoint", "stt", "router", "action", "tts")
_URL = re.compile(r"dashboard on (http://127\.0\.0\.1:(\d+)/)")


def _extra(journal: Path) -> str:
    """The journal in the test's own folder, keeping audio; and a profile to switch to."""
    return (
        f'[journal]\nkeep_audio = true\npath = "{journal}"\n\n'
        '[profiles.homework]\ndescription = "short answers"\n'
    )


@dataclass
class Live:
    daemon: Daemon
    config: Path
    url: str
    port: int
    recorder: Recorder
    browser: Any
    shots: Path


def _wait(driver: Any, script: str, timeout_s: float = 90.0) -> Any:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(
        lambda d: d.execute_script(script)
    )


def _events(recorder: Recorder, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in recorder.on(f"hearth/kitchen/event/{kind}")]


def _turns(port: int, count: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        turns: list[dict[str, Any]] = request(port, "GET", "/api/turns").json()["turns"]
        if len(turns) >= count or time.monotonic() > deadline:
            return turns
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("dashboard-run")
    config = write_config(folder, broker.port, extra=_extra(folder / "journal.sqlite"))
    recorder = Recorder(broker.port)
    daemon = Daemon(config)
    browser = None
    try:
        line = daemon.lines[daemon.wait_line("dashboard on http://", timeout_s=240)]
        found = _URL.search(line)
        assert found is not None, line
        daemon.wait_line("ready in", timeout_s=240)
        browser = chrome(folder / "chromium")
        yield Live(
            daemon,
            config,
            found.group(1),
            int(found.group(2)),
            recorder,
            browser,
            shots_folder(folder / "shots"),
        )
    finally:
        if browser is not None:
            browser.quit()
        assert daemon.stop() == 0
        recorder.close()


def _speak_and_watch(live: Live, command: str, count: int) -> dict[str, Any]:
    """Say ``command`` after the wake word while the live page is open; the page's view of the
    turn once it has ended, and the turn's own ``turn_end`` event."""
    browser = live.browser
    browser.get(live.url)
    _wait(browser, "return window.hearthSeen && window.hearthSeen.hello")
    browser.execute_script("window.hearthSeen.turn_end = 0")
    live.daemon.say(utterance("Hey Jarvis.", 0.6, command, 1.5))
    _wait(browser, "return window.hearthSeen.turn_end > 0")
    live.recorder.wait_for("hearth/kitchen/event/turn_end", count, timeout_s=30)
    end = _events(live.recorder, "turn_end")[count - 1]
    shown = browser.execute_script(
        "return {seen: window.hearthSeen.turn_end,"
        " transcript: document.getElementById('transcript').textContent,"
        " outcome: document.getElementById('outcome').textContent,"
        " stages: Object.fromEntries([...document.querySelectorAll('#stages [data-stage]')]"
        "   .map(e => [e.dataset.stage, e.className]))}"
    )
    return {"end": end, "shown": shown}


def test_the_live_page_shows_each_spoken_turn_within_a_second(live: Live) -> None:
    first = _speak_and_watch(live, "Turn on the kitchen light.", 1)
    save_page(live.browser, live.shots / "live.png")
    second = _speak_and_watch(live, "What time is it?", 2)
    transcripts = [e["text"] for e in _events(live.recorder, "transcript")]
    for number, seen in enumerate((first, second)):
        lag_ms = seen["shown"]["seen"] - 1000 * seen["end"]["ts"]
        print(f"turn {number + 1}: the live page had turn_end {lag_ms:.0f} ms after its event")
        assert lag_ms < 1000, lag_ms
        assert seen["shown"]["transcript"] == transcripts[number]
        assert seen["shown"]["outcome"] == seen["end"]["outcome"] == "ok"
    first_stages = first["shown"]["stages"]
    assert all("done" in first_stages[key] for key in STAGES), first_stages
    assert "skipped" in second["shown"]["stages"]["action"]  # the time: no device acted
    assert transcripts[0].lower().startswith("turn on the kitchen light")
    published = [(t, p) for t, p, _ in live.recorder.messages if t.startswith("zigbee2mqtt/")]
    assert published == [("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')]


def _explain_timings(config: Path, turn: str) -> dict[str, float]:
    text = run_hearth("explain", "--config", str(config), turn).stdout
    line = next(row for row in text.splitlines() if row.startswith("Timings (ms): "))
    pairs = (item.rsplit(" ", 1) for item in line.removeprefix("Timings (ms): ").split(", "))
    return {key: float(value) for key, value in pairs}


def test_the_turn_page_numbers_are_turn_end_and_hearth_explain(live: Live) -> None:
    turns = _turns(live.port, 2)
    assert len(turns) == 2
    first = turns[-1]
    end = next(e for e in _events(live.recorder, "turn_end") if e["turn"] == first["turn"])
    explained = _explain_timings(live.config, first["turn"])
    assert explained == {k: round(v, 1) for k, v in end["timings_ms"].items()}
    browser = live.browser
    browser.get(f"{live.url}turns/{first['id']}")
    checked = 0
    for tr in browser.find_elements(By.CSS_SELECTOR, "#stages-table tbody tr"):
        stage = tr.get_attribute("data-stage")
        key = "tts_first_audio" if stage == "tts" else stage
        cell = tr.find_element(By.CSS_SELECTOR, ".ms")
        cpu = tr.find_element(By.CSS_SELECTOR, ".cpu").get_attribute("data-value")
        assert cpu == (str(end["cpu_s"][stage]) if stage in end["cpu_s"] else "–"), stage
        if key not in end["timings_ms"]:
            continue
        assert cell.get_attribute("data-value") == str(end["timings_ms"][key]), stage
        assert float(cell.text.removesuffix(" ms").replace(",", "")) == explained[key], stage
        checked += 1
    assert checked >= 5, checked  # wake, endpoint, stt, router, action, tts
    for key in ("to_publish", "to_first_audio"):
        shown = browser.find_element(By.CSS_SELECTOR, f'[data-timing="{key}"]')
        assert shown.get_attribute("data-value") == str(end["timings_ms"][key])
        shown_ms = float(shown.text.removesuffix(" ms").replace(",", ""))
        assert shown_ms == float(f"{end['timings_ms'][key]:.0f}")
    transcript = _events(live.recorder, "transcript")[0]["text"]
    assert browser.find_element(By.ID, "transcript").text == transcript
    topics = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "code.topic")]
    payloads = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "code.payload")]
    assert list(zip(topics, payloads, strict=True)) == [
        ("zigbee2mqtt/kitchen_light/set", '{"state":"ON"}')
    ]
    detail = request(live.port, "GET", f"/api/turns/{first['id']}").json()
    assert detail["audio"] == {"command": True, "reply": True}
    players = browser.find_elements(By.CSS_SELECTOR, "audio")
    durations: list[float] = []
    script = "return arguments[0].readyState >= 1 && arguments[0].duration"
    for player in players:
        browser.execute_script("arguments[0].preload = 'auto'; arguments[0].load();", player)
        durations.append(
            WebDriverWait(browser, 20).until(lambda d, p=player: d.execute_script(script, p))
        )
    assert durations == [
        pytest.approx(detail["speech_s"], abs=0.1),  # the command as handed to speech-to-text
        pytest.approx(detail["reply_audio_s"], abs=0.1),  # the reply as spoken
    ]
    save_page(browser, live.shots / "turn.png")
    browser.get(live.url + "turns")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.turns tbody tr")) == 2
    save_page(browser, live.shots / "turns.png")


def test_how_it_works_and_the_energy_chart(live: Live) -> None:
    browser = live.browser
    browser.get(live.url + "how")
    stats = request(live.port, "GET", "/api/stats").json()
    rtf = browser.find_element(By.CSS_SELECTOR, '[data-stat="stt_rtf"]').text
    assert stats["turns"] == 2 and rtf == f"{stats['stt_rtf']:,.2f}"
    save_page(browser, live.shots / "how.png")
    browser.get(live.url + "energy?days=7")
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-turns rect.bar")
    days = request(live.port, "GET", "/api/energy?days=7").json()["days"]
    assert [b.get_attribute("data-day") for b in bars] == [d["day"] for d in days]
    assert len(bars) == 7 and len(browser.find_elements(By.CSS_SELECTOR, "#chart-energy rect")) == 7
    report = run_hearth("report", "--config", str(live.config), "--days", "7").stdout
    counted = {
        row.split()[0]: int(row.split()[1])
        for row in report.splitlines()
        if re.match(r"\d{4}-\d\d-\d\d ", row)
    }
    assert {
        b.get_attribute("data-day"): int(float(b.get_attribute("data-value"))) for b in bars
    } == (counted)
    assert counted[days[-1]["day"]] == 2
    save_page(browser, live.shots / "energy.png")


def test_the_home_page_asks_and_switches_the_profile(live: Live) -> None:
    browser = live.browser
    # the journal is written off the audio thread: the last turn's row may land a moment later
    deadline = time.monotonic() + 15
    while True:
        browser.get(live.url + "home")
        rows = browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr")
        if (rows and "turn_on" in rows[0].text) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [r.get_attribute("data-entity") for r in rows] == [
        "light.kitchen_light",
        "light.desk_lamp",
        "switch.coffee_maker",
    ]
    assert "turn_on" in rows[0].text  # its last action, from the journal
    browser.find_element(By.ID, "ask-text").send_keys("turn off the kitchen light", Keys.ENTER)
    _wait(browser, "return document.getElementById('ask-result').textContent.includes('(ok)')")
    assert live.recorder.wait_for("zigbee2mqtt/kitchen_light/set", 2) == [
        '{"state":"ON"}',
        '{"state":"OFF"}',
    ]
    select = browser.find_element(By.ID, "profile-name")
    select.find_element(By.CSS_SELECTOR, 'option[value="homework"]').click()
    browser.find_element(By.CSS_SELECTOR, "#profile-form button").click()
    _wait(browser, "return document.getElementById('profile-current').textContent === 'homework'")
    live.recorder.wait_for("hearth/kitchen/event/profile", 1, timeout_s=30)
    assert request(live.port, "GET", "/api/profiles").json()["current"] == "homework"
    browser.get(live.url + "home")
    save_page(browser, live.shots / "home.png")


def test_a_phone_sees_the_live_page(live: Live, tmp_path: Path) -> None:
    phone = chrome(tmp_path / "phone", 390, 844)
    try:
        phone.get(live.url)
        _wait(phone, "return window.hearthSeen && window.hearthSeen.hello")
        overflow = phone.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1
        save_page(phone, live.shots / "phone-live.png")
    finally:
        phone.quit()


# -- hearth dashboard: the journal alone ---------------------------------------------------------


@pytest.fixture
def journal_only(live: Live, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``hearth dashboard`` on the journal the daemon wrote, behind a token."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    config = tmp_path / "with-token.toml"
    config.write_text(
        live.config.read_text().replace("[dashboard]\nport = 0\n", "")
        + f'\n[dashboard]\nport = 0\ntoken_file = "{token_file}"\n'
    )
    process = subprocess.Popen(
        [HEARTH, "dashboard", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("dashboard (journal only) on http://127.0.0.1:"), line
        yield int(line.rsplit(":", 1)[1].strip().rstrip("/")), process
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert "Traceback" not in err


def test_the_token_rule_holds_for_hearth_dashboard(
    live: Live, journal_only: tuple[int, subprocess.Popen[str]], tmp_path: Path
) -> None:
    port, _ = journal_only
    base = f"http://127.0.0.1:{port}/"
    for path in (
        "/",
        "/turns",
        "/turns/1",
        "/how",
        "/energy",
        "/home",
        "/api/turns",
        "/api/turns/1/audio/command",
        "/api/events",
        "/static/app.css",
        "/nope",
    ):
        reply = request(port, "GET", path)
        assert (reply.status, reply.body) == (401, b"401 Unauthorized\n"), path
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    listed = request(port, "GET", "/api/turns", bearer).json()["turns"]
    assert [t["turn"] for t in listed] == [t["turn"] for t in _turns(live.port, 3)]
    assert request(port, "GET", "/api/info", bearer).json()["live"] is False
    stranger = chrome(tmp_path / "stranger")
    owner = chrome(tmp_path / "owner")
    try:
        stranger.get(base + "turns")
        assert stranger.find_element(By.TAG_NAME, "body").text.strip() == "401 Unauthorized"
        save_page(stranger, live.shots / "unauthorized.png")
        owner.get(f"{base}turns?token={TOKEN}")
        assert owner.current_url == base + "turns"  # the token left the address
        assert len(owner.find_elements(By.CSS_SELECTOR, "table.turns tbody tr")) == 3
        owner.get(base)
        assert "Not live" in owner.find_element(By.ID, "mode").text
        assert not owner.execute_script("return document.cookie")  # HttpOnly
        stranger.get(base + "how")
        assert stranger.find_element(By.TAG_NAME, "body").text.strip() == "401 Unauthorized"
    finally:
        stranger.quit()
        owner.quit()


def test_an_open_bind_without_a_token_and_a_taken_port(live: Live, tmp_path: Path) -> None:
    plain = (
        live.config.read_text()
        .replace("[dashboard]\nport = 0\n", "")
        .replace(str(live.config.parent / "journal.sqlite"), str(tmp_path / "journal.sqlite"))
    )
    open_bind = tmp_path / "open.toml"
    open_bind.write_text(plain + '\n[dashboard]\nhost = "0.0.0.0"\n')
    for command in ("dashboard", "check-config"):
        done = run_hearth(command, "--config", str(open_bind), timeout_s=60)
        assert done.returncode == 78
        assert done.stderr.count("\n") == 1 and "dashboard.token_file" in done.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        done = run_hearth("dashboard", "--config", str(live.config), "--port", str(busy))
        assert done.returncode == 69
        assert done.stderr.count("\n") == 1 and f"127.0.0.1:{busy}" in done.stderr
        busy_config = tmp_path / "busy.toml"
        busy_config.write_text(plain + f"\n[dashboard]\nport = {busy}\n")
        wav = tmp_path / "in.wav"
        from speech import write_wav

        write_wav(wav, utterance(0.5, "Hey Jarvis.", 0.6, "What time is it?", 1.5))
        ran = run_hearth(
            "run", "--config", str(busy_config), "--input", str(wav), "--output", "/dev/null"
        )
    assert ran.returncode == 0, ran.stderr
    warnings = [line for line in ran.stderr.splitlines() if "dashboard: cannot listen" in line]
    assert len(warnings) == 1 and "running without the dashboard" in warnings[0]
    assert "turn_end" in ran.stderr
