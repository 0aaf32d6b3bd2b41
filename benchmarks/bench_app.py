"""Web app: the case list with 10,000 cases, on the server and to first paint in Chromium.

The database is built once in a temporary directory: one worked case imported and finalised
through the service (so it has a formulation and a top priority), then copied 9,999 times in one
transaction straight into the tables (a benchmark fixture, not a product path). The server is the
real one (`streamlit run server.py`); Chromium signs in once, then each measured load goes to
`/cases` and waits until the table's canvas is drawn and the script has finished.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row, median_ms
from instrument.access import SYSTEM
from instrument.service import PAGE_SIZE, Service

CASES = 10_000
LOADS = 5
REPO = Path(__file__).resolve().parent.parent
WORKED_CASE = REPO / "formulations" / "wc-02-grievance.assessment.json"


def build(db_path: Path, password: str) -> None:
    """Create the accounts and 10,000 finalised cases of team `north` in `db_path`."""
    with Service.open(db_path) as service:
        assert service.ensure_admin()
        # The operator's `system` actor sets the account up (an administrator never chooses
        # passwords: SECURITY.md 24).
        service.add_team(SYSTEM, "north")
        service.add_user(SYSTEM, "psy.bench", "psychologist", password, team="north")
        actor = service.session_actor(service.sign_in("psy.bench", password))
        assert actor is not None
        draft = service.import_assessment(actor, WORKED_CASE.read_bytes())
        service.confirm_password(actor, password)
        service.finalise(actor, draft.reference, draft.version)
        with service.store.write() as tx:
            case = tx.one("SELECT * FROM cases")
            assessment = tx.one("SELECT * FROM assessments")
            formulation = tx.one("SELECT * FROM formulations")
            assert case is not None
            assert assessment is not None
            assert formulation is not None
            case_row, assessment_row, formulation_row = (
                {k: v for k, v in dict(row).items() if k != "id"}
                for row in (case, assessment, formulation)
            )
            for n in range(1, CASES):
                case_id = tx.insert(
                    "cases",
                    case_row | {"reference": f"B-{n:05d}"},
                )
                assessment_id = tx.insert(
                    "assessments",
                    assessment_row | {"case_id": case_id},
                )
                tx.insert(
                    "formulations",
                    formulation_row | {"assessment_id": assessment_id},
                )


def run() -> list[Row]:
    """Measure listing 10,000 cases in the service and painting them in Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Account, AppServer

    password = "benchmark passphrase, fictional"
    with tempfile.TemporaryDirectory() as tmp:
        server = AppServer(Path(tmp))
        started = time.perf_counter()
        build(server.db_path, password)
        built_s = time.perf_counter() - started
        with Service.open(server.db_path) as service:
            actor = service.session_actor(service.sign_in("psy.bench", password))
            assert actor is not None
            listing = median_ms(lambda: service.list_cases(actor), repeat=10, warmup=1)
            paging = median_ms(
                lambda: service.list_cases_page(actor, offset=5_000), repeat=10, warmup=1
            )
        server.accounts = {"psychologist": Account("psy.bench", "psychologist", "north", password)}
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.set_default_timeout(60_000)
                page.goto(server.url)
                page.get_by_role("textbox", name="Username").fill("psy.bench")
                page.get_by_role("textbox", name="Password").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_text(f"{CASES:,} cases.", exact=False).wait_for()
                loads = []
                for _ in range(LOADS + 1):
                    start = time.perf_counter()
                    page.goto(f"{server.url}/cases")
                    page.locator("[data-testid='stTable'] table").first.wait_for()
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']"
                    )
                    loads.append((time.perf_counter() - start) * 1000)
                browser.close()
        finally:
            server.stop()
    print(f"(built the {CASES}-case database in {built_s:.1f} s)")
    return [
        Row(f"service: list {CASES} cases (one team)", listing),
        Row(f"service: one page of {PAGE_SIZE} of {CASES} cases, with the total", paging),
        Row(
            f"Chromium: open /cases to first paint of a {CASES}-case list (one page)",
            statistics.median(loads[1:]),  # the first load also warms the browser cache
            target_ms=1000,
        ),
    ]
