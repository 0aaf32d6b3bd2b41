"""The SQLite implementation of the `Store` protocol (the embedded default).

`connection.py` is the one connection factory, `migrations.py` the numbered schema changes,
`store.py` the write path and backups, and one module per table group holds its SQL:
`people.py` (users, teams, sessions), `cases.py` (cases and the paged case list),
`assessments.py` (versions, formulations, signatures), `rendered.py` (the kept reports of
final formulations), `audit.py` (the hash-chained log).
"""

from __future__ import annotations

from instrument.store.sqlite.connection import PRAGMAS, connect, read_pragmas
from instrument.store.sqlite.migrations import MIGRATIONS
from instrument.store.sqlite.store import SqliteStore, SqliteTransaction

__all__ = ["MIGRATIONS", "PRAGMAS", "SqliteStore", "SqliteTransaction", "connect", "read_pragmas"]
