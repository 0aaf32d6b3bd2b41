"""Cases and the case list in SQLite.

The case list shows a few columns of each case's latest version and latest final formulation.
They are kept on the case row (migration 3), refreshed by `refresh_summary` in the same
transaction as every change of a version, so the list is one scan of a team's cases in
reference order (the `(team_id, reference)` index), paged with LIMIT/OFFSET.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from instrument.store.records import (
    NO_AREA_OFFERED,
    NO_INTERVENTION,
    CasePage,
    CaseQuery,
    CaseRecord,
    CaseSummary,
)
from instrument.store.sqlite.migrations import SUMMARY_REFRESH_8
from instrument.store.sqlite.sql import Sql, iso
from instrument.vocabulary import AssessmentStatus, Pathway

_CASE = "SELECT c.*, t.name AS team FROM cases c JOIN teams t ON t.id = c.team_id"
LIST_SQL = (
    "SELECT c.reference, c.pathway, t.name, c.latest_status, c.latest_version,"
    " c.latest_assessed_on, c.latest_assessor, c.top_priority, p.status, p.next_review_on,"
    " c.no_intervention"
    " FROM cases c JOIN teams t ON t.id = c.team_id LEFT JOIN plans p ON p.case_id = c.id"
)
_COUNT_SQL = (
    "SELECT count(*) FROM cases c JOIN teams t ON t.id = c.team_id"
    " LEFT JOIN plans p ON p.case_id = c.id"
)
_date = dt.date.fromisoformat
_PATHWAYS = {p.value: p for p in Pathway}
_STATUSES = {s.value: s for s in AssessmentStatus}


def _case(row: Any) -> CaseRecord:
    return CaseRecord(
        id=row["id"],
        team_id=row["team_id"],
        team=row["team"],
        reference=row["reference"],
        pathway=Pathway(row["pathway"]),
        latest_version=row["latest_version"],
        latest_final=row["latest_final"],
    )


def _like(text: str) -> str:
    """Return `%text%` for LIKE, with the wildcards of `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(query: CaseQuery) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.team is not None:
        where.append("t.name = ?")
        params.append(query.team)
    if query.text:
        where.append("c.reference LIKE ? ESCAPE '\\'")
        params.append(_like(query.text))
    if query.pathway is not None:
        where.append("c.pathway = ?")
        params.append(query.pathway.value)
    if query.status is not None:
        where.append("c.latest_status = ?")
        params.append(query.status.value)
    if query.assessor:
        where.append("c.latest_assessor LIKE ? ESCAPE '\\'")
        params.append(_like(query.assessor))
    if query.review_due and query.today is not None:
        # An agreed plan whose next review date has passed: "review due".
        where.append("p.status = 'agreed' AND p.next_review_on < ?")
        params.append(query.today.isoformat())
    return (" WHERE " + " AND ".join(where) if where else ""), params


class SqliteCases:
    """The cases table and the case list."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def find(self, reference: str, team: str | None) -> list[CaseRecord]:
        """Return the cases with this reference, in one team or in all."""
        if team is None:
            rows = self._sql.all(_CASE + " WHERE c.reference = ?", (reference,))
        else:
            rows = self._sql.all(_CASE + " WHERE c.reference = ? AND t.name = ?", (reference, team))
        return [_case(row) for row in rows]

    def get(self, case_id: int) -> CaseRecord | None:
        """Return a case by id, or None."""
        row = self._sql.one(_CASE + " WHERE c.id = ?", (case_id,))
        return _case(row) if row is not None else None

    def in_team(
        self, team_id: int, reference: str, *, fold_case: bool = False
    ) -> CaseRecord | None:
        """Return the case with this reference in a team (any case with `fold_case`), or None.

        References are unique without regard to case (SECURITY.md 32): `C-1` and `c-1` would
        be told apart by nobody reading a list.
        """
        collate = " COLLATE NOCASE" if fold_case else ""
        row = self._sql.one(
            _CASE + f" WHERE c.team_id = ? AND c.reference = ?{collate}", (team_id, reference)
        )
        return _case(row) if row is not None else None

    def add(
        self,
        team_id: int,
        reference: str,
        pathway: Pathway,
        created_by: int | None,
        now: dt.datetime,
    ) -> int:
        """Add a case with no assessment and return its id."""
        return self._sql.insert(
            "cases",
            {
                "team_id": team_id,
                "reference": reference,
                "pathway": pathway.value,
                "created_by": created_by,
                "created_at": iso(now),
            },
        )

    def note_version(self, case_id: int, version: int, *, final: bool) -> None:
        """Raise the case's latest version (and latest final) counters to `version`."""
        self._sql.execute(
            "UPDATE cases SET latest_version = max(latest_version, ?),"
            " latest_final = CASE WHEN ? THEN max(coalesce(latest_final, 0), ?)"
            " ELSE latest_final END WHERE id = ?",
            (version, final, version, case_id),
        )

    def note_final(self, case_id: int, version: int) -> None:
        """Raise the case's latest final counter to `version`."""
        self._sql.execute(
            "UPDATE cases SET latest_final = max(coalesce(latest_final, 0), ?) WHERE id = ?",
            (version, case_id),
        )

    def refresh_summary(self, case_id: int) -> None:
        """Refresh the case row's list columns, in the transaction that changed a version."""
        self._sql.execute(SUMMARY_REFRESH_8 + " WHERE id = ?", (case_id,))

    def search(self, query: CaseQuery, *, limit: int | None = None, offset: int = 0) -> CasePage:
        """Return one page of the matching cases (reference order) and how many match in all."""
        where, params = _where(query)
        # One team's cases come in reference order from the (team_id, reference) index.
        order = " ORDER BY c.reference" if query.team else " ORDER BY t.name, c.reference"
        sql = LIST_SQL + where + order
        page_params = list(params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            page_params += [int(limit), max(0, int(offset))]
        rows = self._sql.all(sql, page_params)
        if limit is None and not offset:
            total = len(rows)
        else:
            counted = self._sql.one(_COUNT_SQL + where, params)
            total = int(counted[0]) if counted is not None else 0
        today = query.today.isoformat() if query.today is not None else None
        return CasePage(tuple(_summary(r, query.names, today) for r in rows), total)


def _summary(r: Any, names: bool, today: str | None) -> CaseSummary:
    # Positional: the whole list of a large team builds one of these per case. Review due: an
    # agreed plan whose next review date (ISO text, so it compares as a date) has passed.
    return CaseSummary(
        r[0],
        _PATHWAYS[r[1]],
        r[2],
        _STATUSES[r[3]] if r[3] else None,
        r[4] or None,
        _date(r[5]) if r[5] else None,
        r[6] if names else None,
        None if r[7] == NO_AREA_OFFERED else r[7],
        r[7] == NO_AREA_OFFERED,
        # No plan, and the latest final formulation says no intervention is indicated.
        r[8] or (NO_INTERVENTION if r[10] else None),
        _date(r[9]) if r[9] else None,
        r[8] == "agreed" and today is not None and r[9] is not None and r[9] < today,
    )
