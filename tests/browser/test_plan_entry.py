"""Correcting a logged session's facilitators and sessions in real Chromium, by keyboard.

A facilitator opens the plan's delivery log, opens "Correct a logged session", reaches the
"Facilitators present" and "Sessions covered" fields by their labels, types to choose and
leaves each with Tab: each saves on its own (server-side, audited); axe finds no serious or
critical violation on the open delivery log. A facilitator who has left the team since the plan
was agreed is refused beside the field, and nothing is written.
Screenshots: test-artifacts/plan-entry-*.png.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import Page, expect

from instrument.access import SYSTEM
from instrument.service import Service
from tests.browser.conftest import (
    ARTIFACTS,
    PASSWORD,
    Account,
    AppServer,
    pick_option,
    sign_in,
    wait_for_app,
)
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_plan_journey import _settle
from tests.plan_support import entry, finalised_case

REFERENCE = "P-ENTRY"


def _facilitators(server: AppServer) -> None:
    """Add the facilitators una and uri to team north (once per server)."""
    with Service.open(server.db_path) as s:
        for name in ("una", "uri"):
            if name not in server.accounts:
                s.add_user(SYSTEM, name, "facilitator", PASSWORD, "north")
                server.accounts[name] = Account(name, "facilitator", "north")


def _planned(server: AppServer, reference: str, facilitators: list[str], *, agree: bool) -> None:
    """A finalised case with a plan by `facilitators` (started by the first), agreed or not."""
    _facilitators(server)
    with Service.open(server.db_path) as s:
        psychologist = s.session_actor(s.sign_in("psy.north", PASSWORD))
        first = s.session_actor(s.sign_in(facilitators[0], PASSWORD))
        assert psychologist is not None
        assert first is not None
        finalised_case(s, psychologist, reference, password=PASSWORD)
        s.start_plan(
            first,
            reference,
            facilitators=facilitators,
            frequency={"sessions": 1, "per": "week"},
            review_on=s.clock().date() + dt.timedelta(days=56),
        )
        if agree:
            s.agree_plan(first, reference, 1)


def _seed(server: AppServer) -> None:
    """A finalised case with a plan agreed by una and uri, and one session logged by una."""
    _planned(server, REFERENCE, ["una", "uri"], agree=True)
    with Service.open(server.db_path) as s:
        una = s.session_actor(s.sign_in("una", PASSWORD))
        assert una is not None
        s.log_session(una, REFERENCE, entry(s.clock().date(), "foundation.1", facilitators=["una"]))


def _logged(server: AppServer) -> tuple[list[str], list[str], int]:
    with Service.open(server.db_path) as s:
        una = s.session_actor(s.sign_in("una", PASSWORD))
        assert una is not None
        (found,) = s.delivery_log(una, REFERENCE)
        return found.entry.facilitators, found.entry.sessions, found.revision


def _type_and_leave(page: Page, field: Any, text: str) -> None:
    """By keyboard only: focus the field, type to filter, Enter to choose, Tab to leave (saves)."""
    field.focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    _settle(page)


def _open_editor(page: Page) -> None:
    page.get_by_role("tab", name="Delivery log", exact=True).click()
    _settle(page)
    page.get_by_text("Correct a logged session").click()
    _settle(page)


def test_a_logged_sessions_people_and_sessions_are_corrected_by_keyboard(
    page: Page, app_server: AppServer
) -> None:
    _seed(app_server)
    sign_in(page, app_server, "una", f"/plan?case={REFERENCE}")
    for tab in ("Plan", "Reviews", "Pictures"):  # the other tabs: no serious violation either
        page.get_by_role("tab", name=tab, exact=True).click()
        _settle(page)
        assert serious_violations(page) == [], tab
    _open_editor(page)
    people = page.get_by_role("combobox", name="Facilitators present").last
    expect(people).to_be_visible()
    _type_and_leave(page, people, "uri")
    expect(page.get_by_text("is not a facilitator")).to_have_count(0)
    assert _logged(app_server)[0] == ["una", "uri"]
    covered = page.get_by_role("combobox", name="Sessions covered (or due)").last
    _type_and_leave(page, covered, "foundation.2")
    assert _logged(app_server)[1] == ["foundation.1", "foundation.2"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "plan-entry-corrected.png"), full_page=True)
    # Every field of the open editor and the log form has its label: axe finds nothing serious.
    assert serious_violations(page) == []

    # uri leaves for the south team; choosing them again is refused beside the field.
    with Service.open(app_server.db_path) as s:
        s.set_team(SYSTEM, "uri", "south")
    facilitators, sessions, revision = _logged(app_server)
    page.reload()
    wait_for_app(page)
    _open_editor(page)
    people = page.get_by_role("combobox", name="Facilitators present").last
    people.focus()
    page.keyboard.press("Backspace")  # removes uri, the last chosen: saved
    page.keyboard.press("Tab")
    _settle(page)
    assert _logged(app_server)[0] == ["una"]
    facilitators, sessions, revision = _logged(app_server)
    _type_and_leave(page, people, "uri")
    expect(page.get_by_text("'uri' is not a facilitator of this case's team")).to_be_visible()
    expect(people.locator("..").get_by_text("uri (no longer of this case's team)")).to_be_visible()
    assert _logged(app_server) == (facilitators, sessions, revision)
    page.screenshot(path=str(ARTIFACTS / "plan-entry-refused.png"), full_page=True)


def test_the_draft_plan_editor_passes_axe(page: Page, app_server: AppServer) -> None:
    _planned(app_server, "P-DRAFT", ["una"], agree=False)
    sign_in(page, app_server, "una", "/plan?case=P-DRAFT")
    expect(page.get_by_text("Draft plan, version 1")).to_be_visible()
    _settle(page)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=30_000)
    expect(page.get_by_role("combobox", name="Facilitators (one or two)")).to_be_visible()
    expect(page.get_by_text("Why the order departs from the suggestion")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "plan-entry-draft.png"), full_page=True)
    assert serious_violations(page) == []


def test_a_refused_log_keeps_what_was_typed(page: Page, app_server: AppServer) -> None:
    _planned(app_server, "P-LOG", ["una"], agree=True)
    sign_in(page, app_server, "una", "/plan?case=P-LOG")
    page.get_by_role("tab", name="Delivery log", exact=True).click()
    _settle(page)
    form = page.get_by_test_id("stForm")
    pick_option(page, form.get_by_role("combobox", name="Attendance"), "declined")
    form.get_by_role("textbox", name="Notes").fill("Typed before the refusal.")
    form.get_by_role("button", name="Log the session").click()
    _settle(page)
    expect(page.get_by_text("needs a reason")).to_be_visible()
    # Nothing typed is lost: the reason is added and the same form sent again.
    expect(form.get_by_role("textbox", name="Notes")).to_have_value("Typed before the refusal.")
    form.get_by_role("textbox", name="Reason (when the session did not take place)").fill(
        "The participant was unwell."
    )
    form.get_by_role("button", name="Log the session").click()
    _settle(page)
    expect(page.get_by_text("Session 1 is logged.")).to_be_visible()
    # The page stays on the Delivery log tab, with the form emptied once the entry is logged.
    expect(page.get_by_role("tab", name="Delivery log", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    expect(form.get_by_role("textbox", name="Notes")).to_have_value("")
    expect(form.get_by_role("combobox", name="Attendance")).to_have_value("attended")
    expect(page.get_by_text("created with a default value")).to_have_count(0)  # no warning
    with Service.open(app_server.db_path) as s:
        una = s.session_actor(s.sign_in("una", PASSWORD))
        assert una is not None
        (logged,) = s.delivery_log(una, "P-LOG")
    assert (logged.entry.attendance.value, logged.entry.notes) == (
        "declined",
        "Typed before the refusal.",
    )


def test_a_change_from_another_tab_is_said_and_loaded_afresh(
    page: Page, app_server: AppServer
) -> None:
    _planned(app_server, "P-TABS", ["una"], agree=True)
    with Service.open(app_server.db_path) as s:
        una = s.session_actor(s.sign_in("una", PASSWORD))
        assert una is not None
        s.log_session(una, "P-TABS", entry(s.clock().date(), "foundation.1", facilitators=["una"]))
    sign_in(page, app_server, "una", "/plan?case=P-TABS")
    _open_editor(page)
    notes = page.get_by_role("textbox", name="Notes").last
    expect(notes).to_have_value("Fictional notes.")
    with Service.open(app_server.db_path) as s:  # another tab
        una = s.session_actor(s.sign_in("una", PASSWORD))
        assert una is not None
        s.save_session(una, "P-TABS", 1, {"notes": "From the other tab."}, base_revision=1)
    page.get_by_role("tab", name="Reviews", exact=True).click()  # any rerun
    _settle(page)
    page.get_by_role("tab", name="Delivery log", exact=True).click()
    _settle(page)
    expect(page.get_by_text("in another tab or by another person")).to_be_visible()
    page.get_by_role("button", name="Load their version").click()
    _settle(page)
    if not page.get_by_role("textbox", name="Notes").last.is_visible():
        page.get_by_text("Correct a logged session").click()
        _settle(page)
    expect(page.get_by_role("textbox", name="Notes").last).to_have_value("From the other tab.")
    expect(page.get_by_text("in another tab or by another person")).to_have_count(0)
