"""The dashboard's pages in a real headless Chromium (Debian's, driven by Selenium) against a
fake backend: the live page lights each stage as events come, the score line moves at a bounded
rate, the turn and energy pages show the backend's numbers, the token rule holds in a browser,
and every page is keyboard and screen-reader friendly and fits a phone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chrome
from dashboard_fake import FakeBackend, voice_turn_events
from dashboard_http import TOKEN, start_server
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from assistant.dashboard.server import DashboardServer

MakeBrowser = Callable[..., Any]


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def server(backend: FakeBackend) -> Iterator[DashboardServer]:
    instance = start_server(backend)
    yield instance
    instance.stop()


@pytest.fixture
def token_server(backend: FakeBackend) -> Iterator[DashboardServer]:
    instance = start_server(backend, token=TOKEN)
    yield instance
    instance.stop()


@pytest.fixture
def make_browser(tmp_path: Path) -> Iterator[MakeBrowser]:
    """New browsers, each with its own fresh profile (no shared cookies)."""
    drivers: list[Any] = []

    def make(width: int = 1100, height: int = 1400) -> Any:
        driver = chrome(tmp_path / f"chromium-profile-{len(drivers)}", width, height)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@pytest.fixture
def browser(make_browser: MakeBrowser) -> Any:
    return make_browser()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    folder.mkdir()
    return folder


CONTRAST_JS = """
const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
const lum = c => { const [r, g, b] = c.map(lin); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const bodyBg = getComputedStyle(document.body).backgroundColor;
const rootBg = getComputedStyle(document.documentElement).backgroundColor;
const bg = lum(rgb(bodyBg === "rgba(0, 0, 0, 0)" ? rootBg : bodyBg));
const ratio = e => {
  const f = lum(rgb(getComputedStyle(e).color));
  return (Math.max(f, bg) + 0.05) / (Math.min(f, bg) + 0.05);
};
const texts = "main p, main td, main th, main a, nav a, main dd, .status";
return Math.min(...[...document.querySelectorAll(texts)].map(ratio));
"""
STAGES = ["wake", "endpoint", "stt", "router", "action", "tts"]


def js(driver: Any, script: str) -> Any:
    return driver.execute_script(script)


def wait(driver: Any, script: str, timeout_s: float = 5.0) -> Any:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.02).until(
        lambda d: d.execute_script(script)
    )


def stage_classes(driver: Any) -> dict[str, str]:
    return {
        key: driver.find_element(By.CSS_SELECTOR, f'#stages [data-stage="{key}"]').get_attribute(
            "class"
        )
        for key in STAGES
    }


def only_local_resources(driver: Any, base: str) -> None:
    urls = js(driver, "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(u.startswith(base) for u in urls), urls


def test_the_live_page_lights_each_stage_within_a_second(
    server: DashboardServer, backend: FakeBackend, browser: Any, screenshots: Path
) -> None:
    browser.get(server.url)
    wait(browser, "return window.hearthSeen && window.hearthSeen.hello")
    emitted: dict[str, float] = {}
    events = voice_turn_events("feedc0ffee01", time.time(), text="turn on the kitchen light please")
    backend.emit({"v": 1, "type": "state", "turn": None, "ts": time.time(), "state": "listening"})
    for event in events:
        emitted[event["type"]] = time.time() * 1000
        backend.emit(event)
        if event["type"] == "transcript":
            wait(
                browser,
                "return document.getElementById('transcript').textContent.includes('please')",
                1.0,
            )
            assert "done" in stage_classes(browser)["stt"]
            assert "now" in stage_classes(browser)["router"]
        time.sleep(0.15)
    wait(browser, "return window.hearthSeen.turn_end")
    seen = js(browser, "return window.hearthSeen")
    lags = {kind: seen[kind] - emitted[kind] for kind in emitted}
    assert all(0 <= lag < 1000 for lag in lags.values()), lags
    classes = stage_classes(browser)
    assert all("done" in classes[key] for key in STAGES), classes
    assert browser.find_element(By.ID, "transcript").text == "turn on the kitchen light please"
    assert browser.find_element(By.ID, "reply").text == "Turned on the Kitchen Light."
    assert browser.find_element(By.ID, "outcome").text == "ok"
    assert (
        "zigbee2mqtt/kitchen_light/set"
        in browser.find_element(By.CSS_SELECTOR, '[data-stage="action"]').text
    )
    link = browser.find_element(By.CSS_SELECTOR, "#turn-link a").get_attribute("href")
    assert link.endswith("/turns/feedc0ffee01")
    only_local_resources(browser, server.url)
    browser.save_screenshot(str(screenshots / "live.png"))
    print("live page lag per event (ms):", {k: round(v) for k, v in lags.items()})


def test_the_score_line_moves_at_a_bounded_rate(
    server: DashboardServer, backend: FakeBackend, browser: Any, screenshots: Path
) -> None:
    browser.get(server.url)
    wait(browser, "return window.hearthSeen && window.hearthSeen.hello")
    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < 3.0:  # one level per 80 ms frame, as the audio thread would
        score = 0.9 if sent == 17 else 0.02 + 0.01 * (sent % 5)
        backend.level(score, 0.1)
        sent += 1
        time.sleep(0.08)
    time.sleep(0.5)
    received = js(browser, "return window.hearthCounts.level || 0")
    assert sent >= 30
    assert 8 <= received <= 19, (sent, received)  # 5 per second, peak of each window
    assert browser.find_element(By.ID, "hearing").text == "no speech"
    assert server.hub.stats.levels_in == sent
    browser.save_screenshot(str(screenshots / "live-levels.png"))
    print(f"levels: {sent} emitted at 12.5 Hz, {received} reached the page in 3.5 s")


def test_the_turn_page_numbers_are_the_backends(
    server: DashboardServer, backend: FakeBackend, browser: Any, screenshots: Path
) -> None:
    browser.get(server.url + "turns/2")
    turn = backend.turn("2")
    rows = browser.find_elements(By.CSS_SELECTOR, "#stages-table tbody tr")
    shown = {
        r.get_attribute("data-stage"): (
            r.find_element(By.CSS_SELECTOR, ".ms").get_attribute("data-value"),
            r.find_element(By.CSS_SELECTOR, ".cpu").get_attribute("data-value"),
            r.find_element(By.CSS_SELECTOR, ".ms").text,
        )
        for r in rows
    }
    assert set(shown) == {"wake", "endpoint", "stt", "router", "skill", "action", "tts"}
    timing_key = {"tts": "tts_first_audio"}
    for stage, (ms, cpu, text) in shown.items():
        expected_ms = turn["timings_ms"].get(timing_key.get(stage, stage))
        assert ms == (str(expected_ms) if expected_ms is not None else "–"), stage
        assert cpu == (str(turn["cpu_s"][stage]) if stage in turn["cpu_s"] else "–"), stage
        if expected_ms is not None:
            assert text == f"{expected_ms:,.1f} ms"
    for key in ("to_publish", "to_first_audio"):
        value = browser.find_element(By.CSS_SELECTOR, f'[data-timing="{key}"]').get_attribute(
            "data-value"
        )
        assert value == str(turn["timings_ms"][key])
    assert browser.find_element(By.ID, "transcript").text == turn["transcript"]
    assert browser.find_element(By.ID, "sentence").text == turn["sentence"]
    assert (
        browser.find_element(By.CSS_SELECTOR, "code.topic").text == "zigbee2mqtt/kitchen_light/set"
    )
    assert browser.find_element(By.CSS_SELECTOR, "code.payload").text == '{"state":"ON"}'
    assert browser.find_element(By.ID, "energy").get_attribute("data-value") == str(
        turn["energy_wh"]
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.waterfall rect.wf-bar")) == len(shown)
    assert (
        browser.find_element(By.CSS_SELECTOR, "audio")
        .get_attribute("src")
        .endswith("/api/turns/2/audio/command")
    )
    browser.save_screenshot(str(screenshots / "turn.png"))
    browser.get(server.url + "turns")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.turns tbody tr")) == 3
    browser.save_screenshot(str(screenshots / "turns.png"))


@pytest.mark.parametrize("days", [7, 30])
def test_the_energy_charts_have_a_bar_per_day(
    server: DashboardServer, backend: FakeBackend, browser: Any, screenshots: Path, days: int
) -> None:
    browser.get(f"{server.url}energy?days={days}")
    expected = backend.days(days)
    turns_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-turns rect.bar")
    assert [b.get_attribute("data-day") for b in turns_bars] == [d["day"] for d in expected]
    assert [float(b.get_attribute("data-value")) for b in turns_bars] == [
        d["turns"] for d in expected
    ]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-energy rect.bar")) == days
    cost_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-cost rect.bar")
    assert len(cost_bars) == 2 * days
    assert {b.get_attribute("data-series") for b in cost_bars} == {"electricity", "cloud"}
    heights = [float(b.get_attribute("height")) for b in turns_bars]
    top = max(d["turns"] for d in expected)
    for bar_h, d in zip(heights, expected, strict=True):
        assert bar_h == pytest.approx(max(heights) * d["turns"] / top, abs=0.2)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#days-table tbody tr")) == days
    if days == 7:
        browser.save_screenshot(str(screenshots / "energy.png"))


def test_the_token_rule_holds_in_the_browser(
    token_server: DashboardServer, make_browser: MakeBrowser, screenshots: Path
) -> None:
    stranger = make_browser()
    stranger.get(token_server.url)
    assert stranger.find_element(By.TAG_NAME, "body").text.strip() == "401 Unauthorized"
    stranger.get(token_server.url + "api/turns")
    assert "401 Unauthorized" in stranger.page_source and "kitchen" not in stranger.page_source
    owner = make_browser()
    owner.get(f"{token_server.url}turns?token={TOKEN}")
    assert owner.current_url == token_server.url + "turns"  # the token left the address
    assert owner.find_element(By.TAG_NAME, "h1").text == "Turns"
    owner.get(token_server.url)
    wait(owner, "return window.hearthSeen && window.hearthSeen.hello")  # the stream, by cookie
    owner.get(token_server.url + "how")
    assert owner.find_element(By.TAG_NAME, "h1").text == "How it works"
    assert not js(owner, "return document.cookie")  # HttpOnly: scripts cannot read it
    stranger.get(token_server.url + "how")
    assert stranger.find_element(By.TAG_NAME, "body").text.strip() == "401 Unauthorized"
    stranger.save_screenshot(str(screenshots / "unauthorized.png"))


def test_devices_profiles_and_ask(
    server: DashboardServer, backend: FakeBackend, browser: Any, screenshots: Path
) -> None:
    browser.get(server.url + "home")
    rows = browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr")
    assert [r.get_attribute("data-entity") for r in rows] == [
        "light.kitchen_light",
        "switch.garage",
    ]
    assert "Garage <door>" in rows[1].text  # escaped, shown as text
    assert rows[1].find_element(By.CSS_SELECTOR, ".exposed").text.startswith("no")
    box = browser.find_element(By.ID, "ask-text")
    box.send_keys("what time is it", Keys.ENTER)
    wait(browser, "return document.getElementById('ask-result').textContent.startsWith('Asked')")
    assert backend.asked == ["what time is it"]
    wait(browser, "return true")
    time.sleep(0.5)  # the page now follows the stream for the reply
    for event in voice_turn_events("a5ked0000001", time.time(), text="what time is it")[2:]:
        backend.emit(event)
    wait(browser, "return document.getElementById('ask-result').textContent.includes('(ok)')")
    select = browser.find_element(By.ID, "profile-name")
    select.find_element(By.CSS_SELECTOR, 'option[value="homework"]').click()
    browser.find_element(By.CSS_SELECTOR, "#profile-form button").click()
    wait(browser, "return document.getElementById('profile-current').textContent === 'homework'")
    assert backend.current_profile == "homework"
    browser.save_screenshot(str(screenshots / "home.png"))


def test_pages_are_keyboard_and_screen_reader_friendly(
    server: DashboardServer, browser: Any, screenshots: Path
) -> None:
    for path in ("", "turns", "turns/1", "how", "energy", "home"):
        browser.get(server.url + path)
        assert js(browser, "return document.documentElement.lang") == "en"
        unlabelled = js(
            browser,
            "return [...document.querySelectorAll('input,select,textarea')]"
            ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length",
        )
        assert unlabelled == 0, path
        untitled = js(
            browser,
            "return [...document.querySelectorAll('svg[role=img],canvas')]"
            ".filter(e => !e.getAttribute('aria-label') && "
            "!e.getAttribute('aria-labelledby')).length",
        )
        assert untitled == 0, path
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert js(browser, "return document.activeElement.className") == "skip"
        ratio = js(browser, CONTRAST_JS)
        assert ratio >= 4.5, (path, ratio)
        assert js(browser, "return document.querySelectorAll('main h1').length") == 1


def test_pages_fit_a_phone(
    server: DashboardServer, make_browser: MakeBrowser, screenshots: Path
) -> None:
    phone = make_browser(390, 844)
    for path, name in (
        ("", "phone-live"),
        ("turns/1", "phone-turn"),
        ("energy", "phone-energy"),
        ("home", "phone-home"),
    ):
        phone.get(server.url + path)
        overflow = js(
            phone,
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        assert overflow <= 1, (path, overflow)
        phone.save_screenshot(str(screenshots / f"{name}.png"))


def test_the_journal_only_page_says_it_is_not_live(browser: Any, screenshots: Path) -> None:
    offline = start_server(FakeBackend(live=False))
    try:
        browser.get(offline.url)
        assert "Not live" in browser.find_element(By.ID, "mode").text
        assert (
            browser.find_element(By.ID, "transcript").text == "turn on the kitchen light"
        )  # the last turn
        assert not js(browser, "return !!window.hearthSource")  # no stream opened
        browser.get(offline.url + "how")
        browser.save_screenshot(str(screenshots / "how.png"))
    finally:
        offline.stop()


def test_the_models_prompt_raw_outputs_and_verdicts_are_shown_as_text(
    server: DashboardServer, backend: FakeBackend, browser: Any
) -> None:
    browser.get(server.url + "turns/3")
    consulted = backend.turn("3")["llm"][0]
    raw = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ol.tries pre.raw")]
    assert raw == consulted["outputs"]
    verdicts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "ol.tries .verdict")]
    assert verdicts == consulted["verdicts"]
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    prompt = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "details pre")]
    assert prompt == [m["content"] for m in consulted["prompt"]]  # shown, not run
    assert js(browser, "return document.querySelectorAll('main script, main b').length") == 0
