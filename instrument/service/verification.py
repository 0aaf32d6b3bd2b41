"""The audit chain check of `instrument audit verify`: the store's verification, for the CLI."""

from __future__ import annotations

from pathlib import Path

from instrument.audit import Verification
from instrument.errors import DocumentError
from instrument.store import open_store


def verify_audit(db_path: Path, key_path: Path | None = None) -> Verification:
    """Verify the audit chain of the database at `db_path` (which must exist).

    Raises:
        DocumentError: when there is no database at `db_path` (one is never created here).
        StoreError: when the database or its key cannot be read.
    """
    if not db_path.exists():
        raise DocumentError.at(str(db_path), "no such database", "check --db")
    store = open_store(db_path, key_path=key_path)
    try:
        return store.verify_audit()
    finally:
        store.close()
