"""The store: one connection factory, migrations, triggers that freeze finals, the audit key."""

from __future__ import annotations

import ast
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.config import Settings
from instrument.definition import Instrument
from instrument.errors import StoreError
from instrument.store.sqlite import MIGRATIONS, PRAGMAS, connect, read_pragmas
from instrument.store.sqlite import SqliteStore as Store
from instrument.store.sqlite import connection as connection_module
from tests.store_support import PASSWORD, complete, make_team, open_service

PACKAGE = Path(__file__).resolve().parent.parent / "instrument"
EXPECTED = {
    "journal_mode": "wal",
    "synchronous": 2,
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "secure_delete": 1,
    "trusted_schema": 0,
}


def test_no_stray_sqlite_connect_in_the_package() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"sqlite3\s*\.\s*connect\s*\(", line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert found == [f"store/sqlite/connection.py:{_factory_line()}"]


def _factory_line() -> int:
    text = (PACKAGE / "store" / "sqlite" / "connection.py").read_text(encoding="utf-8")
    return next(i for i, line in enumerate(text.splitlines(), 1) if "sqlite3.connect(" in line)


# An SQL statement in a string: its leading keyword in capitals, as the store writes them.
SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"BEGIN(\s+(IMMEDIATE|DEFERRED|EXCLUSIVE))?\s*$|PRAGMA\s+\w+|COMMIT\s*$|ROLLBACK\s*$|"
    r"CREATE\s+(TABLE|INDEX|TRIGGER)|ALTER\s+TABLE)\b",
    re.DOTALL,
)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Return every string constant of a module except docstrings (they may name SQL)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_sql_outside_the_store() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "store":
            continue
        for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if SQL.search(text.strip()):
                found.append(f"{relative}:{line}: {text.strip()[:60]}")
    assert found == []


def test_the_sql_check_finds_sql() -> None:
    module = ast.parse(
        '''"""Docs may say SELECT x FROM y and BEGIN IMMEDIATE."""
a = "SELECT id FROM users WHERE name = ?"
b = "UPDATE users SET role = ?"
c = f"INSERT INTO {table} (a) VALUES (?)"
d = "BEGIN IMMEDIATE"
e = "PRAGMA quick_check"
f = "DELETE FROM sessions"
g = "Select a case from the list"
'''
    )
    hits = sorted(line for line, text in _strings(module) if SQL.search(text.strip()))
    assert hits == [2, 3, 4, 5, 6, 7]


def test_the_factory_sets_every_pragma(tmp_path: Path) -> None:
    assert set(PRAGMAS) == set(EXPECTED)
    conn = connect(tmp_path / "p.db")
    assert read_pragmas(conn) == EXPECTED
    assert conn.isolation_level is None
    conn.close()


def test_every_path_opens_through_the_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instrument: Instrument
) -> None:
    seen: list[dict[str, object]] = []
    original = connection_module.connect

    def recording(path: Path) -> sqlite3.Connection:
        conn = original(path)
        seen.append(read_pragmas(conn))
        return conn

    monkeypatch.setattr(connection_module, "connect", recording)
    db = tmp_path / "paths.db"
    team = make_team(db)  # the app's path: Service.open, migrations
    team.service.create_case(team.psychologist, "C-1", "engaged")
    team.service.backup(SYSTEM, tmp_path / "copy.db")  # backup target
    from instrument.cli import main

    document = (PACKAGE.parent / "formulations" / "wc-02-grievance.assessment.json").read_bytes()
    (tmp_path / "a.json").write_bytes(document)
    for argv in (
        ["import", "--db", str(db), "--team", "north", str(tmp_path / "a.json")],
        ["export", "--db", str(db), "--case", "C-1", "--team", "north"],
        ["cases", "--db", str(db)],
        ["audit", "verify", "--db", str(db)],
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0, argv
    assert len(seen) >= 6
    assert all(pragmas == EXPECTED for pragmas in seen)


def test_migrations_are_numbered_and_recorded(tmp_path: Path) -> None:
    numbers = [number for number, _, _ in MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1))
    store = Store.open(tmp_path / "m.db")
    rows = store.conn.execute("SELECT number FROM schema_migrations ORDER BY number").fetchall()
    assert [r[0] for r in rows] == numbers
    store.close()


