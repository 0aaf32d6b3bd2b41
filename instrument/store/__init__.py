"""The case store: one SQLite file reached through sqlite-utils, its migrations, and the write path.

Everything that touches the database goes through here:

* `connect` is the one connection factory: every connection sets the pragmas of SECURITY.md 1
  and is opened with `check_same_thread=False` and `isolation_level=None` (we own transactions);
* `Store.write()` is the one write path: a process-wide lock, then `BEGIN IMMEDIATE`, the change
  and its audit entry, `COMMIT` (or `ROLLBACK` on any error), so a change is never stored without
  its audit entry nor an entry without its change (`db.atomic()` would begin DEFERRED and fail
  under concurrency: STACK-NOTES.md);
* numbered migrations, recorded in `schema_migrations`, are applied at open;
* triggers refuse `UPDATE`/`DELETE` on finalised assessment versions, on formulations,
  signatures and the audit log;
* the audit key lives in a file outside the database (`<database file>.key`, or the path the
  entry point passes from `INSTRUMENT_AUDIT_KEY`), created with mode 0600 on first use and never
  printed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from instrument.audit import (
    GENESIS,
    AuditEntry,
    AuditEvent,
    Verification,
    chain,
    head_mac,
    timestamp,
    verify_chain,
)
from instrument.errors import StoreError

PRAGMAS: dict[str, str | int] = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: NORMAL can lose the last commits on power loss
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "secure_delete": 1,
    "trusted_schema": 0,
}

# One process-wide lock around every write transaction: threads of one process queue here
# instead of spinning on SQLite's busy handler; other processes are held off by BEGIN IMMEDIATE.
_WRITE_LOCK = threading.Lock()

Params = Sequence[Any] | dict[str, Any]


def default_key_path(db_path: Path) -> Path:
    """Return the audit key path beside the database: `<db file>.key`."""
    return db_path.with_name(db_path.name + ".key")


def utc_now() -> dt.datetime:
    """Return the current time in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


def connect(path: Path) -> sqlite3.Connection:
    """Open a connection with every pragma of SECURITY.md 1: the only `sqlite3.connect` call.

    Raises:
        StoreError: when the file cannot be opened as a database.
    """
    try:
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=5.0
        )
        conn.row_factory = sqlite3.Row
        for name, value in PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {value}")
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"cannot open the database {path}: {error}",
            where=str(path),
            fix="check the path, or restore the file from a backup",
        ) from None
    return conn


def read_pragmas(conn: sqlite3.Connection) -> dict[str, str | int]:
    """Return the current value of each pragma the factory sets (for tests and `doctor`)."""
    return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}


def load_key(path: Path, *, create: bool) -> bytes:
    """Return the audit key, creating the file (mode 0600) when allowed and missing.

    Raises:
        StoreError: when the key is missing and may not be created, or readable by others.
    """
    if not path.exists():
        if not create:
            raise StoreError(
                f"the audit key file {path} is missing, but the audit log has entries",
                where=str(path),
                fix="restore the key file, or point INSTRUMENT_AUDIT_KEY at it",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)  # atomic: a concurrent first run keeps the first key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StoreError(
            f"the audit key file {path} is readable by others",
            where=str(path),
            fix=f"chmod 600 {path}",
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise StoreError(
            f"the audit key file {path} is not a key", where=str(path), fix="restore it"
        )
    return key


# --- migrations --------------------------------------------------------------------------------

_FROZEN_TRIGGERS = [
    """CREATE TRIGGER assessments_final_no_update BEFORE UPDATE ON assessments
       WHEN OLD.status = 'final'
       BEGIN SELECT RAISE(ABORT, 'a finalised assessment version is frozen'); END""",
    """CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments
       BEGIN SELECT RAISE(ABORT, 'assessment versions are never deleted'); END""",
    """CREATE TRIGGER assessments_version_fixed BEFORE UPDATE OF case_id, version ON assessments
       WHEN NEW.case_id IS NOT OLD.case_id OR NEW.version IS NOT OLD.version
       BEGIN SELECT RAISE(ABORT, 'an assessment version keeps its case and number'); END""",
    """CREATE TRIGGER formulations_no_update BEFORE UPDATE ON formulations
       BEGIN SELECT RAISE(ABORT, 'a stored formulation is frozen'); END""",
    """CREATE TRIGGER formulations_no_delete BEFORE DELETE ON formulations
       BEGIN SELECT RAISE(ABORT, 'a stored formulation is frozen'); END""",
    """CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
       BEGIN SELECT RAISE(ABORT, 'a signature is frozen'); END""",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]

