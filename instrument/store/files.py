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
                fix=f"restore the key file, or point {KEY_ENV} at it",
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
