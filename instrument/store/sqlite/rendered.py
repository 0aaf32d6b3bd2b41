"""The rendered documents table: the reports and charts of final formulations, kept.

A final formulation never changes, so what is drawn from it (the HTML and PDF report, the
profile chart) is kept here, keyed by a hash of the formulation as it was shown (full or
redacted) and of the renderer. Nothing reaches a kept document without the formulation itself,
which only the service's access checks hand out; it is case data, kept in the database like the
formulation, never in a process-wide cache (SECURITY.md 13).
"""

from __future__ import annotations

import datetime as dt

from instrument.store.sqlite.sql import Sql, iso


class SqliteRenderedDocuments:
    """The rendered_documents table."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def get(self, key: str, kind: str) -> bytes | None:
        """Return the kept document of this key and kind, or None."""
        row = self._sql.one(
            "SELECT content FROM rendered_documents WHERE key = ? AND kind = ?", (key, kind)
        )
        return bytes(row["content"]) if row is not None else None

    def add(self, key: str, kind: str, content: bytes, now: dt.datetime) -> None:
        """Keep a document (a second keeping of the same key and kind changes nothing)."""
        self._sql.execute(
            "INSERT OR IGNORE INTO rendered_documents (key, kind, content, created_at)"
            " VALUES (?, ?, ?, ?)",
            (key, kind, content, iso(now)),
        )
