"""SECURITY.md 25 (files): everything the app creates is 0600, folders 0700 (issue 11, item 4).

Run through the command line, as an operator runs it: a database in a new folder, its WAL, the
audit key, and a backup in another new folder. The library also tightens files an older
version (or a wide umask) left readable.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from instrument.access import SYSTEM
from instrument.store.files import database_files
from tests.store_support import PASSWORD, open_service

REPO = Path(__file__).resolve().parent.parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.umask(0o022); from instrument.cli import main; main()",
            *args,
        ],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("INSTRUMENT_")},
    )


def test_req25_files_and_folders_the_cli_creates_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new-folder" / "instrument.db"
    added = _run(
        "users", "add", "--db", str(db), "--username", "pat", "--role", "psychologist",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    backup_path = tmp_path / "backups" / "copy.db"
    backed = _run("backup", "--db", str(db), str(backup_path))
    assert backed.returncode == 0, backed.stderr
    folders = [db.parent, backup_path.parent]
    files = [p for folder in folders for p in folder.iterdir()]
    assert db.with_name("instrument.db.key") in files
    assert backup_path in files
    assert {p.name for p in files} >= {"instrument.db", "instrument.db.key", "copy.db"}
    for folder in folders:
        assert _mode(folder) == 0o700, folder
    for path in files:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_req25_the_store_tightens_a_database_left_readable(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    service = open_service(db)
    service.close()
    for path in database_files(db):
        if path.exists():
            path.chmod(0o644)
    service = open_service(db)
    try:
        service.add_team(SYSTEM, "north")
        wal = db.with_name(db.name + "-wal")
        assert wal.exists()
        for path in database_files(db):
            if path.exists():
                assert _mode(path) == 0o600, path
    finally:
        service.close()
