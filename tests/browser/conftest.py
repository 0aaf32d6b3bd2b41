"""Browser fixtures: one real server per test session on a temporary database, real Chromium.

* `app_server`: `streamlit run server.py` on a free port against a fresh database holding the
  fixture accounts (`ACCOUNTS`); `app_server.restart()` stops it and starts it again on the same
  database and port (for "restart the server and find it again").
* `browser`: headless Debian Chromium (`/usr/bin/chromium`) through Playwright's sync API. When
  Chromium is missing the tests FAIL: `make test` installs it with apt-get.
* `context` / `page`: the session's one browser context (its HTTP cache keeps page loads fast),
  emptied of cookies and tabs before and after each test, and a new tab in it.
* `sign_in(page, role)`, `wait_for_app(page)`, `shoot(page, name)`: the steps every test needs;
  `pick_option(page, box, option)` picks from a select box's list once the page is still.

Every test under tests/browser/ is marked `browser`.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "fixture passphrase for the browser tests"
"""Every fixture account's password (fictional; the temporary database is thrown away)."""


@dataclass(frozen=True)
class Account:
    """A fixture user: name, role, team and password."""

    username: str
    role: str
    team: str | None
    password: str = PASSWORD


ACCOUNTS: dict[str, Account] = {
    "psychologist": Account("psy.north", "psychologist", "north"),
    "supervisor": Account("sup.north", "supervisor", "north"),
    "viewer": Account("view.north", "viewer", "north"),
    "other-team": Account("psy.south", "psychologist", "south"),
    "admin": Account("admin", "admin", None),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_accounts(db_path: Path) -> dict[str, Account]:
    """Create the fixture teams and accounts in `db_path`; return them with real passwords."""
    from instrument.access import SYSTEM
    from instrument.service import Service

    accounts = dict(ACCOUNTS)
    service = Service.open(db_path)
    try:
        one_time = service.ensure_admin()
        assert one_time, "the fixture database was not empty"
        admin = service.session_actor(service.sign_in("admin", one_time))
        assert admin is not None
        service.change_password(admin, one_time, PASSWORD)  # as the first sign-in asks
        for team in sorted({a.team for a in ACCOUNTS.values() if a.team}):
            service.add_team(SYSTEM, team)
        for key, account in ACCOUNTS.items():
            if key != "admin":
                service.add_user(
                    SYSTEM, account.username, account.role, account.password, team=account.team
                )
    finally:
        service.close()
    return accounts


@dataclass
class AppServer:
    """The app under test: a `streamlit run server.py` child process on a temporary database."""

    root: Path
    port: int = field(default_factory=_free_port)
    accounts: dict[str, Account] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def db_path(self) -> Path:
        return self.root / "instrument.db"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")}
        env |= {
            "INSTRUMENT_DB": str(self.db_path),
            "INSTRUMENT_COOKIE_KEY": str(self.root / "cookie.key"),
            "PYTHONUNBUFFERED": "1",
        }
        return env

    def start(self) -> None:
        """Start the server and wait until its health check answers."""
        streamlit = Path(sys.executable).parent / "streamlit"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(streamlit), "run", "server.py", "--server.port", str(self.port)],
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer,
            ):
                if answer.read() == b"ok":
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same database and port."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Return the running app on a fresh database with the fixture accounts."""
    server = AppServer(tmp_path_factory.mktemp("app"))
    server.accounts = make_accounts(server.db_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Return headless Chromium; fail (never skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    """Give every expectation 20 s, like the context's actions: a loaded 2-core machine is slow."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def shared_context(browser: Browser) -> Iterator[BrowserContext]:
    """Return the one browser context of the session (its HTTP cache keeps page loads fast)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def context(shared_context: BrowserContext) -> Iterator[BrowserContext]:
    """Return the browser context for one test: no cookies, no open tabs, afterwards too."""
    shared_context.clear_cookies()
    try:
        yield shared_context
    finally:
        for tab in list(shared_context.pages):
            tab.close()
        shared_context.clear_cookies()


@pytest.fixture
def page(context: BrowserContext, app_server: AppServer) -> Page:
    """Return a new tab in the test's context, not yet on any page."""
    return context.new_page()


# --- steps -----------------------------------------------------------------------------------


def wait_for_app(page: Page, *, timeout: float = 20_000) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def open_app(page: Page, server: AppServer, path: str = "/") -> None:
    """Go to a path of the app and wait until it has drawn."""
    page.goto(server.url + path)
    wait_for_app(page)


def sign_in(page: Page, server: AppServer, who: str = "psychologist", path: str = "/") -> None:
    """Open the app and sign in as the fixture account `who`; wait for the first page."""
    account = server.accounts[who]
    open_app(page, server, path)
    page.get_by_role("textbox", name="Username").fill(account.username)
    page.get_by_role("textbox", name="Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {account.username}").wait_for()
    wait_for_app(page)


STILL = """() => {
  const now = JSON.stringify(Array.from(document.querySelectorAll('*'))
    .filter((e) => e.scrollTop || e.scrollLeft).map((e) => [e.scrollTop, e.scrollLeft]));
  const still = window.__ifiScrolls === now;
  window.__ifiScrolls = now;
  if (!still) window.__ifiStillSince = performance.now();
  return still && performance.now() - window.__ifiStillSince > 200;
}"""
"""True once no part of the page has scrolled for 200 ms (checked every frame)."""


def pick_option(page: Page, box: Locator, option: str | re.Pattern[str]) -> None:
    """Open a select box's list and pick an option, once the page has stopped moving.

    Streamlit closes an open list when a part of the page around it scrolls, and after a run
    the page can still be scrolling (the app's scroll containers settle smoothly). So the box is
    brought to the middle of the window, as a person would look at it (its list has room below
    it), and the list is opened only when the app's run has finished and nothing has scrolled
    for 200 ms: no run is left to draw the list anew under the pointer (the option is found by
    its role and name, so a redrawn one is found again). Opened once: a list that closes by
    itself now is a fault, not something to try again.
    """
    wait_for_app(page)
    box.evaluate("(element) => element.scrollIntoView({block: 'center'})")
    page.evaluate("() => { window.__ifiScrolls = null; }")
    page.wait_for_function(STILL, polling="raf")
    box.click()
    exact = True if isinstance(option, str) else None
    item = page.get_by_role("option", name=option, exact=exact)
    expect(item).to_be_visible()
    item.click()


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def seed_case(server: AppServer, who: str, reference: str, pathway: str = "engaged") -> None:
    """Create a case with a started draft directly through the service (as `who`)."""
    from instrument.service import Service

    account = server.accounts[who]
    with Service.open(server.db_path) as service:
        actor = service.session_actor(service.sign_in(account.username, account.password))
        assert actor is not None
        service.create_case(actor, reference, pathway)
        service.start_assessment(actor, reference)
        service.sign_out_everywhere(actor)
