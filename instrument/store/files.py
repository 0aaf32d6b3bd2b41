"""Where a database and its audit key live, and reading the key (never printed).

The audit key lives in a file outside the database (`<database file>.key`, or the path the
entry point passes from `INSTRUMENT_AUDIT_KEY`: `config.Settings`), created with mode 0600 on
first use. Nothing here reads the environment.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from instrument.errors import StoreError

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


def default_key_path(db_path: Path) -> Path:
    """Return the audit key path beside the database: `<db file>.key`."""
    return db_path.with_name(db_path.name + ".key")


def default_db_key_path(db_path: Path) -> Path:
    """Return the database key path beside the database: `<db file>.dbkey`."""
    return db_path.with_name(db_path.name + ".dbkey")


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
