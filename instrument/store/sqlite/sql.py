"""The statements of one SQLite transaction: run, insert, look up; and how times are stored.

Every statement that writes goes through `execute` or `insert`, which first call the store's
fault hook (tests raise there at every step of a use case and check that nothing of it remains).
Inserts and single-table lookups use sqlite-utils (`Table.insert`, `Table.rows_where`); they run
inside the transaction the store opened with `BEGIN IMMEDIATE` (sqlite-utils' own `atomic()`
becomes a savepoint there: STACK-NOTES.md).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils

Params = Sequence[Any] | dict[str, Any]


def iso(at: dt.datetime) -> str:
    """Return how a time is stored: UTC, ISO 8601 with microseconds."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_time(value: str | None) -> dt.datetime | None:
    """Return a stored time, or None for NULL."""
    return dt.datetime.fromisoformat(value) if value else None


def parse_date(value: str | None) -> dt.date | None:
    """Return a stored date, or None for NULL."""
    return dt.date.fromisoformat(value) if value else None


class Sql:
    """The statements of one open transaction on one connection."""

    def __init__(
        self, conn: sqlite3.Connection, db: sqlite_utils.Database, step: Callable[[], None]
    ) -> None:
        self.conn = conn
        self.db = db
        self._step = step

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one writing statement."""
        self._step()
        return self.conn.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row with sqlite-utils and return its rowid."""
        self._step()
        rowid = self.db.table(table).insert(row).last_rowid
        assert rowid is not None
        return int(rowid)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Return the first row of a query."""
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Return every row of a query."""
        return list(self.conn.execute(sql, params).fetchall())

    def where(self, table: str, where: str, params: Params, **options: Any) -> list[dict[str, Any]]:
        """Return the rows of one table that match (sqlite-utils' `rows_where`)."""
        return list(self.db.table(table).rows_where(where, params, **options))
