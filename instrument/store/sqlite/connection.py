"""The one connection factory: every SQLite connection of the product is opened here.

Every connection sets the pragmas of SECURITY.md 1 and is opened with `check_same_thread=False`
(Streamlit moves a session between threads) and `isolation_level=None` (the store owns its
transactions: `BEGIN IMMEDIATE` for writes, see `SqliteStore.write`).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

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
WRITE_LOCK = threading.Lock()


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
