"""Validation of an assessment against its instrument, and what blocks finalising."""

from __future__ import annotations

import json
from typing import Any

import pytest

from instrument.assessment import assessment_hash, check_assessment, finalisation_problems
from instrument.definition import Instrument
from instrument.errors import DocumentError
from instrument.exchange.assessments import parse_assessment
from tests.conftest import assessment_document, make_assessment


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        parse_assessment(json.dumps(document).encode())
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
    assert parse_assessment(json.dumps(assessment_document()).encode()).case.reference == "C-0001"


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
