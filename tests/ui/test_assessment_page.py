"""The assessment page for every role: the generated form, autosave, conflicts, sign-off."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from instrument.definition import Instrument
from instrument.vocabulary import AssessmentStatus
from tests.ui.app_support import CASE, draft, fill, finalise, key, new_case
from tests.ui.conftest import Web, texts

XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"


def open_form(web: Web, who: str = "psychologist", version: int | None = 1) -> AppTest:
    query = {"case": CASE} if version is None else {"case": CASE, "v": str(version)}
    at = web.app(who, "assessment", **query)
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


def test_the_form_is_generated_from_the_definition(web: Web, instrument: Instrument) -> None:
    new_case(web)
    at = open_form(web)
    presence = [r for r in at.radio if r.label == "Presence"]
    assert [r.key for r in presence] == [key(i.id, "presence") for i in instrument.items]
    assert all(r.options == ["No", "Partial", "Yes", "Omit"] for r in presence)
    assert all(r.value is None for r in presence)
    headers = [h.value for h in at.header]
    for domain in instrument.domains:
        assert domain.name in headers
    subheaders = [s.value for s in at.subheader]
    for item in instrument.items:
        assert f"{item.id} · {item.name}" in subheaders
    progress = [str(m.value) for m in at.sidebar.markdown]
    for domain in instrument.domains:
        total = len(instrument.items_of(domain.id))
        assert any(domain.name in p and f"0 / {total} rated" in p for p in progress)
    # Evidence waits for presence; relevance for partial or yes.
    assert key("ID1", "evidence") not in [t.key for t in at.text_area]
    assert key("ID1", "relevance") not in [r.key for r in at.radio]


def test_a_rating_is_saved_at_once_and_progress_follows(web: Web) -> None:
    new_case(web)
    at = open_form(web)
    at.radio(key=key("ID2", "presence")).set_value("no").run()
    stored = draft(web)
    assert stored.assessment.ratings["ID2"].presence.value == "no"
    assert stored.revision == 2
    assert any("Saved" in str(c.value) for c in at.caption)
    assert any("Identity" in str(m.value) and "1 / 5 rated" in str(m.value) for m in at.markdown)
    at.text_area(key=key("ID2", "evidence")).input("No change of role in the period.").run()
    at.multiselect(key=key("ID2", "sources")).select("file-review").run()
    rating = draft(web).assessment.ratings["ID2"]
    assert rating.evidence == "No change of role in the period."
    assert [s.value for s in rating.sources] == ["file-review"]


def test_relevance_appears_only_when_it_applies(web: Web) -> None:
    new_case(web)
    at = open_form(web)
    at.radio(key=key("ID1", "presence")).set_value("no").run()
    assert key("ID1", "relevance") not in [r.key for r in at.radio]
    at.radio(key=key("ID1", "presence")).set_value("partial").run()
    assert at.radio(key=key("ID1", "relevance")).options == ["Low", "Moderate", "High"]
    # A present factor waits for its relevance, and says so; the stored rating is still `no`.
    assert any("choose the relevance" in str(w.value) for w in at.warning)
    assert draft(web).assessment.ratings["ID1"].presence.value == "no"
    at.radio(key=key("ID1", "relevance")).set_value("moderate").run()
    stored = draft(web).assessment.ratings["ID1"]
    assert (stored.presence.value, stored.relevance and stored.relevance.value) == (
        "partial",
        "moderate",
    )
    assert not any("choose the relevance" in str(w.value) for w in at.warning)
    at.radio(key=key("ID1", "presence")).set_value("omit").run()
    assert key("ID1", "relevance") not in [r.key for r in at.radio]
    assert draft(web).assessment.ratings["ID1"].relevance is None


def test_a_reload_shows_what_the_database_holds(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Stored evidence text.")
    at = open_form(web, version=None)  # no version in the URL: the open draft
    assert at.query_params.get("v") in ("1", ["1"])
    assert at.radio(key=key("ID1", "presence")).value == "yes"
    assert at.radio(key=key("ID1", "relevance")).value == "high"
    assert at.radio(key=key("ID2", "presence")).value == "no"
    assert at.text_area(key=key("ID1", "evidence")).value == "Stored evidence text."
    assert at.multiselect(key=key("ID1", "sources")).value == ["interview"]
    assert at.text_input(key=key("details", "name.0")).value == "Dr A. Assessor"


def test_details_and_responsivity_are_saved(web: Web) -> None:
    import datetime as dt

    new_case(web)
    at = open_form(web)
    at.date_input(key=key("details", "date")).set_value(dt.date(2026, 11, 2)).run()
    at.text_input(key=key("details", "name.0")).input("Dr B. Assessor").run()
    at.radio(key=key("RS1", "presence")).set_value("yes").run()
    at.text_area(key=key("RS1", "adaptation")).input("Spoken material, short sessions.").run()
    stored = draft(web).assessment
    assert stored.assessment.assessed_on == dt.date(2026, 11, 2)
    assert [a.name for a in stored.assessment.assessors] == ["Dr B. Assessor"]
    assert stored.responsivity["RS1"].adaptation == "Spoken material, short sessions."
    # A second assessor row appears once the first is named.
    assert key("details", "name.1") in [t.key for t in at.text_input]


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
    at = open_form(web)
    _someone_else_saves(web)
    at.radio(key=key("ID3", "presence")).set_value("no").run()
    assert draft(web).assessment.ratings["ID3"].presence.value == "yes"  # nothing overwritten
    errors = unescape(" ".join(str(e.value) for e in at.error))
    assert "Not saved" in errors
    assert "psy.north" in errors  # who saved last
    shown = "\n".join(str(t.value) for t in at.text)
    assert "Presence: yes" in shown  # theirs
    assert "Presence: no" in shown  # yours
    assert "Evidence: Their evidence." in shown
    at.button(key="ifi.assessment.C-0001.1.conflict.theirs").click().run()
    assert at.radio(key=key("ID3", "presence")).value == "yes"
    assert not any("Not saved" in str(e.value) for e in at.error)
    # The form is on the stored revision again: the next change saves.
    at.radio(key=key("ID4", "presence")).set_value("no").run()
    assert draft(web).assessment.ratings["ID4"].presence.value == "no"


def test_keeping_my_version_saves_it_over_theirs(web: Web) -> None:
    new_case(web)
    at = open_form(web)
    _someone_else_saves(web, "ID3")
    at.radio(key=key("ID3", "presence")).set_value("no").run()
    at.button(key="ifi.assessment.C-0001.1.conflict.mine").click().run()
    assert draft(web).assessment.ratings["ID3"].presence.value == "no"
    assert not any("Not saved" in str(e.value) for e in at.error)


# --- finalise and amend ---------------------------------------------------------------------


def test_finalisation_problems_are_listed_with_links_to_the_items(web: Web) -> None:
    new_case(web)
    at = open_form(web)
    at.radio(key=key("ID1", "presence")).set_value("yes").run()
    at.radio(key=key("ID1", "relevance")).set_value("high").run()
    at.button(key="ifi.assessment.C-0001.1.finalise.check").click().run()
    assert any("cannot be finalised yet" in str(e.value) for e in at.error)
    listing = "\n".join(str(m.value) for m in at.markdown)
    assert "(#item-id1)" in listing  # evidence missing for a present item
    assert "(#item-pf8)" in listing  # not rated
    assert "(#assessment-details)" in listing  # no date, no assessor
    assert draft(web).status is AssessmentStatus.DRAFT


def test_finalise_asks_for_the_password_when_it_is_older_than_five_minutes(web: Web) -> None:
    new_case(web)
    fill(web)
    at = open_form(web)
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
    assert "Formulation · C-0001" in [t.value for t in at.title]  # went to the formulation


def test_a_final_version_is_read_only_and_amend_starts_a_new_version(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    at = open_form(web)
    assert not [r for r in at.radio if r.label == "Presence"]
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
    assert at.radio(key=key("ID1", "presence", version=2)).value == "yes"


# --- every role -----------------------------------------------------------------------------


def test_a_supervisor_reads_the_ratings_and_evidence_but_cannot_edit(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS)
    at = open_form(web, "supervisor")
    assert not at.radio
    assert not at.text_area
    shown = "\n".join(str(t.value) for t in at.text)
    assert "Presence: yes" in shown
    assert XSS in shown  # typed text is shown as text
    assert not raw_markup(at)
    assert not [b for b in at.button if "finalise" in b.key]


def test_typed_markup_stays_text_for_the_psychologist(web: Web) -> None:
    new_case(web)
    fill(web, evidence=XSS)
    at = open_form(web)
    assert at.text_area(key=key("ID1", "evidence")).value == XSS
    assert not raw_markup(at)


def test_a_viewer_sees_no_ratings_or_evidence(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "viewer")
    assert "Canary evidence text" not in texts(at)
    assert "Dr A. Assessor" not in texts(at)
    assert not at.radio
    assert any("does not show assessment content" in str(i.value) for i in at.info)


def test_a_psychologist_of_another_team_is_told_it_was_not_found(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "other-team")
    assert "Canary evidence text" not in texts(at)
    assert any("not found" in str(e.value) for e in at.error)
    assert not at.radio


def test_an_admin_sees_no_case_content(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Canary evidence text")
    at = open_form(web, "admin")
    assert "Canary evidence text" not in texts(at)
    assert "Dr A. Assessor" not in texts(at)
    assert not at.radio
