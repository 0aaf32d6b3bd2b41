"""The case export as a file: one JSON document holding a case with every version and formulation.

Published as `schemas/case.schema.json`. `instrument export` writes it; `instrument import`
reads it back into a team where the reference is new, giving the same case: exporting it again
gives the same document. Final versions carry their stored formulation, whose
`header.assessment_sha256` must be the hash of the assessment beside it, and their signatures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from instrument.assessment import CaseInfo, assessment_hash
from instrument.case import FORMAT, CaseExport, VersionRecord
from instrument.errors import DocumentError, Problem
from instrument.exchange.assessments import Definitions, assessment_problems
from instrument.exchange.documents import parse, read_document, schema_problems
from instrument.vocabulary import AssessmentStatus


def case_problems(export: CaseExport, definitions: Definitions) -> list[Problem]:
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
            for p in assessment_problems(assessment, definitions)
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


def parse_case(data: bytes, definitions: Definitions) -> CaseExport:
    """Read a case export strictly: limits, parse, schema, model, then `case_problems`.

    Raises:
        DocumentError: listing every problem with its JSON path.
    """

    def semantic(export: CaseExport) -> list[Problem]:
        return case_problems(export, definitions)

    return read_document(data, "case", CaseExport, semantic=semantic)


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
