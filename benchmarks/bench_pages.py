"""Web app: each page's first paint in Chromium on the worked cases (target under 1 s).

The demo database (`instrument.demo.load_demo`: every worked case imported, reviewed and
finalised as a user would) behind the real server (`streamlit run server.py`). Chromium signs in
once as the demo psychologist. Two ways to a page are measured:

* **moving within the app** (what a user does all day): a click on a link or button of the page
  before (the sidebar menu, a case's link on the list, "Open formulation", "Continue draft
  assessment", "Case conference view"), until the script has finished and no skeleton is left
  (the charts draw right after);
* **opening its address** (a reload, a bookmark): a whole page load, which also starts the
  browser's Streamlit client and a new server session.

Each journey runs once to warm the server's imports and the browser's cache, then `LOADS` times;
medians are reported. The target is for moving within the app.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row

LOADS = 5
TARGET_MS = 1000.0
JOURNEY = (
    ("cases (sidebar link)", "link", "Cases"),
    ("case (its link on the list)", "link", "WC-01"),
    ("formulation (Open formulation v2)", "button", "Open formulation v2"),
    ("formulation: change tab", "tab", "Change"),
    ("case conference (sidebar link)", "link", "Case conference"),
    ("instrument (sidebar link)", "link", "Instrument"),
    ("cases, again (sidebar link)", "link", "Cases"),
    ("a draft case (its link on the list)", "link", "WC-06"),
    ("assessment (Continue draft assessment v1)", "button", "Continue draft assessment v1"),
    ("cases, from the assessment (sidebar link)", "link", "Cases"),
    ("case, again (its link on the list)", "link", "WC-01"),
    ("a case's conference (Case conference view)", "button", "Case conference view"),
)
"""Each step of the in-app journey: what is measured, and what is clicked (role and name)."""
PAGES = (
    ("cases", "/cases"),
    ("case", "/case?case=WC-01"),
    ("assessment", "/assessment?case=WC-06&v=1"),
    ("formulation (priorities, focus, areas)", "/formulation?case=WC-04&v=1"),
    ("formulation, change tab", "/formulation?case=WC-01&v=2&part=Change"),
    ("case conference", "/conference?case=WC-01"),
    ("instrument", "/instrument"),
)


def run() -> list[Row]:
    """Measure the first paint of every page of a signed-in psychologist."""
    from playwright.sync_api import Page, sync_playwright

    from instrument.demo import load_demo
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer

    def settle(page: Page) -> None:
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")")

    with tempfile.TemporaryDirectory() as tmp:
        server = AppServer(Path(tmp))
        accounts = load_demo(server.db_path)
        username, _, password = next(a for a in accounts if a[1] == "psychologist")
        server.start()
        moves: dict[str, list[float]] = {}
        loads: dict[str, list[float]] = {name: [] for name, _ in PAGES}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.set_default_timeout(60_000)
                page.goto(server.url)
                page.get_by_role("textbox", name="Username").fill(username)
                page.get_by_role("textbox", name="Password").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_text(f"Signed in as {username}").wait_for()
                for round_ in range(LOADS + 1):
                    page.goto(server.url + "/instrument")
                    settle(page)
                    for name, role, label in JOURNEY:
                        start = time.perf_counter()
                        if role == "link":
                            page.get_by_role("link", name=label, exact=True).first.click()
                        else:
                            page.get_by_role(role, name=label, exact=True).first.click()
                        page.wait_for_timeout(50)  # the rerun starts
                        settle(page)
                        elapsed = (time.perf_counter() - start) * 1000
                        if round_:
                            moves.setdefault(name, []).append(elapsed)
                    for name, path in PAGES:
                        start = time.perf_counter()
                        page.goto(server.url + path)
                        settle(page)
                        elapsed = (time.perf_counter() - start) * 1000
                        if round_:
                            loads[name].append(elapsed)
                browser.close()
        finally:
            server.stop()
    rows = [
        Row(f"move to {name}", statistics.median(times), TARGET_MS) for name, times in moves.items()
    ]
    rows += [Row(f"open by address: {name}", statistics.median(t)) for name, t in loads.items()]
    return rows
