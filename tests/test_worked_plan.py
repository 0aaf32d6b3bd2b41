"""WC-10: a worked case from referral to a completed intervention, kept as a golden case export.

`pytest --update-golden` rewrites `formulations/plans/wc-10-intervention.case.json`; review the
diff. The file is a case export (`instrument import` reads it): both assessments with their
formulations and signatures, the plan agreed by two facilitators, eight logged sessions (one
declined), the review that ended the plan as completed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from instrument.access import SYSTEM
from instrument.definitions import current_instrument
from instrument.errors import NotFoundError
from instrument.exchange.case import case_json
from instrument.plan import InterventionStatus, side_by_side
from tests.plan_support import plan_team
from tests.store_support import PASSWORD, Clock, open_service
from tests.worked_plan import REFERENCE, SCENE, build

GOLDEN = (
    Path(__file__).resolve().parent.parent
    / "formulations"
    / "plans"
    / "wc-10-intervention.case.json"
)


def _export(tmp_path: Path) -> str:
    clock = Clock(dt.datetime.combine(SCENE.first_assessed, dt.time(9, 0), tzinfo=dt.UTC))
    team, fay, fred, _ = plan_team(tmp_path / "wc10.db", clock)
    build(team.service, team.psychologist, fay, fred, clock, PASSWORD)
    return _unsigned(team.service.export_case(SYSTEM, REFERENCE, team="north"))


def _unsigned(export: dict[str, Any]) -> str:
    """Return the export without its installation signature (each test database has its own key)."""
    return case_json({k: v for k, v in export.items() if k != "signature"})


def test_the_worked_case_matches_its_golden_export(tmp_path: Path, update_golden: bool) -> None:
    text = _export(tmp_path)
    if update_golden:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "run pytest --update-golden tests/test_worked_plan.py"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "WC-10 changed: run pytest --update-golden tests/test_worked_plan.py and review the diff"
    )


def test_the_worked_case_tells_the_story(tmp_path: Path) -> None:
    document = json.loads(_export(tmp_path))
    assert [v["assessment"]["assessment"]["status"] for v in document["versions"]] == [
        "final",
        "final",
    ]
    (plan,) = document["plans"]
    assert plan["facilitators"] == ["fay", "fred"]
    assert [s["by"] for s in plan["signatures"]] == ["fay", "fred"]
    assert len(document["delivery"]) == 8
    assert [d["attendance"] for d in document["delivery"]].count("declined") == 1
    (review,) = document["reviews"]
    assert (review["decision"], review["ending"]) == ("ends", "completed")
    # The reassessment shows change in the plan's focus areas, read beside the progress.
    from instrument.case import CaseExport
    from instrument.plan import Plan, ProgressReview

    export = CaseExport.model_validate(document)
    second = export.versions[1].formulation
    assert second is not None
    rows = side_by_side(
        current_instrument(),
        Plan.model_validate(plan),
        [ProgressReview.model_validate(review)],
        second,
    )
    assert any(r.band_before != r.band_after for r in rows)
    assert all(r.progress is not None for r in rows)


def test_the_golden_export_imports_and_exports_byte_for_byte(tmp_path: Path) -> None:
    service = open_service(tmp_path / "import.db")
    result = service.import_document(SYSTEM, GOLDEN.read_bytes())
    assert result.reference == REFERENCE
    again = _unsigned(service.export_case(SYSTEM, REFERENCE))
    assert again == GOLDEN.read_text(encoding="utf-8")
    (row,) = service.list_cases(SYSTEM)
    assert row.plan_status == InterventionStatus.ENDED.value
    assert row.review_due is False


@pytest.mark.parametrize("text", ["Seen across the sessions", "The participant took part"])
def test_the_worked_case_keeps_to_general_fictional_text(text: str) -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert text in golden
    for word in ("weapon", "explosive", "target", "attack"):
        assert word not in golden.lower()


def test_the_plan_page_reads_the_reassessment_beside_the_progress(tmp_path: Path) -> None:
    clock = Clock(dt.datetime.combine(SCENE.first_assessed, dt.time(9, 0), tzinfo=dt.UTC))
    team, fay, fred, sid = plan_team(tmp_path / "wc10.db", clock)
    build(team.service, team.psychologist, fay, fred, clock, PASSWORD)
    for who in (fay, team.viewer):
        rows = team.service.change_beside_progress(who, REFERENCE)
        assert [r.area for r in rows] == [
            "susceptibility-awareness",
            "identity",
            "indoctrination-resilience",
        ]
        assert [(r.band_before, r.band_after) for r in rows] == [
            ("high", "moderate"),
            ("high", "low"),
            ("moderate", "low"),
        ]
        assert [r.progress for r in rows] == ["marked", "some", "some"]
    with pytest.raises(NotFoundError):
        team.service.change_beside_progress(sid, REFERENCE)
