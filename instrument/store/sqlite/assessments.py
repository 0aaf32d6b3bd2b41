"""Assessment versions, their stored formulations and signatures in SQLite.

A final version is frozen by triggers (migration 1); every change of a version refreshes its
case's list columns in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from instrument.access import Role
from instrument.assessment import Assessment, assessment_hash
from instrument.formulation import Formulation, Review, formulation_json
from instrument.plan import no_intervention_indicated
from instrument.store.records import (
    NO_AREA_OFFERED,
    AssessmentRecord,
    StoredSignature,
    VersionSummary,
)
from instrument.store.sqlite.cases import SqliteCases
from instrument.store.sqlite.sql import Sql, iso, parse_date, parse_time
from instrument.vocabulary import AssessmentStatus

_VERSION = (
    "SELECT a.*, u.username AS saved_by_name FROM assessments a"
    " LEFT JOIN users u ON u.id = a.saved_by"
)


def _record(row: Any) -> AssessmentRecord:
    return AssessmentRecord(
        id=row["id"],
        case_id=row["case_id"],
        version=row["version"],
        status=AssessmentStatus(row["status"]),
        revision=row["revision"],
        sha256=row["sha256"],
        replaces=row["replaces"],
        saved_by=row["saved_by_name"],
        saved_at=dt.datetime.fromisoformat(row["saved_at"]),
        document_json=row["document"],
        review_json=row["review"],
    )


def _document(assessment: Assessment) -> str:
    return json.dumps(assessment.to_document(), ensure_ascii=False)


def _first_assessor(assessment: Assessment) -> str | None:
    assessors = assessment.assessment.assessors
    return assessors[0].name if assessors else None


class SqliteAssessments:
    """The assessments table: append-only versions, drafts change, finals are frozen."""

    def __init__(self, sql: Sql, cases: SqliteCases) -> None:
        self._sql = sql
        self._cases = cases

    def get(self, case_id: int, version: int) -> AssessmentRecord | None:
        """Return one version of a case, or None."""
        row = self._sql.one(_VERSION + " WHERE a.case_id = ? AND a.version = ?", (case_id, version))
        return _record(row) if row is not None else None

    def all(self, case_id: int) -> list[AssessmentRecord]:
        """Return every version of a case, oldest first."""
        rows = self._sql.all(_VERSION + " WHERE a.case_id = ? ORDER BY a.version", (case_id,))
        return [_record(row) for row in rows]

    def versions(self, case_id: int) -> list[VersionSummary]:
        """Return the history of a case (no documents), oldest first."""
        rows = self._sql.all(
            "SELECT a.id, a.version, a.status, a.revision, a.assessed_on, a.replaces,"
            " a.saved_at, u.username FROM assessments a LEFT JOIN users u ON u.id = a.saved_by"
            " WHERE a.case_id = ? ORDER BY a.version",
            (case_id,),
        )
        return [
            VersionSummary(
                id=r["id"],
                version=r["version"],
                status=AssessmentStatus(r["status"]),
                revision=r["revision"],
                assessed_on=parse_date(r["assessed_on"]),
                replaces=r["replaces"],
                saved_by=r["username"],
                saved_at=dt.datetime.fromisoformat(r["saved_at"]),
            )
            for r in rows
        ]

    def open_draft(self, case_id: int) -> int | None:
        """Return the version number of the case's open draft, or None."""
        rows = self._sql.where(
            "assessments", "case_id = ? AND status = 'draft'", [case_id], select="version"
        )
        return int(rows[0]["version"]) if rows else None

    def is_final(self, case_id: int, version: int) -> bool:
        """Return whether this version of the case exists and is final."""
        return bool(
            self._sql.where(
                "assessments",
                "case_id = ? AND version = ? AND status = 'final'",
                [case_id, version],
                select="id",
            )
        )

    def amended_by(self, case_id: int, version: int) -> int | None:
        """Return the version that replaces this one, or None."""
        rows = self._sql.where(
            "assessments", "case_id = ? AND replaces = ?", [case_id, version], select="version"
        )
        return int(rows[0]["version"]) if rows else None

    def replaced(self, case_id: int, upto: int) -> set[int]:
        """Return the versions replaced by an amendment numbered `upto` or lower."""
        rows = self._sql.where(
            "assessments",
            "case_id = ? AND version <= ? AND replaces IS NOT NULL",
            [case_id, upto],
            select="replaces",
        )
        return {int(r["replaces"]) for r in rows}

    def finals_before(self, case_id: int, version: int) -> list[AssessmentRecord]:
        """Return the final versions before `version`, newest first."""
        rows = self._sql.all(
            _VERSION + " WHERE a.case_id = ? AND a.status = 'final' AND a.version < ?"
            " ORDER BY a.version DESC",
            (case_id, version),
        )
        return [_record(row) for row in rows]

    def add(
        self,
        case_id: int,
        assessment: Assessment,
        review: Review,
        *,
        status: AssessmentStatus,
        by: int | None,
        saved_at: dt.datetime,
        now: dt.datetime,
    ) -> int:
        """Add a version (numbered as its document says) and return its id."""
        info = assessment.assessment
        final = status is AssessmentStatus.FINAL
        assessment_id = self._sql.insert(
            "assessments",
            {
                "case_id": case_id,
                "version": info.version,
                "status": status.value,
                "revision": 1,
                "document": _document(assessment),
                "review": review.model_dump_json(exclude_none=True),
                "sha256": assessment_hash(assessment) if final else None,
                "replaces": info.replaces,
                "assessed_on": info.assessed_on.isoformat() if info.assessed_on else None,
                "assessor": _first_assessor(assessment),
                "saved_by": by,
                "saved_at": iso(saved_at),
                "created_by": by,
                "created_at": iso(now),
                "finalised_at": iso(saved_at) if final else None,
            },
        )
        self._cases.note_version(case_id, info.version, final=final)
        self._cases.refresh_summary(case_id)
        return assessment_id

    def save_draft(
        self,
        record: AssessmentRecord,
        assessment: Assessment,
        review: Review,
        *,
        by: int | None,
        now: dt.datetime,
    ) -> bool:
        """Store a draft's next revision; False when it changed meanwhile or is final."""
        info = assessment.assessment
        updated = self._sql.execute(
            "UPDATE assessments SET document = ?, review = ?, revision = revision + 1,"
            " assessed_on = ?, assessor = ?, saved_by = ?, saved_at = ?"
            " WHERE id = ? AND revision = ? AND status = 'draft'",
            (
                _document(assessment),
                review.model_dump_json(exclude_none=True),
                info.assessed_on.isoformat() if info.assessed_on else None,
                _first_assessor(assessment),
                by,
                iso(now),
                record.id,
                record.revision,
            ),
        )
        if updated.rowcount != 1:
            return False
        self._cases.refresh_summary(record.case_id)
        return True

    def finalise(
        self,
        record: AssessmentRecord,
        final: Assessment,
        sha256: str,
        *,
        by: int | None,
        now: dt.datetime,
    ) -> None:
        """Freeze a draft as final with the hash of its document."""
        self._sql.execute(
            "UPDATE assessments SET status = 'final', document = ?, sha256 = ?,"
            " revision = revision + 1, saved_by = ?, saved_at = ?, finalised_at = ?"
            " WHERE id = ? AND status = 'draft'",
            (_document(final), sha256, by, iso(now), iso(now), record.id),
        )
        self._cases.note_final(record.case_id, record.version)
        self._cases.refresh_summary(record.case_id)


