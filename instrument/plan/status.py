"""Where a case's intervention stands: plan status, the next review, what was delivered.

Pure readings of the stored records, computed for the case list, the CLI (`cases --json`), the
plan page, the charts and the report. `today` is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from instrument.definition import Instrument
from instrument.formulation import Formulation
from instrument.plan.document import (
    Attendance,
    DeliveredSession,
    Ending,
    Plan,
    PlanStatus,
    ProgressChange,
    ProgressReview,
)
from instrument.plan.rules import (
    FOUNDATION,
    area_of,
    ended_by,
    redact_delivery,
    redact_plan,
    redact_review,
)
from instrument.vocabulary import Band


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InterventionStatus(StrEnum):
    """Where a case's intervention stands."""

    NONE = "none"
    NO_INTERVENTION = "no-intervention"
    DRAFT = "draft"
    AGREED = "agreed"
    ENDED = "ended"


class PlanState(_Frozen):
    """The reading of a case's plan records that the case list and `cases --json` show."""

    status: InterventionStatus = Field(description="none, no-intervention, draft, agreed, ended.")
    version: int | None = Field(default=None, description="The latest plan version.")
    agreed_version: int | None = Field(default=None, description="The current agreed version.")
    ending: Ending | None = Field(default=None, description="Why the plan ended.")
    next_review_on: dt.date | None = Field(default=None, description="The next review date.")
    review_due: bool = Field(description="True when the next review date has passed.")
    attendance: dict[Attendance, int] = Field(description="Logged sessions by attendance.")


def current_agreed(plans: Sequence[Plan]) -> Plan | None:
    """Return the latest agreed plan version (the one sessions are delivered under)."""
    agreed = [p for p in plans if p.plan.status is PlanStatus.AGREED]
    return max(agreed, key=lambda p: p.plan.version) if agreed else None


def next_review(plans: Sequence[Plan], reviews: Sequence[ProgressReview]) -> dt.date | None:
    """Return the next review date: the latest review's, unless a later plan version set one."""
    plan = current_agreed(plans)
    if plan is None or ended_by(reviews, plan.plan.version) is not None:
        return None
    under = [r for r in reviews if r.plan_version == plan.plan.version]
    if under:
        return max(under, key=lambda r: r.number).next_review_on
    return plan.review_on


def plan_state(
    plans: Sequence[Plan],
    delivered: Sequence[DeliveredSession],
    reviews: Sequence[ProgressReview],
    *,
    today: dt.date,
    no_intervention: bool = False,
) -> PlanState:
    """Return the state of a case's intervention; `review_due` when its review date has passed.

    `no_intervention` is the assessor's summary judgement "no intervention indicated": it closes
    the case without a plan (a plan made anyway still shows as the plan).
    """
    counts = {a: sum(1 for d in delivered if d.attendance is a) for a in Attendance}
    latest = max(plans, key=lambda p: p.plan.version) if plans else None
    agreed = current_agreed(plans)
    ending = ended_by(reviews, agreed.plan.version) if agreed is not None else None
    due_on = next_review(plans, reviews)
    if latest is None:
        status = InterventionStatus.NO_INTERVENTION if no_intervention else InterventionStatus.NONE
    elif latest.plan.status is PlanStatus.DRAFT and (agreed is None or ending is not None):
        status = InterventionStatus.DRAFT  # a first draft, or an amendment after the plan ended
    elif ending is not None:
        status = InterventionStatus.ENDED
    else:
        status = InterventionStatus.AGREED
    return PlanState(
        status=status,
        version=latest.plan.version if latest else None,
        agreed_version=agreed.plan.version if agreed else None,
        ending=ending.ending if ending else None,
        next_review_on=due_on,
        review_due=due_on is not None and today > due_on,
        attendance=counts,
    )


class TimelineRow(_Frozen):
    """One session of the delivery log on the timeline: when, which area, attendance."""

    number: int = Field(description="The log entry's number.")
    date: dt.date = Field(description="The session's date.")
    area: str = Field(description="The area id, `foundation`, or `unspecified`.")
    area_name: str = Field(description="The area's name for the chart.")
    session: str = Field(description="The catalogue session id, or empty.")
    title: str = Field(description="The session's title, or empty.")
    attendance: Attendance = Field(description="Attended, declined, cancelled, did not attend.")


def timeline(instrument: Instrument, delivered: Sequence[DeliveredSession]) -> list[TimelineRow]:
    """Return the timeline of delivered sessions: one row per catalogue session covered."""
    names = {area.id: area.name for area in instrument.areas} | {FOUNDATION: "Foundation"}
    rows = []
    for entry in sorted(delivered, key=lambda d: (d.date, d.number)):
        for session in entry.sessions or [""]:
            area = area_of(session) if session else "unspecified"
            found = instrument.session_by_id.get(session)
            rows.append(
                TimelineRow(
                    number=entry.number,
                    date=entry.date,
                    area=area,
                    area_name=names.get(area, "Unspecified"),
                    session=session,
                    title=found.title if found else "",
                    attendance=entry.attendance,
                )
            )
    return rows


CHANGE_ORDER: dict[ProgressChange, int] = {
    ProgressChange.WORSE: -1,
    ProgressChange.NONE: 0,
    ProgressChange.SOME: 1,
    ProgressChange.MARKED: 2,
}


