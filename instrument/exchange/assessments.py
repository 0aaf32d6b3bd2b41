"""Read assessment and formulation documents from outside, checked against installed instruments.

The installed definitions are passed in (`Definitions`, in practice `definitions.Catalogue`), so
that reading documents never depends on how definitions are found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from instrument.assessment import Assessment, check_assessment
from instrument.definition import Instrument
from instrument.errors import NotFoundError, Problem
from instrument.exchange.documents import read_bytes, read_document
from instrument.formulation import Formulation


class Definitions(Protocol):
    """The installed definitions an assessment is checked against (`definitions.Catalogue`)."""

    def get(self, instrument_id: str, version: str) -> Instrument:
        """Return an installed definition; raise NotFoundError naming the installed ones."""
        ...


def assessment_problems(assessment: Assessment, definitions: Definitions) -> list[Problem]:
    """Return the semantic problems of an assessment: its instrument, then its ratings."""
    ref = assessment.instrument
    try:
        instrument = definitions.get(ref.id, ref.version)
    except NotFoundError as error:
        return [Problem("$.instrument.version", error.message, error.fix)]
    return check_assessment(instrument, assessment)


def parse_assessment(data: bytes, definitions: Definitions) -> Assessment:
    """Read an assessment document from bytes (limits, parse, schema, model, semantic rules).

    Raises:
        DocumentError: listing every problem with its JSON path.
    """

    def semantic(assessment: Assessment) -> list[Problem]:
        return assessment_problems(assessment, definitions)

    return read_document(data, "assessment", Assessment, semantic=semantic)


def load_assessment(path: Path, definitions: Definitions) -> Assessment:
    """Read an assessment document from a file."""
    return parse_assessment(read_bytes(path), definitions)


def parse_formulation(data: bytes) -> Formulation:
    """Read a formulation document from bytes (limits, parse, schema, model)."""
    return read_document(data, "formulation", Formulation)


def load_formulation(path: Path) -> Formulation:
    """Read a formulation document from a file."""
    return parse_formulation(read_bytes(path))
