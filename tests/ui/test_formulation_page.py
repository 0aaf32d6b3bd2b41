"""The formulation page for every role: priorities, review, countersigning and export."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from instrument.errors import AuthenticationError
from instrument.exchange.documents import schema_problems
from instrument.service.documents import formulation_document
from instrument.ui import state
from instrument.ui.exports import built_on_click
from instrument.ui.pages import formulation as page
from instrument.vocabulary import FiveP
from tests.ui.app_support import CASE, draft, fill, finalise, new_case, review_key
from tests.ui.conftest import PASSWORD, Web, audit_actions, texts

XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)> ![i](http://example.org/x.png)"


AREAS, FIVE_P, SIGN_OFF = "Areas", "5P formulation", "Sign-off and export"


def open_page(
    web: Web, who: str = "psychologist", version: int | None = 1, part: str | None = None
) -> AppTest:
    query = {"case": CASE} if version is None else {"case": CASE, "v": str(version)}
    if part is not None:
        query[state.FORMULATION_PART] = part
    at = web.app(who, "formulation", **query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def area_label_says_overridden(label: str) -> bool:
    return "· Low ·" in label and "band set by the assessor" in label


def open_card(at: AppTest, area: str) -> AppTest:
    """Open an area's card (an expander drawn only when open), as a click on it does."""
    at.session_state[review_key("card", area)] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def live_markup(at: AppTest) -> list[str]:
    bodies = [str(m.value) for m in [*at.markdown, *at.caption, *at.error, *at.warning]]
    return [b for b in bodies if re.search(r"(?<!\\)<(script|img)|!\[|\]\((http|javascript)", b)]


def top_area(web: Web) -> str:
    with web.service() as service:
        formulation = service.formulation(web.actor("psychologist"), CASE, 1)
    return formulation.priorities[0].area


# --- what each role sees ------------------------------------------------------------------------


def test_the_psychologist_sees_ranked_priorities_with_reasons_and_evidence(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS, judgement=False)
    at = open_page(web)
    cards = [e.label for e in at.expander if re.match(r"^\*\*\d+\. ", e.label)]
    assert len(cards) == 7
    assert cards[0].startswith("**1. ")
    assert "Contributing items" not in texts(at)  # the cards open on demand
    assert not at.dataframe  # no canvas: the chart's facts are a real table
    assert len(at.get("vega_lite_chart")) == 1  # the priorities chart at the top
    assert "Where to start" in [s.value for s in at.subheader]
    open_card(at, top_area(web))
    shown = unescape(texts(at))
    assert "not a risk score" in shown
    assert "Contributing items" in shown
    assert "Suggested sessions" in shown
    assert XSS in shown  # the evidence, as text
    assert not live_markup(at)
    assert "Dr A. Assessor" in shown
    assert [t.label for t in at.toggle if "Override" in t.label]
    five_p = open_page(web, part=FIVE_P)
    narratives = [t.key for t in five_p.text_area if ".narrative." in (t.key or "")]
    assert len(narratives) == 5