_MIGRATION_1 = [
    """CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at TEXT NOT NULL)""",
    "INSERT INTO teams (name, created_at) VALUES ('default', :now)",
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'psychologist', 'supervisor', 'viewer')),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        failed_count INTEGER NOT NULL DEFAULT 0,
        lockouts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        confirmed_at TEXT,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT)""",
    """CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        team_id INTEGER NOT NULL REFERENCES teams(id),
        reference TEXT NOT NULL,
        pathway TEXT NOT NULL CHECK (pathway IN ('prevention', 'engaged', 'convicted')),
        latest_version INTEGER NOT NULL DEFAULT 0,
        latest_final INTEGER,
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        UNIQUE (team_id, reference))""",
    """CREATE TABLE assessments (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        status TEXT NOT NULL CHECK (status IN ('draft', 'final')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        document TEXT NOT NULL,
        review TEXT NOT NULL,
        sha256 TEXT,
        replaces INTEGER,
        assessed_on TEXT,
        assessor TEXT,
        saved_by INTEGER REFERENCES users(id),
        saved_at TEXT NOT NULL,
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        finalised_at TEXT,
        UNIQUE (case_id, version),
        CHECK (status = 'draft' OR sha256 IS NOT NULL))""",
    """CREATE TABLE formulations (
        id INTEGER PRIMARY KEY,
        assessment_id INTEGER NOT NULL UNIQUE REFERENCES assessments(id),
        document TEXT NOT NULL,
        assessment_sha256 TEXT NOT NULL,
        top_priority TEXT,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE signatures (
        id INTEGER PRIMARY KEY,
        assessment_id INTEGER NOT NULL REFERENCES assessments(id),
        user_id INTEGER REFERENCES users(id),
        signer TEXT NOT NULL,
        meaning TEXT NOT NULL CHECK (meaning IN ('finalised by', 'countersigned by')),
        signed_at TEXT NOT NULL,
        assessment_sha256 TEXT NOT NULL,
        imported INTEGER NOT NULL DEFAULT 0,
        UNIQUE (assessment_id, meaning, signer))""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER,
        role TEXT,
        action TEXT NOT NULL,
        entity TEXT,
        entity_id INTEGER,
        version INTEGER,
        outcome TEXT NOT NULL,
        prev_mac TEXT NOT NULL,
        mac TEXT NOT NULL)""",
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        mac TEXT NOT NULL,
        head_mac TEXT NOT NULL)""",
    *_FROZEN_TRIGGERS,
]

_MIGRATION_2 = [
    "CREATE INDEX cases_by_team ON cases (team_id, reference)",
    "CREATE INDEX assessments_by_case ON assessments (case_id, version)",
    "CREATE INDEX signatures_by_assessment ON signatures (assessment_id)",
    "CREATE INDEX sessions_by_user ON sessions (user_id)",
    "CREATE INDEX audit_by_action ON audit_log (action)",
    "CREATE INDEX audit_by_actor ON audit_log (actor_id)",
]

# The case list shows a few columns of each case's latest version and latest final formulation.
# Read through joins they cost three index searches per case and a walk past each version's
# large JSON document; kept on the case row (refreshed in the same transaction as every change
# of a version, see `SUMMARY_REFRESH`), the list is one scan of the cases of a team.
_MIGRATION_3 = [
    "ALTER TABLE cases ADD COLUMN latest_status TEXT",
    "ALTER TABLE cases ADD COLUMN latest_assessed_on TEXT",
    "ALTER TABLE cases ADD COLUMN latest_assessor TEXT",
    "ALTER TABLE cases ADD COLUMN top_priority TEXT",
    "UPDATE cases SET latest_status = NULL",  # placeholder, replaced below by the refresh
]

