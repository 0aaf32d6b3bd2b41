"""Validation of an assessment against its instrument, and what blocks finalising."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instrument.assessment import (
    Rating,
    ResponsivityNote,
    assessment_hash,
    check_assessment,
    finalisation_problems,
    merge_note,
    merge_rating,
    merge_values,
)
from instrument.definition import Instrument
from instrument.definitions import catalogue
from instrument.errors import DocumentError
from instrument.exchange.assessments import parse_assessment
from tests.conftest import assessment_document, make_assessment


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        parse_assessment(json.dumps(document).encode(), catalogue())
    return [str(p) for p in caught.value.problems()]


def _complete(instrument: Instrument) -> dict[str, Any]:
    ratings = {
        item.id: {
            "presence": "partial",
            "relevance": "low",
            "evidence": "Fictional evidence.",
            "sources": ["interview"],
            "timeframe": "current",
        }
        for item in instrument.items
    }
    return assessment_document(ratings=ratings)


def test_the_example_document_is_valid() -> None:
    data = json.dumps(assessment_document()).encode()
    assert parse_assessment(data, catalogue()).case.reference == "C-0001"


def test_omit_may_carry_evidence_saying_why(instrument: Instrument) -> None:
    assessment = make_assessment()
    assert assessment.ratings["EM5"].evidence == "Not discussed yet."
    assert check_assessment(instrument, assessment) == []


def test_unknown_item_id() -> None:
    document = assessment_document(ratings={"XX9": {"presence": "no"}})
    assert _problems(document) == ["$.ratings.XX9: unknown item id 'XX9'"]


def test_responsivity_id_under_ratings_is_an_unknown_item() -> None:
    document = assessment_document(ratings={"RS1": {"presence": "no"}})
    assert _problems(document) == ["$.ratings.RS1: unknown item id 'RS1'"]


def test_unknown_responsivity_id() -> None:
    document = assessment_document(responsivity={"RS99": {"presence": "no"}})
    assert _problems(document) == ["$.responsivity.RS99: unknown responsivity id 'RS99'"]


@pytest.mark.parametrize("presence", ["no", "omit"])
def test_relevance_without_presence(presence: str) -> None:
    document = assessment_document(ratings={"ID1": {"presence": presence, "relevance": "high"}})
    assert _problems(document) == [
        f"$.ratings.ID1.relevance: must be absent when presence is '{presence}'"
    ]


@pytest.mark.parametrize("presence", ["partial", "yes"])
def test_relevance_missing_when_present(presence: str) -> None:
    document = assessment_document(ratings={"GA2": {"presence": presence}})
    assert _problems(document) == [
        f"$.ratings.GA2.relevance: required when presence is '{presence}'"
    ]


def test_bad_pathway() -> None:
    document = assessment_document(case={"reference": "C-1", "pathway": "unknown"})
    (problem,) = _problems(document)
    assert problem.startswith("$.case.pathway: 'unknown' is not one of")


def test_instrument_version_not_installed() -> None:
    document = assessment_document(instrument={"id": "ifi", "version": "9.0.0"})
    assert _problems(document) == [
        "$.instrument.version: instrument ifi 9.0.0 is not installed "
        "(installed: ifi 1.0.0, ifi 1.1.0)"
    ]


def test_number_as_text_is_refused_not_coerced() -> None:
    document = assessment_document()
    document["assessment"] = {**document["assessment"], "version": "3"}
    assert _problems(document) == ["$.assessment.version: \"3\" is not of type 'integer'"]


def test_every_problem_is_reported_at_once() -> None:
    document = assessment_document(
        ratings={"ID1": {"presence": "yes"}, "ID2": {"presence": "no", "relevance": "low"}}
    )
    assert len(_problems(document)) == 2


def test_finalisation_lists_every_problem(instrument: Instrument) -> None:
    document = _complete(instrument)
    document["ratings"]["ID1"]["evidence"] = "   "
    document["ratings"]["BE1"]["sources"] = []
    del document["ratings"]["PF8"]
    document["assessment"] = {"version": 1, "status": "draft"}
    problems = [str(p) for p in finalisation_problems(instrument, make_assessment(**document))]
    assert problems == [
        "$.assessment.assessors: at least one assessor is needed",
        "$.assessment.assessed_on: the assessment date is missing",
        "$.ratings.ID1.evidence: evidence is required when presence is 'partial'",
        "$.ratings.BE1.sources: at least one source is required when the factor is present",
        f"$.ratings.PF8: PF8 ({instrument.item_by_id['PF8'].name}) is not rated",
    ]


def test_a_complete_assessment_may_be_finalised(instrument: Instrument) -> None:
    assert finalisation_problems(instrument, make_assessment(**_complete(instrument))) == []


def test_omit_needs_no_evidence_to_finalise(instrument: Instrument) -> None:
    document = _complete(instrument)
    document["ratings"]["EM5"] = {"presence": "omit"}
    assert finalisation_problems(instrument, make_assessment(**document)) == []


def test_hash_is_stable_and_sensitive() -> None:
    first = make_assessment()
    assert assessment_hash(first) == assessment_hash(make_assessment())
    assert assessment_hash(first) != assessment_hash(make_assessment(notes="Changed."))


# --- merging two edits of one rating (two tabs) -------------------------------------------------


def _r(**fields: Any) -> Rating:
    return Rating.model_validate({"presence": "yes", "relevance": "high", **fields})


def test_merge_keeps_each_sides_own_fields() -> None:
    base = _r(evidence="first", timeframe="current")
    mine = _r(evidence="first", timeframe="historical")  # I changed the timeframe
    theirs = _r(evidence="second", timeframe="current")  # they changed the evidence
    outcome = merge_rating(base, mine, theirs)
    assert outcome.conflicts == ()
    assert outcome.merged is not None
    assert outcome.merged["evidence"] == "second"  # theirs is not undone by my stale copy
    assert outcome.merged["timeframe"] == "historical"


def test_merge_asks_only_for_the_field_both_changed() -> None:
    base = _r(evidence="first")
    outcome = merge_rating(base, _r(evidence="mine", relevance="low"), _r(evidence="theirs"))
    assert outcome.conflicts == ("evidence",)
    assert outcome.merged is not None
    assert outcome.merged["evidence"] == "theirs"  # stored value kept until the person chooses
    assert outcome.merged["relevance"] == "low"


def test_merge_same_change_on_both_sides_is_no_conflict() -> None:
    assert merge_rating(_r(), _r(evidence="same"), _r(evidence="same")).conflicts == ()


def test_merge_sources_as_sets() -> None:
    base = _r(sources=["interview", "file-review"])
    mine = _r(sources=["interview", "collateral"])  # removed file-review, added collateral
    theirs = _r(sources=["interview", "file-review", "observation"])  # added observation
    outcome = merge_rating(base, mine, theirs)
    assert outcome.conflicts == ()
    assert outcome.merged is not None
    assert outcome.merged["sources"] == ["interview", "observation", "collateral"]


def test_merge_relevance_follows_presence() -> None:
    base = _r(relevance="high")
    mine = _r(relevance="low")  # I lowered the relevance
    theirs = Rating(presence="no")  # they rated it absent: relevance must go
    outcome = merge_rating(base, mine, theirs)
    assert outcome.conflicts == ("relevance",)


def test_merge_onto_an_unrated_item() -> None:
    outcome = merge_rating(None, Rating(presence="omit"), None)
    assert outcome.conflicts == ()
    assert outcome.merged is not None
    assert outcome.merged["presence"] == "omit"
    assert merge_rating(None, Rating(presence="no"), Rating(presence="omit")).conflicts == (
        "presence",
    )
    # I cleared the item while they changed its evidence: both fields wait for a choice.
    removed = merge_rating(_r(evidence="x"), None, _r(evidence="y"))
    assert removed.conflicts == ("presence", "evidence")
    assert merge_rating(_r(), None, _r()).merged is None  # cleared, nothing else changed


def test_merge_notes_field_by_field() -> None:
    base = ResponsivityNote(presence="yes", note="a")
    mine = ResponsivityNote(presence="yes", note="a", adaptation="shorter sessions")
    theirs = ResponsivityNote(presence="yes", note="b")
    outcome = merge_note(base, mine, theirs)
    assert outcome.conflicts == ()
    assert outcome.merged == {"presence": "yes", "note": "b", "adaptation": "shorter sessions"}


_VALUE = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
_LIST = st.lists(st.sampled_from(["interview", "file-review", "collateral"]), unique=True)


@given(
    base=st.fixed_dictionaries({"x": _VALUE, "y": _VALUE, "s": _LIST}),
    mine=st.fixed_dictionaries({"x": _VALUE, "y": _VALUE, "s": _LIST}),
    theirs=st.fixed_dictionaries({"x": _VALUE, "y": _VALUE, "s": _LIST}),
)
def test_a_merge_never_overwrites_silently(
    base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    """Property: each field is theirs, mine (when only I changed it), or a reported conflict."""
    outcome = merge_values(base, mine, theirs)
    assert outcome.merged is not None
    for field in ("x", "y"):
        b, m, t = base[field], mine[field], theirs[field]
        if field in outcome.conflicts:
            assert b != m != t != b  # both changed it, differently
            assert outcome.merged[field] == t  # the stored value is kept meanwhile
        elif m != b:
            assert outcome.merged[field] == m  # my change, which they did not make otherwise
            assert t in (b, m)
        else:
            assert outcome.merged[field] == t
    merged = set(outcome.merged["s"])
    for source in {*base["s"], *mine["s"], *theirs["s"]}:
        mine_changed = (source in mine["s"]) != (source in base["s"])
        expected = (source in mine["s"]) if mine_changed else (source in theirs["s"])
        assert (source in merged) is expected