def test_a_database_made_by_migration_1_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = Store.open(db, upto=1)
    assert [r[0] for r in old.conn.execute("SELECT number FROM schema_migrations")] == [1]
    tables = {r[0] for r in old.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "teams",
        "users",
        "sessions",
        "cases",
        "assessments",
        "formulations",
        "signatures",
        "audit_log",
    } <= tables
    old.close()
    service = open_service(db)  # made by migration 1 alone; opened by today's code
    service.add_user(SYSTEM, "pat", "psychologist", PASSWORD)
    actor = service.session_actor(service.sign_in("pat", PASSWORD))
    assert actor is not None
    service.create_case(actor, "C-1", "engaged")
    migrations = service.store.conn.execute("SELECT number FROM schema_migrations").fetchall()
    assert [r[0] for r in migrations] == [n for n, _, _ in MIGRATIONS]
    indexes = {
        r[0]
        for r in service.store.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert "cases_by_team" in indexes
    assert service.store.verify_audit().ok


def test_triggers_freeze_finals_formulations_signatures_and_the_log(
    tmp_path: Path, instrument: Instrument
) -> None:
    team = make_team(tmp_path / "f.db")
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-1", "engaged")
    s.start_assessment(pat, "C-1")
    complete(s, pat, "C-1", 1, instrument)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "C-1", 1)
    s.amend(pat, "C-1", 1, "A reason.")
    conn = s.store.conn
    refused = [
        "UPDATE assessments SET document = '{}' WHERE version = 1",
        "UPDATE assessments SET status = 'draft' WHERE version = 1",
        "DELETE FROM assessments WHERE version = 1",
        "DELETE FROM assessments WHERE version = 2",
        "UPDATE assessments SET version = 7 WHERE version = 2",
        "UPDATE formulations SET document = '{}'",
        "DELETE FROM formulations",
        "UPDATE signatures SET signer = 'x'",
        "DELETE FROM signatures",
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log",
    ]
    for sql in refused:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.execute("UPDATE assessments SET revision = revision WHERE version = 2")  # drafts change


def test_the_audit_key_file_is_private_and_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "k.db"
    Store.open(db).close()
    key = tmp_path / "k.db.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    elsewhere = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("INSTRUMENT_AUDIT_KEY", str(elsewhere))
    settings = Settings.from_env().with_db(tmp_path / "other.db")
    Store.open(settings.db, key_path=settings.audit_key_path).close()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600
    assert not (tmp_path / "other.db.key").exists()
    os.chmod(elsewhere, 0o644)
    with pytest.raises(StoreError, match="readable by others"):
        Store.open(settings.db, key_path=settings.audit_key_path)


def test_a_missing_key_is_never_replaced_once_the_log_has_entries(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    service = open_service(db)
    service.create_case(SYSTEM, "C-1", "engaged")
    service.close()
    (tmp_path / "k.db.key").unlink()
    with pytest.raises(StoreError, match="missing"):
        Store.open(db)


def test_a_damaged_database_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    service = open_service(db)
    for number in range(300):
        service.create_case(SYSTEM, f"C-{number}", "engaged")
    service.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(page * 3, min(len(data), page * 6), 7):
        data[offset] = 0xA5
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    damaged = open_service(db)
    assert damaged.unsafe
    with pytest.raises(StoreError, match="integrity check"):
        damaged.create_case(SYSTEM, "C-new", "engaged")


def test_quick_check_runs_once_per_unchanged_file_and_again_after_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from instrument.store.sqlite import store as sqlite_store

    calls: list[Path] = []
    original = sqlite_store.quick_check

    def counting(conn: sqlite3.Connection) -> list[str]:
        calls.append(Path(conn.execute("PRAGMA database_list").fetchone()[2]))
        return original(conn)

    monkeypatch.setattr(sqlite_store, "quick_check", counting)
    db = tmp_path / "q.db"
    service = open_service(db)
    assert calls == [db]  # the first open in this process checks
    for number in range(200):
        service.create_case(SYSTEM, f"C-{number}", "engaged")
    service.close()  # the last connection checkpoints the WAL into the file
    for _ in range(3):  # a browser session each: the file is as this process left it
        Store.open(db).close()
    assert calls == [db]
    os.utime(db, ns=(1, 1))  # changed by someone else (a restore, another process): checked
    Store.open(db).close()
    Store.open(db).close()
    assert calls == [db, db]
    monkeypatch.setattr(sqlite_store, "quick_check", lambda conn: ["*** page 3: damaged"])
    os.utime(db, ns=(2, 2))
    damaged = Store.open(db)
    assert damaged.unsafe == "*** page 3: damaged"
    damaged.close()
    monkeypatch.setattr(sqlite_store, "quick_check", counting)
    Store.open(db).close()  # a failed verdict is never remembered
    assert calls == [db, db, db]
