"""Sign-in in real Chromium: the cookie, reloads, tabs, sign-out everywhere, the failure message."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import AppServer, open_app, shoot, sign_in, wait_for_app


def _signed_in_as(page: Page, username: str) -> None:
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def _on_sign_in_page(page: Page) -> None:
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_sign_in_reload_and_a_second_tab_stay_signed_in(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    open_app(page, app_server)
    _on_sign_in_page(page)
    expect(page.get_by_text("Structured professional judgement aid")).to_be_visible()
    shoot(page, "sign-in")
    sign_in(page, app_server, "psychologist")
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    page.reload()
    wait_for_app(page)
    _signed_in_as(page, "psy.north")
    second = context.new_page()
    open_app(second, app_server, "/cases")
    _signed_in_as(second, "psy.north")
    expect(second.get_by_role("heading", name="Cases", exact=True)).to_be_visible()


def test_the_session_cookie_is_httponly_and_strict(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    sign_in(page, app_server, "viewer")
    cookie = next(c for c in context.cookies() if c["name"] == "ifi_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "ifi_session" not in page.evaluate("document.cookie")


def test_signing_out_in_one_tab_ends_the_other(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    sign_in(page, app_server, "supervisor")
    other = context.new_page()
    open_app(other, app_server, "/cases")
    _signed_in_as(other, "sup.north")
    page.get_by_role("button", name="Sign out").click()
    wait_for_app(page)
    _on_sign_in_page(page)
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    shoot(page, "signed-out")
    # The other tab's next run (any interaction) finds the session ended.
    other.get_by_role("textbox", name="Search reference").fill("C-")
    other.get_by_role("textbox", name="Search reference").press("Enter")
    wait_for_app(other)
    _on_sign_in_page(other)
    other.reload()
    wait_for_app(other)
    _on_sign_in_page(other)


def test_a_wrong_password_shows_the_one_failure_message(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    open_app(page, app_server)
    page.get_by_role("textbox", name="Username").fill("view.north")
    page.get_by_role("textbox", name="Password").fill("this is not the password")
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)
    message = page.get_by_text("The username or password is not right")
    expect(message).to_be_visible()
    # The notice cookie does not carry what was typed (SECURITY.md 34): the box starts empty.
    expect(page.get_by_role("textbox", name="Username")).to_have_value("")
    assert not [c for c in context.cookies() if c["name"] == "ifi_session"]
    shoot(page, "sign-in-failed")
    page.get_by_role("textbox", name="Username").fill("nobody.at.all")
    page.get_by_role("textbox", name="Password").fill("this is not the password")
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)
    expect(message).to_be_visible()


def test_the_keyboard_alone_signs_in(page: Page, app_server: AppServer) -> None:
    open_app(page, app_server)
    account = app_server.accounts["viewer"]
    page.get_by_role("textbox", name="Username").focus()
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    page.get_by_text(f"Signed in as {account.username}").wait_for()


def test_after_sign_in_the_requested_case_page_opens(page: Page, app_server: AppServer) -> None:
    sign_in(page, app_server, "psychologist", path="/case?case=NO-SUCH-CASE")
    assert "/case?case=NO-SUCH-CASE" in page.url
    expect(page.get_by_text("Case NO-SUCH-CASE was not found")).to_be_visible()
