"""Headless Debian Chromium driven by Selenium, for the UI tests.

Uses the system's ``chromium`` and ``/usr/bin/chromedriver`` (``scripts/install-browser.sh``
installs both); Selenium Manager never downloads anything (``SE_OFFLINE``). Only loopback URLs are
opened: the browser starts with background networking, component updates and sync off.
"""

from __future__ import annotations

import base64
import gc
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--no-default-browser-check", "--hide-scrollbars", "--lang=en-US",
    "--force-device-scale-factor=1",
)


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


def missing() -> str | None:
    """Why the browser cannot start here, or None."""
    if chromium_binary() is None:
        return "chromium is not installed: run scripts/install-browser.sh"
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} is missing (package chromium-driver): run scripts/install-browser.sh"
    return None


@contextmanager
def chromium(width: int = 1440, height: int = 1000) -> Iterator:
    """A fresh headless Chromium (its own throwaway profile) as a Selenium WebDriver."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never fetch a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mm-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary() or "chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    with _quiet_sockets():
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        with _quiet_sockets():
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def _quiet_sockets() -> Iterator[None]:
    """Selenium leaves a probe socket or two to the garbage collector (a ResourceWarning, an error
    under this suite's filterwarnings): collect them here, with that one warning ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()


def full_page_png(driver, path: Path, *, width: int | None = None, max_height: int = 6000) -> None:
    """Save the whole page (not only the viewport) as a PNG, through the DevTools protocol.

    ``width`` lays the page out at that viewport width first (an email at a mail client's width).
    Works on pages that forbid script (a CSP sandbox): nothing runs inside the page.
    """
    if width:
        size = driver.get_window_size()
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": size["height"], "deviceScaleFactor": 1, "mobile": False})
    try:
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": width or content["width"], "height": min(content["height"], max_height),
                "scale": 1}
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "captureBeyondViewport": True, "clip": clip})
    finally:
        if width:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
