"""Shared fixtures: small factories named for what they give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from instrument.assessment import Assessment
from instrument.definition import Instrument
from instrument.definitions import default_instrument

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files in formulations/ instead of comparing with them.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def instrument() -> Instrument:
    return default_instrument()


@pytest.fixture
def now() -> dt.datetime:
    return NOW


def assessment_document(**changes: Any) -> dict[str, Any]:
    """Return a valid draft assessment document; top-level `changes` replace the defaults."""
    document: dict[str, Any] = {
        "instrument": {"id": "ifi", "version": "1.0.0"},
        "case": {"reference": "C-0001", "pathway": "engaged"},
        "assessment": {
            "version": 1,
            "status": "draft",
            "assessed_on": "2026-11-01",
            "assessors": [{"name": "A. Assessor", "role": "psychologist"}],
        },
        "ratings": {
            "ID1": {
                "presence": "yes",
                "relevance": "high",
                "evidence": "The participant described wanting to belong somewhere.",
                "sources": ["interview"],
                "timeframe": "current",
            },
            "EM5": {"presence": "omit", "evidence": "Not discussed yet."},
        },
        "responsivity": {"RS1": {"presence": "yes", "note": "Prefers spoken material."}},
        "notes": "Fictional example.",
    }
    document.update(changes)
    return document


def make_assessment(**changes: Any) -> Assessment:
    """Return a valid draft Assessment model; see `assessment_document`."""
    return Assessment.model_validate(assessment_document(**changes))
