"""The `instrument` command, run as a user runs it: a subprocess, exit codes and output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assessment_document

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instrument", *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        cwd=REPO,
    )


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _doc(**changes: Any) -> str:
    return json.dumps(assessment_document(**changes))


def test_validate_a_valid_assessment(tmp_path: Path) -> None:
    result = run("validate", "assessment", str(_write(tmp_path, "ok.json", _doc())))
    assert result.returncode == 0, result.stderr
    assert "valid assessment" in result.stderr


def test_validate_the_shipped_instrument() -> None:
    result = run("validate", "instrument", "instrument/definitions/ifi-1.0.yaml")
    assert result.returncode == 0, result.stderr


BAD_INPUTS: list[tuple[str, str, bytes | str, str]] = [
    ("missing", "missing.json", b"", "$: file not found"),
    ("empty", "empty.json", b"", "$: the document is empty"),
    ("not-utf8", "latin.json", '{"notes": "café"}'.encode("latin-1"), "$: not UTF-8 text"),
    ("not-json", "text.json", "this is not json", "$: not valid JSON"),
    ("not-yaml", "text.yaml", "id: [unclosed", "$: not valid YAML"),
    ("top-level-array", "array.json", "[1, 2]", "$: the top level must be an object"),
    (
        "number-as-text",
        "types.json",
        _doc(assessment={"version": "3", "status": "draft"}),
        "$.assessment.version: \"3\" is not of type 'integer'",
    ),
    (
        "unknown-id",
        "unknown.json",
        _doc(ratings={"XX1": {"presence": "no"}}),
        "$.ratings.XX1: unknown item id 'XX1'",
    ),
    (
        "relevance-missing",
        "relevance.json",
        _doc(ratings={"ID1": {"presence": "yes"}}),
        "$.ratings.ID1.relevance: required when presence is 'yes'",
    ),
    ("duplicate-key", "dup.json", '{"case": {}, "case": {}}', "$.case: duplicate key 'case'"),
    (
        "nan",
        "nan.json",
        '{"assessment": {"version": NaN}}',
        "$.assessment.version: NaN is not allowed",
    ),
    (
        "long-string",
        "long.json",
        _doc(notes="x" * 20_001),
        "$.notes: text of 20,001 characters is longer than the limit of 20,000",
    ),
    (
        "control-character",
        "ctrl.json",
        _doc(case={"reference": "C-1\u0007", "pathway": "engaged"}),
        "$.case.reference: contains a line break or control or bidirectional character",
    ),
    ("too-large", "big.json", b" " * (5 * 1024 * 1024 + 1), "the limit is 5 MB"),
    ("deep-nesting", "deep.json", b"[" * 100_000 + b"]" * 100_000, "$: nesting is deeper than 32"),
]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [(b[1], b[2], b[3]) for b in BAD_INPUTS],
    ids=[b[0] for b in BAD_INPUTS],
)
def test_bad_input_exits_2_with_a_path(tmp_path: Path, name: str, data: Any, expected: str) -> None:
    path = tmp_path / name
    if not name.startswith("missing"):
        _write(tmp_path, name, data)
    kind = "instrument" if name.endswith(".yaml") else "assessment"
    started = time.perf_counter()
    result = run("validate", kind, str(path))
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert elapsed < 30  # generous: the point is that nothing hangs or recurses


def test_every_problem_on_its_own_line(tmp_path: Path) -> None:
    document = _doc(ratings={"ID1": {"presence": "yes"}, "XX1": {"presence": "no"}})
    result = run("validate", "assessment", str(_write(tmp_path, "two.json", document)))
    assert result.returncode == 2
    # Each line says where, what is wrong and how to fix it.
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0] == (
        "$.ratings.ID1.relevance: required when presence is 'yes' — rate relevance as low, "
        "moderate or high"
    )
    assert lines[1].startswith("$.ratings.XX1: unknown item id 'XX1' — ")


def test_usage_error_exits_2() -> None:
    result = run("validate", "nonsense", "x.json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_show_prints_domains_items_and_areas() -> None:
    result = run("show")
    assert result.returncode == 0
    for text in ("ID1", "PF8", "susceptibility-awareness", "entitlement-to-harm", "RS7"):
        assert text in result.stdout


def test_show_json_is_the_whole_definition() -> None:
    result = run("show", "--json")
    data = json.loads(result.stdout)
    assert (data["id"], data["version"]) == ("ifi", "1.1.0")  # the one new drafts use
    assert len(data["items"]) == 40
    older = json.loads(run("show", "--json", "--version", "1.0.0").stdout)
    assert (older["version"], len(older["items"])) == ("1.0.0", 35)
    missing = run("show", "--version", "9.9.9")
    assert missing.returncode == 2
    assert "ifi 9.9.9 is not installed" in missing.stderr


def test_every_command_has_help() -> None:
    from instrument.cli import cli

    for name, command in cli.commands.items():
        assert command.help, name
        assert run(name, "--help").returncode == 0


def test_every_command_is_in_the_readme() -> None:
    from instrument.cli import cli

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert re.search(rf"(^|[/`\s])instrument {name}\b(?! \|)", readme, re.MULTILINE), (
            f"`instrument {name}` is not shown in the README"
        )
