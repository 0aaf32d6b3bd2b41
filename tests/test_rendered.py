"""Kept renderings: a final formulation's report is drawn once, then read back through checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from instrument.definition import Instrument
from instrument.errors import AuthenticationError, NotFoundError
from instrument.service import documents
from instrument.service.documents import formulation_document
from instrument.store.sqlite import MIGRATIONS
from tests.store_support import PASSWORD, Team, complete, make_team

CASE = "C-KEEP"
CANARY = "Canary evidence that a viewer never sees."


@pytest.fixture
def team(tmp_path: Path, instrument: Instrument) -> Team:
    team = make_team(tmp_path / "k.db")
    s, pat = team.service, team.psychologist
    s.create_case(pat, CASE, "engaged")
    s.start_assessment(pat, CASE)
    complete(s, pat, CASE, 1, instrument, evidence=CANARY)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, CASE, 1)
    return team


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the reports and charts actually drawn (cheap stand-ins for the renderer)."""
    calls: list[str] = []

    def report(formulation: object, fmt: str, *, redact: bool = False, **_: object) -> bytes:
        calls.append(fmt)
        text = "redacted" if redact else str(formulation)
        return f"{fmt}:{len(calls)}:{text}".encode()

    def chart(formulation: object, name: str, fmt: str) -> bytes:
        calls.append(fmt)
        return f"{fmt}:{len(calls)}:{name}".encode()

    monkeypatch.setattr(documents, "report_bytes", report)
    monkeypatch.setattr(documents, "chart_bytes", chart)
    return calls


def kept_rows(team: Team) -> list[tuple[str, str]]:
    conn = sqlite3.connect(team.service.store.path)  # a raw look, outside the package
    try:
        return list(conn.execute("SELECT key, kind FROM rendered_documents ORDER BY id"))
    finally:
        conn.close()


def exports(team: Team) -> int:
    conn = sqlite3.connect(team.service.store.path)
    try:
        row = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_a_final_report_is_drawn_once_and_read_back(team: Team, drawn: list[str]) -> None:
    s, pat = team.service, team.psychologist
    first = formulation_document(s, pat, CASE, 1, "html")
    second = formulation_document(s, pat, CASE, 1, "html")
    assert second == first
    assert drawn == ["html"]
    pdf = formulation_document(s, pat, CASE, 1, "pdf")
    assert formulation_document(s, pat, CASE, 1, "pdf") == pdf
    assert formulation_document(s, pat, CASE, 1, "svg") == formulation_document(
        s, pat, CASE, 1, "svg"
    )
    assert drawn == ["html", "pdf", "svg"]
    assert [kind for _, kind in kept_rows(team)] == ["html", "pdf", "svg"]
    assert exports(team) == 6  # every download is an audited export, kept or drawn


def test_a_kept_report_still_needs_the_password_and_the_access(
    team: Team, drawn: list[str]
) -> None:
    s, pat, other = team.service, team.psychologist, team.other
    formulation_document(s, pat, CASE, 1, "html")
    team.clock.advance(minutes=6)
    with pytest.raises(AuthenticationError):
        formulation_document(s, pat, CASE, 1, "html")
    s.confirm_password(other, PASSWORD)
    with pytest.raises(NotFoundError):
        formulation_document(s, other, CASE, 1, "html")  # another team's case stays hidden
    assert drawn == ["html"]


def test_a_viewer_never_gets_the_kept_full_report(team: Team, drawn: list[str]) -> None:
    s, pat, vic = team.service, team.psychologist, team.viewer
    full = formulation_document(s, pat, CASE, 1, "html")
    s.confirm_password(vic, PASSWORD)
    redacted = formulation_document(s, vic, CASE, 1, "html")
    assert redacted != full
    assert b"redacted" in redacted
    assert formulation_document(s, vic, CASE, 1, "html") == redacted
    assert formulation_document(s, pat, CASE, 1, "html") == full
    keys = {key for key, _ in kept_rows(team)}
    assert len(keys) == 2  # one key for the full formulation, one for the redacted one


def test_a_drafts_report_is_never_kept(
    team: Team, drawn: list[str], instrument: Instrument
) -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, "C-DRAFT", "engaged")
    s.start_assessment(pat, "C-DRAFT")
    complete(s, pat, "C-DRAFT", 1, instrument)
    formulation_document(s, pat, "C-DRAFT", 1, "html")
    formulation_document(s, pat, "C-DRAFT", 1, "html")
    assert drawn == ["html", "html"]
    assert kept_rows(team) == []


def test_a_new_renderer_draws_anew(
    team: Team, drawn: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, pat = team.service, team.psychologist
    formulation_document(s, pat, CASE, 1, "html")
    monkeypatch.setattr(documents, "renderer_fingerprint", lambda: "a changed template")
    formulation_document(s, pat, CASE, 1, "html")
    assert drawn == ["html", "html"]
    assert len(kept_rows(team)) == 2


def test_the_real_report_is_kept_byte_for_byte(team: Team) -> None:
    s, pat = team.service, team.psychologist
    html = formulation_document(s, pat, CASE, 1, "html")
    assert html.startswith(b"<!DOCTYPE html>") or b"<html" in html[:200]
    assert CANARY.encode() in html
    assert formulation_document(s, pat, CASE, 1, "html") == html


def test_the_table_comes_from_a_numbered_migration() -> None:
    numbers = [number for number, _, _ in MIGRATIONS]
    assert numbers == sorted(numbers)
    assert any("rendered_documents" in " ".join(statements) for _, _, statements in MIGRATIONS)


def test_a_countersignature_draws_the_report_anew(team: Team, drawn: list[str]) -> None:
    s, pat, sam = team.service, team.psychologist, team.supervisor
    before = formulation_document(s, pat, CASE, 1, "html")
    s.confirm_password(sam, PASSWORD)
    s.countersign(sam, CASE, 1)
    after = formulation_document(s, pat, CASE, 1, "html")
    assert drawn == ["html", "html"]  # the sign-off block changed: not the kept one
    assert formulation_document(s, pat, CASE, 1, "html") == after != before
    assert drawn == ["html", "html"]
