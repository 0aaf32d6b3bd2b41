"""Worked cases: every formulation in formulations/ regenerates byte for byte.

Each case is `NAME.assessment.json` in, `NAME.formulation.json` out; an optional
`NAME.review.json` holds the assessor's overrides and narratives. When an earlier version of the
same case is among the worked cases, it is the `previous` assessment. `pytest --update-golden`
rewrites the golden files; review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from instrument.assessment import Assessment, finalisation_problems
from instrument.definition import Instrument
from instrument.definitions import catalogue, default_instrument
from instrument.exchange.assessments import load_assessment, parse_formulation
from instrument.exchange.documents import schema_problems
from instrument.formulation import Formulation, Review, formulate, formulation_json
from instrument.formulation.finalising import judgement_problems
from instrument.vocabulary import AssessmentStatus, Pathway

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
GENERATED_AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class WorkedCase:
    """One worked case: its files and what goes into `formulate`."""

    name: str
    assessment: Assessment
    previous: Assessment | None
    review: Review | None

    @property
    def golden(self) -> Path:
        return FORMULATIONS / f"{self.name}.formulation.json"


def case_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".assessment.json") for p in FORMULATIONS.glob("*.assessment.json")
    )


@cache
def worked_cases() -> dict[str, WorkedCase]:
    assessments = {
        name: load_assessment(FORMULATIONS / f"{name}.assessment.json", catalogue())
        for name in case_names()
    }
    cases = {}
    for name, assessment in assessments.items():
        earlier = [
            other
            for other in assessments.values()
            if other.case.reference == assessment.case.reference
            and other.assessment.version < assessment.assessment.version
        ]
        previous = max(earlier, key=lambda a: a.assessment.version) if earlier else None
        review_path = FORMULATIONS / f"{name}.review.json"
        review = (
            Review.model_validate(json.loads(review_path.read_text(encoding="utf-8")))
            if review_path.exists()
            else None
        )
        cases[name] = WorkedCase(name, assessment, previous, review)
    return cases


def formulate_case(instrument: Instrument, case: WorkedCase) -> Formulation:
    return formulate(
        instrument, case.assessment, case.previous, generated_at=GENERATED_AT, review=case.review
    )


def golden_formulations() -> dict[str, Formulation]:
    instrument = default_instrument()
    return {name: formulate_case(instrument, case) for name, case in worked_cases().items()}


@pytest.mark.parametrize("name", case_names())
def test_the_worked_case_regenerates_byte_for_byte(
    instrument: Instrument, name: str, update_golden: bool
) -> None:
    case = worked_cases()[name]
    text = formulation_json(formulate_case(instrument, case))
    if update_golden or not case.golden.exists():
        case.golden.write_text(text, encoding="utf-8")
    assert case.golden.read_text(encoding="utf-8") == text, (
        f"{case.golden.name} differs from what formulate() makes now; if the change is intended, "
        "run `.venv/bin/pytest --update-golden tests/test_golden.py` and review the diff"
    )


@pytest.mark.parametrize("name", case_names())
def test_the_golden_file_is_a_valid_formulation_that_reimports_unchanged(name: str) -> None:
    data = worked_cases()[name].golden.read_bytes()
    assert schema_problems("formulation", json.loads(data)) == []
    assert formulation_json(parse_formulation(data)).encode("utf-8") == data


@pytest.mark.parametrize("name", case_names())
def test_finalised_worked_cases_could_be_finalised(instrument: Instrument, name: str) -> None:
    case = worked_cases()[name]
    if case.assessment.assessment.status is AssessmentStatus.FINAL:
        assert finalisation_problems(instrument, case.assessment) == []
        assert judgement_problems(instrument, case.assessment, case.review) == []


def test_the_worked_cases_cover_every_pathway_and_a_change() -> None:
    cases = worked_cases().values()
    assert len({c.assessment.case.reference for c in cases}) >= 6
    assert {c.assessment.case.pathway for c in cases} == set(Pathway)
    assert any(c.previous is not None for c in cases)
    assert any(c.review is not None and c.review.overrides for c in cases)


def test_no_stray_golden_files() -> None:
    names = set(case_names())
    for path in FORMULATIONS.glob("*.formulation.json"):
        assert path.name.removesuffix(".formulation.json") in names, f"{path.name} has no case"
    for path in FORMULATIONS.glob("*.review.json"):
        assert path.name.removesuffix(".review.json") in names, f"{path.name} has no case"


def test_the_readme_describes_every_case() -> None:
    readme = (FORMULATIONS / "README.md").read_text(encoding="utf-8")
    for name in case_names():
        assert f"`{name}`" in readme, f"formulations/README.md does not describe {name}"


def test_case_references_are_not_names() -> None:
    for case in worked_cases().values():
        assert case.assessment.case.reference.startswith("WC-")
