"""Every page in real Chromium: axe-core finds no serious or critical violation, nothing leaves.

One journey per role through every page the role has (signed out: the sign-in page; the
clinical roles: cases, a case, its assessment, every tab of its formulation, the conference
view; the administrator: users, teams, audit log; everyone: the instrument). On each page axe
(`axe-playwright-python`, its axe-core bundled, run offline) must report no violation of impact
`serious` or `critical`; every request the browser makes on the way is recorded, and none may go
anywhere but the loopback address (no font, icon or script from a CDN).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from instrument.service import Service
from instrument.ui.pages.formulation import PARTS
from tests.browser.conftest import AppServer, open_app, sign_in, wait_for_app

WORKED = Path(__file__).resolve().parents[2] / "formulations"
SERIOUS = ("serious", "critical")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="module")
def reference(app_server: AppServer) -> str:
    """Import worked case 1 (two versions, both finalised) for team north; return its reference."""
    reference = f"AX-{secrets.token_hex(3).upper()}"
    account = app_server.accounts["psychologist"]
    with Service.open(app_server.db_path) as service:
        actor = service.session_actor(service.sign_in(account.username, account.password))
        assert actor is not None
        for version in (1, 2):
            path = WORKED / f"wc-01-transition-v{version}.assessment.json"
            document = json.loads(path.read_text("utf-8"))
            document["case"]["reference"] = reference
            draft = service.import_assessment(actor, json.dumps(document).encode())
            service.confirm_password(actor, account.password)
            service.finalise(actor, reference, draft.version)
        service.sign_out_everywhere(actor)
    return reference


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    """Return the tab and the list of every URL it requests outside the loopback address."""
    outside: list[str] = []

    def record(url: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about"):
            return
        if parsed.hostname not in LOOPBACK:
            outside.append(url)

    page.on("request", lambda request: record(request.url))
    return page, outside


def settle(page: Page) -> None:
    """Wait until the script has run and no skeleton is left (charts draw afterwards)."""
    page.wait_for_timeout(150)
    wait_for_app(page)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=30_000)
    page.wait_for_timeout(300)


def serious_violations(page: Page) -> list[str]:
    """Return axe's serious and critical violations on the page as `rule: target` lines."""
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [str(node.get("target")) for node in violation.get("nodes", [])][:3]
            found.append(f"{violation['id']} ({violation['impact']}): {', '.join(targets)}")
    return found


def check(page: Page, server: AppServer, path: str, problems: dict[str, list[str]]) -> None:
    """Open a path, let it settle, and collect axe's serious findings under its path."""
    page.goto(server.url + path)
    settle(page)
    found = serious_violations(page)
    if found:
        problems[path] = found


def test_the_sign_in_page_is_accessible_and_fetches_nothing_outside(
    watched: tuple[Page, list[str]], app_server: AppServer
) -> None:
    page, outside = watched
    open_app(page, app_server, "/")
    settle(page)
    assert serious_violations(page) == []
    assert outside == []


@pytest.mark.parametrize("role", ["psychologist", "viewer"])
def test_every_clinical_page_is_accessible_and_fetches_nothing_outside(
    watched: tuple[Page, list[str]], app_server: AppServer, reference: str, role: str
) -> None:
    page, outside = watched
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, app_server, role)
    problems: dict[str, list[str]] = {}
    paths = [
        "/cases",
        f"/case?case={reference}",
        f"/assessment?case={reference}&v=2",
        *(f"/formulation?case={reference}&v=2&part={part.replace(' ', '+')}" for part in PARTS),
        f"/conference?case={reference}",
        "/instrument",
    ]
    for path in paths:
        check(page, app_server, path, problems)
    assert problems == {}
    assert outside == []


def test_every_administration_page_is_accessible(
    watched: tuple[Page, list[str]], app_server: AppServer
) -> None:
    page, outside = watched
    sign_in(page, app_server, "admin")
    problems: dict[str, list[str]] = {}
    for path in ("/users", "/teams", "/audit", "/instrument"):
        check(page, app_server, path, problems)
    assert problems == {}
    assert outside == []
