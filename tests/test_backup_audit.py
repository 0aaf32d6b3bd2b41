"""SECURITY.md 31: the audit says what happened: a failed backup is `failed` (issue 11, item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.errors import StoreError
from tests.store_support import open_service


def _backups(service: object) -> list[str]:
    entries = service.store.audit_entries()  # type: ignore[attr-defined]
    return [e.outcome for e in entries if e.action == "backup"]


def test_req31_a_backup_that_fails_its_check_is_audited_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = open_service(tmp_path / "db.sqlite")
    try:
        calls = iter(range(100))  # the source and the copy never agree: the check fails
        monkeypatch.setattr(
            type(service.store), "_counts", staticmethod(lambda db: {"x": next(calls)})
        )
        with pytest.raises(StoreError, match="failed its check"):
            service.backup(SYSTEM, tmp_path / "copy.db")
        assert _backups(service) == ["failed"]
        assert not (tmp_path / "copy.db").exists()
    finally:
        service.close()


def test_req31_a_backup_onto_an_existing_file_is_audited_failed(tmp_path: Path) -> None:
    service = open_service(tmp_path / "db.sqlite")
    try:
        (tmp_path / "taken.db").write_bytes(b"someone else's file")
        with pytest.raises(StoreError, match="already exists"):
            service.backup(SYSTEM, tmp_path / "taken.db")
        blocked = tmp_path / "a-file"
        blocked.write_text("not a folder")
        with pytest.raises(StoreError, match="cannot"):
            service.backup(SYSTEM, blocked / "copy.db")
        assert _backups(service) == ["failed", "failed"]
    finally:
        service.close()


def test_req31_a_good_backup_is_audited_ok_once(tmp_path: Path) -> None:
    service = open_service(tmp_path / "db.sqlite")
    try:
        service.backup(SYSTEM, tmp_path / "copy.db")
        assert _backups(service) == ["ok"]
    finally:
        service.close()
