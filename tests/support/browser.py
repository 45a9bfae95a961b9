"""Debian's Chromium, headless, driven by Selenium through Debian's chromedriver.

Chromium is kept off the network: every host name fails at once except the loopback ones, and
a proxy on a closed loopback port catches anything else, so its own update, search and
component fetches never leave the machine (without these flags it looks up Google's hosts).
Selenium Manager is kept offline and quiet, with the driver's path given.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Final

import pytest

__all__ = ["CHROMEDRIVER", "CHROMIUM", "chrome", "save_page", "shots_folder"]

CHROMIUM: Final = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER: Final = shutil.which("chromedriver") or "/usr/bin/chromedriver"

_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-features=Translate,MediaRouter,OptimizationHints,NetworkPrediction",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",
    "--dns-prefetch-disable",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--no-pings",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
)


def chrome(profile: Path, width: int = 1100, height: int = 1400) -> Any:
    """A new headless Chromium with its own fresh profile folder."""
    os.environ.setdefault("SE_AVOID_STATS", "true")
    os.environ.setdefault("SE_OFFLINE", "true")
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("chromium is not installed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*_FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


def shots_folder(default: Path) -> Path:
    """Where a test saves its screenshots: ``$HEARTH_DASHBOARD_SHOTS`` (the README's
    ``docs/dashboard``), else ``default``."""
    folder = Path(os.environ.get("HEARTH_DASHBOARD_SHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_page(driver: Any, path: Path, max_height: int = 4000) -> None:
    """A screenshot of the whole page (the window grows to its height for a moment)."""
    width, height = driver.get_window_size().values()
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max_height, max(height, int(full) + 140)))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, height)
