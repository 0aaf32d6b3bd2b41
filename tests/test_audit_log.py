"""The audit log in the store: tamper classes, completeness of a scripted scenario, no free text."""

from __future__ import annotations

import io
import logging
import random
import re
import secrets
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.assessment import Assessor, Rating, ResponsivityNote
from instrument.audit import ACTION_MEANING, AuditAction
from instrument.cli import main
from instrument.definition import Instrument
from instrument.definitions import current_instrument
from instrument.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from tests.judgement_support import minimal_judgement
from tests.store_support import PASSWORD, Team, complete, make_team, open_service

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database whose audit log holds a few hundred entries of many kinds."""
    db = tmp_path_factory.mktemp("chain") / "chain.db"
    service = open_service(db)
    for number in range(60):
        service.create_case(SYSTEM, f"C-{number}", "engaged")
        draft = service.start_assessment(SYSTEM, f"C-{number}")
        service.save_rating(
            SYSTEM, f"C-{number}", 1, "ID1", Rating(presence="no"), base_revision=draft.revision
        )
        service.open_case(SYSTEM, f"C-{number}")
    service.close()
    return db


def _verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(["audit", "verify", "--db", str(db)])
    code = done.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def _copy(db: Path, target: Path) -> tuple[Path, sqlite3.Connection, int]:
    copy = target / "t.db"
    shutil.copy(db, copy)
    shutil.copy(Path(str(db) + ".key"), Path(str(copy) + ".key"))
    shutil.copy(Path(str(db) + ".head"), Path(str(copy) + ".head"))
    conn = sqlite3.connect(copy)  # the tamperer: a raw connection, triggers dropped
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    return copy, conn, last


COLUMNS = "at, actor_id, role, action, entity, entity_id, version, outcome, prev_mac, mac"


def _tamper(kind: str, conn: sqlite3.Connection, last: int, rng: random.Random) -> int:
    """Tamper one way at a random position; return the seq that must be named first."""
    k = rng.randint(2, last - 2)
    if kind == "edit-field":
        conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = ?", (k,))
        return k
    if kind == "edit-prev-mac":
        conn.execute("UPDATE audit_log SET prev_mac = ? WHERE seq = ?", (secrets.token_hex(32), k))
        return k
    if kind == "delete":
        conn.execute("DELETE FROM audit_log WHERE seq = ?", (k,))
        return k
    if kind == "swap":
        j = rng.randint(k + 1, last)
        a = conn.execute(f"SELECT {COLUMNS} FROM audit_log WHERE seq = ?", (k,)).fetchone()
        b = conn.execute(f"SELECT {COLUMNS} FROM audit_log WHERE seq = ?", (j,)).fetchone()
        sets = ", ".join(f"{c.strip()} = ?" for c in COLUMNS.split(","))
        conn.execute(f"UPDATE audit_log SET {sets} WHERE seq = ?", (*b, k))
        conn.execute(f"UPDATE audit_log SET {sets} WHERE seq = ?", (*a, j))
        return k
    if kind == "insert-forged":
        for seq in range(last, k - 1, -1):
            conn.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq + 1, seq))
        prev = conn.execute("SELECT mac FROM audit_log WHERE seq = ?", (k - 1,)).fetchone()[0]
        at = conn.execute("SELECT at FROM audit_log WHERE seq = ?", (k - 1,)).fetchone()[0]
        conn.execute(
            f"INSERT INTO audit_log (seq, {COLUMNS}) VALUES (?, ?, NULL, 'system', 'export',"
            " 'case', 1, NULL, 'ok', ?, ?)",
            (k, at, prev, secrets.token_hex(32)),
        )
        return k
    assert kind == "truncate-tail"
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (k,))
    return k + 1


KINDS = ["edit-field", "edit-prev-mac", "delete", "swap", "insert-forged", "truncate-tail"]


def test_an_intact_log_verifies(chained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _verify(chained, capsys)
    assert code == 0
    assert re.search(r"intact: \d{3} entries", err)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_every_tamper_class_is_detected_with_the_first_bad_seq(
    chained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, seed: int
) -> None:
    copy, conn, last = _copy(chained, tmp_path)
    expected = _tamper(kind, conn, last, random.Random(f"{kind}{seed}"))
    conn.commit()
    conn.close()
    code, err = _verify(copy, capsys)
    assert code == 1
    assert f"broken at seq {expected}:" in err


def test_ten_thousand_entries_verify_in_under_two_seconds(tmp_path: Path) -> None:
    import time

    from instrument.audit import AuditEvent

    service = open_service(tmp_path / "big.db")
    with service.store.write() as tx:
        for number in range(10_000):
            tx.audit(AuditEvent(at=service.clock(), action=AuditAction.VIEW, entity_id=number))
    started = time.perf_counter()
    result = service.store.verify_audit()
    elapsed = time.perf_counter() - started
    assert result.ok
    assert result.entries == 10_000
    assert elapsed < 2.0


def _actions(team: Team, since: int) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in team.service.store.audit_entries() if e.seq > since]


def test_a_scripted_scenario_yields_exactly_the_expected_entries(
    tmp_path: Path, instrument: Instrument
) -> None:
    team = make_team(tmp_path / "s.db")
    s, pat, sam, vic, ada = (
        team.service,
        team.psychologist,
        team.supervisor,
        team.viewer,
        team.admin,
    )
    start = s.store.audit_entries()[-1].seq
    s.create_case(pat, "C-1", "engaged")
    s.list_cases(pat)
    s.list_cases(pat, text="C-")
    s.open_case(pat, "C-1")
    draft = s.start_assessment(pat, "C-1")
    for _ in range(5):  # reruns of the page: no entry
        s.get_assessment(pat, "C-1", 1)
        s.formulation(pat, "C-1", 1)
        s.case_history(pat, "C-1")
    s.save_rating(pat, "C-1", 1, "ID1", Rating(presence="no"), base_revision=draft.revision)
    with pytest.raises(Exception, match="changed by"):
        s.save_rating(pat, "C-1", 1, "ID2", Rating(presence="no"), base_revision=draft.revision)
    assert _actions(team, start) == [
        ("create", "ok"),
        ("list", "ok"),
        ("search", "ok"),
        ("view", "ok"),
        ("start", "ok"),
        ("save", "ok"),
        ("save", "conflict"),
    ]
    mark = s.store.audit_entries()[-1].seq
    complete(s, pat, "C-1", 1, instrument)
    # Every rating, the details, and each part of the judgement a 1.1 draft needs to finalise.
    saves = len(current_instrument().items) + 1 + len(minimal_judgement("ID1"))
    s.set_override(pat, "C-1", 1, "identity", "high", "A rationale longer than twenty chars.")
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "C-1", 1)
    s.confirm_password(sam, PASSWORD)
    s.countersign(sam, "C-1", 1)
    s.amend(pat, "C-1", 1, "A reason.")
    s.export_case(pat, "C-1")
    s.import_assessment(
        pat, (REPO / "formulations" / "wc-02-grievance.assessment.json").read_bytes()
    )
    with pytest.raises(PermissionDeniedError):
        s.save_rating(vic, "C-1", 2, "ID1", None, base_revision=1)
    with pytest.raises(NotFoundError):
        s.open_case(team.other, "C-1")
    s.add_user(ada, "newbie", "viewer", None, "north")  # a one-time password
    s.confirm_password(ada, PASSWORD)
    s.set_role(ada, "newbie", "supervisor")
    s.backup(ada, tmp_path / "b.db")
    assert _actions(team, mark) == [
        *[("save", "ok")] * saves,
        ("override", "ok"),
        ("confirm-password", "ok"),
        ("finalise", "ok"),
        ("confirm-password", "ok"),
        ("countersign", "ok"),
        ("amend", "ok"),
        ("export", "ok"),
        ("create", "ok"),
        ("import", "ok"),
        ("save", "denied"),
        ("view", "not-found"),
        ("user-add", "ok"),
        ("confirm-password", "ok"),
        ("role-change", "ok"),
        ("backup", "ok"),
    ]
    mark = s.store.audit_entries()[-1].seq
    sid = s.sign_in("pat", PASSWORD)
    s.sign_out(sid)
    sid = s.sign_in("pat", PASSWORD)
    team.clock.advance(minutes=16)
    assert s.session_actor(sid) is None
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            s.sign_in("pat", "not the password at all")
    with pytest.raises(AuthenticationError):
        s.sign_in("nobody", PASSWORD)
    assert _actions(team, mark) == [
        ("sign-in", "ok"),
        ("sign-out", "ok"),
        ("sign-in", "ok"),
        ("timeout", "ok"),
        *[("sign-in", "failed")] * 4,
        ("sign-in", "failed"),
        ("lockout", "ok"),
        ("sign-in", "failed"),
    ]
    assert s.store.verify_audit().ok


CANARY = "CANARY-7f3a9c"


def test_a_canary_in_every_free_text_field_never_reaches_the_log(
    tmp_path: Path,
    instrument: Instrument,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    team = make_team(tmp_path / "c.db")
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-1", "engaged")
    s.start_assessment(pat, "C-1")
    complete(s, pat, "C-1", 1, instrument, evidence=f"evidence {CANARY}")
    draft = s.get_assessment(pat, "C-1", 1)
    draft = s.save_responsivity(
        pat,
        "C-1",
        1,
        "RS1",
        ResponsivityNote(presence="yes", note=CANARY, adaptation=CANARY),
        base_revision=draft.revision,
    )
    draft = s.save_details(
        pat,
        "C-1",
        1,
        assessed_on=draft.assessment.assessment.assessed_on,
        assessors=[Assessor(name=f"Dr {CANARY}", role="psychologist")],
        notes=CANARY,
        base_revision=draft.revision,
    )
    draft = s.save_narrative(pat, "C-1", 1, "presenting", CANARY, base_revision=draft.revision)
    s.set_override(pat, "C-1", 1, "identity", "high", f"rationale long enough {CANARY}")
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "C-1", 1)
    s.amend(pat, "C-1", 1, CANARY)
    for username, password in ((CANARY, PASSWORD), ("pat", CANARY)):
        with pytest.raises(AuthenticationError):
            s.sign_in(username, password)
    with pytest.raises(Exception):  # noqa: B017 - any refusal: the point is what is logged
        s.add_user(team.admin, "someone", "viewer", CANARY)
    s.list_cases(pat, text=CANARY, assessor=CANARY)
    monkey_stdin = io.StringIO(CANARY + "\n")
    old, sys.stdin = sys.stdin, monkey_stdin
    try:
        with pytest.raises(SystemExit):
            main(
                [
                    "users",
                    "add",
                    "--db",
                    str(tmp_path / "c.db"),
                    "--username",
                    "x1",
                    "--role",
                    "viewer",
                    "--password-stdin",
                ]
            )
    finally:
        sys.stdin = old
    rows = s.store.conn.execute("SELECT * FROM audit_log").fetchall()
    text = "\n".join(repr(tuple(row)) for row in rows)
    assert len(rows) > 50
    assert text.count(CANARY) == 0
    assert "A. Assessor" not in text
    assert "C-1" not in text
    out, err = capsys.readouterr()
    assert CANARY not in caplog.text + out + err
    assert (
        CANARY
        in s.store.conn.execute("SELECT group_concat(document) FROM assessments").fetchone()[0]
    )


def test_every_audit_action_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert set(ACTION_MEANING) == set(AuditAction)
    for action, meaning in ACTION_MEANING.items():
        assert f"| `{action.value}` | {meaning} |" in readme, action
