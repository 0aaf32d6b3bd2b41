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
from tests.ui.app_support import CASE, control, draft, fill, finalise, key, new_case, send_change
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


def controls(at: AppTest) -> list[str]:
    """Return the ids of the items whose controls the run drew, in order."""
    return [str(e.proto.id).rsplit(".", 2)[-2] for e in at.get("bidi_component")]


def test_the_form_is_generated_from_the_definition(web: Web) -> None:
    instrument = current_instrument()  # new drafts use the current definition (1.1)
    new_case(web)
    at = open_form(web)
    assert at.header[0].value == "Assessment details"  # the first tab
    progress = [str(m.value) for m in at.sidebar.markdown]
    for domain in instrument.domains:
        total = len(instrument.items_of(domain.id))
        assert any(f"{domain.name} · 0 rated · 0 omitted · {total} items" in p for p in progress)
    assert any("Responsivity · 0 rated · 0 omitted" in p for p in progress)
    for domain in instrument.domains:
        go(at, domain.name)
        assert [h.value for h in at.header] == [domain.name]  # only the open tab is drawn
        items = instrument.items_of(domain.id)
        assert controls(at) == [i.id for i in items]
        data = control(at, items[0].id)
        groups = {g["name"]: g for g in data["groups"]}
        assert [o["label"] for o in groups["presence"]["options"]] == [
            "No",
            "Partial",
            "Yes",
            "Omit",
        ]
        assert groups["relevance"]["show"] == {
            "presence": ["partial", "yes"]
        }  # only when it applies
        assert groups["timeframe"]["show"] == {"presence": ["no", "partial", "yes"]}  # not for omit
        assert data["values"]["presence"] is None
        subheaders = [s.value for s in at.subheader]
        assert subheaders == [f"{i.id} · {i.name}" for i in items]


def test_relevance_is_explained_from_the_definition(web: Web) -> None:
    instrument = current_instrument()
    new_case(web)  # engaged: 1.1 words relevance for the pathway
    at = open_form(web, section="Identity")
    relevance = next(g for g in control(at, "ID1")["groups"] if g["name"] == "relevance")
    anchors = instrument.scales.relevance_for("engaged", instrument.kind_of("ID1"))
    assert [h["text"] for h in relevance["help"]] == [
        " ".join(v.description.split()) for v in anchors
    ]
    assert "interest or involvement" in relevance["help"][2]["text"]
    sources = control(at, "ID1")["sources"]
    assert sources["all"] == "Select all"
    engaged = " ".join(instrument.pathway_by_id["engaged"].description.split())
    helps = [unescape(str(c.proto.help)) for c in at.caption if "pathway engaged" in c.value]
    assert helps == [engaged]


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
    send_change(at, "ID2", {"presence": "no"})
    stored = draft(web)
    assert stored.assessment.ratings["ID2"].presence.value == "no"
    assert stored.revision == 2
    assert control(at, "ID2")["saved"].startswith("Saved ")
    assert control(at, "ID2")["saved"].endswith(" UTC")
    assert control(at, "ID2")["ack"] == 1
    assert any("Identity · 1 rated · 0 omitted · 5 items" in str(m.value) for m in at.markdown)
    send_change(
        at, "ID2", {"evidence": "No change of role in the period.", "sources": ["file-review"]}
    )
    rating = draft(web).assessment.ratings["ID2"]
    assert rating.evidence == "No change of role in the period."
    assert [s.value for s in rating.sources] == ["file-review"]
    send_change(at, "ID3", {"presence": "omit"})
    assert any("Identity · 1 rated · 1 omitted · 5 items" in str(m.value) for m in at.markdown)


