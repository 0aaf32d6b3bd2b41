"""Assessment form: server-side re-render after one rating change, and click to "Saved" in Chromium.

The draft has every item of the instrument rated (a full form: every item shows its evidence,
sources and timeframe). Server side, the page runs in AppTest; the time is taken inside the
script thread around the page's `render()` (the whole page with its open tab, as a reload draws
it) and around one item's fragment body (what a click reruns), plus the autosave callback. In
Chromium, against the real server, each click alternates one item's presence; the time is taken
inside the page, from the click event to the first frame in which the script has finished and the
item's "Saved" marker shows the new save.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import Row

CLICKS = 12
RERUNS = 10
REFERENCE = "B-0001"
PASSWORD = "benchmark passphrase, fictional"


def build(db_path: Path) -> None:
    """Create an account and a draft with every item rated, evidence included."""
    import datetime as dt

    from instrument.assessment import Assessor, Rating
    from instrument.definitions import default_instrument
    from instrument.service import Service

    with Service.open(db_path) as service:
        admin_password = service.ensure_admin()
        assert admin_password
        admin = service.session_actor(service.sign_in("admin", admin_password))
        assert admin is not None
        service.add_team(admin, "north")
        service.add_user(admin, "psy.bench", "psychologist", PASSWORD, team="north")
        actor = service.session_actor(service.sign_in("psy.bench", PASSWORD))
        assert actor is not None
        service.create_case(actor, REFERENCE, "engaged")
        draft = service.start_assessment(actor, REFERENCE)
        draft = service.save_details(
            actor,
            REFERENCE,
            1,
            assessed_on=dt.date(2026, 11, 1),
            assessors=[Assessor(name="B. Assessor", role="psychologist")],
            notes=None,
            base_revision=draft.revision,
        )
        for index, item in enumerate(default_instrument().items):
            present = index % 2 == 0
            rating = Rating.model_validate(
                {
                    "presence": "partial" if present else "no",
                    "relevance": "moderate" if present else None,
                    "evidence": "Fictional evidence for benchmarking. " * 3,
                    "sources": ["interview", "file-review"],
                    "timeframe": "current",
                }
            )
            draft = service.save_rating(
                actor, REFERENCE, 1, item.id, rating, base_revision=draft.revision
            )


@contextmanager
def timed(module: Any, name: str, into: list[float]) -> Iterator[None]:
    """Replace `module.name` with a wrapper that records each call's wall time (ms)."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - start) * 1000)

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def server_side(root: Path) -> dict[str, float]:
    """Return the median page render, domain fragment body and autosave times (ms)."""
    import os
    import shutil

    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    from instrument.ui import context
    from instrument.ui.pages import assessment
    from instrument.ui.settings import cookie_secret
    from instrument.ui.sign_in import SESSION_COOKIE, CookieSigner
    from tests.ui.app_support import send_change

    db = root / "server-side.db"
    shutil.copy(root / "instrument.db", db)
    shutil.copy(root / "instrument.db.key", root / "server-side.db.key")
    os.environ["INSTRUMENT_DB"] = str(db)
    from instrument.service import Service

    with Service.open(db) as service:
        session_id = service.sign_in("psy.bench", PASSWORD)
    cookie = CookieSigner(cookie_secret(db.with_suffix(".cookie.key"))).session_cookie(session_id)
    original_cookies = context.request_cookies
    context.request_cookies = lambda: {SESSION_COOKIE: cookie}  # type: ignore[assignment]
    st.cache_resource.clear()
    renders: list[float] = []
    fragments: list[float] = []
    saves: list[float] = []
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    try:
        with (
            timed(assessment, "render", renders),
            timed(assessment, "draw_item", fragments),
            timed(assessment, "_on_control", saves),
        ):
            at = AppTest.from_file(app, default_timeout=60)
            at.query_params = {"case": REFERENCE, "v": "1", "section": "Identity"}
            at._page_hash = calc_hash("assessment")
            at.run()
            at._page_hash = ""
            for n in range(RERUNS + 1):
                send_change(at, "ID2", {"presence": "omit" if n % 2 == 0 else "no"})
    finally:
        context.request_cookies = original_cookies  # type: ignore[assignment]
        st.cache_resource.clear()
    return {
        "render": statistics.median(renders[1:]),
        "fragment": statistics.median(fragments),
        "save": statistics.median(saves),
    }


