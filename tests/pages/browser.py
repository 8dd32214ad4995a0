"""Headless Debian Chromium driven by Playwright, kept to loopback, with axe-core on each page.

Playwright's own browser download is not used: it launches the chromium that `make browser`
installs with apt. The browser resolves no host but 127.0.0.1 and its phoning home is off;
every request it makes is recorded, so a test can assert it loaded nothing from elsewhere.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
# Debian's real binary (the /usr/bin/chromium wrapper adds flags from /etc/chromium.d).
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium")
LOOPBACK_ONLY = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--safebrowsing-disable-auto-update",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
)
SERIOUS = ("serious", "critical")


def chromium_path() -> str:
    for candidate in CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    msg = "chromium is missing: run `make browser` (apt-get install chromium)"
    raise RuntimeError(msg)


@dataclass
class Session:
    """One browser page, with what it requested and what the console said."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to any origin but the server's (data: images are not requests out)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" != self.origin
        ]

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the current page. Evaluated through
        the DevTools protocol, which a page's CSP does not govern: nothing is relaxed for it."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text())
        result = self.page.evaluate("async () => await axe.run(document)")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in SERIOUS
        ]

    def check(self, name: str, directory: Path = SCREENSHOTS) -> None:
        """Screenshot the page as ``name`` and fail on serious or critical axe violations."""
        directory.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
        violations = self.axe_violations()
        assert not violations, f"{name}: {json.dumps(violations, indent=1)}"

    def focus_by_tab(self, selector: str, limit: int = 150) -> None:
        """Press Tab until the focused element matches ``selector``, as a keyboard user."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.page.evaluate(
                "s => !!document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
        msg = f"{selector} not reached in {limit} presses of Tab"
        raise AssertionError(msg)


@contextmanager
def browser_session(origin: str) -> Iterator[Session]:
    """A fresh headless Chromium page that records its requests and console errors."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=list(LOOPBACK_ONLY)
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            session = Session(page=page, origin=origin)

            def on_request(request: Request) -> None:
                session.requests.append(request.url)

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    session.console_errors.append(message.text)

            page.on("request", on_request)
            page.on("console", on_console)
            yield session
        finally:
            browser.close()