class ProgressRow(_Frozen):
    """The change seen in one focus area at one review."""

    review: int = Field(description="The review's number.")
    reviewed_on: dt.date = Field(description="The review's date.")
    area: str = Field(description="The area id.")
    area_name: str = Field(description="The area's name.")
    change: ProgressChange = Field(description="worse, none, some, marked.")
    step: int = Field(description="The change as a step: -1 worse, 0 none, 1 some, 2 marked.")


def progress_rows(instrument: Instrument, reviews: Sequence[ProgressReview]) -> list[ProgressRow]:
    """Return progress per area over the reviews, oldest first."""
    names = {area.id: area.name for area in instrument.areas}
    return [
        ProgressRow(
            review=review.number,
            reviewed_on=review.reviewed_on,
            area=p.area,
            area_name=names.get(p.area, p.area),
            change=p.change,
            step=CHANGE_ORDER[p.change],
        )
        for review in sorted(reviews, key=lambda r: r.number)
        for p in review.progress
    ]


class AreaSideBySide(_Frozen):
    """A focus area read two ways: the band change between assessments, the change in sessions."""

    area: str = Field(description="The area id.")
    area_name: str = Field(description="The area's name.")
    band_before: Band | None = Field(default=None, description="Band at the earlier assessment.")
    band_after: Band | None = Field(default=None, description="Band at the reassessment.")
    progress: ProgressChange | None = Field(default=None, description="The latest review's view.")
    reviewed_on: dt.date | None = Field(default=None, description="When that review took place.")


def side_by_side(
    instrument: Instrument,
    plan: Plan,
    reviews: Sequence[ProgressReview],
    reassessment: Formulation | None,
) -> list[AreaSideBySide]:
    """Return, per focus area of the plan, the change in the formulation beside the progress.

    `reassessment` is the formulation of an assessment version after the one the plan builds on;
    its `change` (against the previous final version) gives the bands before and after.
    """
    names = {area.id: area.name for area in instrument.areas}
    change = None
    if (
        reassessment is not None
        and reassessment.change is not None
        and reassessment.header.assessment_version > plan.plan.assessment_version
    ):
        change = {a.area: a for a in reassessment.change.areas}
    latest = max(reviews, key=lambda r: r.number) if reviews else None
    seen = {p.area: p.change for p in latest.progress} if latest else {}
    rows = []
    for area in plan.focus:
        moved = change.get(area) if change else None
        rows.append(
            AreaSideBySide(
                area=area,
                area_name=names.get(area, area),
                band_before=moved.band_before if moved else None,
                band_after=moved.band_after if moved else None,
                progress=seen.get(area),
                reviewed_on=latest.reviewed_on if latest and area in seen else None,
            )
        )
    return rows


class CasePlan(_Frozen):
    """Everything of a case's intervention: plan versions, the delivery log, reviews, state."""

    plans: list[Plan] = Field(description="Every plan version, oldest first.")
    delivery: list[DeliveredSession] = Field(description="The delivery log, oldest first.")
    reviews: list[ProgressReview] = Field(description="The progress reviews, oldest first.")
    state: PlanState = Field(description="Where the intervention stands.")
    redacted: bool = Field(default=False, description="True when free text and names are out.")

    @property
    def latest(self) -> Plan | None:
        """Return the latest plan version (a draft amendment, or the agreed plan)."""
        return self.plans[-1] if self.plans else None

    @property
    def agreed(self) -> Plan | None:
        """Return the current agreed plan version."""
        return current_agreed(self.plans)


def redact_case_plan(case_plan: CasePlan) -> CasePlan:
    """Return the case's plan records without free text or names, for viewers (SECURITY.md 29)."""
    known: list[str] = []
    for plan in case_plan.plans:
        known += [name for name in plan.facilitators if name not in known]
    return case_plan.model_copy(
        update={
            "plans": [redact_plan(p) for p in case_plan.plans],
            "delivery": [redact_delivery(d, known) for d in case_plan.delivery],
            "reviews": [redact_review(r, known) for r in case_plan.reviews],
            "redacted": True,
        }
    )


def plan_only(case_plan: CasePlan) -> CasePlan:
    """Return the records for the participant's file: the plan, attendance and change, no evidence.

    Session notes, the reasons a session did not take place, review evidence and every reason
    written about departing from the suggestion are left out; the facilitators, the sessions,
    the approach goals and the adaptations to delivery stay.
    """
    plans = [
        p.model_copy(
            update={
                "plan": p.plan.model_copy(update={"amendment_reason": None}),
                "sessions": [s.model_copy(update={"reason": None}) for s in p.sessions],
                "dropped": [d.model_copy(update={"reason": None}) for d in p.dropped],
                "order_reason": None,
            }
        )
        for p in case_plan.plans
    ]
    return case_plan.model_copy(
        update={
            "plans": plans,
            "delivery": [
                d.model_copy(update={"notes": None, "reason": None}) for d in case_plan.delivery
            ],
            "reviews": [
                r.model_copy(
                    update={
                        "progress": [p.model_copy(update={"evidence": None}) for p in r.progress],
                        "ending_reason": None,
                    }
                )
                for r in case_plan.reviews
            ],
            "redacted": True,
        }
    )