FIND = """(key) => {
  const host = Array.from(document.querySelectorAll(`.st-key-${key} *`))
    .find((e) => e.shadowRoot);
  return host ? host.shadowRoot : null;
}"""
MARK = """([key, find]) => {
  const root = eval(find)(key);
  const status = root.querySelector('.ifi-status');
  window.__ack = Number(status.dataset.ack || 0);
  return window.__ack;
}"""
SHOWN = """([key, find, group, visible]) => {
  const root = eval(find)(key);
  const box = root && root.querySelector(`[data-group="${group}"]`);
  if (box && box.classList.contains('ifi-hidden') !== visible) {
    window.__shownAt = performance.now();
    return true;
  }
  return false;
}"""
SAVED = """([key, find]) => {
  const root = eval(find)(key);
  const status = root && root.querySelector('.ifi-status');
  if (status && status.dataset.kind === 'saved' && Number(status.dataset.ack) > window.__ack) {
    window.__savedAt = performance.now();
    return true;
  }
  return false;
}"""


def in_chromium(root: Path) -> tuple[list[float], list[float]]:
    """Return click-to-shown and click-to-"Saved" times (ms) against the real server.

    Each round clicks one item's presence: `Yes` (relevance must appear, the rating waits for
    it), then `High` (saved), then `No` (relevance disappears; saved). "Shown" is the first frame
    in which the item shows the click's consequence; "saved" the first frame in which the item
    says "Saved" for that change (its data comes back only after the commit). The script's
    end-of-run state is not waited for in the figure (it is before the next click).
    """
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Account, AppServer

    server = AppServer(root)
    server.accounts = {"psychologist": Account("psy.bench", "psychologist", "north", PASSWORD)}
    server.start()
    shown: list[float] = []
    saved: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(server.url)
            page.get_by_role("textbox", name="Username").fill("psy.bench")
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as psy.bench").wait_for()
            page.goto(f"{server.url}/assessment?case={REFERENCE}&v=1&section=Identity")
            idle = "[data-testid='stApp'][data-test-script-state='notRunning']"
            page.wait_for_selector(idle)
            expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=60_000)
            key = f"ifi-assessment-{REFERENCE}-1-ID2-control"
            control = page.locator(f".st-key-{key}")
            page.evaluate(MARK, [key, FIND])
            control.get_by_role("radio", name="Omit", exact=True).click()  # ID2 starts as `no`
            page.wait_for_function(SAVED, arg=[key, FIND], polling="raf")
            page.evaluate(
                "document.addEventListener('click',"
                " () => { window.__clickAt = performance.now(); }, true)"
            )

            def click(name: str, group: str | None, visible: bool, save: bool) -> None:
                page.evaluate(MARK, [key, FIND])
                control.get_by_role("radio", name=name, exact=True).click()
                if group is not None:
                    page.wait_for_function(SHOWN, arg=[key, FIND, group, visible], polling="raf")
                    shown.append(float(page.evaluate("window.__shownAt - window.__clickAt")))
                if save:
                    page.wait_for_function(SAVED, arg=[key, FIND], polling="raf")
                    saved.append(float(page.evaluate("window.__savedAt - window.__clickAt")))
                    page.wait_for_selector(idle)  # the run ends before the next click

            for _ in range(CLICKS // 2 + 1):
                click("Yes", "relevance", True, False)
                click("High", None, True, True)
                click("No", "relevance", False, True)
            browser.close()
    finally:
        server.stop()
    return shown[2:], saved[2:]  # the first round also loads code the browser had not needed


def run() -> list[Row]:
    """Measure the form's server-side re-render and its click-to-saved time in Chromium."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root / "instrument.db")
        server = server_side(root)
        shown, saved = in_chromium(root)
    return [
        Row("server: autosave callback (one rating, SQLite commit)", server["save"]),
        Row("server: one item's fragment after a rating change", server["fragment"], 100.0),
        Row(
            "server: whole page after a rating change (35 items, open tab)", server["render"], 100.0
        ),
        Row(
            "Chromium: click a rating to its consequence shown (median)",
            statistics.median(shown),
            35.0,
        ),
        Row("Chromium: click a rating to 'Saved' shown (median)", statistics.median(saved), 300.0),
    ]
