"""The plan in the report, and the "plan only" report: escaped, redacted, no evidence."""

from __future__ import annotations

import datetime as dt

import pytest

from instrument.definition import Instrument
from instrument.definitions import get_instrument
from instrument.formulation import Formulation, formulate
from instrument.plan import (
    CasePlan,
    DeliveredSession,
    ProgressReview,
    plan_only,
    plan_state,
    redact_case_plan,
)
from instrument.report import render_html, render_plan_html
from tests.test_plan import TODAY, agreed, make_assessment, make_formulation
from tests.test_report import docx_text

PAYLOAD = "<img src=x onerror=alert(1)>CANARY"


@pytest.fixture(scope="module")
def v11() -> Instrument:
    return get_instrument("ifi", "1.1.0")


def case_plan(v11: Instrument) -> CasePlan:
    plan = agreed(v11)
    plan = plan.model_copy(
        update={
            "approach_goals": [
                g.model_copy(update={"goal": "Goal " + PAYLOAD}) for g in plan.approach_goals
            ]
        }
    )
    delivery = [
        DeliveredSession(
            number=n,
            plan_version=1,
            date=TODAY - dt.timedelta(days=7 * (9 - n)),
            facilitators=["fac-a", "fac-b"],
            sessions=[plan.sessions[n - 1].session],
            attendance="declined" if n == 3 else "attended",
            reason="Reason " + PAYLOAD if n == 3 else None,
            duration_minutes=None if n == 3 else 60,
            engagement=None if n == 3 else "good",
            notes="Notes " + PAYLOAD,
        )
        for n in range(1, 9)
    ]
    review = ProgressReview(
        number=1,
        plan_version=1,
        reviewed_on=TODAY,
        by=["fac-a", "fac-b"],
        progress=[
            {"area": a, "change": "some", "evidence": "Evidence " + PAYLOAD} for a in plan.focus
        ],
        decision="ends",
        ending="completed",
    )
    state = plan_state([plan], delivery, [review], today=TODAY)
    return CasePlan(plans=[plan], delivery=delivery, reviews=[review], state=state)


def reassessment(v11: Instrument) -> Formulation:
    """Return the formulation of a second assessment of the case (ID1 now present)."""
    before = make_assessment(v11)
    after = make_assessment(v11, version=2, yes=("ID1",))
    return formulate(v11, after, before, generated_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def test_the_report_shows_the_plan_delivery_and_review_escaped(v11: Instrument) -> None:
    html = render_html(reassessment(v11), plan=(v11, case_plan(v11)))
    assert 'id="plan"' in html
    assert 'id="delivery"' in html
    assert "Change in the formulation beside progress in the sessions" in html
    assert "CANARY" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;CANARY" in html
    assert "fac-a" in html
    assert html.count("declined") >= 1


def test_the_viewers_report_has_no_free_text_and_no_names(v11: Instrument) -> None:
    html = render_html(
        make_formulation(v11), redact=True, plan=(v11, redact_case_plan(case_plan(v11)))
    )
    assert "CANARY" not in html
    assert "fac-a" not in html
    assert "facilitator 1" in html


def test_the_plan_only_report_carries_no_evidence(v11: Instrument) -> None:
    html = render_plan_html(v11, plan_only(case_plan(v11)))
    assert "plan only: no evidence" in html
    for text in ("Notes ", "Reason ", "Evidence "):
        assert text + "&lt;img" not in html
    assert "Goal &lt;img" in html  # the approach goals belong to the participant's plan
    assert "Fictional evidence." not in html  # nothing of the assessment
    assert "<img src=x" not in html


def test_the_word_report_carries_the_plan_its_delivery_and_review(v11: Instrument) -> None:
    from instrument.report import render_docx

    words = docx_text(render_docx(reassessment(v11), plan=(v11, case_plan(v11))))
    for heading in ("Intervention plan", "Sessions, in planned order", "Delivery"):
        assert heading in words
    assert "Progress reviews" in words
    assert "Review 1, " in words
    assert "the plan ends (completed)" in words
    assert "Change in the formulation beside progress in the sessions" in words
    assert "fac-a, fac-b" in words
    assert "declined: Reason " + PAYLOAD in words  # typed text goes in as text
    assert "Notes " + PAYLOAD in words
    assert words.index("Intervention plan") < words.index("Sign-off")
    # Without a plan, the Word report has no plan section.
    assert "Intervention plan" not in docx_text(render_docx(make_formulation(v11)))


def test_the_viewers_word_report_has_no_free_text_and_no_names(v11: Instrument) -> None:
    from instrument.report import render_docx

    words = docx_text(
        render_docx(
            make_formulation(v11), redact=True, plan=(v11, redact_case_plan(case_plan(v11)))
        )
    )
    assert "Intervention plan" in words
    assert "CANARY" not in words
    assert "fac-a" not in words
    assert "facilitator 1" in words


@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_the_plan_only_report_never_carries_notes_or_evidence_in_any_format(
    v11: Instrument, fmt: str
) -> None:
    from instrument.service.documents import plan_report
    from tests.test_report import pdf_text

    # Even records passed in whole are stripped of evidence-level text (plan_report re-applies
    # plan_only), so no caller can put notes into the participant's file.
    content = plan_report(v11, case_plan(v11), fmt)  # type: ignore[arg-type]
    text = {
        "html": lambda b: b.decode("utf-8"),
        "pdf": lambda b: " ".join(pdf_text(b).split()),
        "docx": docx_text,
    }[fmt](content)
    for canary in ("Notes ", "Reason ", "Evidence "):
        assert canary + PAYLOAD not in text
        assert canary + "&lt;img" not in text
    assert "CANARY" in text  # the approach goal stays: it is the participant's plan
    assert "Fictional evidence." not in text
    assert "plan only" in text.lower()
    assert "Sessions, in planned order" in text
