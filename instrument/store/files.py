"""Where a database and its audit key live, and reading the key (never printed).

The audit key lives in a file outside the database (`<database file>.key`, or the path in
`INSTRUMENT_AUDIT_KEY`), created with mode 0600 on first use.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from instrument.errors import StoreError

PROJECT = Path(__file__).resolve().parents[2]  # the repository: instrument/store/files.py
DEFAULT_DB = PROJECT / "data" / "instrument.db"
DB_ENV = "INSTRUMENT_DB"
KEY_ENV = "INSTRUMENT_AUDIT_KEY"
DB_KEY_ENV = "INSTRUMENT_DB_KEY"


PRIVATE_UMASK = 0o077
"""Set at every entry point: files the app creates are 0600 and folders 0700 (SECURITY.md 25)."""


def use_private_umask() -> None:
    """Make every file and folder this process creates private to its user (0600/0700)."""
    os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> None:
    """Create a folder (and its parents) as 0700 when missing; an existing one is left alone."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)


def database_files(path: Path) -> list[Path]:
    """Return the files SQLite keeps for a database: itself, its WAL and shared memory."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def tighten(*paths: Path) -> None:
    """Make each existing file 0600, also when a library (or an old umask) made it wider."""
    for path in paths:
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except PermissionError:  # another user's file: `doctor` and the tests report it
            continue


def default_db_path() -> Path:
    """Return the database path: `INSTRUMENT_DB` when set, else `data/instrument.db`."""
    value = os.environ.get(DB_ENV)
    return Path(value) if value else DEFAULT_DB


def default_key_path(db_path: Path) -> Path:
    """Return the audit key path: `INSTRUMENT_AUDIT_KEY` when set, else `<db file>.key`."""
    value = os.environ.get(KEY_ENV)
    return Path(value) if value else db_path.with_name(db_path.name + ".key")


def default_db_key_path(db_path: Path) -> Path:
    """Return the database key path: `INSTRUMENT_DB_KEY` when set, else `<db file>.dbkey`."""
    value = os.environ.get(DB_KEY_ENV)
    return Path(value) if value else db_path.with_name(db_path.name + ".dbkey")


def database_key(db_path: Path, key_path: Path | None) -> bytes | None:
    """Return the key that encrypts the database, or None for an unencrypted one.

    With a key path: an existing key file is used; a new (or empty) database gets a new key
    (0600), so every new database is encrypted; an existing unencrypted database with no key
    file opens as it is (see the README for encrypting it).

    Raises:
        StoreError: when the database is encrypted and its key file is missing.
    """
    from instrument.store.sqlite.connection import is_plain

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


def load_key(path: Path, *, create: bool, what: str = "audit key") -> bytes:
    """Return a key (the audit key, or the database key), creating it (0600) when allowed.

    Raises:
        StoreError: when the key is missing and may not be created, or readable by others.
    """
    env = KEY_ENV if what == "audit key" else DB_KEY_ENV
    if not path.exists():
        if not create:
            raise StoreError(
                f"the {what} file {path} is missing, but the database needs it",
                where=str(path),
                fix=f"restore the key file, or point {env} at it",
            )
        private_folder(path.parent)
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
            f"the {what} file {path} is readable by others",
            where=str(path),
            fix=f"chmod 600 {path}",
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise StoreError(f"the {what} file {path} is not a key", where=str(path), fix="restore it")
    return key


def encrypt_database(db_path: Path, key_path: Path) -> Path:
    """Encrypt an unencrypted database in place with a new key file (0600); return the key path.

    The encrypted copy is written beside it, checked (it opens with the key and has the same
    tables and row counts), then renamed over the original; the audit key and anchor stay valid
    (the chain is the same).

    Raises:
        StoreError: when the database is encrypted already, the key file exists, or a check fails.
    """
    from instrument.store.sqlite import connection

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


def new_key() -> bytes:
    """Return a new 256-bit key."""
    return secrets.token_bytes(32)


def write_key(path: Path, key: bytes) -> None:
    """Write a key file atomically: a temporary 0600 file, fsync, renamed over `path`."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
