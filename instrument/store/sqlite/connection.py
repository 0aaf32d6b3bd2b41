"""The one connection factory: every SQLite connection of the product is opened here.

Every connection sets the pragmas of SECURITY.md 1 and is opened with `check_same_thread=False`
(Streamlit moves a session between threads) and `isolation_level=None` (the store owns its
transactions: `BEGIN IMMEDIATE` for writes, see `SqliteStore.write`).

With a database key the connection is SQLCipher's (`sqlcipher3`, SQLCipher 4 bundled): the key is
the first statement, so the file, its WAL and every backup made through it are encrypted
(SECURITY.md 25). SQLCipher's own log is silenced: a wrong key becomes one clear `StoreError`
naming the key file, not `hmac check failed` lines on the terminal.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, cast

import sqlcipher3  # type: ignore[import-untyped]

from instrument.errors import StoreError

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.DatabaseError,
    sqlcipher3.dbapi2.DatabaseError,
)
"""The database errors of both drivers (SQLCipher's are not subclasses of `sqlite3`'s)."""

OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    sqlcipher3.dbapi2.OperationalError,
)

PLAIN_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of an unencrypted SQLite file; an encrypted file starts with random salt."""


def is_plain(path: Path) -> bool:
    """Return whether `path` is an existing, unencrypted SQLite database file."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == PLAIN_HEADER
    except OSError:
        return False


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
WRITE_LOCK = threading.Lock()


def connect(
    path: Path, key: bytes | None = None, *, key_path: Path | None = None
) -> sqlite3.Connection:
    """Open a connection with every pragma of SECURITY.md 1: the only `connect` calls.

    Args:
        path: the database file.
        key: the database key (32 bytes): the connection is SQLCipher's and the file encrypted.
        key_path: where the key came from, named when it does not open the database.

    Raises:
        StoreError: when the file cannot be opened as a database, or the key does not open it.
    """
    conn: Any = None
    try:
        if key is None:
            conn = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=5.0
            )
            conn.row_factory = sqlite3.Row
        else:
            conn = sqlcipher3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=5.0
            )
            conn.row_factory = sqlcipher3.Row
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # checks the key
        for name, value in PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {value}")
    except DATABASE_ERRORS as error:
        if conn is not None:
            conn.close()
        if key is not None and "not a database" in str(error):
            raise StoreError(
                f"the database key {key_path or '(given)'} does not open {path}: a wrong key, "
                "or a database that is not encrypted with it",
                where=str(key_path or path),
                fix="point INSTRUMENT_DB_KEY at this database's key file",
            ) from None
        if key is None and "not a database" in str(error) and not is_plain(path):
            raise StoreError(
                f"the database {path} is encrypted: open it with its database key",
                where=str(path),
                fix="point INSTRUMENT_DB_KEY at this database's key file",
            ) from None
        raise StoreError(
            f"cannot open the database {path}: {error}",
            where=str(path),
            fix="check the path, or restore the file from a backup",
        ) from None
    return cast(sqlite3.Connection, conn)


def encrypt_copy(plain: Path, out: Path, key: bytes) -> None:
    """Write an encrypted copy of an unencrypted database (SQLCipher's `sqlcipher_export`).

    Raises:
        StoreError: when the source is not an unencrypted database or the copy fails.
    """
    if not is_plain(plain):
        raise StoreError(
            f"{plain} is not an unencrypted database", where=str(plain), fix="check the path"
        )
    conn: Any = sqlcipher3.connect(str(plain), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key.hex()}'\"", (str(out),))
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute("DETACH DATABASE encrypted")
    except DATABASE_ERRORS as error:
        raise StoreError(
            f"cannot encrypt {plain}: {error}", where=str(plain), fix="check the disk"
        ) from None
    finally:
        conn.close()


def read_pragmas(conn: sqlite3.Connection) -> dict[str, str | int]:
    """Return the current value of each pragma the factory sets (for tests and `doctor`)."""
    return {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}
