"""Key rotation for the audit and cookie keys (issue 11, "Also"): a command, audited."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from instrument.access import SYSTEM
from tests.store_support import open_service

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instrument", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")},
    )


def test_rotating_the_audit_key_re_signs_the_chain(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    made = _cli("backup", "--db", str(db), str(tmp_path / "first.db"))  # a new database
    assert made.returncode == 0, made.stderr
    key = tmp_path / "r.db.key"
    old = key.read_text()
    rotated = _cli("rotate-key", "audit", "--db", str(db))
    assert rotated.returncode == 0, rotated.stderr
    assert key.read_text() != old
    assert (tmp_path / "r.db.key.old").read_text() == old
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    verified = _cli("audit", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stderr
    # The old key no longer opens it: it is the right key or nothing.
    (tmp_path / "r.db.key.old").replace(key)
    refused = _cli("audit", "verify", "--db", str(db))
    assert refused.returncode == 2
    assert "not this database's audit key" in refused.stderr


def test_rotation_is_audited(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    service = open_service(db)
    service.add_team(SYSTEM, "north")
    service.close()
    assert _cli("rotate-key", "audit", "--db", str(db)).returncode == 0
    assert _cli("rotate-key", "cookie", "--db", str(db)).returncode == 0
    service = open_service(db)
    try:
        rotations = [
            (e.action, e.entity_id)
            for e in service.store.audit_entries()
            if e.action == "key-rotate"
        ]
        assert rotations == [("key-rotate", 1), ("key-rotate", 2)]
        assert service.store.verify_audit().ok
    finally:
        service.close()


def test_rotating_the_cookie_key_replaces_it(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    assert _cli("backup", "--db", str(db), str(tmp_path / "b.db")).returncode == 0
    cookie = tmp_path / "c.cookie.key"
    assert not cookie.exists()
    assert _cli("rotate-key", "cookie", "--db", str(db)).returncode == 0
    first = cookie.read_bytes()
    assert len(first) >= 32
    assert stat.S_IMODE(cookie.stat().st_mode) == 0o600
    assert _cli("rotate-key", "cookie", "--db", str(db)).returncode == 0
    assert cookie.read_bytes() != first


def test_a_broken_chain_is_not_rotated(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "t.db"
    service = open_service(db)
    service.add_team(SYSTEM, "north")
    service.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 1")
    conn.commit()
    conn.close()
    key = tmp_path / "t.db.key"
    before = key.read_text()
    result = _cli("rotate-key", "audit", "--db", str(db))
    assert result.returncode == 2
    assert "does not verify" in result.stderr
    assert key.read_text() == before
