"""The case store: the `Store` protocol the service speaks to, and where its records come from.

All SQL of the product lives under this package. The service sees only the protocol
(`protocol.py`: transactions grouping repositories by table group, plus the audit log) and
frozen records (`records.py`), never rows. `sqlite/` is the embedded implementation (one file,
WAL, the one connection factory, numbered migrations); `open_store` opens it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from instrument.store.files import default_key_path, load_key
from instrument.store.protocol import (
    Assessments,
    Cases,
    Formulations,
    RenderedDocuments,
    Sessions,
    Signatures,
    Store,
    Teams,
    Transaction,
    Users,
)
from instrument.store.records import (
    AssessmentRecord,
    BackupReport,
    CasePage,
    CaseQuery,
    CaseRecord,
    CaseSummary,
    SessionRecord,
    StoredSignature,
    UserRecord,
    VersionSummary,
)

__all__ = [
    "AssessmentRecord",
    "Assessments",
    "BackupReport",
    "CasePage",
    "CaseQuery",
    "CaseRecord",
    "CaseSummary",
    "Cases",
    "Formulations",
    "RenderedDocuments",
    "SessionRecord",
    "Sessions",
    "Signatures",
    "Store",
    "StoredSignature",
    "Teams",
    "Transaction",
    "UserRecord",
    "Users",
    "VersionSummary",
    "default_key_path",
    "load_key",
    "open_store",
]


def open_store(
    path: Path,
    *,
    key_path: Path | None = None,
    now: dt.datetime | None = None,
    check: bool = True,
) -> Store:
    """Open (creating when missing) the database at `path`: migrations, `quick_check`.

    Raises:
        StoreError: when it cannot be opened, or its audit key is missing or not private.
    """
    from instrument.store.sqlite import SqliteStore

    return SqliteStore.open(path, key_path=key_path, now=now, check=check)
