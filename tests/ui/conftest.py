"""AppTest fixtures: the whole app (`app.py`) on a temporary database, signed in as any role.

A browser proves who it is with the signed session cookie; AppTest cannot send cookies, so the
`web` fixture replaces `instrument.ui.context.request_cookies` (pytest's monkeypatch, in this
process only) with a dict holding a cookie signed by the real key for a real server-side session.
Everything after that is the production path: signature check, `Service.session_actor`, expiry.

The service the app opens uses the fixture's clock (`web.clock.advance(...)`) and a cheap
password hasher (argon2 with small parameters, so each test signs in quickly).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from instrument.access import Actor
from instrument.service import Service
from instrument.ui import context
from instrument.ui.settings import cookie_secret
from instrument.ui.sign_in import SESSION_COOKIE, CookieSigner

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
TIMEOUT = 30
PASSWORD = "fixture passphrase for the app tests"
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

ACCOUNTS = {
    "psychologist": ("psy.north", "psychologist", "north"),
    "supervisor": ("sup.north", "supervisor", "north"),
    "viewer": ("view.north", "viewer", "north"),
    "other-team": ("psy.south", "psychologist", "south"),
    "admin": ("admin.two", "admin", None),
}
ROLES = ("psychologist", "supervisor", "viewer", "admin")


def fast_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the accounts once; each test copies the database."""
    root = tmp_path_factory.mktemp("ui-template")
    db = root / "instrument.db"
    service = Service.open(db, clock=lambda: START, hasher=fast_hasher())
    try:
        admin_password = service.ensure_admin()
        assert admin_password
        admin = service.session_actor(service.sign_in("admin", admin_password))
        assert admin is not None
        service.add_team(admin, "north")
        service.add_team(admin, "south")
        for username, role, team in ACCOUNTS.values():
            service.add_user(admin, username, role, PASSWORD, team=team)
        service.sign_out_everywhere(admin)
    finally:
        service.close()
    return db


@dataclass
class Web:
    """The app under test: its database, clock, the browser's cookies, and helpers."""

    db_path: Path
    clock: Clock
    cookies: dict[str, str] = field(default_factory=dict)

    def service(self) -> Service:
        return Service.open(self.db_path, clock=self.clock, hasher=fast_hasher())

    def signer(self) -> CookieSigner:
        return CookieSigner(cookie_secret(self.db_path.with_suffix(".cookie.key")))

    def sign_in(self, who: str) -> str:
        """Sign in as a fixture role and give the 'browser' its cookie; return the session id."""
        username = ACCOUNTS[who][0]
        with self.service() as service:
            session_id = service.sign_in(username, PASSWORD)
        self.cookies.clear()
        self.cookies[SESSION_COOKIE] = self.signer().session_cookie(session_id)
        return session_id

    def actor(self, who: str) -> Actor:
        """Return the fixture role's actor (through a session of its own)."""
        username = ACCOUNTS[who][0]
        with self.service() as service:
            actor = service.session_actor(service.sign_in(username, PASSWORD))
        assert actor is not None
        return actor

    def app(self, who: str | None = None, page: str | None = None, **query: str) -> AppTest:
        """Return the app, run once, signed in as `who` (or signed out), on `page`."""
        if who is not None:
            self.sign_in(who)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        return goto(at, page, **query) if page else at.run()


def goto(at: AppTest, page: str | None, **query: str) -> AppTest:
    """Run the app on a page (its url path) with query parameters, like opening that URL."""
    at.query_params = dict(query)
    at._page_hash = calc_hash(page) if page else ""  # AppTest selects callable pages by hash
    at.run()
    at._page_hash = ""  # later runs stay where the app went (st.switch_page included)
    return at


@pytest.fixture
def web(template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    """Return the app's world on a fresh copy of the template database."""
    db = tmp_path / "instrument.db"
    shutil.copy(template_db, db)
    shutil.copy(template_db.with_name(template_db.name + ".key"), tmp_path / "instrument.db.key")
    world = Web(db, Clock(START))
    monkeypatch.setenv("INSTRUMENT_DB", str(db))
    monkeypatch.delenv("INSTRUMENT_AUDIT_KEY", raising=False)
    monkeypatch.delenv("INSTRUMENT_COOKIE_KEY", raising=False)
    monkeypatch.setattr(context, "request_cookies", lambda: world.cookies)
    monkeypatch.setattr(
        context,
        "open_service",
        lambda: Service.open(db, clock=world.clock, hasher=fast_hasher()),
    )
    st.cache_resource.clear()
    yield world
    st.cache_resource.clear()


# --- reading what a run drew ------------------------------------------------------------------


def texts(at: AppTest) -> str:
    """Return every text the run drew (markdown, captions, alerts, titles...) as one string."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for kind in ("error", "warning", "info", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.proto.body) for e in at.get("html")]
    parts += [str(e.label) for e in at.button]
    parts += [str(e.label) for e in at.text_input]
    return "\n".join(parts)


def table(at: AppTest, index: int = 0) -> Any:
    """Return the pandas frame of the run's `index`-th table (cells' Markdown escapes undone).

    A page's tables are real HTML tables (`st.table`), whose cells are escaped Markdown; a data
    grid (`st.dataframe`, a canvas) is read when the page has no table.
    """
    import re

    if not at.table:
        return at.dataframe[index].value
    frame = at.table[index].value.copy()
    for column in frame.columns:
        frame[column] = [re.sub(r"\\(.)", r"\1", str(v)) for v in frame[column]]
    return frame


def audit_actions(web: Web, action: str | None = None) -> list[str]:
    """Return the audit log's action codes, oldest first (read directly, not through the app)."""
    import sqlite3

    with sqlite3.connect(web.db_path) as conn:
        rows = conn.execute("SELECT action FROM audit_log ORDER BY seq").fetchall()
    return [r[0] for r in rows if action is None or r[0] == action]


def infos(at: AppTest) -> list[str]:
    """Return the run's info messages, without the judgement banner every page shows."""
    return [str(i.value) for i in at.info if not str(i.value).startswith("Structured")]
