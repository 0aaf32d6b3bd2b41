"""The SQLite store: one database file, its audit key, and the one write path.

* connections come from `connection.connect`, the one factory (SECURITY.md 1);
* `SqliteStore.write()` is the one write path: a process-wide lock, then `BEGIN IMMEDIATE`, the
  change and its audit entry, `COMMIT` (or `ROLLBACK` on any error), so a change is never stored
  without its audit entry nor an entry without its change (`db.atomic()` would begin DEFERRED
  and fail under concurrency: STACK-NOTES.md);
* numbered migrations (`migrations.py`) are applied at open, after `PRAGMA quick_check`.

`PRAGMA quick_check` reads the whole file (about 0.4 s for a 500 MB database of 10,000 cases
here), and the web app opens the store once per browser session, so one check per page load
would dominate the first paint. It runs when a process first opens a database file, and again
whenever the file changed since (another process checkpointed into it, a restore replaced it):
the verdict is remembered per file (device, inode, size, modification time), never per user,
and only a passing one; this process's own commits and closes (which checkpoint the WAL into
the file) carry the verdict over to the file they leave.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from instrument.audit import AuditEntry, AuditEvent, Verification
from instrument.errors import StoreError
from instrument.store.files import default_key_path, load_key
from instrument.store.records import BackupReport
from instrument.store.sqlite import audit, connection
from instrument.store.sqlite.assessments import (
    SqliteAssessments,
    SqliteFormulations,
    SqliteSignatures,
)
from instrument.store.sqlite.cases import SqliteCases
from instrument.store.sqlite.connection import WRITE_LOCK
from instrument.store.sqlite.history import SqliteFieldHistory
from instrument.store.sqlite.migrations import migrate
from instrument.store.sqlite.people import SqliteSessions, SqliteTeams, SqliteUsers
from instrument.store.sqlite.rendered import SqliteRenderedDocuments
from instrument.store.sqlite.sql import Params, Sql

# The files this process checked and found sound: path → (device, inode, size, mtime_ns).
_CHECKED: dict[Path, tuple[int, int, int, int]] = {}
_CHECKED_LOCK = threading.Lock()


def _file_signature(path: Path) -> tuple[int, int, int, int]:
    status = path.stat()
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """Return what `PRAGMA quick_check` reports: `["ok"]` for a sound database."""
    return [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]


def _carry_over(path: Path) -> None:
    """Keep a passing verdict for the file as this process's own write or close left it."""
    key = path.resolve()
    with _CHECKED_LOCK:
        if key in _CHECKED and path.exists():
            _CHECKED[key] = _file_signature(path)


