"""The case export as a file: one JSON document holding a case with every version and formulation.

Published as `schemas/case.schema.json`. `instrument export` writes it; `instrument import`
reads it back into a team where the reference is new, giving the same case: exporting it again
gives the same document. Final versions carry their stored formulation, whose
`header.assessment_sha256` must be the hash of the assessment beside it, and their signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from instrument.assessment import CaseInfo, assessment_hash
from instrument.case import FORMAT, CaseExport, VersionRecord
from instrument.errors import DocumentError, NotFoundError, Problem
from instrument.exchange.assessments import Definitions, assessment_problems
from instrument.exchange.documents import parse, read_document, schema_problems
from instrument.formulation import formulate
from instrument.formulation.finalising import judgement_problems
from instrument.plan import DeliveredSession, Plan, PlanStatus, ProgressReview, delivery_problems
from instrument.vocabulary import AssessmentStatus


def case_problems(
    export: CaseExport, definitions: Definitions, today: dt.date | None = None
) -> list[Problem]:
    """Return the rules a schema cannot say: numbering, the same case, hashes, instruments.

    With `today`, a session or review dated after it is a problem too: an import cannot
    bring in what the delivery log and the review form refuse (SECURITY.md 23, imports
    cannot forge).
    """
    problems = _version_problems(export, definitions) + plan_record_problems(export)
    return problems + delivery_record_problems(export, definitions, today)


def _numbered(records: Sequence[int], where: str, field: str) -> list[Problem]:
    return [
        Problem(
            f"{where}[{index}].{field}",
            f"{number} found where {index + 1} belongs",
            "number them 1, 2, 3, ... oldest first",
        )
        for index, number in enumerate(records)
        if number != index + 1
    ]


def plan_record_problems(export: CaseExport) -> list[Problem]:
    """Return what is wrong with the plan records: numbering, the case, versions they name."""
    problems = _numbered([p.plan.version for p in export.plans], "$.plans", "plan.version")
    problems += _numbered([d.number for d in export.delivery], "$.delivery", "number")
    problems += _numbered([r.number for r in export.reviews], "$.reviews", "number")
    finals = {
        v.assessment.assessment.version
        for v in export.versions
        if v.assessment.assessment.status is AssessmentStatus.FINAL
    }
    agreed = {p.plan.version for p in export.plans if p.plan.status is PlanStatus.AGREED}
    for index, plan in enumerate(export.plans):
        where = f"$.plans[{index}]"
        if plan.case != export.case:
            problems.append(Problem(f"{where}.case", "does not match $.case", "make them equal"))
        if plan.plan.assessment_version not in finals:
            problems.append(
                Problem(
                    f"{where}.plan.assessment_version",
                    "does not name a final assessment version of this case",
                    "correct it",
                )
            )
        is_agreed = plan.plan.status is PlanStatus.AGREED
        if is_agreed != bool(plan.signatures):
            problems.append(
                Problem(
                    f"{where}.signatures",
                    "an agreed plan has its signatures and a draft has none",
                    "export the case again; the document was changed",
                )
            )
        replaces = plan.plan.replaces
        if replaces is not None and (replaces >= plan.plan.version or replaces not in agreed):
            problems.append(
                Problem(
                    f"{where}.plan.replaces",
                    "does not name an earlier agreed plan version",
                    "correct it",
                )
            )
    named = [("delivery", i, d.plan_version) for i, d in enumerate(export.delivery)]
    named += [("reviews", i, r.plan_version) for i, r in enumerate(export.reviews)]
    for kind, index, plan_version in named:
        if plan_version not in agreed:
            problems.append(
                Problem(
                    f"$.{kind}[{index}].plan_version",
                    "does not name an agreed plan version of this case",
                    "correct it",
                )
            )
    return problems


def delivery_record_problems(
    export: CaseExport, definitions: Definitions, today: dt.date | None = None
) -> list[Problem]:
    """Return what the delivery log's own rules refuse in the export's log and reviews.

    Each entry is checked as `log_session` checks it (catalogue sessions of its plan's
    definition, a reason when the session did not take place, no engagement then) except the
    facilitators, who are users of the installation it came from; with `today`, a session or
    review dated after it is refused.
    """
    problems: list[Problem] = []
    plans = {p.plan.version: p for p in export.plans}
    for index, item in enumerate(export.delivery):
        plan = plans.get(item.plan_version)
        if plan is None:
            continue  # reported by plan_record_problems
        try:
            instrument = definitions.get(plan.instrument.id, plan.instrument.version)
        except NotFoundError:
            continue  # reported by the plan's own checks
        found = delivery_problems(
            instrument, item, roster=set(item.facilitators), today=today or dt.date.max
        )
        problems += [Problem(f"$.delivery[{index}]{p.where[1:]}", p.message, p.fix) for p in found]
    for index, review in enumerate(export.reviews):
        if today is not None and review.reviewed_on > today:
            problems.append(
                Problem(
                    f"$.reviews[{index}].reviewed_on",
                    f"the review is dated {review.reviewed_on.isoformat()}, after today "
                    f"({today.isoformat()})",
                    "a review is recorded on or after the day it takes place",
                )
            )
    return problems


def _version_problems(export: CaseExport, definitions: Definitions) -> list[Problem]:
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
        if final and assessment.judgement is not None:
            problems += _final_judgement_problems(record, definitions, where)
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


def _final_judgement_problems(
    record: VersionRecord, definitions: Definitions, where: str
) -> list[Problem]:
    """Return what in a final version's judgement could never have been finalised.

    The judgement section is finalised only when it is complete (`judgement_problems`), so a
    final version whose judgement is not, such as a summary judgement without its rationale or
    "no intervention indicated" beside a high priority, was forged. A final version without the
    section is left alone: versions of 1.1 were finalised before the section existed.
    """
    ref = record.assessment.instrument
    try:
        instrument = definitions.get(ref.id, ref.version)
    except NotFoundError:
        return []  # reported by the assessment's own checks
    return [
        Problem(
            f"{where}.assessment" + p.where.removeprefix("$"),
            f"a final version cannot have this: {p.message}",
            "a final version holds the judgement as it was signed: export the case again "
            "from where it was finalised",
        )
        for p in judgement_problems(instrument, record.assessment, record.review)
    ]


def _first_difference(mine: Any, theirs: Any, path: str = "") -> str | None:
    """Return the JSON path (below some root) of the first place two JSON values differ."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in list(mine) + [k for k in theirs if k not in mine]:
            if key not in mine or key not in theirs:
                return f"{path}.{key}"
            found = _first_difference(mine[key], theirs[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(mine, list) and isinstance(theirs, list):
        for index, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found is not None:
                return found
        return None if len(mine) == len(theirs) else f"{path}[{min(len(mine), len(theirs))}]"
    return None if mine == theirs else path


def recomputed_problems(export: CaseExport, definitions: Definitions) -> list[Problem]:
    """Recompute every stored formulation from its assessment and review; name any mismatch.

    A formulation is never typed in: it is what `formulate` gives for the assessment (and the
    previous final occasion, and the review). An export whose bands, scores, reasons or 5P
    were rewritten is refused, with the path of the first difference (SECURITY.md 23).
    """
    problems: list[Problem] = []
    versions = export.versions
    for index, record in enumerate(versions):
        stored = record.formulation
        if stored is None:
            continue
        ref = record.assessment.instrument
        try:
            instrument = definitions.get(ref.id, ref.version)
        except NotFoundError:
            continue  # reported by the assessment's own checks
        replaced = {
            r.assessment.assessment.replaces
            for r in versions[: index + 1]
            if r.assessment.assessment.replaces is not None
        }
        previous = next(
            (
                r.assessment
                for r in reversed(versions[:index])
                if r.assessment.assessment.status is AssessmentStatus.FINAL
                and r.assessment.assessment.version not in replaced
            ),
            None,
        )
        again = formulate(
            instrument,
            record.assessment,
            previous,
            generated_at=stored.header.generated_at,
            review=record.review,
        )
        skip = {"header": {"generator"}}
        found = _first_difference(
            again.model_dump(mode="json", exclude=skip),
            stored.model_dump(mode="json", exclude=skip),
        )
        if found is not None:
            problems.append(
                Problem(
                    f"$.versions[{index}].formulation{found}",
                    "does not match the formulation recomputed from the assessment beside it",
                    "a formulation is never edited: export the case again from where it was made",
                )
            )
    return problems


def _checked_case(
    export: CaseExport, definitions: Definitions, today: dt.date | None
) -> list[Problem]:
    problems = case_problems(export, definitions, today)
    return problems or recomputed_problems(export, definitions)


EXPORT_KEY_LABEL = b"instrument case export signature, version 1"


def _signing_key(installation_key: bytes) -> bytes:
    return hmac.new(installation_key, EXPORT_KEY_LABEL, hashlib.sha256).digest()


def installation_id(installation_key: bytes) -> str:
    """Return the id of the installation's export key (16 hex digits; never the key)."""
    return hashlib.sha256(_signing_key(installation_key)).hexdigest()[:16]


def _signature_value(document: dict[str, Any], installation_key: bytes) -> str:
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(_signing_key(installation_key), canonical.encode(), hashlib.sha256).hexdigest()


def export_document(export: CaseExport) -> dict[str, Any]:
    """Return a case export as the JSON document it is written as (and signed over).

    Empty plan, delivery and review lists are left out, so an export of a case without a plan is
    exactly as it was before plans existed.
    """
    document = export.model_dump(mode="json", exclude_none=True)
    for key in ("plans", "delivery", "reviews"):
        if not document[key]:
            del document[key]
    return document


def sign_export(document: dict[str, Any], installation_key: bytes) -> dict[str, Any]:
    """Return the export with the installation's signature over everything else in it."""
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return {
        **unsigned,
        "signature": {
            "algorithm": "HMAC-SHA256",
            "installation": installation_id(installation_key),
            "value": _signature_value(unsigned, installation_key),
        },
    }


def export_origin(export: CaseExport, installation_key: bytes) -> str:
    """Return `here` (signed by this installation, verified), `elsewhere` or `unsigned`.

    Raises:
        DocumentError: when this installation's signature does not match: the document was
            changed after it was exported.
    """
    signature = export.signature
    if signature is None:
        return "unsigned"
    if signature.installation != installation_id(installation_key):
        return "elsewhere"
    document = export_document(export)
    if not hmac.compare_digest(signature.value, _signature_value(document, installation_key)):
        raise DocumentError(
            [
                Problem(
                    "$.signature.value",
                    "does not match the document: it was changed after it was exported here",
                    "export the case again",
                )
            ]
        )
    return "here"


def parse_case(data: bytes, definitions: Definitions, today: dt.date | None = None) -> CaseExport:
    """Read a case export strictly: limits, parse, schema, model, then `case_problems`.

    `today` (the caller's clock) refuses sessions and reviews dated after it.

    Raises:
        DocumentError: listing every problem with its JSON path.
    """

    def semantic(export: CaseExport) -> list[Problem]:
        return _checked_case(export, definitions, today)

    return read_document(data, "case", CaseExport, semantic=semantic)


def is_case_document(data: bytes) -> bool:
    """Return whether the bytes hold a case export (`"format": "instrument-case"`)."""
    try:
        document = parse(data)
    except DocumentError:
        return False
    return isinstance(document, dict) and document.get("format") == FORMAT


def case_document(
    case: CaseInfo,
    versions: Sequence[VersionRecord],
    *,
    plans: Sequence[Plan] = (),
    delivery: Sequence[DeliveredSession] = (),
    reviews: Sequence[ProgressReview] = (),
) -> dict[str, Any]:
    """Return the export of a case from its versions, checked against the published schema.

    The plan records are left out when there are none, so that a case without a plan exports
    exactly as it did before plans existed.

    Raises:
        DocumentError: when the result does not validate (a bug, never user input).
    """
    export = CaseExport(
        format=FORMAT,
        case=case,
        versions=list(versions),
        plans=list(plans),
        delivery=list(delivery),
        reviews=list(reviews),
    )
    document = export_document(export)
    problems = schema_problems("case", document)
    if problems:
        raise DocumentError(problems)
    return document


def case_json(document: dict[str, Any]) -> str:
    """Return the export as the exact text `instrument export` prints."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
