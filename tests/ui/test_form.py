"""The assessment form's and formulation page's rules, without a browser."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from instrument.definition import Instrument
from instrument.errors import Problem
from instrument.ui import form
from instrument.vocabulary import Presence
from tests.conftest import make_assessment


def test_progress_counts_rated_and_omitted_items_of_each_domain(instrument: Instrument) -> None:
    rows = form.progress(instrument, make_assessment())
    assert [r.domain for r in rows] == [d.id for d in instrument.domains]
    by_domain = {r.domain: r for r in rows}
    assert by_domain["identity"].rated == 1  # ID1
    assert (by_domain["emotion"].rated, by_domain["emotion"].omitted) == (0, 1)  # EM5 omitted
    assert by_domain["beliefs"].rated == 0
    assert sum(r.total for r in rows) == len(instrument.items)
    total = by_domain["identity"].total
    assert by_domain["identity"].label == f"1 rated · 0 omitted · {total} items"
    assert by_domain["emotion"].label.startswith("0 rated · 1 omitted · ")
    assert not by_domain["identity"].complete
    done = form.DomainProgress("x", "X", rated=7, total=8, omitted=1)
    assert done.complete
    assert done.label == "7 rated · 1 omitted · 8 items"


def test_responsivity_progress(instrument: Instrument) -> None:
    row = form.responsivity_progress(instrument, make_assessment())
    assert row.name == "Responsivity"
    assert row.total == len(instrument.responsivity)


def test_item_change_checks_what_the_browser_sent() -> None:
    values = {"presence": "yes", "relevance": "high", "sources": ["interview"], "evidence": "x"}
    change = form.item_change({"seq": 3, "values": values, "base": {"presence": None}})
    assert change.seq == 3
    assert change.rating is not None
    assert change.rating.relevance == "high"
    assert change.base is None
    assert not change.waiting
    assert form.item_change({"seq": 1, "values": {"presence": "yes"}, "base": {}}).waiting
    for bad in (
        None,
        {"seq": 0, "values": values, "base": {}},
        {"seq": True, "values": values, "base": {}},
        {"seq": 1, "values": {**values, "presence": "maybe"}, "base": {}},
        {"seq": 1, "values": {**values, "sources": "interview"}, "base": {}},
        {"seq": 1, "values": {**values, "sources": ["letters"]}, "base": {}},
        {"seq": 1, "values": {**values, "evidence": 5}, "base": {}},
        {"seq": 1, "values": {**values, "evidence": "x" * 20_001}, "base": {}},
        {"seq": 1, "values": values, "base": "nothing"},
    ):
        with pytest.raises(ValueError):
            form.item_change(bad)


def test_control_data_carries_values_as_data(
    instrument: Instrument,
) -> None:
    data = form.control_data(instrument, "ID1", None, storage="C-1/1/ID1")
    assert data["values"] == form.rating_values(None)
    assert data["storage"] == "C-1/1/ID1"
    json.dumps(data)  # plain JSON for the browser


@pytest.mark.parametrize(
    ("presence", "applies"),
    [(None, False), ("no", False), ("omit", False), ("partial", True), ("yes", True)],
)
def test_relevance_applies_only_to_partial_and_yes(presence: str | None, applies: bool) -> None:
    assert form.relevance_applies(presence) is applies


def test_rating_from_fields_needs_presence() -> None:
    assert form.rating_from_fields(None, "high", "typed", ["interview"], "current") is None


def test_rating_from_fields_drops_relevance_that_does_not_apply_and_keeps_evidence() -> None:
    rating = form.rating_from_fields("no", "high", "  seen in files  ", ["file-review"], None)
    assert rating is not None
    assert rating.presence is Presence.NO
    assert rating.relevance is None
    assert rating.evidence == "seen in files"
    assert [s.value for s in rating.sources] == ["file-review"]


def test_rating_from_fields_blank_evidence_is_absent() -> None:
    rating = form.rating_from_fields("yes", "moderate", "   ", [], "current")
    assert rating is not None
    assert rating.evidence is None
    assert rating.relevance is not None
    assert rating.relevance.value == "moderate"


def test_note_from_fields() -> None:
    assert form.note_from_fields(None, "x", "y") is None
    note = form.note_from_fields("yes", " reads slowly ", "")
    assert note is not None
    assert note.note == "reads slowly"
    assert note.adaptation is None


def test_assessors_from_rows_skips_empty_names() -> None:
    people = form.assessors_from_rows(
        [("A. Assessor", "psychologist"), ("  ", "other"), (None, None)]
    )
    assert [(p.name, p.role.value) for p in people] == [("A. Assessor", "psychologist")]


@pytest.mark.parametrize(
    ("where", "section", "anchor", "target"),
    [
        ("$.ratings.ID1", "Identity", "item-id1", "ID1"),
        ("$.ratings.GA6.evidence", "Group affiliation", "item-ga6", "GA6 evidence"),
        ("$.responsivity.RS2", form.RESPONSIVITY_SECTION, form.RESPONSIVITY_ANCHOR, "RS2"),
        ("$.assessment.assessed_on", "Details", form.DETAILS_ANCHOR, "Assessment assessed on"),
        ("$.assessment.assessors", "Details", form.DETAILS_ANCHOR, "Assessment assessors"),
    ],
)
def test_problem_links_point_at_the_tab_and_field(
    instrument: Instrument, where: str, section: str, anchor: str, target: str
) -> None:
    link = form.problem_link(instrument, Problem(where, "message", "fix"))
    assert (link.section, link.anchor, link.target) == (section, anchor, target)
    assert (link.message, link.fix) == ("message", "fix")


def test_every_unrated_item_of_an_empty_assessment_links_to_its_item(
    instrument: Instrument,
) -> None:
    from instrument.assessment import finalisation_problems

    problems = finalisation_problems(instrument, make_assessment(ratings={}))
    links = [form.problem_link(instrument, p) for p in problems]
    assert {form.item_anchor(i.id) for i in instrument.items} <= {k.anchor for k in links}
    assert {k.section for k in links} <= set(form.section_labels(instrument))
    assert form.DETAILS_ANCHOR not in {k.anchor for k in links}  # it has a date and an assessor


def test_the_sections_are_details_each_domain_responsivity_judgement_and_finalise(
    instrument: Instrument,
) -> None:
    labels = form.section_labels(instrument)
    assert labels[0] == "Details"
    assert labels[1:-3] == [d.name for d in instrument.domains]
    assert labels[-3:] == ["Responsivity", "Judgement", "Finalise"]
    assert len(set(labels)) == len(labels)


def test_saved_label_uses_the_given_zone() -> None:
    at = dt.datetime(2026, 11, 23, 10, 31, 2, tzinfo=dt.UTC)
    assert form.saved_label(at) == "Saved 10:31:02 UTC"  # UTC, and the zone written out
    assert form.clock(at.replace(tzinfo=None), dt.timezone(dt.timedelta(hours=1))) == (
        "11:31:02 UTC+01:00"
    )
    assert form.timestamp(at) == "2026-11-23 10:31 UTC"


def test_rationale_needs_twenty_characters() -> None:
    assert form.rationale_problem("too short") is not None
    assert "20" in (form.rationale_problem("") or "")
    assert form.rationale_problem("x" * 20) is None
    assert form.rationale_problem("   " + "x" * 19 + "   ") is not None


def test_percent() -> None:
    assert form.percent(0.746) == "75%"
    assert form.percent(1.0) == "100%"


def test_rating_summary_holds_the_choices_only() -> None:
    rating = form.rating_from_fields(
        "yes", "high", "typed text", ["interview", "collateral"], "current"
    )
    assert form.rating_summary(rating) == "yes · high relevance · interview, collateral · current"
    no = form.rating_from_fields("no", None, None, [], None)
    assert form.rating_summary(no) == "no · no source recorded"
    assert form.rating_summary(None) == form.NOT_RATED


@pytest.mark.parametrize(
    ("where", "section", "target"),
    [
        ("$.judgement.five_p.presenting_problem", "Judgement", "5P"),
        ("$.judgement.scenarios", "Judgement", "Scenarios"),
        ("$.judgement.scenarios[0].what", "Judgement", "Scenarios"),
        ("$.judgement.person_specific.PS1.evidence", "Judgement", "Person-specific factors"),
        ("$.judgement.summary.urgency.rationale", "Judgement", "Summary judgements"),
        ("$.judgement.bias_check.confirmed", "Finalise", "Bias check"),
    ],
)
def test_a_judgement_problem_leads_to_its_tab(
    instrument: Instrument, where: str, section: str, target: str
) -> None:
    link = form.problem_link(instrument, Problem(where, "message", "fix"))
    assert (link.section, link.target) == (section, target)


def test_sentences_end_each_suggestion_with_one_full_stop() -> None:
    assert form.sentences(["Use short sessions.", "Offer breaks", " "]) == (
        "Use short sessions. Offer breaks."
    )
    assert ".;" not in form.sentences(["A.", "B."])