def _checked(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Return the quick check's verdict, running it unless this file passed it unchanged."""
    key = path.resolve()
    signature = _file_signature(path)
    with _CHECKED_LOCK:
        if _CHECKED.get(key) == signature:
            return ["ok"]
    result = quick_check(conn)
    with _CHECKED_LOCK:
        if result == ["ok"]:
            _CHECKED[key] = signature
        else:
            _CHECKED.pop(key, None)
    return result


COUNTED_TABLES = (
    "teams",
    "users",
    "cases",
    "assessments",
    "formulations",
    "signatures",
    "audit_log",
)


class SqliteTransaction:
    """An open SQLite transaction: the repositories, the audit log, and its statements."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.sql = Sql(store.conn, store.db, store.step)
        self.db = store.db
        self.teams = SqliteTeams(self.sql)
        self.users = SqliteUsers(self.sql)
        self.sessions = SqliteSessions(self.sql)
        self.cases = SqliteCases(self.sql)
        self.assessments = SqliteAssessments(self.sql, self.cases)
        self.formulations = SqliteFormulations(self.sql, self.cases)
        self.signatures = SqliteSignatures(self.sql)
        self.rendered = SqliteRenderedDocuments(self.sql)
        self.history = SqliteFieldHistory(self.sql)

    def audit(self, event: AuditEvent) -> AuditEntry:
        """Append the event to the chain, in this transaction."""
        return audit.append(self.sql, self._store.key, event)

    # The statements themselves, for the SQLite-specific tools (benchmarks, tests).

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement inside the transaction."""
        return self.sql.execute(sql, params)

    def insert(self, table: str, row: dict[str, object]) -> int:
        """Insert one row and return its id."""
        return self.sql.insert(table, row)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Return the first row of a query run inside the transaction."""
        return self.sql.one(sql, params)

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Return every row of a query run inside the transaction."""
        return self.sql.all(sql, params)


class SqliteStore:
    """One open SQLite database: a connection from the factory, its audit key, the write path."""

    def __init__(self, conn: sqlite3.Connection, key: bytes, path: Path) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._path = path
        self.key = key
        self._lock = threading.RLock()
        self._unsafe: str | None = None
        self.fault: Callable[[], None] | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def unsafe(self) -> str | None:
        """Why writes are refused (a failed integrity check), or None."""
        return self._unsafe

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        key_path: Path | None = None,
        now: dt.datetime | None = None,
        upto: int | None = None,
        check: bool = True,
    ) -> SqliteStore:
        """Open (creating when missing) the database, apply migrations and run `quick_check`.

        Args:
            path: the database file.
            key_path: the audit key file (default `<path>.key` or `INSTRUMENT_AUDIT_KEY`).
            now: the time recorded for migrations (default now).
            upto: apply migrations up to this number only (tests of upgrades).
            check: run `PRAGMA quick_check` (unless this process found this very file sound);
                on failure writes are refused and `unsafe` says why.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connection.connect(path)
        try:
            has_entries = audit.has_entries(conn)
            key = load_key(key_path or default_key_path(path), create=not has_entries)
            result = _checked(conn, path) if check else ["ok"]
            store = cls(conn, key, path)
            if result != ["ok"]:
                store._unsafe = "; ".join(str(r) for r in result[:5])
                return store
            migrate(conn, now or dt.datetime.now(dt.UTC), upto=upto)
            with store.write() as tx:
                audit.ensure_head(tx.sql, key)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection (the last one to a file checkpoints its WAL into it)."""
        with self._lock:
            self.conn.close()
            if self._unsafe is None:
                _carry_over(self._path)

    def step(self) -> None:
        """Call the fault hook before a statement of a write (a no-op outside fault tests)."""
        if self.fault is not None:
            self.fault()

    @contextmanager
    def write(self) -> Iterator[SqliteTransaction]:
        """Run a write transaction: process-wide lock, BEGIN IMMEDIATE, COMMIT or ROLLBACK.

        Raises:
            StoreError: when the database failed its integrity check, or stays locked.
        """
        if self._unsafe is not None:
            raise StoreError(
                f"the database failed its integrity check ({self._unsafe}); writes are refused",
                where=str(self._path),
                fix="restore the database from a backup (`instrument backup` makes one)",
            )
        with self._lock, WRITE_LOCK:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError(
                    f"the database is busy: {error}", fix="try again in a moment"
                ) from None
            try:
                yield SqliteTransaction(self)
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            _carry_over(self._path)  # a commit may have checkpointed into the file

    @contextmanager
    def read(self) -> Iterator[SqliteTransaction]:
        """Run reads in one snapshot (a deferred transaction that never writes)."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                yield SqliteTransaction(self)
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

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
        with self._lock:
            return audit.entries(
                self.conn,
                action=action,
                actor_id=actor_id,
                limit=limit,
                newest_first=newest_first,
            )

    def verify_audit(self) -> Verification:
        """Check the whole audit chain against the recorded head (SECURITY.md 15)."""
        with self.read() as tx:
            return audit.verify(tx.sql, self.key)

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
        target = connection.connect(out)
        try:
            with self.read():  # one snapshot: the copy and the counts it must match
                expected = self._counts(self.db)
                self.conn.backup(target)
            integrity = [row[0] for row in target.execute("PRAGMA integrity_check").fetchall()]
            counts = self._counts(sqlite_utils.Database(target))
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
    def _counts(db: sqlite_utils.Database) -> dict[str, int]:
        return {table: int(db[table].count) for table in COUNTED_TABLES}
