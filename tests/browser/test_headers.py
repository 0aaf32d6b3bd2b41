"""SECURITY.md 34 in real Chromium: the headers arrive, and the CSP breaks nothing.

The sign-in page, a finalised case's formulation page and the conference with its charts
load under the Content-Security-Policy with no violation reported by the browser.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import AppServer, open_app, sign_in, wait_for_app
from tests.browser.test_conference import _import, _settle

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
    page.get_by_role("combobox", name="Cases to present, in the order chosen").click()
    page.get_by_role("option", name=re.compile(f"^{first} ")).click()
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
