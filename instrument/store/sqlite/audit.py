"""The audit log in SQLite: append after the recorded head, read, verify (SECURITY.md 15)."""

from __future__ import annotations

import sqlite3
from typing import Any

from instrument.audit import (
    GENESIS,
    AuditEntry,
    AuditEvent,
    Verification,
    chain,
    head_mac,
    verify_chain,
)
from instrument.errors import StoreError
from instrument.store.sqlite.sql import Sql

_COLUMNS = "seq, at, actor_id, role, action, entity, entity_id, version, outcome, prev_mac, mac"


def has_entries(conn: sqlite3.Connection) -> bool:
    """Return whether the database has an audit log with at least one entry."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
    ).fetchone()
    return bool(exists) and conn.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is not None


def ensure_head(sql: Sql, key: bytes) -> None:
    """Record the genesis head for an empty log, inside the caller's write transaction.

    A missing head with entries is tampering, for `verify` to report, never to paper over.
    """
    if (
        sql.one("SELECT 1 FROM audit_head") is None
        and sql.one("SELECT 1 FROM audit_log LIMIT 1") is None
    ):
        sql.execute(
            "INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, 0, ?, ?)",
            (GENESIS, head_mac(key, 0, GENESIS)),
        )


def append(sql: Sql, key: bytes, event: AuditEvent) -> AuditEntry:
    """Append an event after the recorded head and move the head, inside the transaction."""
    head = sql.one("SELECT seq, mac FROM audit_head WHERE id = 1")
    if head is None:
        raise StoreError("the audit head is missing", fix="run `instrument audit verify`")
    entry = chain(key, event, seq=head["seq"] + 1, prev_mac=head["mac"])
    sql.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.seq,
            entry.at,
            entry.actor_id,
            entry.role,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.version,
            entry.outcome,
            entry.prev_mac,
            entry.mac,
        ),
    )
    sql.execute(
        "UPDATE audit_head SET seq = ?, mac = ?, head_mac = ? WHERE id = 1",
        (entry.seq, entry.mac, head_mac(key, entry.seq, entry.mac)),
    )
    return entry


def entries(
    conn: sqlite3.Connection,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """Return audit entries in seq order (or newest first), optionally filtered."""
    where: list[str] = []
    params: list[Any] = []
    if action is not None:
        where.append("action = ?")
        params.append(action)
    if actor_id is not None:
        where.append("actor_id = ?")
        params.append(actor_id)
    sql = f"SELECT {_COLUMNS} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [AuditEntry(**dict(row)) for row in conn.execute(sql, params).fetchall()]


def verify(sql: Sql, key: bytes) -> Verification:
    """Check the whole chain against the recorded head, in the caller's read snapshot."""
    rows = sql.all(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq, rowid")
    head = sql.one("SELECT seq, mac, head_mac FROM audit_head WHERE id = 1")
    recorded = (head["seq"], head["mac"], head["head_mac"]) if head else None
    return verify_chain(key, (AuditEntry(*row) for row in rows), recorded)
