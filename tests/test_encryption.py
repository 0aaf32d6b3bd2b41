"""SECURITY.md 25 (content) and 22 (the right key or nothing): SQLCipher at rest (issue 11, item 4).

A canary typed into evidence is found 0 times in the bytes of the database, its WAL and a backup;
every new database of the command line is encrypted; a wrong or missing database key refuses
to open with a message naming the key, and prints nothing of SQLCipher's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.assessment import Rating
from instrument.errors import StoreError
from instrument.service import Service
from instrument.store.sqlite.connection import is_plain
from tests.conftest import assessment_document
from tests.store_support import FAST_HASHER, PASSWORD, Clock

REPO = Path(__file__).resolve().parent.parent
CANARY = "CANARYqv93zt"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instrument", *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")},
    )


def _encrypted_service(db: Path) -> Service:
    return Service.open(
        db, clock=Clock(), hasher=FAST_HASHER, db_key_path=db.with_name(db.name + ".dbkey")
    )


def test_req25_canary_absent_from_database_wal_and_backup(tmp_path: Path) -> None:
    db = tmp_path / "instrument.db"
    service = _encrypted_service(db)
    try:
        service.add_team(SYSTEM, "north")
        service.add_user(SYSTEM, "pat", "psychologist", PASSWORD, "north")
        actor = service.session_actor(service.sign_in("pat", PASSWORD))
        assert actor is not None
        service.create_case(actor, "C-1", "engaged")
        draft = service.start_assessment(actor, "C-1")
        rating = Rating(presence="yes", relevance="high", evidence=f"{CANARY} said so.")
        service.save_rating(actor, "C-1", 1, "ID1", rating, base_revision=draft.revision)
        wal = db.with_name(db.name + "-wal")
        assert wal.exists()
        assert wal.stat().st_size > 0
        assert CANARY.encode() not in wal.read_bytes()
        assert CANARY.encode() not in db.read_bytes()
        backup = tmp_path / "backup.db"
        service.backup(SYSTEM, backup)
        assert CANARY.encode() not in backup.read_bytes()
        assert not is_plain(backup)
        assert CANARY in service.get_assessment(actor, "C-1", 1).assessment.model_dump_json()
    finally:
        service.close()
    assert not is_plain(db)
    assert CANARY.encode() not in db.read_bytes()
    # The backup opens with the same keys (kept apart from it), and holds the case.
    restored = Service.open(
        tmp_path / "backup.db",
        clock=Clock(),
        hasher=FAST_HASHER,
        key_path=tmp_path / "instrument.db.key",
        db_key_path=tmp_path / "instrument.db.dbkey",
    )
    try:
        rows = restored.store.conn.execute("SELECT reference FROM cases").fetchall()
        assert [row[0] for row in rows] == ["C-1"]
    finally:
        restored.close()


def test_req25_every_new_cli_database_is_encrypted(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    document = assessment_document()
    document["ratings"]["ID1"]["evidence"] = f"{CANARY} in evidence."
    source = tmp_path / "a.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    result = _cli("import", "--db", str(db), str(source))
    assert result.returncode == 0, result.stderr
    key = tmp_path / "cli.db.dbkey"
    assert key.exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert not is_plain(db)
    assert CANARY.encode() not in db.read_bytes()
    backup = tmp_path / "copy.db"
    assert _cli("backup", "--db", str(db), str(backup)).returncode == 0
    assert CANARY.encode() not in backup.read_bytes()
    listed = _cli("cases", "--db", str(db), "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["reference"] == "C-0001"


def test_req22_a_wrong_database_key_refuses_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    assert _cli("backup", "--db", str(db), str(tmp_path / "b.db")).returncode == 0
    key = tmp_path / "cli.db.dbkey"
    before = db.read_bytes()
    key.write_text("ab" * 32 + "\n")
    result = _cli("audit", "verify", "--db", str(db))
    assert result.returncode == 2
    assert f"the database key {key} does not open {db}" in result.stderr
    assert "hmac" not in result.stderr.lower()
    assert "ERROR CORE" not in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before  # nothing written
    key.unlink()
    result = _cli("audit", "verify", "--db", str(db))
    assert result.returncode == 2
    assert "is encrypted, and its key file" in result.stderr


def test_req25_an_existing_unencrypted_database_still_opens(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    plain = Service.open(db, clock=Clock(), hasher=FAST_HASHER)  # as before this change
    plain.add_team(SYSTEM, "north")
    plain.close()
    assert is_plain(db)
    result = _cli("audit", "verify", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert is_plain(db)
    assert not (tmp_path / "old.db.dbkey").exists()


def test_req22_a_missing_database_key_is_named(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    _encrypted_service(db).close()
    with pytest.raises(StoreError, match=r"is encrypted, and its key file .*other\.dbkey"):
        Service.open(db, db_key_path=tmp_path / "other.dbkey", hasher=FAST_HASHER)
    with pytest.raises(StoreError, match="is encrypted: open it with its database key"):
        Service.open(db, hasher=FAST_HASHER)


def test_req25_encrypt_turns_an_old_database_into_an_encrypted_one(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    plain = Service.open(db, clock=Clock(), hasher=FAST_HASHER)
    plain.add_team(SYSTEM, f"team-{CANARY}")
    plain.close()
    assert CANARY.encode() in db.read_bytes()
    result = _cli("encrypt", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert not is_plain(db)
    assert CANARY.encode() not in db.read_bytes()
    verified = _cli("audit", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stderr  # the same chain, the same anchor
    again = _cli("encrypt", "--db", str(db))
    assert again.returncode == 2
    assert "exists already" in again.stderr