def test_a_present_rating_waits_for_its_relevance(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    send_change(at, "ID1", {"presence": "no"})
    send_change(
        at, "ID1", {"presence": "partial"}
    )  # the control never sends this: refused here too
    assert draft(web).assessment.ratings["ID1"].presence.value == "no"
    send_change(at, "ID1", {"presence": "partial", "relevance": "moderate"})
    stored = draft(web).assessment.ratings["ID1"]
    assert (stored.presence.value, stored.relevance and stored.relevance.value) == (
        "partial",
        "moderate",
    )
    send_change(at, "ID1", {"presence": "omit", "relevance": None})
    assert draft(web).assessment.ratings["ID1"].relevance is None


def test_a_forged_change_is_refused_with_a_message(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    send_change(at, "ID1", {"presence": "certainly"})
    send_change(at, "ID2", {"presence": "no", "sources": "interview"})
    assert not draft(web).assessment.ratings
    assert "could not be read" in control(at, "ID1")["error"]
    assert control(at, "ID1")["error"].startswith("Not saved: ")


def test_a_reload_shows_what_the_database_holds(web: Web) -> None:
    new_case(web)
    fill(web, evidence="Stored evidence text.")
    at = open_form(web, version=None, section="Identity")  # no version: the open draft
    assert at.query_params.get("v") in ("1", ["1"])
    values = control(at, "ID1")["values"]
    assert (values["presence"], values["relevance"]) == ("yes", "high")
    assert values["evidence"] == "Stored evidence text."
    assert values["sources"] == ["interview"]
    assert control(at, "ID2")["values"]["presence"] == "no"
    go(at, "Details")
    assert at.text_input(key=key("details", "name.0")).value == "Dr A. Assessor"
    go(at, "Identity")  # back again: the values come back from the database
    assert control(at, "ID1")["values"]["evidence"] == "Stored evidence text."


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
    # "Saved" beside the note that was saved (one marker, not one for the whole tab).
    saved = [str(c.value) for c in at.caption if "cloud_done: Saved " in str(c.value)]
    assert len(saved) == 1
    assert saved[0].endswith(" UTC")
    assert any("Responsivity · 1 rated · 0 omitted" in str(m.value) for m in at.sidebar.markdown)


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


def test_two_tabs_editing_different_items_do_not_conflict(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3")  # tab B saves ID3
    send_change(at, "ID4", {"presence": "no"})  # tab A, on the older revision, changes ID4
    stored = draft(web).assessment.ratings
    assert stored["ID3"].evidence == "Their evidence."
    assert stored["ID4"].presence.value == "no"
    assert not at.error
    assert control(at, "ID4")["saved"].startswith("Saved")


def test_two_tabs_editing_other_fields_of_one_item_merge(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3", presence="yes")
    # My tab still shows ID3 unrated; I rate it yes/high, as they did, with my source only.
    send_change(at, "ID3", {"presence": "yes", "relevance": "high", "sources": ["interview"]})
    rating = draft(web).assessment.ratings["ID3"]
    assert rating.evidence == "Their evidence."  # theirs kept, not undone by my stale copy
    assert [s.value for s in rating.sources] == ["interview"]
    assert not at.error


def test_the_same_field_changed_in_two_tabs_asks_per_field(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3")
    send_change(at, "ID3", {"presence": "no", "evidence": "My evidence."})
    assert draft(web).assessment.ratings["ID3"].presence.value == "yes"  # nothing overwritten
    errors = unescape(" ".join(str(e.value) for e in at.error))
    assert "Not saved" in errors
    assert "another tab or by another person" in errors
    assert "psy.north" in errors  # who saved last
    assert "revision" not in errors
    assert "choose below" in control(at, "ID3")["conflict"]
    shown = [str(t.value) for t in at.text]
    assert "Their evidence." in shown
    assert "My evidence." in shown
    choices = [c.label for c in at.segmented_control if ".conflict." in (c.key or "")]
    assert choices == ["Keep which presence?", "Keep which evidence?"]  # only the clashing fields
    # Keep their presence, my evidence.
    at.segmented_control(key="ifi.assessment.C-0001.1.conflict.evidence").set_value("mine")
    at.button(key="ifi.assessment.C-0001.1.conflict.resolve").click().run()
    rating = draft(web).assessment.ratings["ID3"]
    assert (rating.presence.value, rating.evidence) == ("yes", "My evidence.")
    assert not any("Not saved" in str(e.value) for e in at.error)
    assert control(at, "ID3")["reset"] == 1  # the control shows what is stored again
    assert control(at, "ID3")["values"]["evidence"] == "My evidence."


def test_a_conflict_waits_while_another_item_is_saved(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3")
    send_change(at, "ID3", {"presence": "no"})
    send_change(at, "ID5", {"presence": "omit"})  # another item: saved, the question stays
    assert draft(web).assessment.ratings["ID5"].presence.value == "omit"
    assert "choose below" in control(at, "ID3")["conflict"]
    assert any("Not saved" in str(e.value) for e in at.error)


def test_keeping_the_other_version_drops_mine(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    _someone_else_saves(web, "ID3")
    send_change(at, "ID3", {"presence": "no"})
    at.button(key="ifi.assessment.C-0001.1.conflict.theirs").click().run()
    assert control(at, "ID3")["values"]["presence"] == "yes"
    assert not any("Not saved" in str(e.value) for e in at.error)
    send_change(at, "ID4", {"presence": "no"})  # the next change saves
    assert draft(web).assessment.ratings["ID4"].presence.value == "no"


def test_details_merge_with_a_rating_saved_in_another_tab(web: Web) -> None:
    import datetime as dt

    new_case(web)
    at = open_form(web)
    _someone_else_saves(web, "ID3")
    at.date_input(key=key("details", "date")).set_value(dt.date(2026, 11, 2)).run()
    stored = draft(web).assessment
    assert stored.assessment.assessed_on == dt.date(2026, 11, 2)
    assert "ID3" in stored.ratings
    assert not at.error


# --- finalise and amend ---------------------------------------------------------------------


def test_finalisation_problems_are_listed_with_links_to_the_items(web: Web) -> None:
    new_case(web)
    at = open_form(web, section="Identity")
    send_change(at, "ID1", {"presence": "yes", "relevance": "high"})
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
    assert "PF8" in controls(at)
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
    assert control(at, "ID1")["values"]["presence"] == "yes"
    assert control(at, "ID1")["storage"] == "psy.north/C-0001/2/ID1"


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
    assert control(at, "ID1")["values"]["evidence"] == XSS  # set as a value, never as markup
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
    assert "IA1" in controls(at)  # the new items are on the form, unrated
    assert upgraded.assessment.ratings.get("IA1") is None


def test_an_omitted_11_item_asks_why_and_keeps_the_reason_when_the_control_saves(
    web: Web,
) -> None:
    new_case(web)
    at = open_form(web, section="Emotion")
    at = send_change(at, "EM5", {"presence": "omit"})
    assert draft(web).assessment.ratings["EM5"].presence.value == "omit"
    why = at.segmented_control(key=key("EM5", "omit_reason"))
    why.set_value("declined").run()
    assert not at.exception
    stored = draft(web).assessment.ratings["EM5"]
    assert stored.omit_reason is not None
    assert stored.omit_reason.value == "declined"
    at = send_change(at, "EM5", {"evidence": "Declined to discuss feelings."})
    stored = draft(web).assessment.ratings["EM5"]
    assert stored.evidence == "Declined to discuss feelings."
    assert stored.omit_reason is not None  # the control knows no reason: the stored one stays
    at = send_change(at, "EM5", {"presence": "no"})
    assert draft(web).assessment.ratings["EM5"].omit_reason is None  # only with omit
