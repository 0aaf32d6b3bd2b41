"""The store's commands: users add, import, export, cases, audit verify, backup."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from instrument.cli import main
from tests.store_support import PASSWORD, dump
from tests.test_cli import BAD_INPUTS

REPO = Path(__file__).resolve().parent.parent
WORKED = REPO / "formulations"


def cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_users_add_reads_the_password_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "u.db")
    code, _, err = cli(
        capsys,
        monkeypatch,
        "users",
        "add",
        "--db",
        db,
        "--username",
        "pat",
        "--role",
        "psychologist",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    code, _, err = cli(
        capsys,
        monkeypatch,
        "users",
        "add",
        "--db",
        db,
        "--username",
        "pat2",
        "--role",
        "psychologist",
        "--password-stdin",
        stdin="short\n",
    )
    assert code == 2
    assert "password: the password has 5 characters" in err
    code, _, err = cli(
        capsys,
        monkeypatch,
        "users",
        "add",
        "--db",
        db,
        "--username",
        "x3",
        "--role",
        "psychologist",
        "--team",
        "nowhere",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert code == 2
    assert "team 'nowhere' does not exist" in err
    assert "correct horse" not in err


def test_import_cases_export_and_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "i.db")
    files = sorted(str(p) for p in WORKED.glob("*.assessment.json") if "-v2" not in p.name)
    code, out, err = cli(capsys, monkeypatch, "import", "--db", db, *files)
    assert code == 0, err
    assert len(json.loads(out)) == len(files)
    code, out, _ = cli(capsys, monkeypatch, "cases", "--db", db, "--json")
    rows = json.loads(out)
    assert {r["reference"] for r in rows} >= {"WC-01", "WC-02"}
    assert all(r["status"] == "draft" for r in rows)
    code, out, err = cli(capsys, monkeypatch, "export", "--db", db, "--case", "WC-02")
    assert code == 0, err
    exported = json.loads(out)
    assert exported["format"] == "instrument-case"
    assert exported["versions"][0]["assessment"]["case"]["reference"] == "WC-02"
    code, _, err = cli(capsys, monkeypatch, "audit", "verify", "--db", db)
    assert code == 0
    assert "intact" in err
    code, _, err = cli(capsys, monkeypatch, "export", "--db", db, "--case", "NOPE")
    assert code == 2
    assert "reference: case NOPE was not found" in err


def test_the_same_reference_imports_as_a_new_draft_never_over_a_final(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "n.db")
    file = str(WORKED / "wc-02-grievance.assessment.json")
    assert cli(capsys, monkeypatch, "import", "--db", db, file)[0] == 0
    code, _, err = cli(capsys, monkeypatch, "import", "--db", db, file)
    assert code == 2
    assert "already has an open draft, version 1" in err


def test_backup_writes_a_verified_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "b.db")
    cli(capsys, monkeypatch, "import", "--db", db, str(WORKED / "wc-02-grievance.assessment.json"))
    code, out, err = cli(capsys, monkeypatch, "backup", "--db", db, str(tmp_path / "copy.db"))
    assert code == 0, err
    assert json.loads(out)["rows"]["cases"] == 1
    code, _, err = cli(capsys, monkeypatch, "backup", "--db", db, str(tmp_path / "copy.db"))
    assert code == 2
    assert "already exists" in err


@pytest.mark.parametrize(
    ("name", "data"), [(b[1], b[2]) for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_every_bad_input_through_import_changes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    data: Any,
) -> None:
    db = tmp_path / "bad.db"
    good = str(WORKED / "wc-02-grievance.assessment.json")
    assert cli(capsys, monkeypatch, "import", "--db", str(db), good)[0] == 0
    path = tmp_path / name
    if not name.startswith("missing"):
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    before = dump(db)
    code, out, err = cli(capsys, monkeypatch, "import", "--db", str(db), str(path))
    assert code == 2, err
    assert err.startswith(f"{path}: $")
    assert "Traceback" not in err
    assert out == ""
    assert dump(db) == before


def test_the_cli_runs_as_a_process(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "instrument",
            "users",
            "add",
            "--db",
            db,
            "--username",
            "pat",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "audit", "verify", "--db", db],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0
    assert "intact: 1 entries" in result.stderr
