"""A case conference in real Chromium at projector size (1920 × 1080).

Two worked cases are imported for team north (one with an evidence text holding an `<img
onerror>` payload, one with an override), chosen in order on the conference list and presented:
the top priorities must be on the first screen without scrolling, the charts side by side and
inside the screen in presenter mode, the payload shown as text with no dialog, one click on "Next
case" moves on, and the report downloaded from the page escapes the payload. Screenshots:
test-artifacts/conference-*.png.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from instrument.service import Service
from tests.browser.conftest import ARTIFACTS, AppServer, pick_option, sign_in, wait_for_app

PAYLOAD = "<img src=x onerror=alert(1)>"
SCREEN = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
WORKED = Path(__file__).resolve().parents[2] / "formulations"


def _import(server: AppServer) -> tuple[str, str]:
    """Import two worked cases as finalised versions of team north; return their references."""
    suffix = secrets.token_hex(3).upper()
    first, second = f"CC-{suffix}", f"CN-{suffix}"
    account = server.accounts["psychologist"]
    with Service.open(server.db_path) as service:
        actor = service.session_actor(service.sign_in(account.username, account.password))
        assert actor is not None
        for reference, name in ((first, "wc-04-group-control"), (second, "wc-02-grievance")):
            document = json.loads((WORKED / f"{name}.assessment.json").read_text("utf-8"))
            document["case"]["reference"] = reference
            if reference == first:
                rating = document["ratings"]["GA2"]
                rating["evidence"] = f"{PAYLOAD} {rating['evidence']}"
            draft = service.import_assessment(actor, json.dumps(document).encode())
            review = WORKED / f"{name}.review.json"
            overrides = (
                json.loads(review.read_text("utf-8"))["overrides"] if review.exists() else {}
            )
            for area, override in overrides.items():
                draft = service.set_override(
                    actor,
                    reference,
                    draft.version,
                    area,
                    override["band"],
                    override["rationale"],
                    base_revision=draft.revision,
                )
            service.confirm_password(actor, account.password)
            service.finalise(actor, reference, draft.version)
        service.sign_out_everywhere(actor)
    return first, second


def _settle(page: Page) -> None:
    page.wait_for_timeout(150)
    wait_for_app(page)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=30_000)
    page.wait_for_timeout(400)  # the charts draw after the script has finished


def _shoot(page: Page, name: str) -> None:
    """Save what the room sees: the screen as it is, no scrolling."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"conference-{name}.png"))


def _charts(page: Page) -> list[dict[str, float]]:
    boxes = []
    for chart in page.locator("[data-testid='stVegaLiteChart']").all():
        box = chart.bounding_box()
        assert box is not None
        boxes.append(box)
    return boxes


def test_a_case_conference_at_projector_size(page: Page, app_server: AppServer) -> None:
    first, second = _import(app_server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_viewport_size(SCREEN)
    sign_in(page, app_server, "psychologist", "/conference")

    # The conference list, in the order chosen.
    chooser = page.get_by_role("combobox", name="Cases to present, in the order chosen")
    for reference in (first, second):
        pick_option(page, chooser, re.compile(f"^{reference} "))
        _settle(page)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Start the conference").click()
    _settle(page)
    expect(page.get_by_role("heading", name=f"Case {first}")).to_be_visible()
    expect(page.get_by_text("Case 1 of 2")).to_be_visible()

    # Normal mode: the payload is text, nothing runs; the report escapes it.
    expect(page.get_by_text(PAYLOAD, exact=False).first).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    ranked, counted, *_ = _charts(page)
    assert abs(ranked["y"] - counted["y"]) < 2  # side by side beside the sidebar at 1920
    assert max(ranked["y"] + ranked["height"], counted["y"] + counted["height"]) <= 1080
    _shoot(page, "normal")
    if page.get_by_role("button", name="Confirm password").count():
        page.get_by_role("textbox", name="Password").fill(
            app_server.accounts["psychologist"].password
        )
        page.get_by_role("button", name="Confirm password").click()
        _settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Report (HTML)").click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in report
    assert PAYLOAD not in report

    # Presenter mode: no sidebar, no toolbar; the top priorities on the first screen.
    page.get_by_text("Presenter mode").click()
    _settle(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_test_id("stHeader")).to_be_hidden()
    expect(page.get_by_role("button", name="Report (HTML)")).to_have_count(0)
    ranked, counted, *_ = _charts(page)
    assert ranked["y"] + ranked["height"] <= SCREEN["height"]  # no scrolling to the priorities
    assert abs(ranked["y"] - counted["y"]) < 2  # side by side
    assert counted["x"] + counted["width"] <= SCREEN["width"]  # nothing runs off the screen
    _shoot(page, "presenter")

    # A laptop (1366 × 768) in presenter mode: still side by side, every bar above the fold,
    # the caution a slim line.
    page.set_viewport_size(LAPTOP)
    _settle(page)
    ranked, counted, *_ = _charts(page)
    assert abs(ranked["y"] - counted["y"]) < 2
    assert ranked["y"] + ranked["height"] <= LAPTOP["height"]
    assert counted["x"] + counted["width"] <= LAPTOP["width"]
    caution = page.locator(".st-key-caution").bounding_box()
    assert caution is not None
    assert caution["height"] < 0.1 * LAPTOP["height"]
    _shoot(page, "presenter-1366")
    page.set_viewport_size(SCREEN)
    _settle(page)

    # One click to the next case; presenter mode stays on.
    page.get_by_role("button", name="Next case").click()
    _settle(page)
    expect(page.get_by_role("heading", name=f"Case {second}")).to_be_visible()
    expect(page.get_by_text("Case 2 of 2")).to_be_visible()
    assert f"case={second}" in page.url
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    _shoot(page, "presenter-next")
    assert dialogs == []
