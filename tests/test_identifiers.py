"""SECURITY.md 32: identifiers are exact, unique without regard to case; no control or bidi
characters in any text field (issue 11, item 11)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from instrument.access import SYSTEM
from instrument.definitions import catalogue
from instrument.errors import ConflictError, DocumentError
from instrument.exchange.assessments import parse_assessment
from instrument.formulation import Review, apply_override, set_narrative
from instrument.ui import form
from instrument.vocabulary import is_case_reference
from tests.conftest import assessment_document
from tests.store_support import PASSWORD, Team, complete, make_team

FORBIDDEN = {
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "delete": "\x7f",
    "c1-next-line": "\x85",
    "right-to-left-override": "\u202e",
    "left-to-right-embedding": "\u202a",
    "first-strong-isolate": "\u2068",
    "pop-directional-isolate": "\u2069",
    "right-to-left-mark": "\u200f",
    "arabic-letter-mark": "\u061c",
}


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "db.sqlite")


@pytest.mark.parametrize(
    "reference",
    ["C-1\n", "C-1\r\n", "a/../../etc/x", "../x", ".hidden", "a/", "a//b", "a..b", "x" * 41, ""],
)
def test_req32_reference_not_exact_is_refused(team: Team, reference: str) -> None:
    assert not is_case_reference(reference)
    with pytest.raises(DocumentError, match="case reference"):
        team.service.create_case(team.psychologist, reference, "engaged")
    with pytest.raises(DocumentError) as caught:
        parse_assessment(
            json.dumps(
                assessment_document(case={"reference": reference, "pathway": "engaged"})
            ).encode(),
            catalogue(),
        )
    assert "$.case.reference" in [p.where for p in caught.value.problems()]


@pytest.mark.parametrize("reference", ["C-0001", "WC/2026.3", "north_7-b", "A"])
def test_req32_plain_references_still_pass(team: Team, reference: str) -> None:
    assert is_case_reference(reference)
    team.service.create_case(team.psychologist, reference, "engaged")


def test_req32_references_unique_without_regard_to_case(team: Team) -> None:
    team.service.create_case(team.psychologist, "C-1", "engaged")
    with pytest.raises(ConflictError, match="already exists"):
        team.service.create_case(team.psychologist, "c-1", "engaged")


@pytest.mark.parametrize("username", ["newuser\n", "new user", "newuser\x00", "ne"[:1]])
def test_req32_username_not_exact_is_refused(team: Team, username: str) -> None:
    with pytest.raises(DocumentError, match="username"):
        team.service.add_user(SYSTEM, username, "viewer", PASSWORD, "north")


def test_req32_usernames_unique_without_regard_to_case(team: Team) -> None:
    with pytest.raises(ConflictError, match="taken"):
        team.service.add_user(SYSTEM, "PAT", "viewer", PASSWORD, "north")


def test_req32_team_name_with_trailing_newline_refused(team: Team) -> None:
    with pytest.raises(DocumentError, match="team name"):
        team.service.add_team(SYSTEM, "east\n")


def _document_with(field: str, text: str) -> dict[str, Any]:
    document = assessment_document()
    if field == "evidence":
        document["ratings"]["ID1"]["evidence"] = text
    elif field == "note":
        document["responsivity"]["RS1"]["note"] = text
    elif field == "adaptation":
        document["responsivity"]["RS1"]["adaptation"] = text
    elif field == "notes":
        document["notes"] = text
    elif field == "assessor":
        document["assessment"]["assessors"][0]["name"] = text
    return document


FIELD_PATHS = {
    "evidence": "$.ratings.ID1.evidence",
    "note": "$.responsivity.RS1.note",
    "adaptation": "$.responsivity.RS1.adaptation",
    "notes": "$.notes",
    "assessor": "$.assessment.assessors[0].name",
}


@pytest.mark.parametrize("field", sorted(FIELD_PATHS))
@pytest.mark.parametrize("character", sorted(FORBIDDEN))
def test_req32_control_and_bidi_refused_in_every_document_text_field(
    field: str, character: str
) -> None:
    text = f"The participant {FORBIDDEN[character]}said so."
    with pytest.raises(DocumentError) as caught:
        parse_assessment(json.dumps(_document_with(field, text)).encode(), catalogue())
    problems = {p.where: p.message for p in caught.value.problems()}
    assert FIELD_PATHS[field] in problems
    assert "bidirectional character" in problems[FIELD_PATHS[field]]


def test_req32_line_breaks_stay_allowed_in_free_text_but_not_in_names() -> None:
    parse_assessment(
        json.dumps(_document_with("evidence", "One.\nTwo.\r\n\tThree.")).encode(), catalogue()
    )
    with pytest.raises(DocumentError, match="line break"):
        parse_assessment(
            json.dumps(_document_with("assessor", "A.\nAssessor")).encode(), catalogue()
        )


@pytest.mark.parametrize("character", sorted(FORBIDDEN))
def test_req32_control_and_bidi_refused_in_review_text(character: str) -> None:
    bad = f"A rationale long enough to count {FORBIDDEN[character]} here."
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with pytest.raises(DocumentError, match="bidirectional"):
        apply_override(Review(), "identity", "high", bad, "pat", at)
    with pytest.raises(DocumentError, match="bidirectional"):
        apply_override(Review(), "identity", "high", "A" * 30, f"p{FORBIDDEN[character]}at", at)
    with pytest.raises(DocumentError, match="bidirectional"):
        set_narrative(Review(), "presenting", bad)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda t: form.rating_from_fields("no", None, t, [], None), "evidence"),
        (lambda t: form.note_from_fields("yes", t, None), "note"),
        (lambda t: form.note_from_fields("yes", None, t), "adaptation"),
        (lambda t: form.assessors_from_rows([(t, "psychologist")]), "assessor's name"),
    ],
)
def test_req32_form_fields_refuse_bidi_with_a_message(
    build: Callable[[str], Any], field: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        build("Looks \u202eright")
    assert caught.value.where == field
    assert "U+202E" in caught.value.message


def test_req32_amendment_reason_refuses_bidi(team: Team, instrument: Any) -> None:
    service, pat = team.service, team.psychologist
    service.create_case(pat, "C-9", "engaged")
    draft = service.start_assessment(pat, "C-9")
    complete(service, pat, "C-9", draft.version, instrument)
    service.confirm_password(pat, PASSWORD)
    service.finalise(pat, "C-9", draft.version)
    with pytest.raises(DocumentError, match="bidirectional"):
        service.amend(pat, "C-9", draft.version, "New facts \u2066arrived\u2069 today.")
