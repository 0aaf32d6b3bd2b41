"""Field history: which field of a draft each save changed, from what to what, by whom, when.

Kept in the database beside the drafts (never in the audit log, which holds ids and action codes
only); rows are only ever added: triggers refuse UPDATE and DELETE (migration 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from instrument.store.records import FieldChange, FieldChangeRecord
from instrument.store.sqlite.sql import Sql, iso


class SqliteFieldHistory:
    """The `field_history` table."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def record(
        self,
        assessment_id: int,
        revision: int,
        changes: Sequence[FieldChange],
        *,
        by: int | None,
        now: dt.datetime,
    ) -> None:
        """Store the fields one save changed, as made by revision `revision`."""
        for change in changes:
            self._sql.execute(
                "INSERT INTO field_history (assessment_id, revision, field, before, after,"
                " changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (assessment_id, revision, change.path, change.before, change.after, by, iso(now)),
            )

    def for_version(self, assessment_id: int) -> list[FieldChangeRecord]:
        """Return every recorded change of one version, oldest first."""
        rows = self._sql.all(
            "SELECT h.revision, h.field, h.before, h.after, h.changed_at, u.username"
            " FROM field_history h LEFT JOIN users u ON u.id = h.changed_by"
            " WHERE h.assessment_id = ? ORDER BY h.id",
            (assessment_id,),
        )
        return [
            FieldChangeRecord(
                revision=r["revision"],
                path=r["field"],
                before=r["before"],
                after=r["after"],
                changed_by=r["username"],
                changed_at=dt.datetime.fromisoformat(r["changed_at"]),
            )
            for r in rows
        ]
