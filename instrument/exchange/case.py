"""The case export: one JSON document holding a case with every version, review and formulation.

Published as `schemas/case.schema.json`. `instrument export` writes it; `instrument import`
reads it back into a team where the reference is new, giving the same case: exporting it again
gives the same document. Final versions carry their stored formulation, whose
`header.assessment_sha256` must be the hash of the assessment beside it, and their signatures.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import Assessment, CaseInfo, assessment_hash
from instrument.errors import DocumentError, Problem
from instrument.exchange.assessments import assessment_problems
from instrument.exchange.documents import parse, read_document, schema_problems
from instrument.formulation import Formulation, Review
from instrument.vocabulary import AssessmentStatus, ShortText

FORMAT = "instrument-case"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignatureRecord(_Frozen):
    """A signature on a final version: its meaning, who signed, and when."""

    meaning: Literal["finalised by", "countersigned by"] = Field(
        description="What the signature means: `finalised by` or `countersigned by`."
    )
    by: ShortText = Field(description="The signer's username.")
    at: dt.datetime = Field(description="When it was signed (UTC, ISO 8601).")


class VersionRecord(_Frozen):
    """One assessment version of the case, with its review and, when final, its formulation."""

    assessment: Assessment = Field(description="The assessment document of this version.")
    review: Review = Field(
        default_factory=Review, description="The assessor's overrides and narratives."
    )
    formulation: Formulation | None = Field(
        default=None, description="The stored formulation (final versions only)."
    )
    signatures: list[SignatureRecord] = Field(
        default_factory=list, description="The signatures (final versions only)."
    )


class CaseExport(_Frozen):
    """A whole case: every assessment version with its review, formulation and signatures."""

    format: Literal["instrument-case"] = Field(description="Always `instrument-case`.")
    case: CaseInfo = Field(description="The case reference and pathway.")
    versions: list[VersionRecord] = Field(
        max_length=1000, description="Every version, oldest first, numbered from 1."
    )


DESCRIPTION = (
    "A case as `instrument export` writes it: the case reference and pathway, and every "
    "assessment version (drafts and finals, oldest first) with the assessor's review; each "
    "final version carries the formulation stored when it was signed and its signatures. "
    "`instrument import` reads it back into a team where the reference is new."
)


def case_problems(export: CaseExport) -> list[Problem]:
    """Return the rules a schema cannot say: numbering, the same case, hashes, instruments."""
    problems: list[Problem] = []
    for index, record in enumerate(export.versions):
        where = f"$.versions[{index}]"
        assessment = record.assessment
        info = assessment.assessment
        if info.version != index + 1:
            problems.append(
                Problem(
                    f"{where}.assessment.assessment.version",
                    f"version {info.version} found where {index + 1} belongs",
                    "number the versions 1, 2, 3, ... oldest first",
                )
            )
        if assessment.case != export.case:
            problems.append(
                Problem(f"{where}.assessment.case", "does not match $.case", "make them equal")
            )
        problems += [
            Problem(f"{where}.assessment" + p.where.removeprefix("$"), p.message, p.fix)
            for p in assessment_problems(assessment)
        ]
        final = info.status is AssessmentStatus.FINAL
        if final and record.formulation is None:
            problems.append(
                Problem(f"{where}.formulation", "a final version needs its formulation", "add it")
            )
        if not final and (record.formulation is not None or record.signatures):
            problems.append(
                Problem(
                    f"{where}.formulation",
                    "a draft has no stored formulation or signatures",
                    "remove them",
                )
            )
        if record.formulation is not None:
            expected = assessment_hash(assessment)
            if record.formulation.header.assessment_sha256 != expected:
                problems.append(
                    Problem(
                        f"{where}.formulation.header.assessment_sha256",
                        "is not the hash of the assessment beside it",
                        "export the case again; the document was changed",
                    )
                )
        if final and not any(s.meaning == "finalised by" for s in record.signatures):
            problems.append(
                Problem(f"{where}.signatures", "a final version needs its signature", "add it")
            )
        replaces = info.replaces
        if replaces is not None and not (
            0 < replaces <= len(export.versions)
            and export.versions[replaces - 1].assessment.assessment.status is AssessmentStatus.FINAL
        ):
            problems.append(
                Problem(
                    f"{where}.assessment.assessment.replaces",
                    "does not name an earlier final version of this case",
                    "correct it",
                )
            )
    return problems


def parse_case(data: bytes) -> CaseExport:
    """Read a case export strictly: limits, parse, schema, model, then `case_problems`.

    Raises:
        DocumentError: listing every problem with its JSON path.
    """
    return read_document(data, "case", CaseExport, semantic=case_problems)


def is_case_document(data: bytes) -> bool:
    """Return whether the bytes hold a case export (`"format": "instrument-case"`)."""
    try:
        document = parse(data)
    except DocumentError:
        return False
    return isinstance(document, dict) and document.get("format") == FORMAT


def case_document(case: CaseInfo, versions: Sequence[VersionRecord]) -> dict[str, Any]:
    """Return the export of a case from its versions, checked against the published schema.

    Raises:
        DocumentError: when the result does not validate (a bug, never user input).
    """
    export = CaseExport(format=FORMAT, case=case, versions=list(versions))
    document = export.model_dump(mode="json", exclude_none=True)
    problems = schema_problems("case", document)
    if problems:
        raise DocumentError(problems)
    return document


def case_json(document: dict[str, Any]) -> str:
    """Return the export as the exact text `instrument export` prints."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
