"""The plan in documents made through the service: the Word report, the plan-only report.

A canary typed into the assessment's evidence, a session's notes and reason, and a review's
evidence must reach the full reports of those who may read them, and never the "plan only"
report for the participant's file, in any format.
"""

from __future__ import annotations

import datetime as dt

import pytest

from instrument.service.documents import PLAN_FORMATS, formulation_document, plan_report
from tests.plan_support import entry, finalised_case, plan_team
from tests.store_support import PASSWORD, Clock
from tests.test_report import docx_text, pdf_text

CANARY = "CANARY-7f3"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A finalised case with an agreed plan, two sessions (one declined) and a review."""
    clock = Clock()
    team, fay, fred, _ = plan_team(tmp_path_factory.mktemp("docs") / "p.db", clock)
    s = team.service
    finalised_case(s, team.psychologist, "C-1", evidence=f"Evidence {CANARY}.")
    s.start_plan(
        fay,
        "C-1",
        facilitators=["fay", "fred"],
        frequency={"sessions": 1, "per": "week"},
        review_on=TODAY + dt.timedelta(days=56),
        approach_goals=[{"good": "relatedness", "goal": "Rejoin the club."}],
    )
    s.confirm_password(fay, PASSWORD)
    agreed = s.agree_plan(fay, "C-1", 1)
    sessions = [p.session for p in agreed.plan.sessions]
    s.log_session(fay, "C-1", entry(TODAY, sessions[0], notes=f"Notes {CANARY}."))
    s.log_session(
        fay,
        "C-1",
        entry(
            TODAY,
            sessions[1],
            attendance="declined",
            reason=f"Reason {CANARY}.",
            duration_minutes=None,
            engagement=None,
            notes=None,
        ),
    )
    s.record_review(
        fred,
        "C-1",
        {
            "reviewed_on": TODAY.isoformat(),
            "by": ["fay", "fred"],
            "progress": [
                {"area": a, "change": "some", "evidence": f"Review {CANARY}."}
                for a in agreed.plan.focus
            ],
            "decision": "continues",
            "next_review_on": (TODAY + dt.timedelta(days=28)).isoformat(),
        },
    )
    return team, fay


def _text(fmt: str, content: bytes) -> str:
    if fmt == "pdf":
        return " ".join(pdf_text(content).split())
    if fmt == "docx":
        return docx_text(content)
    return content.decode("utf-8")


def test_the_word_report_of_a_stored_version_carries_the_plan(delivered) -> None:  # type: ignore[no-untyped-def]
    team, _ = delivered
    s = team.service
    pat = team.psychologist
    s.confirm_password(pat, PASSWORD)
    words = docx_text(formulation_document(s, pat, "C-1", 1, "docx"))
    assert "Intervention plan" in words
    assert "Review 1, 2026-11-23: the plan continues" in words
    assert f"Notes {CANARY}." in words  # the psychologist reads the session notes
    assert "fay, fred" in words
    # The viewer's Word report: the plan without free text or names.
    s.confirm_password(team.viewer, PASSWORD)
    seen = docx_text(formulation_document(s, team.viewer, "C-1", 1, "docx"))
    assert "Intervention plan" in seen
    assert CANARY not in seen
    assert "fay" not in seen


@pytest.mark.parametrize("fmt", PLAN_FORMATS)
def test_the_plan_only_report_carries_no_notes_or_evidence(delivered, fmt: str) -> None:  # type: ignore[no-untyped-def]
    team, fay = delivered
    s = team.service
    s.confirm_password(fay, PASSWORD)
    exported = s.export_plan(fay, "C-1", plan_only=True)
    instrument = s.plan_instrument(exported.plans[-1])
    text = _text(fmt, plan_report(instrument, exported, fmt))
    assert CANARY not in text
    assert "Rejoin the club." in text
    assert "declined" in text
    # Records exported whole (with notes) still give a plan-only report without them.
    whole = s.export_plan(fay, "C-1")
    assert any(d.notes for d in whole.delivery)
    assert CANARY not in _text(fmt, plan_report(instrument, whole, fmt))


def test_the_plan_only_report_is_an_audited_export(delivered) -> None:  # type: ignore[no-untyped-def]
    team, fay = delivered
    s = team.service
    s.confirm_password(fay, PASSWORD)
    count = len(s.store.conn.execute("SELECT 1 FROM audit_log WHERE action = 'export'").fetchall())  # type: ignore[attr-defined]
    s.export_plan(fay, "C-1", plan_only=True)
    after = len(s.store.conn.execute("SELECT 1 FROM audit_log WHERE action = 'export'").fetchall())  # type: ignore[attr-defined]
    assert after == count + 1


@pytest.mark.parametrize("fmt", PLAN_FORMATS)
def test_a_viewers_plan_only_report_has_no_free_text_and_no_names(delivered, fmt: str) -> None:  # type: ignore[no-untyped-def]
    team, _ = delivered
    s = team.service
    s.confirm_password(team.viewer, PASSWORD)
    exported = s.export_plan(team.viewer, "C-1", plan_only=True)
    text = _text(fmt, plan_report(s.plan_instrument(exported.plans[-1]), exported, fmt))
    assert CANARY not in text
    assert "Rejoin the club." not in text  # the goal's text is free text: not for viewers
    assert "fay" not in text
    assert "facilitator 1" in text
