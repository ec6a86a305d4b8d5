"""Pages in a real browser: Debian's Chromium driven by Playwright, checked with axe-core.

``civic serve`` runs as a separate process on 127.0.0.1, as residents would reach it. Under
``CI=true`` a missing Chromium fails the run instead of skipping it. Screenshots go to
``$CIVIC_SCREENSHOTS`` (default ``var/screenshots``, kept out of the repository)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serve import ROOT, ServeProcess, free_port

SCREENSHOTS = Path(os.environ.get("CIVIC_SCREENSHOTS", ROOT / "var" / "screenshots"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("Chromium is not installed (the Makefile installs Debian's chromium package)")
    pytest.skip("Chromium is not installed; `make install-test` installs it")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Site(ServeProcess):
    """A ``civic serve`` process over a store prepared by a test, with its development outbox."""

    def __init__(self, db: Path, port: int, env: dict[str, str]) -> None:
        super().__init__(db, port, env, db.with_suffix(".serve.log"))
        self.outbox = Path(env["CIVIC_OUTBOX"])

    def texts(self) -> list[dict[str, str]]:
        import json

        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def site_env(tmp_path, monkeypatch) -> Iterator[tuple[Path, dict[str, str]]]:
    """A store path and the environment its server runs with (``CIVIC_PUBLIC_URL`` included;
    the test process gets it too, so texts sent while preparing the store link to the server)."""
    port = free_port()
    monkeypatch.setenv("CIVIC_PUBLIC_URL", f"http://127.0.0.1:{port}")
    env = {**os.environ, "CIVIC_OUTBOX": str(tmp_path / "outbox.jsonl"), "CIVIC_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "CIVIC_PLUGINS": "", "PYTHONPATH": str(ROOT)}
    env["CIVIC_PORT"] = str(port)
    yield tmp_path / "civic.db", env


def start_site(db: Path, env: dict[str, str]) -> Site:
    site = Site(db, int(env["CIVIC_PORT"]), env)
    site.start()
    return site


def check_page(page, name: str, *, language: str = "ko") -> None:
    """axe-core on the page as it is now: no WCAG 2.1 A/AA violation; and a screenshot."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")  # axe on a page still navigating finds no document
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}-{width}.png"), full_page=True)
    details = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert violations == [], f"{name} ({language}, {width}px): {details}"


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable by Tab")