SUMMARY_REFRESH = """UPDATE cases SET
    latest_status = (SELECT a.status FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    latest_assessed_on = (SELECT a.assessed_on FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    latest_assessor = (SELECT a.assessor FROM assessments a
        WHERE a.case_id = cases.id AND a.version = cases.latest_version),
    top_priority = (SELECT f.top_priority FROM formulations f
        JOIN assessments a ON a.id = f.assessment_id
        WHERE a.case_id = cases.id AND a.version = cases.latest_final)"""
_MIGRATION_3[-1] = SUMMARY_REFRESH

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "tables, default team and the triggers that freeze finals and the audit log", _MIGRATION_1),
    (
        2,
        "indexes for the case list, versions, signatures, sessions and audit queries",
        _MIGRATION_2,
    ),
    (3, "summary columns on cases for the case list", _MIGRATION_3),
]


def migrate(conn: sqlite3.Connection, now: dt.datetime, *, upto: int | None = None) -> list[int]:
    """Apply the pending numbered migrations (each in its own BEGIN IMMEDIATE); return them."""
    applied: list[int] = []
    with _WRITE_LOCK:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for number, name, statements in MIGRATIONS:
            if upto is not None and number > upto:
                break
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE number = ?", (number,)
                ).fetchone()
                if done is None:
                    for statement in statements:
                        params = {"now": timestamp(now)} if ":now" in statement else ()
                        conn.execute(statement, params)
                    conn.execute(
                        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                        (number, name, timestamp(now)),
                    )
                    applied.append(number)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    return applied


# --- the store ---------------------------------------------------------------------------------