def test_a_viewer_gets_no_evidence_no_names_and_no_editing(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_card(open_page(web, "viewer"), top_area(web))
    shown = unescape(texts(at))
    assert "Canary evidence text" not in shown
    assert "Dr A. Assessor" not in shown
    assert "Evidence is not shown for your role." in shown
    assert not at.text_area
    assert not [t for t in at.toggle if "Override" in t.label]
    assert not open_page(web, "viewer", part=FIVE_P).text_area
    assert "leaves the evidence and names out" in texts(open_page(web, "viewer", part=SIGN_OFF))


def test_an_admin_and_another_team_see_nothing_of_the_case(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    for who in ("admin", "other-team"):
        at = open_page(web, who)
        at.session_state[review_key("card", "susceptibility")] = True
        at.run()
        shown = unescape(texts(at))
        assert "Canary evidence text" not in shown
        assert "Contributing items" not in shown


# --- review: overrides and narratives ---------------------------------------------------------


def test_an_override_with_a_short_rationale_is_refused_beside_the_field(web: Web) -> None:
    new_case(web)
    fill(web)
    area = top_area(web)
    at = open_card(open_page(web), area)
    assert review_key("override", area, "band") not in [b.key for b in at.selectbox]  # closed
    at.session_state[review_key("override", area, "open")] = True  # the user opens it
    at.run()
    at.selectbox(key=review_key("override", area, "band")).set_value("low").run()
    at.text_area(key=review_key("override", area, "rationale")).input("too short").run()
    at.button(key=review_key("override", area, "save")).click().run()
    assert any("at least 20 characters" in str(e.value) for e in at.error)
    assert not draft(web).review.overrides
    rationale = "Recent sessions show the group's hold has weakened considerably."
    at.text_area(key=review_key("override", area, "rationale")).input(rationale).run()
    at.button(key=review_key("override", area, "save")).click().run()
    override = draft(web).review.overrides[area]
    assert (override.band.value, override.rationale) == ("low", rationale)
    assert any(area_label_says_overridden(e.label) for e in at.expander)
    open_card(at, area)  # the card's label changed with its band: it opens again on a click
    shown = unescape(texts(at))
    assert "Band set by the assessor" in shown
    assert rationale in shown
    assert review_key("override", area, "band") not in [b.key for b in at.selectbox]  # closed
    at.session_state[review_key("override", area, "open")] = True
    at.run()
    at.button(key=review_key("override", area, "clear")).click().run()
    assert not draft(web).review.overrides


def test_the_narrative_is_saved_when_the_box_is_left(web: Web) -> None:
    # Without a judgement section the 5P narratives are written here; with one, on the form.
    new_case(web)
    fill(web, judgement=False)
    at = open_page(web, part=FIVE_P)
    at.text_area(key=review_key("narrative", "presenting")).input(XSS).run()
    assert draft(web).review.narratives[FiveP.PRESENTING] == XSS
    assert any("Saved" in str(c.value) for c in at.caption)
    again = open_page(web, part=FIVE_P)  # a reload shows what is stored
    assert again.text_area(key=review_key("narrative", "presenting")).value == XSS
    assert not live_markup(again)


def test_a_stale_narrative_is_shown_as_a_conflict(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    at = open_page(web, part=FIVE_P)
    actor = web.actor("psychologist")
    with web.service() as service:
        current = service.get_assessment(actor, CASE, 1)
        service.save_narrative(
            actor, CASE, 1, "presenting", "Their narrative.", base_revision=current.revision
        )
    at.text_area(key=review_key("narrative", "presenting")).input("My narrative.").run()
    assert draft(web).review.narratives[FiveP.PRESENTING] == "Their narrative."
    assert any("Not saved" in str(e.value) for e in at.error)
    shown = [str(t.value) for t in at.text]
    assert "Their narrative." in shown
    assert "My narrative." in shown
    at.button(key=review_key("conflict", "mine")).click().run()
    assert draft(web).review.narratives[FiveP.PRESENTING] == "My narrative."


def test_a_final_formulation_is_read_only_for_the_psychologist(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    assert not open_page(web, part=FIVE_P).text_area
    at = open_page(web, part=SIGN_OFF)
    assert not at.text_area
    shown = unescape(texts(at))
    assert "Finalised by psy.north (psychologist)" in shown


# --- countersign ----------------------------------------------------------------------------


def countersigned(web: Web) -> list[str]:
    with sqlite3.connect(web.db_path) as conn:
        rows = conn.execute("SELECT signer FROM signatures WHERE meaning = 'countersigned by'")
        return [r[0] for r in rows]


def test_a_supervisor_countersigns_after_entering_the_password(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    assert "Contributing items" in texts(open_card(open_page(web, "supervisor"), top_area(web)))
    assert not open_page(web, "supervisor", part=FIVE_P).text_area  # no review for supervisors
    at = open_page(web, "supervisor", part=SIGN_OFF)
    web.clock.advance(minutes=6)  # signing in counted as a password entry: let it age
    at.run()
    assert not [b for b in at.button if b.label == "Countersign"]  # password first
    at.text_input(key=review_key("password", "countersign")).input("wrong password").run()
    at.button(key=review_key("confirm", "countersign")).click().run()
    assert any("password is not right" in str(e.value) for e in at.error)
    at.text_input(key=review_key("password", "countersign")).input(PASSWORD).run()
    at.button(key=review_key("confirm", "countersign")).click().run()
    at.button(key=review_key("countersign")).click().run()
    assert countersigned(web) == ["sup.north"]
    assert "Countersigned by sup.north" in unescape(texts(at))
    assert any("have countersigned" in str(s.value) for s in at.success)


def test_a_psychologist_is_not_offered_countersigning(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    at = open_page(web, part=SIGN_OFF)
    assert not [b for b in at.button if b.label == "Countersign"]


# --- export ---------------------------------------------------------------------------------


def test_export_asks_for_the_password_then_offers_both_downloads(web: Web) -> None:
    new_case(web)
    fill(web)
    at = open_page(web, part=SIGN_OFF)
    web.clock.advance(minutes=6)  # signing in counted as a password entry: let it age
    at.run()
    assert not at.get("download_button")
    at.text_input(key=review_key("password", "export")).input(PASSWORD).run()
    at.button(key=review_key("confirm", "export")).click().run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download the formulation (JSON)", "Download the whole case (JSON)"]


def test_the_formulation_download_is_valid_against_the_published_schema(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS)
    actor = web.actor("psychologist")
    web.clock.advance(minutes=6)  # signing in counted as a password entry: let it age
    with web.service() as service:
        with pytest.raises(AuthenticationError):
            formulation_document(service, actor, CASE, 1, "formulation")
        service.confirm_password(actor, PASSWORD)
        data = formulation_document(service, actor, CASE, 1, "formulation")
    document = json.loads(data)
    assert schema_problems("formulation", document) == []
    assert document["header"]["case_reference"] == CASE
    assert XSS in data.decode("utf-8")  # the evidence travels with the formulation, as data


def test_a_viewer_downloads_only_the_redacted_formulation(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    finalise(web)
    at = open_page(web, "viewer", part=SIGN_OFF)
    web.clock.advance(minutes=6)  # signing in counted as a password entry: let it age
    at.run()
    at.text_input(key=review_key("password", "export")).input(PASSWORD).run()
    at.button(key=review_key("confirm", "export")).click().run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download the formulation (JSON)"]
    viewer = web.actor("viewer")
    with web.service() as service:
        service.confirm_password(viewer, PASSWORD)
        data = formulation_document(service, viewer, CASE, 1, "formulation").decode("utf-8")
    assert "Canary evidence text" not in data
    assert "Dr A. Assessor" not in data
    assert json.loads(data)["redacted"] is True


def test_the_downloads_are_built_on_click_and_the_case_export_is_audited(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_case(web)
    fill(web)
    actor = web.actor("psychologist")
    with web.service() as service:
        service.confirm_password(actor, PASSWORD)
    before = audit_actions(web, "export")
    build = built_on_click(page.case_export(actor, CASE, "json"))
    assert audit_actions(web, "export") == before  # nothing built yet
    document = json.loads(build())
    assert schema_problems("case", document) == []
    assert audit_actions(web, "export") == [*before, "export"]
    formulation = json.loads(built_on_click(page.formulation_export(actor, CASE, 1, "json"))())
    assert formulation["header"]["assessment_version"] == 1
    assert audit_actions(web, "export") == [*before, "export", "export"]


def test_where_to_start_is_the_focus_or_the_first_offered_areas() -> None:
    from pathlib import Path

    from instrument.formulation import Formulation

    worked = Path(__file__).resolve().parents[2] / "formulations"
    formulation = Formulation.model_validate_json(
        (worked / "wc-04-group-control.formulation.json").read_text(encoding="utf-8")
    )
    offered = [p for p in formulation.priorities if p.offered]
    assert [p.area for p in page.focus_areas(formulation)] == [p.area for p in offered[:3]]
    # Instrument 1.1's `focus` takes precedence, in its own order, even when adjusted.
    later = Formulation.model_validate_json(
        (worked / "1.1" / "wc-07-intent-prompt.formulation.json").read_text(encoding="utf-8")
    )
    assert later.focus is not None
    chosen = later.focus.model_copy(update={"areas": ["emotion-management", "identity"]})
    adjusted = later.model_copy(update={"focus": chosen})
    assert [p.area for p in page.focus_areas(adjusted)] == ["emotion-management", "identity"]
    nothing = Formulation.model_validate_json(
        (worked / "1.1" / "wc-08-nothing-offered.formulation.json").read_text(encoding="utf-8")
    )
    assert page.focus_areas(nothing) == []


def test_a_11_formulation_shows_the_prompt_first_then_the_focus_and_no_decimal_scores(
    web: Web,
) -> None:
    new_case(web)
    fill(web)  # every third item yes/high: IA3 among them, so the prompt is raised
    at = open_page(web)
    blocks = [str(b.value) for b in at.main if hasattr(b, "value") and isinstance(b.value, str)]
    first = next(i for i, b in enumerate(blocks) if "Escalation prompt" in b)
    start = next(i for i, b in enumerate(blocks) if b == "Where to start")
    assert first < start
    assert any("safeguarding or referral procedure" in str(e.value) for e in at.error)
    assert any(str(c.value).startswith("Start with") for c in at.caption)  # the focus
    labels = [str(e.label) for e in at.expander]
    assert not any(" · score 0." in label for label in labels)  # cards: bands, no decimals
    shown = unescape(texts(at))
    assert not re.search(r"Score \d\.\d", shown)
    assert "contributes 0." not in shown
    assert [e.label for e in at.expander if e.label == "Choose the focus"]
