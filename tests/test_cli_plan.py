"""CLI parity for the plan: the case export carries it (byte for byte), `cases` shows its state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from instrument.plan import ProgressChange
from tests.plan_support import entry, finalised_case, plan_team
from tests.store_support import PASSWORD, Clock, dump
from tests.test_cli_store import cli

T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def _case_with_a_plan(db: Path) -> None:
    clock = Clock(T0)
    team, fay, fred, _ = plan_team(db, clock)
    s = team.service
    finalised_case(s, team.psychologist, "C-1")
    draft = s.start_plan(
        fay,
        "C-1",
        facilitators=["fay", "fred"],
        frequency={"sessions": 1, "per": "week"},
        review_on=T0.date() + dt.timedelta(days=42),
        approach_goals=[{"good": "relatedness", "goal": "Rejoin the club — «fictional»."}],
    )
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", draft.version)
    s.confirm_password(fred, PASSWORD)
    s.agree_plan(fred, "C-1", draft.version)
    sessions = [p.session for p in draft.plan.sessions]
    for n in range(3):
        clock.advance(days=7)
        s.log_session(fay, "C-1", entry(clock.now.date(), sessions[n]))
    focus = draft.plan.focus
    s.record_review(
        fred,
        "C-1",
        {
            "reviewed_on": clock.now.date().isoformat(),
            "by": ["fay", "fred"],
            "progress": [
                {"area": a, "change": ProgressChange.SOME.value, "evidence": "Fictional."}
                for a in focus
            ],
            "decision": "continues",
            "next_review_on": (clock.now.date() + dt.timedelta(days=28)).isoformat(),
        },
    )
    s.close()


def test_cases_json_shows_plan_status_and_next_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "p.db"
    _case_with_a_plan(db)
    code, out, err = cli(capsys, monkeypatch, "cases", "--db", str(db), "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["plan_status"] == "agreed"
    assert row["next_review_on"] == "2026-10-20"
    assert row["review_due"] is True  # today is past 20 October 2026
    code, out, _ = cli(capsys, monkeypatch, "cases", "--db", str(db), "--review-due", "--json")
    assert [r["reference"] for r in json.loads(out)] == ["C-1"]
    code, out, _ = cli(capsys, monkeypatch, "cases", "--db", str(db))
    assert "agreed, review 2026-10-20 (due)" in out


def test_the_case_export_round_trips_the_plan_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "p.db"
    _case_with_a_plan(db)
    code, first, err = cli(capsys, monkeypatch, "export", "--db", str(db), "--case", "C-1")
    assert code == 0, err
    document = json.loads(first)
    assert [p["plan"]["status"] for p in document["plans"]] == ["agreed"]
    assert [s["by"] for s in document["plans"][0]["signatures"]] == ["fay", "fred"]
    assert len(document["delivery"]) == 3
    assert document["reviews"][0]["decision"] == "continues"
    exported = tmp_path / "c-1.case.json"
    exported.write_text(first, encoding="utf-8")
    other = tmp_path / "other.db"
    code, _, err = cli(capsys, monkeypatch, "import", "--db", str(other), str(exported))
    assert code == 0, err
    code, second, err = cli(capsys, monkeypatch, "export", "--db", str(other), "--case", "C-1")
    assert code == 0, err
    # Byte for byte but the signature: the other installation signs with its own key.
    again = json.loads(second)
    assert again["signature"]["installation"] != document["signature"]["installation"]
    assert {**again, "signature": None} == {**document, "signature": None}
    assert second.count("\n") == first.count("\n")
    code, out, _ = cli(capsys, monkeypatch, "cases", "--db", str(other), "--json")
    assert json.loads(out)[0]["plan_status"] == "agreed"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["delivery"][0].update(plan_version=7), "$.delivery[0].plan_version"),
        (lambda d: d["delivery"][1].update(number=5), "$.delivery[1].number"),
        (lambda d: d["plans"][0].update(signatures=[]), "$.plans[0].signatures"),
        (
            lambda d: d["plans"][0]["plan"].update(assessment_version=4),
            "$.plans[0].plan.assessment_version",
        ),
        (
            lambda d: d["reviews"][0]["progress"][0].update(change="better"),
            "$.reviews[0].progress[0].change",
        ),
        (lambda d: d["delivery"][0].update(attendance="maybe"), "$.delivery[0].attendance"),
    ],
    ids=[
        "plan-version",
        "numbering",
        "unsigned-agreed",
        "assessment-version",
        "change",
        "attendance",
    ],
)
def test_a_forged_plan_in_an_export_is_refused_with_its_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: object,
    where: str,
) -> None:
    db = tmp_path / "p.db"
    _case_with_a_plan(db)
    _, first, _ = cli(capsys, monkeypatch, "export", "--db", str(db), "--case", "C-1")
    document = json.loads(first)
    change(document)  # type: ignore[operator]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document), encoding="utf-8")
    other = tmp_path / "other.db"
    cli(capsys, monkeypatch, "cases", "--db", str(other))
    before = dump(other)
    code, _, err = cli(capsys, monkeypatch, "import", "--db", str(other), str(forged))
    assert code == 2
    assert where in err
    assert "Traceback" not in err
    assert [line for line in dump(other) if "audit_" not in line] == [
        line for line in before if "audit_" not in line
    ]
