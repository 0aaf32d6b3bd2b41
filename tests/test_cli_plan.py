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


def _exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    db = tmp_path / "p.db"
    _case_with_a_plan(db)
    code, text, err = cli(capsys, monkeypatch, "export", "--db", str(db), "--case", "C-1")
    assert code == 0, err
    path = tmp_path / "c-1.case.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_case_export_round_trips_the_plan_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = _exported(tmp_path, capsys, monkeypatch)
    first = exported.read_text(encoding="utf-8")
    document = json.loads(first)
    assert [p["plan"]["status"] for p in document["plans"]] == ["agreed"]
    assert [s["by"] for s in document["plans"][0]["signatures"]] == ["fay", "fred"]
    assert len(document["delivery"]) == 3
    assert document["reviews"][0]["decision"] == "continues"
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
        (lambda d: d["delivery"][2].update(date="2099-01-01"), "$.delivery[2].date"),
        (lambda d: d["reviews"][0].update(reviewed_on="2099-01-01"), "$.reviews[0].reviewed_on"),
        (lambda d: d["delivery"][0].update(sessions=["identity.99"]), "$.delivery[0].sessions[0]"),
        (
            lambda d: d["delivery"].__setitem__(
                1,
                {
                    k: v
                    for k, v in d["delivery"][1].items()
                    if k not in ("duration_minutes", "engagement")
                }
                | {"attendance": "declined"},
            ),
            "$.delivery[1].reason",
        ),
    ],
    ids=[
        "plan-version",
        "numbering",
        "unsigned-agreed",
        "assessment-version",
        "change",
        "attendance",
        "session-in-the-future",
        "review-in-the-future",
        "unknown-session",
        "declined-without-reason",
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


def test_the_report_of_a_case_export_carries_its_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_report import docx_text

    exported = _exported(tmp_path, capsys, monkeypatch)
    html = tmp_path / "c-1.html"
    code, _, err = cli(capsys, monkeypatch, "report", str(exported), "-o", str(html))
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    assert 'id="plan"' in page
    assert "Fictional notes." in page  # the full report carries the session notes
    assert "Finalised by (signed elsewhere; as the case export file records it)" in page
    word = tmp_path / "c-1.docx"
    code, _, err = cli(capsys, monkeypatch, "report", str(exported), "-o", str(word))
    assert code == 0, err
    words = docx_text(word.read_bytes())
    assert "Intervention plan" in words
    assert "Review 1, " in words
    # --redact: no free text and no names, in the plan too.
    code, _, err = cli(capsys, monkeypatch, "report", str(exported), "--redact", "-o", str(html))
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    assert 'id="plan"' in page
    assert "Fictional notes." not in page
    assert "fay" not in page


@pytest.mark.parametrize("suffix", ["html", "pdf", "docx"])
def test_the_plan_only_report_of_a_case_export_has_no_notes_or_evidence(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    from tests.test_plan_documents import _text

    exported = _exported(tmp_path, capsys, monkeypatch)
    out = tmp_path / f"plan.{suffix}"
    code, _, err = cli(capsys, monkeypatch, "report", str(exported), "--plan-only", "-o", str(out))
    assert code == 0, err
    text = _text(suffix, out.read_bytes())
    assert "Sessions, in planned order" in text
    for canary in ("Fictional notes.", "Fictional evidence.", "Fictional."):
        assert canary not in text
    assert "Rejoin the club" in text


def test_bad_report_options_exit_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = _exported(tmp_path, capsys, monkeypatch)
    out = tmp_path / "r.html"
    formulation = Path(__file__).resolve().parent.parent / "formulations"
    formulation /= "wc-04-group-control.formulation.json"
    document = json.loads(exported.read_text(encoding="utf-8"))
    no_plan = tmp_path / "no-plan.json"
    no_plan.write_text(
        json.dumps(
            {
                k: v
                for k, v in document.items()
                if k not in ("plans", "delivery", "reviews", "signature")
            }
        ),
        encoding="utf-8",
    )
    cases = [
        ([str(exported), "--version", "2"], "--version: version 2 is not a final version"),
        ([str(exported), "--earlier", str(formulation)], "--earlier: a case export carries"),
        ([str(formulation), "--plan-only"], "--plan-only: "),
        ([str(formulation), "--version", "1"], "--version: "),
        ([str(no_plan), "--plan-only"], "$.plans: case C-1 has no intervention plan"),
        ([str(tmp_path / "missing.json")], "missing.json"),
    ]
    for args, said in cases:
        code, _, err = cli(capsys, monkeypatch, "report", *args, "-o", str(out))
        assert code == 2, args
        assert said in err, (args, err)
        assert "Traceback" not in err
        assert not out.exists()
