"""The assessment form in Chromium: two tabs, a reload while typing, and the keyboard.

Each item's controls are drawn in the browser (a custom component in a shadow root; Playwright's
locators pierce it). Two tabs of one signed-in browser edit the same draft: different items and
different fields merge without a word; the same field asks, per field, which version to keep.
Screenshots go to test-artifacts/form-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Dialog, Locator, Page, expect

from instrument.service import Draft, Service
from tests.browser.conftest import AppServer, open_app, seed_case, shoot, sign_in, wait_for_app


@pytest.fixture(autouse=True)
def patient_expectations() -> Iterator[None]:
    """Give each expectation 20 s: CI machines run two browsers at a time."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def stored(server: AppServer, reference: str) -> Draft:
    account = server.accounts["psychologist"]
    with Service.open(server.db_path) as service:
        actor = service.session_actor(service.sign_in(account.username, account.password))
        assert actor is not None
        return service.get_assessment(actor, reference, 1)


def evidence_is_stored(server: AppServer, reference: str, text: str) -> None:
    """Wait (up to 10 s) until ID1's stored evidence is `text`."""
    deadline = time.monotonic() + 10
    while True:
        rating = stored(server, reference).assessment.ratings.get("ID1")
        if rating is not None and rating.evidence == text:
            return
        assert time.monotonic() < deadline, f"not stored: {rating}"
        time.sleep(0.2)


def settle(page: Page) -> None:
    page.wait_for_timeout(150)
    wait_for_app(page)


def control(page: Page, reference: str, item: str) -> Locator:
    return page.locator(f".st-key-ifi-assessment-{reference}-1-{item}-control")


def group(page: Page, reference: str, item: str, name: str) -> Locator:
    return control(page, reference, item).locator(f'[data-group="{name}"]')


def choose(page: Page, reference: str, item: str, name: str, label: str) -> None:
    group(page, reference, item, name).get_by_role("radio", name=label, exact=True).click()
    settle(page)


def status(page: Page, reference: str, item: str) -> Locator:
    return control(page, reference, item).get_by_role("status")


def open_form(page: Page, server: AppServer, reference: str) -> None:
    open_app(page, server, f"/assessment?case={reference}&v=1&section=Identity")
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=30_000)
    expect(control(page, reference, "ID1")).to_be_visible()


