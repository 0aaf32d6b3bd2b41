"""SECURITY.md 21 and 22: the audit head anchored outside the database; the right key or nothing.

Issue 11, item 1. Each attack is run as an attacker with write access to the database file
would run it (a raw connection, triggers dropped), then `instrument audit verify` must exit 1
naming what is missing, and the next open must refuse writes, until a deliberate restore
re-anchors (audited).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.cli import main
from instrument.errors import StoreError
from instrument.service import Service
from instrument.store.anchor import anchor_path
from tests.store_support import open_service


def _db(tmp_path: Path, entries: int = 6) -> Path:
    db = tmp_path / "instrument.db"
    service = open_service(db)
    try:
        for index in range(entries):
            service.add_team(SYSTEM, f"team{index}")
    finally:
        service.close()
    return db


def _verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify", "--db", str(db)])
    code = done.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def _tamper(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)  # the attacker: a raw connection, outside the package
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def _writes_refused(db: Path) -> str:
    service = open_service(db)
    try:
        with pytest.raises(StoreError) as refused:
            service.add_team(SYSTEM, "after-the-attack")
        return refused.value.message
    finally:
        service.close()


def _entries(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        conn.close()


def test_req21_the_anchor_file_is_private_and_follows_every_write(tmp_path: Path) -> None:
    db = _db(tmp_path)
    head = anchor_path(db.with_name(db.name + ".key"))
    assert head == tmp_path / "instrument.db.head"
    assert stat.S_IMODE(head.stat().st_mode) == 0o600
    assert f'"seq": {_entries(db)}' in head.read_text()


def test_req21_a_wiped_log_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _db(tmp_path)
    conn = _tamper(db)
    conn.execute("DELETE FROM audit_log")
    conn.execute("DELETE FROM audit_head")
    conn.commit()
    conn.close()
    code, err = _verify(db, capsys)
    assert code == 1
    assert "entries 1 to 6 are missing" in err
    assert "entries 1 to 6 are missing" in _writes_refused(db)


def test_req21_a_cut_tail_with_an_old_head_restored_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    conn = _tamper(db)
    old_head = conn.execute("SELECT seq, mac, head_mac FROM audit_head").fetchone()
    conn.close()
    service = open_service(db)
    for index in range(3):
        service.add_team(SYSTEM, f"later{index}")
    service.close()
    conn = _tamper(db)
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (old_head[0],))
    conn.execute("UPDATE audit_head SET seq = ?, mac = ?, head_mac = ?", old_head)
    conn.commit()
    conn.close()
    code, err = _verify(db, capsys)
    assert code == 1
    assert f"entries {old_head[0] + 1} to {old_head[0] + 3} are missing" in err
    assert "missing" in _writes_refused(db)


def test_req21_an_older_copy_of_the_database_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    older = tmp_path / "older.db"
    shutil.copy(db, older)
    service = open_service(db)
    service.add_team(SYSTEM, "newer")
    service.close()
    shutil.copy(older, db)  # the whole file replaced by an older copy
    code, err = _verify(db, capsys)
    assert code == 1
    assert "entries 7 to 7 are missing" in err
    assert "older copy" in err


def test_req21_a_deleted_anchor_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    (tmp_path / "instrument.db.head").unlink()
    code, err = _verify(db, capsys)
    assert code == 1
    assert "anchor" in err
    assert "missing" in _writes_refused(db)


def test_req21_a_deliberate_restore_re_anchors_and_is_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    backup = tmp_path / "backup.db"
    service = open_service(db)
    service.backup(SYSTEM, backup)
    service.add_team(SYSTEM, "after-the-backup")
    service.close()
    shutil.copy(backup, db)
    assert _verify(db, capsys)[0] == 1
    with pytest.raises(SystemExit) as done:
        main(["audit", "restore", "--db", str(db)])
    assert done.value.code == 0
    assert "re-anchored" in capsys.readouterr().err
    code, err = _verify(db, capsys)
    assert code == 0, err
    service = open_service(db)
    try:
        actions = [e.action for e in service.store.audit_entries()]
        assert actions[-1] == "audit-restore"
        service.add_team(SYSTEM, "writes-work-again")
    finally:
        service.close()


def test_req21_a_broken_chain_is_not_re_anchored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    conn = _tamper(db)
    conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 3")
    conn.commit()
    conn.close()
    with pytest.raises(SystemExit) as done:
        main(["audit", "restore", "--db", str(db)])
    assert done.value.code == 2
    assert "broken at seq 3" in capsys.readouterr().err


def test_req22_a_wrong_audit_key_is_refused_at_open_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    key = tmp_path / "instrument.db.key"
    other = tmp_path / "other.key"
    fd = os.open(other, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, ("ab" * 32).encode() + b"\n")
    os.close(fd)
    before = _entries(db)
    size = db.stat().st_size
    with pytest.raises(StoreError) as refused:
        Service.open(db, key_path=other)
    assert str(other) in refused.value.message
    assert "not this database's audit key" in refused.value.message
    assert _entries(db) == before
    assert db.stat().st_size == size
    key.write_text(("cd" * 32) + "\n")  # the key file itself swapped
    with pytest.raises(StoreError, match="not this database's audit key"):
        open_service(db)
    assert _entries(db) == before


def test_req22_the_cli_names_the_wrong_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_path)
    (tmp_path / "instrument.db.key").write_text(("ef" * 32) + "\n")
    code, err = _verify(db, capsys)
    assert code == 2
    assert "instrument.db.key" in err
    assert "Traceback" not in err
