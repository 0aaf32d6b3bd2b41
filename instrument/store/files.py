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


def default_key_path(db_path: Path) -> Path:
    """Return the audit key path beside the database: `<db file>.key`."""
    return db_path.with_name(db_path.name + ".key")


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
