"""The export formats: one registry (`FORMATS`) of how documents leave and come back.

Today one format, `json`: the published documents as they are (`schemas/*.schema.json`). The
CLI's `export --format` choices, the web app's download buttons and the service's import sniffing
all read this registry, so a format added here (FHIR, CSV, REDCap) appears in all three.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from instrument.errors import DocumentError
from instrument.exchange.case import case_json, is_case_document
from instrument.exchange.documents import schema_problems
from instrument.formulation import Formulation, formulation_json

Reads = Literal["case", "assessment"]


@dataclass(frozen=True)
class ExportFormat:
    """One way documents leave the system and come back into it."""

    name: str
    label: str
    media_type: str
    case_suffix: str
    formulation_suffix: str
    description: str
    write_case: Callable[[dict[str, Any]], bytes]
    write_formulation: Callable[[Formulation], bytes]
    reads: Callable[[bytes], Reads | None]
    """What an incoming document of this format holds, or None when it is not this format."""


def _json_case(document: dict[str, Any]) -> bytes:
    return case_json(document).encode("utf-8")


def _json_formulation(formulation: Formulation) -> bytes:
    """Return the formulation JSON, checked against the published schema before it leaves.

    Raises:
        DocumentError: when the document does not match the published schema (a bug).
    """
    text = formulation_json(formulation)
    problems = schema_problems("formulation", json.loads(text))
    if problems:
        raise DocumentError(problems, source="formulation export")
    return text.encode("utf-8")


def _json_reads(data: bytes) -> Reads | None:
    # Anything not a case export is read as an assessment document, whose strict reading then
    # names every problem: the one format takes every document.
    return "case" if is_case_document(data) else "assessment"


FORMATS: Mapping[str, ExportFormat] = MappingProxyType(
    {
        "json": ExportFormat(
            name="json",
            label="JSON",
            media_type="application/json",
            case_suffix=".case.json",
            formulation_suffix=".formulation.json",
            description="the published documents (schemas/*.schema.json)",
            write_case=_json_case,
            write_formulation=_json_formulation,
            reads=_json_reads,
        )
    }
)
DEFAULT_FORMAT = "json"


def export_format(name: str) -> ExportFormat:
    """Return a registered format by name.

    Raises:
        DocumentError: naming the registered formats, when `name` is not one.
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise DocumentError.at(
            "--format", f"unknown format {name!r}", f"use one of {', '.join(FORMATS)}"
        ) from None


def sniff(data: bytes) -> tuple[ExportFormat, Reads]:
    """Return the format of an incoming document and what it holds (case or assessment).

    Raises:
        DocumentError: when no registered format reads it.
    """
    for candidate in FORMATS.values():
        reads = candidate.reads(data)
        if reads is not None:
            return candidate, reads
    raise DocumentError.at(
        "$", "not a document of a known format", f"give one of: {', '.join(FORMATS)}"
    )
