"""The assessment page for every role: the generated form, autosave, conflicts, sign-off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from instrument.definition import Instrument
from instrument.definitions import current_instrument
from instrument.ui import state
from instrument.vocabulary import AssessmentStatus
from tests.store_support import install_versions
from tests.ui.app_support import CASE, draft, fill, finalise, key, new_case
from tests.ui.conftest import Web, goto, texts

XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"


def open_form(
    web: Web, who: str = "psychologist", version: int | None = 1, section: str | None = None
) -> AppTest:
    query = {"case": CASE} if version is None else {"case": CASE, "v": str(version)}
    if section is not None:
        query["section"] = section
    at = web.app(who, "assessment", **query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, section: str) -> AppTest:
    """Open another tab of the form, as a click on it does."""
    at.session_state[state.ASSESSMENT_SECTION] = section
    at.query_params.pop(state.ASSESSMENT_SECTION, None)  # the browser's URL follows the tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescape(text: str) -> str:
    """Return Markdown text with its backslash escapes removed (what the reader sees)."""
    return re.sub(r"\\(.)", r"\1", text)


def raw_markup(at: AppTest) -> list[str]:
    """Return every Markdown the run drew that holds live HTML or a link to typed text."""
    bodies = [str(m.value) for m in [*at.markdown, *at.caption]]
    return [b for b in bodies if re.search(r"(?<!\\)<(script|img)|!\[|\]\((http|javascript)", b)]


# --- the form ---------------------------------------------------------------------------------


def test_the_form_is_generated_from_the_definition(web: Web) -> None:
    instrument = current_instrument()  # new drafts use the current definition (1.1)
    new_case(web)
    at = open_form(web)
    assert at.header[0].value == "Assessment details"  # the first tab
    progress = [str(m.value) for m in at.sidebar.markdown]
    for domain in instrument.domains:
        total = len(instrument.items_of(domain.id))
        assert any(domain.name in p and f"0 / {total} rated" in p for p in progress)
    for domain in instrument.domains:
        go(at, domain.name)
        assert [h.value for h in at.header] == [domain.name]  # only the open tab is drawn
        presence = [r for r in at.segmented_control if r.label == "Presence"]
        items = instrument.items_of(domain.id)
        assert [r.key for r in presence] == [key(i.id, "presence") for i in items]
        assert all(r.options == ["No", "Partial", "Yes", "Omit"] for r in presence)
        assert all(r.value is None for r in presence)
        subheaders = [s.value for s in at.subheader]
        assert subheaders == [f"{i.id} · {i.name}" for i in items]
    # Evidence waits for presence; relevance for partial or yes.
    assert not at.text_area
    assert not [r for r in at.segmented_control if r.label == "Relevance"]


def test_the_form_draws_the_instrument_version_the_draft_records(
    web: Web, instrument: Instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_case(web)  # its draft records the shipped version
    install_versions(monkeypatch, instrument, "1.10.0")
    new_case(web, "C-0002")  # started after: the newest installed version
    domain = instrument.domain_by_id[instrument.items[0].domain].name
    first = instrument.items[0]
    at = open_form(web, section=domain)
    assert at.subheader[0].value == f"{first.id} · {first.name}"
    at = goto(at, "assessment", case="C-0002", v="1", section=domain)
    assert at.subheader[0].value == f"{first.id} · Renamed in 1.10.0"
    at = goto(at, "assessment", case=CASE, v="1", section=domain)
    assert at.subheader[0].value == f"{first.id} · {first.name}"


def test_a_rating_is_saved_at_once_and_progress_follows(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    at.segmented_control(key=key("ID2", "presence")).set_value("no").run()
    stored = draft(web)
    assert stored.assessment.ratings["ID2"].presence.value == "no"
    assert stored.revision == 2
    assert any("Saved" in str(c.value) for c in at.caption)
    assert any("Identity" in str(m.value) and "1 / 5 rated" in str(m.value) for m in at.markdown)
    assert "1 / 5 rated" in [str(m.value).strip("*") for m in at.markdown]
    at.text_area(key=key("ID2", "evidence")).input("No change of role in the period.").run()
    at.multiselect(key=key("ID2", "sources")).select("file-review").run()
    rating = draft(web).assessment.ratings["ID2"]
    assert rating.evidence == "No change of role in the period."
    assert [s.value for s in rating.sources] == ["file-review"]


def test_relevance_appears_only_when_it_applies(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    at.segmented_control(key=key("ID1", "presence")).set_value("no").run()
    assert key("ID1", "relevance") not in [r.key for r in at.segmented_control]
    at.segmented_control(key=key("ID1", "presence")).set_value("partial").run()
    assert at.segmented_control(key=key("ID1", "relevance")).options == ["Low", "Moderate", "High"]
    # A present factor waits for its relevance, and says so; the stored rating is still `no`.
    assert any("choose the relevance" in str(w.value) for w in at.warning)
    assert draft(web).assessment.ratings["ID1"].presence.value == "no"
    at.segmented_control(key=key("ID1", "relevance")).set_value("moderate").run()
    stored = draft(web).assessment.ratings["ID1"]
    assert (stored.presence.value, stored.relevance and stored.relevance.value) == (
        "partial",
        "moderate",
    )
    assert not any("choose the relevance" in str(w.value) for w in at.warning)
    at.segmented_control(key=key("ID1", "presence")).set_value("omit").run()
    assert key("ID1", "relevance") not in [r.key for r in at.segmented_control]
    assert draft(web).assessment.ratings["ID1"].relevance is None


def test_text_typed_while_relevance_is_missing_survives_another_tab(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    at.segmented_control(key=key("ID1", "presence")).set_value("yes").run()
    at.text_area(key=key("ID1", "evidence")).input("Typed before relevance.").run()
    go(at, "Emotion")
    go(at, "Identity")
    assert at.segmented_control(key=key("ID1", "presence")).value == "yes"
    assert at.text_area(key=key("ID1", "evidence")).value == "Typed before relevance."
    assert any("choose the relevance" in str(w.value) for w in at.warning)
    at.segmented_control(key=key("ID1", "relevance")).set_value("high").run()
    assert draft(web).assessment.ratings["ID1"].evidence == "Typed before relevance."


def test_a_reload_shows_what_the_database_holds(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Stored evidence text.")
    at = open_form(web, version=None, section="Identity")  # no version: the open draft
    assert at.query_params.get("v") in ("1", ["1"])
    assert at.segmented_control(key=key("ID1", "presence")).value == "yes"
    assert at.segmented_control(key=key("ID1", "relevance")).value == "high"
    assert at.segmented_control(key=key("ID2", "presence")).value == "no"
    assert at.text_area(key=key("ID1", "evidence")).value == "Stored evidence text."
    assert at.multiselect(key=key("ID1", "sources")).value == ["interview"]
    go(at, "Details")
    assert at.text_input(key=key("details", "name.0")).value == "Dr A. Assessor"
    go(at, "Identity")  # back again: the values come back from the database
    assert at.segmented_control(key=key("ID1", "presence")).value == "yes"
    assert at.text_area(key=key("ID1", "evidence")).value == "Stored evidence text."


def test_details_and_responsivity_are_saved(web: Web) -> None:
    import datetime as dt

    new_case(web)
    at = open_form(web)
    at.date_input(key=key("details", "date")).set_value(dt.date(2026, 11, 2)).run()
    at.text_input(key=key("details", "name.0")).input("Dr B. Assessor").run()
    # A second assessor row appears once the first is named.
    assert key("details", "name.1") in [t.key for t in at.text_input]
    go(at, "Responsivity")
    at.segmented_control(key=key("RS1", "presence")).set_value("yes").run()
    at.text_area(key=key("RS1", "adaptation")).input("Spoken material, short sessions.").run()
    stored = draft(web).assessment
    assert stored.assessment.assessed_on == dt.date(2026, 11, 2)
    assert [a.name for a in stored.assessment.assessors] == ["Dr B. Assessor"]
    assert stored.responsivity["RS1"].adaptation == "Spoken material, short sessions."


# --- conflicts ------------------------------------------------------------------------------


def _someone_else_saves(web: Web, item: str = "ID3", presence: str = "yes") -> None:
    from instrument.assessment import Rating

    actor = web.actor("psychologist")  # another session of the team: another browser
    with web.service() as service:
        current = service.get_assessment(actor, CASE, 1)
        rating = Rating.model_validate(
            {"presence": presence, "relevance": "high", "evidence": "Their evidence."}
        )
        service.save_rating(actor, CASE, 1, item, rating, base_revision=current.revision)


def test_a_stale_save_is_shown_as_a_conflict_with_both_versions(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web)
    at.segmented_control(key=key("ID3", "presence")).set_value("no").run()
    assert draft(web).assessment.ratings["ID3"].presence.value == "yes"  # nothing overwritten
    errors = unescape(" ".join(str(e.value) for e in at.error))
    assert "Not saved" in errors
    assert "psy.north" in errors  # who saved last
    shown = "\n".join(str(t.value) for t in at.text)
    assert "Presence: yes" in shown  # theirs
    assert "Presence: no" in shown  # yours
    assert "Evidence: Their evidence." in shown
    at.button(key="ifi.assessment.C-0001.1.conflict.theirs").click().run()
    assert at.segmented_control(key=key("ID3", "presence")).value == "yes"
    assert not any("Not saved" in str(e.value) for e in at.error)
    # The form is on the stored revision again: the next change saves.
    at.segmented_control(key=key("ID4", "presence")).set_value("no").run()
    assert draft(web).assessment.ratings["ID4"].presence.value == "no"


def test_keeping_my_version_saves_it_over_theirs(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3")
    at.segmented_control(key=key("ID3", "presence")).set_value("no").run()
    at.button(key="ifi.assessment.C-0001.1.conflict.mine").click().run()
    assert draft(web).assessment.ratings["ID3"].presence.value == "no"
    assert not any("Not saved" in str(e.value) for e in at.error)


# --- finalise and amend ---------------------------------------------------------------------


def test_finalisation_problems_are_listed_with_links_to_the_items(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    at.segmented_control(key=key("ID1", "presence")).set_value("yes").run()
    at.segmented_control(key=key("ID1", "relevance")).set_value("high").run()
    go(at, "Finalise")
    at.button(key="ifi.assessment.C-0001.1.finalise.check").click().run()
    assert any("cannot be finalised yet" in str(e.value) for e in at.error)
    links = [unescape(b.label) for b in at.button if ".problem." in (b.key or "")]
    assert any(link.startswith("Identity · ID1 evidence: evidence is required") for link in links)
    assert any(link.startswith("Protective factors · PF8: PF8") for link in links)
    assert any(link.startswith("Details · Assessment assessed on") for link in links)
    # ID1 evidence, 39 unrated, date and assessor, and for each of the 7 areas: most of its main
    # drivers unrated, with no record that the formulation is provisional (1.1).
    # The assessor's judgement (1.1): its problems lead to the Judgement tab, the bias check's to
    # the Finalise tab where it is asked.
    judgement = [
        link for link in links if link.startswith(("Judgement · ", "Finalise · Bias check"))
    ]
    assert any(link.startswith("Judgement · 5P: the presenting problem") for link in judgement)
    assert any(link.startswith("Finalise · Bias check") for link in judgement)
    assert len(links) - len(judgement) == 1 + 39 + 2 + 7
    assert any(link.startswith("Details · Assessment provisional reason") for link in links)
    # A problem opens the tab where it is fixed.
    pf8 = next(b for b in at.button if unescape(b.label).startswith("Protective factors · PF8"))
    pf8.click().run()
    assert [h.value for h in at.header] == ["Protective factors"]
    assert key("PF8", "presence") in [c.key for c in at.segmented_control]
    assert draft(web).status is AssessmentStatus.DRAFT


def test_finalise_asks_for_the_password_when_it_is_older_than_five_minutes(web: Web) -> None:
    new_case(web)
    fill(web)
    at = open_form(web, section="Finalise")
    web.clock.advance(minutes=6)
    at.button(key="ifi.assessment.C-0001.1.finalise.check").click().run()
    password = at.text_input(key="ifi.assessment.C-0001.1.finalise.password")
    password.input("not the password").run()
    at.button(key="ifi.assessment.C-0001.1.finalise.confirm").click().run()
    assert any("password is not right" in str(e.value) for e in at.error)
    assert draft(web).status is AssessmentStatus.DRAFT
    from tests.ui.conftest import PASSWORD

    at.text_input(key="ifi.assessment.C-0001.1.finalise.password").input(PASSWORD).run()
    at.button(key="ifi.assessment.C-0001.1.finalise.confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert draft(web).status is AssessmentStatus.FINAL
    assert "Formulation · C-0001" in [unescape(t.value) for t in at.title]  # to the formulation


def test_a_final_version_is_read_only_and_amend_starts_a_new_version(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    at = open_form(web)
    assert not [r for r in at.segmented_control if r.label == "Presence"]
    assert any("finalised and frozen" in str(i.value) for i in at.info)
    at.button(key="ifi.assessment.C-0001.1.amend.open").click().run()
    at.button(key="ifi.assessment.C-0001.1.amend.start").click().run()
    assert any("reason" in str(e.value) for e in at.error)  # a reason is required
    at.text_area(key="ifi.assessment.C-0001.1.amend.reason").input("Corrected GA2.").run()
    at.button(key="ifi.assessment.C-0001.1.amend.start").click().run()
    assert not at.exception
    amended = draft(web, version=2)
    assert amended.status is AssessmentStatus.DRAFT
    assert amended.assessment.assessment.replaces == 1
    go(at, "Identity")
    assert at.segmented_control(key=key("ID1", "presence", version=2)).value == "yes"


# --- every role -----------------------------------------------------------------------------


def test_a_supervisor_reads_the_ratings_and_evidence_but_cannot_edit(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS)
    at = open_form(web, "supervisor", section="Identity")
    assert not at.segmented_control
    assert not at.text_area
    lines = [unescape(str(m.value)) for m in at.markdown]
    assert "**ID1 · Need for identity, meaning or belonging** — yes · high relevance" in "\n".join(
        lines
    )
    assert f"Evidence: {XSS}" in [str(t.value) for t in at.text]  # typed text, as text
    assert not raw_markup(at)
    assert not [b for b in at.button if "finalise" in (b.key or "")]
    go(at, "Details")
    assert "Assessors: Dr A. Assessor (psychologist)" in [str(t.value) for t in at.text]
    assert "Finalise" not in [t.label for t in at.tabs]


def test_typed_markup_stays_text_for_the_psychologist(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS)
    at = open_form(web, section="Identity")
    assert at.text_area(key=key("ID1", "evidence")).value == XSS
    assert not raw_markup(at)


def test_a_viewer_sees_no_ratings_or_evidence(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "viewer")
    assert "Canary evidence text" not in texts(at)
    assert "Dr A. Assessor" not in texts(at)
    assert not at.segmented_control
    assert any("does not show assessment content" in str(i.value) for i in at.info)


def test_a_psychologist_of_another_team_is_told_it_was_not_found(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "other-team")
    assert "Canary evidence text" not in texts(at)
    assert any("not found" in str(e.value) for e in at.error)
    assert not at.segmented_control


def test_an_admin_sees_no_case_content(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "admin")
    assert "Canary evidence text" not in texts(at)
    assert "Dr A. Assessor" not in texts(at)
    assert not at.segmented_control


def test_a_crafted_reference_in_the_address_stays_text(web: Web) -> None:
    crafted = "[x](javascript:alert(1))![i](http://example.org/i.png)"
    at = web.app("psychologist", "assessment", case=crafted, v="1")
    assert not at.exception
    titles = [str(t.value) for t in at.title]
    assert [unescape(t) for t in titles] == [f"Assessment · {crafted}"]
    assert not [t for t in titles if "](javascript" in t or "![" in t]
    assert any("not found" in str(e.value) for e in at.error)


def test_a_final_10_version_is_upgraded_to_a_new_11_draft_with_one_click(web: Web) -> None:
    actor = web.actor("psychologist")
    document = (
        Path(__file__).resolve().parents[2] / "formulations" / "wc-02-grievance.assessment.json"
    ).read_bytes()
    with web.service() as service:
        service.import_assessment(actor, document)
    finalise(web, "WC-02", 1)
    at = web.app("psychologist", "assessment", case="WC-02", v="1")
    assert not at.exception
    at.button(key="ifi.assessment.WC-02.1.upgrade").click().run()
    assert not at.exception
    upgraded = draft(web, "WC-02", version=2)
    assert upgraded.status is AssessmentStatus.DRAFT
    assert upgraded.assessment.instrument.version == "1.1.0"
    assert draft(web, "WC-02", version=1).assessment.instrument.version == "1.0.0"
    at = web.app("psychologist", "assessment", case="WC-02", v="2", section="Intent and action")
    assert not at.exception
    assert at.segmented_control(key=key("IA1", "presence", case="WC-02", version=2)).value is None
    assert not [b for b in at.button if (b.key or "").endswith(".upgrade")]
