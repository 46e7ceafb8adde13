"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven through selenium, for tests and
screenshots of preview pages.

Nothing is downloaded: the browser and its driver are the system's. Each Browser has a fresh profile and the
flags that keep Chromium from calling home, so the only network traffic is what a page itself asks for —
which `requests()` reports.

    python -m lgtm_dash.testing.browser PAGE.html SCREENSHOT.png   # a full-page screenshot
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


# Debian's chromium first; Google Chrome where a machine has it with its matching chromedriver (GitHub runners).
BROWSERS = ("chromium", "google-chrome", "chromium-browser")


def find(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/bin") / name, Path("/usr/lib/chromium") / name) if p.exists()), None
    )


class Browser:
    """One Chromium for many pages (start-up is the slow part)."""

    def __init__(self, width: int = 1400, height: int = 1000):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium = next(filter(None, map(find, BROWSERS)), None)
        driver = find("chromedriver")
        if not chromium or not driver:
            raise FileNotFoundError(
                "chromium and chromium-driver are not installed (Debian: apt-get install)"
            )
        self.profile = tempfile.mkdtemp(prefix="lgtm-dash-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.width, self.height = width, height
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))

    def open(self, url: str) -> None:
        """Load a page; the logs of earlier pages are dropped so each page's are its own."""
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        self.driver.get(url)

    def console_messages(self) -> list[dict[str, Any]]:
        return list(self.driver.get_log("browser"))

    def requests(self) -> list[tuple[str, str]]:
        """(document URL, request URL) of every request since the page was opened, from the DevTools network
        events; the browser's own pages (chrome://, its start-up tab) show up with their own document URL."""
        found = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                params = message["params"]
                found.append((params.get("documentURL", ""), params["request"]["url"]))
        return found

    def run(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def screenshot(self, path: Path) -> None:
        """The whole page, not only the window."""
        height = int(self.run("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(self.width, max(height, 200))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(self.width, self.height)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m lgtm_dash.testing.browser PAGE.html SCREENSHOT.png", file=sys.stderr)
        return 2
    page, target = Path(argv[0]).resolve(), Path(argv[1])
    with Browser() as browser:
        browser.open(page.as_uri())
        browser.screenshot(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
