"""Read assessment and formulation documents from outside, checked against installed instruments."""

from __future__ import annotations

from pathlib import Path

from instrument.assessment import Assessment, check_assessment
from instrument.definitions import SHIPPED, get_instrument
from instrument.errors import NotFoundError, Problem
from instrument.exchange.documents import read_bytes, read_document
from instrument.formulation import Formulation


def assessment_problems(assessment: Assessment, folder: Path = SHIPPED) -> list[Problem]:
    """Return the semantic problems of an assessment: its instrument, then its ratings."""
    ref = assessment.instrument
    try:
        instrument = get_instrument(ref.id, ref.version, folder)
    except NotFoundError as error:
        return [Problem("$.instrument.version", error.message, error.fix)]
    return check_assessment(instrument, assessment)


def parse_assessment(data: bytes) -> Assessment:
    """Read an assessment document from bytes (limits, parse, schema, model, semantic rules).

    Raises:
        DocumentError: listing every problem with its JSON path.
    """
    return read_document(data, "assessment", Assessment, semantic=assessment_problems)


def load_assessment(path: Path) -> Assessment:
    """Read an assessment document from a file."""
    return parse_assessment(read_bytes(path))


def parse_formulation(data: bytes) -> Formulation:
    """Read a formulation document from bytes (limits, parse, schema, model)."""
    return read_document(data, "formulation", Formulation)


def load_formulation(path: Path) -> Formulation:
    """Read a formulation document from a file."""
    return parse_formulation(read_bytes(path))
