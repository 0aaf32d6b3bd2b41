"""Read assessment and formulation documents from outside, checked against installed instruments."""

from __future__ import annotations

from pathlib import Path

from instrument.assessment import Assessment, check_assessment
from instrument.definitions import Catalogue, catalogue
from instrument.errors import NotFoundError, Problem
from instrument.exchange.documents import read_bytes, read_document
from instrument.formulation import Formulation


def assessment_problems(
    assessment: Assessment, definitions: Catalogue | None = None
) -> list[Problem]:
    """Return the semantic problems of an assessment: its instrument, then its ratings.

    `definitions` are the installed definitions (default: the shipped ones).
    """
    ref = assessment.instrument
    try:
        instrument = (definitions or catalogue()).get(ref.id, ref.version)
    except NotFoundError as error:
        return [Problem("$.instrument.version", error.message, error.fix)]
    return check_assessment(instrument, assessment)


def parse_assessment(data: bytes, definitions: Catalogue | None = None) -> Assessment:
    """Read an assessment document from bytes (limits, parse, schema, model, semantic rules).

    Raises:
        DocumentError: listing every problem with its JSON path.
    """

    def semantic(assessment: Assessment) -> list[Problem]:
        return assessment_problems(assessment, definitions)

    return read_document(data, "assessment", Assessment, semantic=semantic)


def load_assessment(path: Path, definitions: Catalogue | None = None) -> Assessment:
    """Read an assessment document from a file."""
    return parse_assessment(read_bytes(path), definitions)


def parse_formulation(data: bytes) -> Formulation:
    """Read a formulation document from bytes (limits, parse, schema, model)."""
    return read_document(data, "formulation", Formulation)


def load_formulation(path: Path) -> Formulation:
    """Read a formulation document from a file."""
    return parse_formulation(read_bytes(path))
