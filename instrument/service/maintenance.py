"""The operator's maintenance of a database for the CLI: audit restore, key rotation, encryption.

The entry points reach the store only through the service (ARCHITECTURE.md); these functions
open the store themselves because they act on the database as a whole, as `system`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from instrument.audit import AuditAction, AuditEvent, Entity
from instrument.errors import DocumentError
from instrument.store import open_store
from instrument.store.files import new_key, use_private_umask, write_key
from instrument.store.sqlite.encryption import encrypt_database

__all__ = ["KEY_IDS", "encrypt", "restore_audit", "rotate_key", "use_private_umask"]

KEY_IDS = {"audit": 1, "cookie": 2}
"""The entity id a `key-rotate` audit entry carries: which key was replaced."""


def _existing(db_path: Path) -> None:
    if not db_path.exists():
        raise DocumentError.at(str(db_path), "no such database", "check --db")


def restore_audit(
    db_path: Path, key_path: Path | None = None, db_key_path: Path | None = None
) -> tuple[str | None, int]:
    """Accept the audit log as it is after a deliberate restore; return (was, new head seq).

    Raises:
        DocumentError: when there is no database at `db_path`.
        StoreError: when the chain does not verify, or a key cannot be read.
    """
    _existing(db_path)
    store = open_store(db_path, key_path=key_path, db_key_path=db_key_path)
    try:
        before = store.audit_problem
        entry = store.reanchor(
            AuditEvent(
                at=dt.datetime.now(dt.UTC), action=AuditAction.AUDIT_RESTORE, entity=Entity.DATABASE
            )
        )
    finally:
        store.close()
    return before, entry.seq


def rotate_key(
    db_path: Path,
    which: str,
    *,
    key_path: Path,
    cookie_key_path: Path,
    db_key_path: Path | None = None,
) -> Path:
    """Replace the audit key or the cookie key (audited as `key-rotate`); return its file.

    Raises:
        DocumentError: when there is no database at `db_path`.
        StoreError: when the chain does not verify with the old key, or a key cannot be read.
    """
    _existing(db_path)
    store = open_store(db_path, key_path=key_path, db_key_path=db_key_path)
    try:
        event = AuditEvent(
            at=dt.datetime.now(dt.UTC),
            action=AuditAction.KEY_ROTATE,
            entity=Entity.DATABASE,
            entity_id=KEY_IDS[which],
        )
        if which == "audit":
            fresh = new_key()
            staged = key_path.with_name(key_path.name + ".new")
            write_key(staged, fresh)
            try:
                store.rotate_audit_key(fresh, event)
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            key_path.replace(key_path.with_name(key_path.name + ".old"))
            staged.replace(key_path)
            return key_path
        write_key(cookie_key_path, new_key())
        store.audit_only(event)
        return cookie_key_path
    finally:
        store.close()


def encrypt(db_path: Path, db_key_path: Path) -> Path:
    """Encrypt an existing unencrypted database in place with a new key; return the key file.

    Raises:
        StoreError: when the database is missing, already encrypted, or the key file exists.
    """
    return encrypt_database(db_path, db_key_path)
