"""Cases, a case, the administration pages and typed markup, in real Chromium."""

from __future__ import annotations

import secrets

from playwright.sync_api import Dialog, Page, expect

from tests.browser.conftest import AppServer, open_app, seed_case, shoot, sign_in, wait_for_app


def _reference(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3).upper()}"


def _search(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Search reference")
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def test_create_a_case_and_find_it_in_the_list(page: Page, app_server: AppServer) -> None:
    reference = _reference("B")
    sign_in(page, app_server, "psychologist")
    page.get_by_text("New case").click()
    page.get_by_role("textbox", name="Reference", exact=True).fill(reference)
    shoot(page, "new-case-form")
    page.get_by_role("button", name="Create case").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(page.get_by_text(f"Case {reference} created.")).to_be_visible()
    assert f"/case?case={reference}" in page.url
    shoot(page, "case")
    page.get_by_role("link", name="Back to Cases").click()
    wait_for_app(page)
    _search(page, reference)
    expect(page.get_by_text("1 case.", exact=False)).to_be_visible()
    table = page.locator("[data-testid='stTable'] table")
    expect(table.get_by_role("cell", name=reference, exact=True)).to_be_visible()
    page.get_by_role("link", name=reference, exact=True).click()  # same tab
    wait_for_app(page)
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()


def test_the_case_list_and_the_instrument(page: Page, app_server: AppServer) -> None:
    seed_case(app_server, "psychologist", _reference("L"))
    sign_in(page, app_server, "psychologist")
    expect(page.locator("[data-testid='stTable'] table").first).to_be_visible()
    shoot(page, "cases")
    page.get_by_role("link", name="Instrument").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Domains and items")).to_be_visible()
    shoot(page, "instrument")


def test_a_viewer_sees_no_form_no_names_and_no_assessment(
    page: Page, app_server: AppServer
) -> None:
    reference = _reference("V")
    seed_case(app_server, "psychologist", reference)
    sign_in(page, app_server, "viewer")
    expect(page.get_by_text("New case")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Assessor")).to_have_count(0)
    open_app(page, app_server, f"/case?case={reference}")
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(page.get_by_role("button", name="Start assessment")).to_have_count(0)
    expect(page.get_by_role("button", name="Open draft assessment v1")).to_have_count(0)
    expect(page.get_by_role("button", name="Open assessment")).to_have_count(0)
    expect(page.get_by_text("psy.north")).to_have_count(0)
    shoot(page, "case-viewer")
    open_app(page, app_server, f"/assessment?case={reference}&v=1")
    expect(page.get_by_text("psy.north")).to_have_count(0)


def test_an_administrator_manages_users_and_sees_no_case(page: Page, app_server: AppServer) -> None:
    reference = _reference("A")
    seed_case(app_server, "psychologist", reference)
    sign_in(page, app_server, "admin")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    shoot(page, "users")
    page.get_by_role("link", name="Teams").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()
    shoot(page, "teams")
    page.get_by_role("link", name="Audit log").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    shoot(page, "audit-log")
    for path in ("/cases", f"/formulation?case={reference}&v=1"):
        open_app(page, app_server, path)
        expect(page.get_by_text("Page not found")).to_be_visible()
        expect(page.get_by_text(reference)).to_have_count(0)
        expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()


def test_typed_markup_shows_as_text_and_runs_nothing(page: Page, app_server: AppServer) -> None:
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    sign_in(page, app_server, "psychologist")
    for text in ("<script>alert(1)</script>", '<img src=x onerror="alert(2)">'):
        _search(page, text)
        expect(page.get_by_text("No case matches these filters.")).to_be_visible()
        expect(page.get_by_role("textbox", name="Search reference")).to_have_value(text)
    payload = "<img src=x onerror=alert(3)>"
    open_app(page, app_server, f"/case?case={payload}")
    expect(page.get_by_text(f"Case {payload} was not found")).to_be_visible()
    shoot(page, "case-not-found")
    open_app(page, app_server, "/cases")
    page.get_by_text("New case").click()
    page.get_by_role("textbox", name="Reference", exact=True).fill("<script>alert(4)</script>")
    page.get_by_role("button", name="Create case").click()
    wait_for_app(page)
    expect(page.get_by_text("A case reference is 1 to 40 letters", exact=False)).to_be_visible()
    page.wait_for_timeout(500)
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
