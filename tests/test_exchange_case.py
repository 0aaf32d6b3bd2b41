"""The case export: every worked case round-trips export → import → export, byte for byte."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.definitions import catalogue
from instrument.errors import ConflictError, DocumentError
from instrument.exchange.case import case_json, parse_case
from instrument.formulation import Review
from instrument.schemas import validator_for
from tests.store_support import PASSWORD, Team, make_team

WORKED = Path(__file__).resolve().parent.parent / "formulations"


def _cases() -> dict[str, list[Path]]:
    grouped: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(WORKED.glob("*.assessment.json")):
        reference = json.loads(path.read_text(encoding="utf-8"))["case"]["reference"]
        grouped[reference].append(path)
    return dict(grouped)


CASES = _cases()


def _load_into(team: Team, files: list[Path]) -> str:
    s, pat = team.service, team.psychologist
    reference = ""
    for path in files:
        draft = s.import_assessment(pat, path.read_bytes())
        reference, version = draft.reference, draft.version
        review_file = path.with_name(path.name.replace(".assessment.", ".review."))
        if review_file.exists():
            review = Review.model_validate_json(review_file.read_text(encoding="utf-8"))
            for area, override in review.overrides.items():
                draft = s.set_override(
                    pat, reference, version, area, override.band, override.rationale
                )
            for heading, text in review.narratives.items():
                draft = s.save_narrative(
                    pat, reference, version, heading, text, base_revision=draft.revision
                )
        if not s.finalisation_problems(pat, reference, version):
            s.confirm_password(pat, PASSWORD)
            s.finalise(pat, reference, version)
    return reference


def test_there_are_worked_cases() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("reference", list(CASES))
def test_a_worked_case_round_trips(tmp_path: Path, reference: str) -> None:
    first = make_team(tmp_path / "a.db")
    assert _load_into(first, CASES[reference]) == reference
    first.service.confirm_password(first.psychologist, PASSWORD)
    exported = first.service.export_case(first.psychologist, reference)
    validator_for("case").validate(exported)
    statuses = [v["assessment"]["assessment"]["status"] for v in exported["versions"]]
    assert "final" in statuses
    text = case_json(exported)
    second = make_team(tmp_path / "b.db")
    result = second.service.import_case(second.psychologist, text.encode("utf-8"))
    assert result.versions == tuple(range(1, len(statuses) + 1))
    second.service.confirm_password(second.psychologist, PASSWORD)
    again = second.service.export_case(second.psychologist, reference)
    assert case_json(again) == text
    for version, status in enumerate(statuses, 1):
        if status == "final":
            assert second.service.formulation(second.psychologist, reference, version) == (
                first.service.formulation(first.psychologist, reference, version)
            )
    with pytest.raises(ConflictError, match="already exists"):
        second.service.import_case(second.psychologist, text.encode("utf-8"))


def test_a_changed_export_is_refused_with_a_path(tmp_path: Path) -> None:
    team = make_team(tmp_path / "c.db")
    reference = _load_into(team, CASES["WC-02"])
    team.service.confirm_password(team.psychologist, PASSWORD)
    exported = team.service.export_case(team.psychologist, reference)
    exported["versions"][0]["assessment"]["ratings"]["ID1"]["presence"] = "no"
    exported["versions"][0]["assessment"]["ratings"]["ID1"].pop("relevance", None)
    with pytest.raises(DocumentError) as refused:
        parse_case(case_json(exported).encode(), catalogue())
    assert "$.versions[0].formulation.header.assessment_sha256" in str(refused.value)
    before = team.service.store.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    with pytest.raises(DocumentError):
        team.service.import_case(SYSTEM, case_json(exported).encode(), "south")
    assert team.service.store.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == before
