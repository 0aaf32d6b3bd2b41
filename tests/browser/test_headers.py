"""SECURITY.md 34 in real Chromium: the headers arrive, and the CSP breaks nothing.

The sign-in page, a finalised case's formulation page and the conference with its charts
load under the Content-Security-Policy with no violation reported by the browser.
"""

from __future__ import annotations

import json
import re
import secrets

from playwright.sync_api import Page, expect

from instrument.service import Service
from tests.browser.conftest import AppServer, open_app, pick_option, sign_in, wait_for_app
from tests.browser.test_conference import WORKED, _import, _settle

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def test_req34_headers_arrive_and_the_csp_breaks_nothing(page: Page, app_server: AppServer) -> None:
    first, _ = _import(app_server)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)

    answer = page.goto(app_server.url + "/")
    assert answer is not None
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    sign_in(page, app_server, "psychologist", f"/formulation?case={first}&v=1")
    _settle(page)
    assert page.evaluate("window.__csp") == []
    open_app(page, app_server, "/conference")
    chooser = page.get_by_role("combobox", name="Cases to present, in the order chosen")
    pick_option(page, chooser, re.compile(f"^{first} "))
    _settle(page)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Start the conference").click()
    _settle(page)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
    page.wait_for_timeout(500)
    violations = page.evaluate("window.__csp")
    assert violations == []
    assert [m for m in console if "Content Security Policy" in m] == []
    open_app(page, app_server, "/instrument")
    assert page.evaluate("window.__csp") == []

    # A draft's item control is a custom component, loaded by Streamlit from a `blob:` URL.
    draft = _draft(app_server)
    open_app(page, app_server, f"/assessment?case={draft}&v=1")
    page.get_by_role("tab", name="Identity", exact=True).click()
    _settle(page)
    control = page.locator(f".st-key-ifi-assessment-{draft}-1-ID1-control")
    expect(control.get_by_role("radio", name="Yes", exact=True).first).to_be_visible()
    assert page.evaluate("window.__csp") == []
    assert [m for m in console if "Content Security Policy" in m] == []


def _draft(server: AppServer) -> str:
    """Import a worked case as a draft of team north; return its reference."""
    reference = f"CD-{secrets.token_hex(3).upper()}"
    account = server.accounts["psychologist"]
    document = json.loads((WORKED / "wc-02-grievance.assessment.json").read_text("utf-8"))
    document["case"]["reference"] = reference
    with Service.open(server.db_path) as service:
        actor = service.session_actor(service.sign_in(account.username, account.password))
        assert actor is not None
        service.import_assessment(actor, json.dumps(document).encode())
    return reference