class Tx:
    """An open write transaction: run statements, insert rows, append audit entries.

    Every statement goes through `execute`, which first calls the store's fault hook (tests use
    it to raise at every step of a use case and check that nothing of it remains).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.db = store.db

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement inside the transaction."""
        self._store.step()
        return self._store.conn.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row and return its id."""
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        cursor = self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)
        rowid = cursor.lastrowid
        assert rowid is not None
        return rowid

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Return the first row of a query run inside the transaction."""
        row: sqlite3.Row | None = self._store.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Return every row of a query run inside the transaction."""
        return list(self._store.conn.execute(sql, params).fetchall())

    def audit(self, event: AuditEvent) -> AuditEntry:
        """Append the event to the chain, in this transaction."""
        return self._store.append_audit(self, event)


@dataclass(frozen=True)
class BackupReport:
    """What a verified backup holds: its path and the row count of each table."""

    path: Path
    counts: dict[str, int]


COUNTED_TABLES = (
    "teams",
    "users",
    "cases",
    "assessments",
    "formulations",
    "signatures",
    "audit_log",
)


class Store:
    """One open database: a connection from the factory, its audit key, and the write path."""

    def __init__(self, conn: sqlite3.Connection, key: bytes, path: Path) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.path = path
        self._key = key
        self._lock = threading.RLock()
        self.unsafe: str | None = None
        self.fault: Callable[[], None] | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        key_path: Path | None = None,
        now: dt.datetime | None = None,
        upto: int | None = None,
        check: bool = True,
    ) -> Store:
        """Open (creating when missing) the database, apply migrations and run `quick_check`.

        Args:
            path: the database file.
            key_path: the audit key file (default `<path>.key`).
            now: the time recorded for migrations (default now).
            upto: apply migrations up to this number only (tests of upgrades).
            check: run `PRAGMA quick_check`; on failure writes are refused and `unsafe` says why.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        try:
            has_entries = _has_audit_entries(conn)
            key = load_key(key_path or default_key_path(path), create=not has_entries)
            if check:
                result = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            else:
                result = ["ok"]
            store = cls(conn, key, path)
            if result != ["ok"]:
                store.unsafe = "; ".join(str(r) for r in result[:5])
                return store
            migrate(conn, now or utc_now(), upto=upto)
            store._ensure_head()
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()

    def step(self) -> None:
        """Call the fault hook before a statement of a write (a no-op outside fault tests)."""
        if self.fault is not None:
            self.fault()

    def _ensure_head(self) -> None:
        with self._lock, _WRITE_LOCK:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                # A head is made for an empty log only: a missing head with entries is tampering,
                # for `verify_audit` to report, never to paper over.
                if (
                    self.conn.execute("SELECT 1 FROM audit_head").fetchone() is None
                    and self.conn.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is None
                ):
                    self.conn.execute(
                        "INSERT INTO audit_head (id, seq, mac, head_mac) VALUES (1, 0, ?, ?)",
                        (GENESIS, head_mac(self._key, 0, GENESIS)),
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """Run a write transaction: process-wide lock, BEGIN IMMEDIATE, COMMIT or ROLLBACK.

        Raises:
            StoreError: when the database failed its integrity check, or stays locked.
        """
        if self.unsafe is not None:
            raise StoreError(
                f"the database failed its integrity check ({self.unsafe}); writes are refused",
                where=str(self.path),
                fix="restore the database from a backup (`instrument backup` makes one)",
            )
        with self._lock, _WRITE_LOCK:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError(
                    f"the database is busy: {error}", fix="try again in a moment"
                ) from None
            try:
                yield Tx(self)
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Run reads in one snapshot (a deferred transaction that never writes)."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                yield Tx(self)
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def append_audit(self, tx: Tx, event: AuditEvent) -> AuditEntry:
        """Append an event after the recorded head and move the head, inside `tx`."""
        head = tx.one("SELECT seq, mac FROM audit_head WHERE id = 1")
        if head is None:
            raise StoreError("the audit head is missing", fix="run `instrument audit verify`")
        entry = chain(self._key, event, seq=head["seq"] + 1, prev_mac=head["mac"])
        tx.execute(
            "INSERT INTO audit_log (seq, at, actor_id, role, action, entity, entity_id, version,"
            " outcome, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        tx.execute(
            "UPDATE audit_head SET seq = ?, mac = ?, head_mac = ? WHERE id = 1",
            (entry.seq, entry.mac, head_mac(self._key, entry.seq, entry.mac)),
        )
        return entry

    def audit_only(self, event: AuditEvent) -> None:
        """Record an event that changes nothing else (a read, a refusal), in its own write."""
        with self.write() as tx:
            tx.audit(event)

    def audit_entries(
        self,
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
        sql = "SELECT * FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [AuditEntry(**dict(row)) for row in rows]

    def verify_audit(self) -> Verification:
        """Check the whole audit chain against the recorded head (SECURITY.md 15)."""
        with self.read() as tx:
            rows = tx.all(
                "SELECT seq, at, actor_id, role, action, entity, entity_id, version, outcome,"
                " prev_mac, mac FROM audit_log ORDER BY seq, rowid"
            )
            head = tx.one("SELECT seq, mac, head_mac FROM audit_head WHERE id = 1")
        entries = (AuditEntry(*row) for row in rows)
        recorded = (head["seq"], head["mac"], head["head_mac"]) if head else None
        return verify_chain(self._key, entries, recorded)

    def backup(self, out: Path) -> BackupReport:
        """Copy the database with SQLite's backup API, then verify the copy.

        Raises:
            StoreError: when the target exists, or the copy fails its checks.
        """
        if out.exists():
            raise StoreError(
                f"{out} already exists", where=str(out), fix="name a new file for the backup"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        target = connect(out)
        try:
            with self.read():  # one snapshot: the copy and the counts it must match
                expected = self._counts(self.conn)
                self.conn.backup(target)
            integrity = [row[0] for row in target.execute("PRAGMA integrity_check").fetchall()]
            counts = self._counts(target)
        finally:
            target.close()
        if integrity != ["ok"] or counts != expected:
            out.unlink(missing_ok=True)
            raise StoreError(
                f"the backup failed its check ({'; '.join(integrity[:3])})",
                where=str(out),
                fix="check the disk and try again",
            )
        return BackupReport(out, counts)

    @staticmethod
    def _counts(conn: sqlite3.Connection) -> dict[str, int]:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in COUNTED_TABLES
        }


def _has_audit_entries(conn: sqlite3.Connection) -> bool:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
    ).fetchone()
    return bool(exists) and conn.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is not None


def session_key(session_id: str) -> str:
    """Return what the sessions table stores for a session id: its SHA-256, never the id."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    """Return a new session id: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)
