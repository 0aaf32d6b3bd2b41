"""The intervention plan in SQLite: plan versions, the delivery log, reviews, and the summary row.

An agreed plan version and a recorded review are frozen by triggers (migration 4); log entries
change per field with a revision and are never deleted. The `plans` row of a case holds what the
case list shows (status, next review date), refreshed in the transaction of every change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from instrument.plan import (
    DeliveredSession,
    Plan,
    PlanSignature,
    PlanState,
    PlanStatus,
    ProgressReview,
)
from instrument.plan.rules import AGREED_BY
from instrument.store.records import DeliveryRecord, PlanRecord
from instrument.store.sqlite.sql import Sql, iso

_VERSION = (
    "SELECT p.*, u.username AS saved_by_name FROM plan_versions p"
    " LEFT JOIN users u ON u.id = p.saved_by"
)
_ENTRY = (
    "SELECT d.*, u.username AS saved_by_name FROM delivered_sessions d"
    " LEFT JOIN users u ON u.id = d.saved_by"
)


def _plan(row: Any, signatures: tuple[PlanSignature, ...] = ()) -> PlanRecord:
    return PlanRecord(
        id=row["id"],
        case_id=row["case_id"],
        version=row["version"],
        status=PlanStatus(row["status"]),
        revision=row["revision"],
        saved_by=row["saved_by_name"],
        saved_at=dt.datetime.fromisoformat(row["saved_at"]),
        document_json=row["document"],
        signatures=signatures,
    )


def _document(plan: Plan) -> str:
    """Return the stored text of a plan version: its signatures live in `plan_signatures`."""
    return plan.model_dump_json(exclude_none=True, exclude={"signatures"})


def _entry(row: Any) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        case_id=row["case_id"],
        number=row["number"],
        revision=row["revision"],
        saved_by=row["saved_by_name"],
        saved_at=dt.datetime.fromisoformat(row["saved_at"]),
        document_json=row["document"],
    )


class SqlitePlans:
    """The plan tables of one transaction: versions, log entries, reviews and the summary."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    # --- versions --------------------------------------------------------------------------

    def _signatures(self, case_id: int) -> dict[int, tuple[PlanSignature, ...]]:
        rows = self._sql.all(
            "SELECT s.plan_version_id, s.signer, s.signed_at FROM plan_signatures s"
            " JOIN plan_versions p ON p.id = s.plan_version_id WHERE p.case_id = ?"
            " ORDER BY s.signed_at, s.id",
            (case_id,),
        )
        found: dict[int, list[PlanSignature]] = {}
        for row in rows:
            found.setdefault(row["plan_version_id"], []).append(
                PlanSignature(
                    meaning=AGREED_BY,
                    by=row["signer"],
                    at=dt.datetime.fromisoformat(row["signed_at"]),
                )
            )
        return {key: tuple(value) for key, value in found.items()}

    def versions(self, case_id: int) -> list[PlanRecord]:
        """Return every plan version of a case with its signatures, oldest first."""
        rows = self._sql.all(_VERSION + " WHERE p.case_id = ? ORDER BY p.version", (case_id,))
        signed = self._signatures(case_id) if rows else {}
        return [_plan(row, signed.get(row["id"], ())) for row in rows]

    def get(self, case_id: int, version: int) -> PlanRecord | None:
        """Return one plan version of a case with its signatures, or None."""
        row = self._sql.one(_VERSION + " WHERE p.case_id = ? AND p.version = ?", (case_id, version))
        if row is None:
            return None
        return _plan(row, self._signatures(case_id).get(row["id"], ()))

    def sign(
        self,
        record_id: int,
        *,
        user_id: int | None,
        signer: str,
        at: dt.datetime,
        imported: bool = False,
    ) -> None:
        """Add an "agreed by" signature to a plan version."""
        self._sql.insert(
            "plan_signatures",
            {
                "plan_version_id": record_id,
                "user_id": user_id,
                "signer": signer,
                "meaning": AGREED_BY,
                "signed_at": iso(at),
                "imported": int(imported),
            },
        )

    def add(self, case_id: int, plan: Plan, *, by: int | None, now: dt.datetime) -> int:
        """Add a plan version (the number the document gives) and return its id."""
        return self._sql.insert(
            "plan_versions",
            {
                "case_id": case_id,
                "version": plan.plan.version,
                "status": plan.plan.status.value,
                "revision": 1,
                "document": _document(plan),
                "replaces": plan.plan.replaces,
                "saved_by": by,
                "saved_at": iso(now),
                "created_at": iso(now),
                "agreed_at": iso(now) if plan.plan.status is PlanStatus.AGREED else None,
            },
        )

    def save(self, record: PlanRecord, plan: Plan, *, by: int | None, now: dt.datetime) -> bool:
        """Store a changed draft as the next revision; False when it changed meanwhile."""
        agreed = plan.plan.status is PlanStatus.AGREED
        cursor = self._sql.execute(
            "UPDATE plan_versions SET document = ?, status = ?, revision = revision + 1,"
            " saved_by = ?, saved_at = ?, agreed_at = ? WHERE id = ? AND revision = ?"
            " AND status = 'draft'",
            (
                _document(plan),
                plan.plan.status.value,
                by,
                iso(now),
                iso(now) if agreed else None,
                record.id,
                record.revision,
            ),
        )
        return cursor.rowcount == 1

    # --- the delivery log --------------------------------------------------------------------

    def entries(self, case_id: int) -> list[DeliveryRecord]:
        """Return the case's delivery log, oldest first."""
        rows = self._sql.all(_ENTRY + " WHERE d.case_id = ? ORDER BY d.number", (case_id,))
        return [_entry(row) for row in rows]

    def entry(self, case_id: int, number: int) -> DeliveryRecord | None:
        """Return one log entry, or None."""
        row = self._sql.one(_ENTRY + " WHERE d.case_id = ? AND d.number = ?", (case_id, number))
        return _entry(row) if row is not None else None

    def next_number(self, case_id: int, table: str) -> int:
        """Return the next number of a log entry (`delivered_sessions`) or a review."""
        assert table in ("delivered_sessions", "progress_reviews")
        row = self._sql.one(
            f"SELECT coalesce(max(number), 0) + 1 FROM {table} WHERE case_id = ?", (case_id,)
        )
        return int(row[0]) if row is not None else 1

    def log(
        self, case_id: int, entry: DeliveredSession, *, by: int | None, now: dt.datetime
    ) -> int:
        """Add a log entry and return its id."""
        return self._sql.insert(
            "delivered_sessions",
            {
                "case_id": case_id,
                "number": entry.number,
                "plan_version": entry.plan_version,
                "date": entry.date.isoformat(),
                "attendance": entry.attendance.value,
                "revision": 1,
                "document": entry.model_dump_json(exclude_none=True),
                "saved_by": by,
                "saved_at": iso(now),
                "created_at": iso(now),
            },
        )

    def save_entry(
        self, record: DeliveryRecord, entry: DeliveredSession, *, by: int | None, now: dt.datetime
    ) -> bool:
        """Store a changed log entry as the next revision; False when it changed meanwhile."""
        cursor = self._sql.execute(
            "UPDATE delivered_sessions SET document = ?, date = ?, attendance = ?,"
            " revision = revision + 1, saved_by = ?, saved_at = ? WHERE id = ? AND revision = ?",
            (
                entry.model_dump_json(exclude_none=True),
                entry.date.isoformat(),
                entry.attendance.value,
                by,
                iso(now),
                record.id,
                record.revision,
            ),
        )
        return cursor.rowcount == 1

    # --- reviews -----------------------------------------------------------------------------

    def reviews(self, case_id: int) -> list[ProgressReview]:
        """Return the case's progress reviews, oldest first."""
        rows = self._sql.all(
            "SELECT document FROM progress_reviews WHERE case_id = ? ORDER BY number", (case_id,)
        )
        return [ProgressReview.model_validate_json(row["document"]) for row in rows]

    def review(
        self, case_id: int, review: ProgressReview, *, by: int | None, now: dt.datetime
    ) -> int:
        """Record a review and return its id."""
        return self._sql.insert(
            "progress_reviews",
            {
                "case_id": case_id,
                "number": review.number,
                "plan_version": review.plan_version,
                "reviewed_on": review.reviewed_on.isoformat(),
                "decision": review.decision.value,
                "document": review.model_dump_json(exclude_none=True),
                "recorded_by": by,
                "created_at": iso(now),
            },
        )

    # --- the summary row ---------------------------------------------------------------------

    def note_state(self, case_id: int, state: PlanState, now: dt.datetime) -> None:
        """Keep the case's summary row (status, versions, next review) equal to `state`."""
        if state.version is None:
            return
        self._sql.execute(
            "INSERT INTO plans (case_id, status, latest_version, agreed_version, next_review_on,"
            " ending, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status,"
            " latest_version = excluded.latest_version,"
            " agreed_version = excluded.agreed_version,"
            " next_review_on = excluded.next_review_on, ending = excluded.ending,"
            " updated_at = excluded.updated_at",
            (
                case_id,
                state.status.value,
                state.version,
                state.agreed_version,
                state.next_review_on.isoformat() if state.next_review_on else None,
                state.ending.value if state.ending else None,
                iso(now),
            ),
        )