class SqliteFormulations:
    """The formulations table: one frozen formulation per final version."""

    def __init__(self, sql: Sql, cases: SqliteCases) -> None:
        self._sql = sql
        self._cases = cases

    def get(self, assessment_id: int) -> Formulation | None:
        """Return the stored formulation of a version, or None."""
        rows = self._sql.where(
            "formulations", "assessment_id = ?", [assessment_id], select="document"
        )
        return Formulation.model_validate_json(rows[0]["document"]) if rows else None

    def add(
        self,
        case_id: int,
        assessment_id: int,
        formulation: Formulation,
        sha256: str,
        now: dt.datetime,
    ) -> None:
        """Store the formulation of a final version (and refresh its case's list columns)."""
        # The first offered area; never a tie-order winner when nothing is offered.
        offered = [p.area for p in formulation.priorities if p.offered]
        top = offered[0] if offered else NO_AREA_OFFERED
        self._sql.insert(
            "formulations",
            {
                "assessment_id": assessment_id,
                "document": formulation_json(formulation),
                "assessment_sha256": sha256,
                "top_priority": top,
                "no_intervention": int(no_intervention_indicated(formulation)),
                "created_at": iso(now),
            },
        )
        self._cases.refresh_summary(case_id)


class SqliteSignatures:
    """The signatures table."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def add(
        self,
        assessment_id: int,
        *,
        user_id: int | None,
        signer: str,
        meaning: str,
        at: dt.datetime,
        sha256: str,
        imported: bool = False,
        imported_by: str | None = None,
        imported_at: dt.datetime | None = None,
    ) -> None:
        """Record a signature (an imported one with who imported it, and when)."""
        row: dict[str, Any] = {
            "assessment_id": assessment_id,
            "user_id": user_id,
            "signer": signer,
            "meaning": meaning,
            "signed_at": iso(at),
            "assessment_sha256": sha256,
        }
        if imported:
            row["imported"] = 1
            row["imported_by"] = imported_by
            row["imported_at"] = iso(imported_at) if imported_at else None
        self._sql.insert("signatures", row)

    def has(self, assessment_id: int, meaning: str, user_id: int | None) -> bool:
        """Return whether this user already signed the version with this meaning."""
        return bool(
            self._sql.where(
                "signatures",
                "assessment_id = ? AND meaning = ? AND user_id = ?",
                [assessment_id, meaning, user_id],
                select="id",
            )
        )

    def for_case(self, case_id: int) -> list[StoredSignature]:
        """Return every signature on the versions of a case, in the order they were made."""
        rows = self._sql.all(
            "SELECT s.*, u.role AS signer_role FROM signatures s"
            " JOIN assessments a ON a.id = s.assessment_id"
            " LEFT JOIN users u ON u.id = s.user_id"
            " WHERE a.case_id = ? ORDER BY s.id",
            (case_id,),
        )
        return [
            StoredSignature(
                assessment_id=r["assessment_id"],
                user_id=r["user_id"],
                signer=r["signer"],
                meaning=r["meaning"],
                signed_at=dt.datetime.fromisoformat(r["signed_at"]),
                imported=bool(r["imported"]),
                imported_by=r["imported_by"],
                imported_at=parse_time(r["imported_at"]),
                role=Role(r["signer_role"]) if r["signer_role"] else None,
            )
            for r in rows
        ]
