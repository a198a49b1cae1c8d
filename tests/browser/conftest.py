"""A real daemon (`riskguard run` on the embedded demo, as a subprocess) and a real browser (Debian's
chromium driven by Playwright) for the dashboard's end-to-end test.

Without /usr/bin/chromium the tests skip, unless RISKGUARD_REQUIRE_SERVICES=1, where they fail:
a CI machine that is meant to run them must not pass by skipping.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
ADMIN_PASSWORD = "browser-test-admin-password"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
VIEWPORT = {"width": 1400, "height": 1000}
LOG_LINES_KEPT = 300  # the daemon's last log lines, shown when it does not start


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"the dashboard's browser test needs chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("RISKGUARD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; RISKGUARD_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


@dataclass
class RunningDaemon:
    """`riskguard run` in a subprocess: its API's URL, the admin's password and its data folder."""

    url: str
    data_dir: Path
    admin_password: str

    def viewer_token(self) -> str:
        return (self.data_dir / "viewer.token").read_text().strip()


class _LogReader(threading.Thread):
    """Reads the daemon's output to the end (a full pipe would block it) and spots the start line."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(name="riskguard-log-reader", daemon=True)
        self._stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self.api_url: str | None = None
        self.started = threading.Event()

    def run(self) -> None:
        for line in self._stream:
            self.lines.append(line.rstrip())
            if self.api_url is None:
                self._look_for_start(line)
        self.started.set()  # the daemon exited: stop waiting either way

    def _look_for_start(self, line: str) -> None:
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == "riskguard is running" and record.get("api"):
                self.api_url = str(record["api"])
                self.started.set()


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM (the daemon's clean stop) and wait; kill only if it will not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    """The embedded default (paper venue, demo bot, demo rules) on a free port, in a fresh data folder."""
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("riskguard-data")
    command = [sys.executable, "-m", "riskguard", "run", "--api-port", "0", "--data-dir", str(data_dir), "--json-logs"]
    env = {**os.environ, "RISKGUARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    reader = _LogReader(process.stdout)
    reader.start()
    try:
        reader.started.wait(START_TIMEOUT_SECONDS)
        if reader.api_url is None:
            tail = "\n".join(reader.lines)
            pytest.fail(f"riskguard run did not say it was running within {START_TIMEOUT_SECONDS} s:\n{tail}")
        yield RunningDaemon(reader.api_url, data_dir, ADMIN_PASSWORD)
    finally:
        _stop(process)
        reader.join(timeout=STOP_TIMEOUT_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def api(daemon: RunningDaemon) -> Iterator[httpx.Client]:
    """The test's own view of the daemon: a client signed in as admin with a session token."""
    with httpx.Client(base_url=daemon.url, timeout=10.0) as client:
        answer = client.post("/api/auth/login", json={"username": "admin", "password": daemon.admin_password})
        answer.raise_for_status()
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        yield client


@pytest.fixture(scope="module")
def browser(daemon: RunningDaemon) -> Iterator[Browser]:
    """Headless chromium (Debian's; Playwright's own browsers are never downloaded)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    """Uncaught exceptions inside any page the tests open; each test checks there were none."""
    return []


def _sign_in_as_admin(page: Page, daemon: RunningDaemon) -> None:
    """Open /risk and sign in as admin through the page's own login form."""
    page.goto(f"{daemon.url}/risk")
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=10_000)
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(daemon.admin_password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_have_text("admin", timeout=10_000)
    expect(page.get_by_test_id("user-role")).to_have_text("admin")


def _watch_for_errors(context: BrowserContext, page_errors: list[str]) -> BrowserContext:
    context.on("weberror", lambda error: page_errors.append(str(error.error)))
    return context


@pytest.fixture(scope="module")
def admin_page(browser: Browser, daemon: RunningDaemon, page_errors: list[str]) -> Iterator[Page]:
    """The /risk page in its own browser context, signed in as admin; shared by the module's tests."""
    context = _watch_for_errors(browser.new_context(viewport=VIEWPORT), page_errors)
    try:
        page = context.new_page()
        _sign_in_as_admin(page, daemon)
        yield page
    finally:
        context.close()


@pytest.fixture
def sign_in(daemon: RunningDaemon) -> Callable[[Page], None]:
    """sign_in(page): open /risk in `page` and sign in as admin through the login form."""
    return lambda page: _sign_in_as_admin(page, daemon)


@pytest.fixture
def new_context(browser: Browser, page_errors: list[str]) -> Iterator[Callable[..., BrowserContext]]:
    """new_context(**options): a fresh browser context (its own cookies), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        context = _watch_for_errors(browser.new_context(viewport=VIEWPORT, **options), page_errors)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """screenshot(page, name): save the whole page to test-artifacts/dashboard/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header would otherwise cover the page's middle
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