def test_two_tabs_edit_different_items_and_fields_without_a_conflict(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    seed_case(app_server, "psychologist", "T-0001")
    sign_in(page, app_server)
    open_form(page, app_server, "T-0001")
    other = context.new_page()
    open_form(other, app_server, "T-0001")
    choose(other, "T-0001", "ID3", "presence", "No")  # tab B saves ID3
    expect(status(other, "T-0001", "ID3")).to_contain_text("Saved")
    choose(page, "T-0001", "ID4", "presence", "Omit")  # tab A, not reloaded, changes ID4
    expect(status(page, "T-0001", "ID4")).to_contain_text("Saved")
    expect(page.get_by_text("Not saved")).to_have_count(0)
    # Omit hides the timeframe; the box asks why the item could not be rated.
    expect(group(page, "T-0001", "ID4", "timeframe")).to_be_hidden()
    expect(control(page, "T-0001", "ID4").get_by_text("Why it could not be rated")).to_be_visible()
    # The same item, another field: tab B adds evidence to ID3, tab A a source; both are kept.
    open_form(page, app_server, "T-0001")  # tab A now shows ID3 rated
    box = control(other, "T-0001", "ID3").get_by_role("textbox", name="Evidence")
    box.fill("Evidence from tab B.")
    box.press("Tab")
    expect(status(other, "T-0001", "ID3")).to_contain_text("Saved")
    source = control(page, "T-0001", "ID3").get_by_role("checkbox", name="Interview")
    source.check()
    expect(status(page, "T-0001", "ID3")).to_contain_text("Saved")
    control(page, "T-0001", "ID3").scroll_into_view_if_needed()
    shoot(page, "form-two-tabs-merged")
    ratings = stored(app_server, "T-0001").assessment.ratings
    assert ratings["ID3"].evidence == "Evidence from tab B."
    assert [s.value for s in ratings["ID3"].sources] == ["interview"]
    assert ratings["ID4"].presence.value == "omit"
    other.close()


def test_the_same_field_in_two_tabs_asks_which_to_keep(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    seed_case(app_server, "psychologist", "T-0002")
    sign_in(page, app_server)
    open_form(page, app_server, "T-0002")
    other = context.new_page()
    open_form(other, app_server, "T-0002")
    choose(other, "T-0002", "ID2", "presence", "Omit")
    choose(page, "T-0002", "ID2", "presence", "No")
    notice = page.get_by_text("Not saved: ID2 presence was changed by psy.north", exact=False)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("another tab or by another person")
    expect(status(page, "T-0002", "ID2")).to_contain_text("choose below")
    expect(page.get_by_text("revision", exact=False)).to_have_count(0)
    panel = page.locator("[data-testid='stVerticalBlock']").filter(has=notice).last
    panel.screenshot(path=str(shoot(page, "form-same-field-conflict")))
    choice = page.get_by_role("radiogroup", name="Keep which presence?")
    choice.get_by_role("radio", name="Mine", exact=True).click()
    page.get_by_role("button", name="Save my choices").click()
    settle(page)
    expect(notice).to_have_count(0)
    radio = group(page, "T-0002", "ID2", "presence").get_by_role("radio", name="No", exact=True)
    expect(radio).to_be_checked()
    assert stored(app_server, "T-0002").assessment.ratings["ID2"].presence.value == "no"
    other.close()


def test_a_reload_while_typing_loses_nothing(page: Page, app_server: AppServer) -> None:
    seed_case(app_server, "psychologist", "T-0003")
    sign_in(page, app_server)
    open_form(page, app_server, "T-0003")
    choose(page, "T-0003", "ID1", "presence", "No")
    expect(status(page, "T-0003", "ID1")).to_contain_text("Saved")
    asked: list[str] = []

    def leave(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", leave)
    box = control(page, "T-0003", "ID1").get_by_role("textbox", name="Evidence")
    box.press_sequentially("Typed just before the reload.", delay=5)
    expect(status(page, "T-0003", "ID1")).to_contain_text("Unsaved")
    page.reload()  # before the pause in typing that would have saved it
    wait_for_app(page)
    box = control(page, "T-0003", "ID1").get_by_role("textbox", name="Evidence")
    expect(box).to_have_value("Typed just before the reload.")
    # Sent as the page unloaded, or brought back from the tab's storage and sent after it.
    expect(status(page, "T-0003", "ID1")).not_to_contain_text("Unsaved")
    evidence_is_stored(app_server, "T-0003", "Typed just before the reload.")
    assert set(asked) <= {"beforeunload"}
    # Typing, then a pause: saved without leaving the box.
    box.press_sequentially(" And more.", delay=5)
    expect(status(page, "T-0003", "ID1")).to_contain_text("Saved", timeout=10_000)
    evidence_is_stored(app_server, "T-0003", "Typed just before the reload. And more.")


def test_an_item_is_rated_with_the_keyboard_alone(page: Page, app_server: AppServer) -> None:
    seed_case(app_server, "psychologist", "T-0004")
    sign_in(page, app_server)
    open_form(page, app_server, "T-0004")
    presence = group(page, "T-0004", "ID5", "presence")
    presence.get_by_role("radio", name="No", exact=True).focus()
    page.keyboard.press("Space")  # choose No
    page.keyboard.press("ArrowRight")  # then Partial: relevance appears at once
    relevance = group(page, "T-0004", "ID5", "relevance")
    expect(relevance).to_be_visible()
    expect(status(page, "T-0004", "ID5")).to_contain_text("choose the relevance")
    page.keyboard.press("Tab")  # into the relevance group
    page.keyboard.press("ArrowRight")  # moves to and chooses the next option
    page.keyboard.press("Space")
    expect(status(page, "T-0004", "ID5")).to_contain_text("Saved")
    page.keyboard.press("Tab")  # the timeframe group
    page.keyboard.press("Tab")  # the evidence box
    page.keyboard.type("Said so in the second interview.")
    page.keyboard.press("Tab")  # the first source
    page.keyboard.press("Space")
    expect(status(page, "T-0004", "ID5")).to_contain_text("Saved")
    settle(page)
    control(page, "T-0004", "ID5").scroll_into_view_if_needed()
    shoot(page, "form-keyboard")
    rating = stored(app_server, "T-0004").assessment.ratings["ID5"]
    assert rating.presence.value == "partial"
    assert rating.relevance is not None
    assert rating.evidence == "Said so in the second interview."
    assert [s.value for s in rating.sources] == ["interview"]


def test_text_typed_while_relevance_is_missing_survives_another_tab(
    page: Page, app_server: AppServer
) -> None:
    seed_case(app_server, "psychologist", "T-0005")
    sign_in(page, app_server)
    open_form(page, app_server, "T-0005")
    choose(page, "T-0005", "ID1", "presence", "Yes")
    box = control(page, "T-0005", "ID1").get_by_role("textbox", name="Evidence")
    box.fill("Typed before relevance.")
    box.press("Tab")
    expect(status(page, "T-0005", "ID1")).to_contain_text("choose the relevance")
    page.get_by_role("tab", name="Emotion", exact=True).click()
    settle(page)
    page.get_by_role("tab", name="Identity", exact=True).click()
    settle(page)
    box = control(page, "T-0005", "ID1").get_by_role("textbox", name="Evidence")
    expect(box).to_have_value("Typed before relevance.")
    expect(status(page, "T-0005", "ID1")).to_contain_text("choose the relevance")
    choose(page, "T-0005", "ID1", "relevance", "High")
    expect(status(page, "T-0005", "ID1")).to_contain_text("Saved")
    rating = stored(app_server, "T-0005").assessment.ratings["ID1"]
    assert (rating.presence.value, rating.evidence) == ("yes", "Typed before relevance.")
