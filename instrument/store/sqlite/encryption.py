"""The database key: which key opens a database, and encrypting an old unencrypted one in place.

SQLCipher (SECURITY.md 25): the key lives in a 0600 file outside the database (`<db>.dbkey`, or
the path the entry point passes from `INSTRUMENT_DB_KEY`). Nothing here reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from instrument.errors import StoreError
from instrument.store.files import DB_KEY_ENV, database_files, load_key, tighten
from instrument.store.sqlite import connection
from instrument.store.sqlite.connection import is_plain


def database_key(db_path: Path, key_path: Path | None) -> bytes | None:
    """Return the key that encrypts the database, or None for an unencrypted one.

    With a key path: an existing key file is used; a new (or empty) database gets a new key
    (0600), so every new database is encrypted; an existing unencrypted database with no key
    file opens as it is (see the README for encrypting it).

    Raises:
        StoreError: when the database is encrypted and its key file is missing.
    """
    if key_path is None:
        return None
    if key_path.exists():
        return load_key(key_path, create=False, what="database key")
    if db_path.exists() and db_path.stat().st_size > 0:
        if is_plain(db_path):
            return None
        raise StoreError(
            f"the database {db_path} is encrypted, and its key file {key_path} is missing",
            where=str(key_path),
            fix=f"restore the key file, or point {DB_KEY_ENV} at it",
        )
    return load_key(key_path, create=True, what="database key")


def encrypt_database(db_path: Path, key_path: Path) -> Path:
    """Encrypt an unencrypted database in place with a new key file (0600); return the key path.

    The encrypted copy is written beside it, checked (it opens with the key and has the same
    tables and row counts), then renamed over the original; the audit key and anchor stay valid
    (the chain is the same).

    Raises:
        StoreError: when the database is encrypted already, the key file exists, or a check fails.
    """
    if key_path.exists():
        raise StoreError(
            f"the database key {key_path} exists already",
            where=str(key_path),
            fix="the database is probably encrypted already: `instrument audit verify` opens it",
        )
    if not connection.is_plain(db_path):
        raise StoreError(
            f"{db_path} is not an unencrypted database", where=str(db_path), fix="check --db"
        )
    temporary = db_path.with_name(f".{db_path.name}.encrypting")
    for leftover in database_files(temporary):
        leftover.unlink(missing_ok=True)
    key = load_key(key_path, create=True, what="database key")
    try:
        connection.encrypt_copy(db_path, temporary, key)
        before, after = connection.connect(db_path), connection.connect(temporary, key)
        try:
            tables = [
                row[0]
                for row in before.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            for table in tables:
                count = f'SELECT count(*) FROM "{table}"'
                if before.execute(count).fetchone()[0] != after.execute(count).fetchone()[0]:
                    raise StoreError(f"the encrypted copy of {table} differs", where=str(db_path))
        finally:
            before.close()
            after.close()
        tighten(temporary)
        os.replace(temporary, db_path)
        for stale in database_files(db_path)[1:]:
            stale.unlink(missing_ok=True)
    except BaseException:
        for leftover in database_files(temporary):
            leftover.unlink(missing_ok=True)
        key_path.unlink(missing_ok=True)
        raise
    return key_path
