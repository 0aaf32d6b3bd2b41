"""The intervention plan's documents: the plan, its delivery log and its progress reviews.

A plan is a versioned record on a case, like an assessment: a `draft` is edited, then `agreed`
(signed by one of its facilitators, and frozen); a change after that is an amendment, a new
draft version that names the version it replaces and why. Delivered sessions and progress
reviews are records of their own, each numbered from 1 within the case.

Free text here (reasons, adaptations, session notes, review evidence) is evidence-level: it is
never audited and viewers never see it (SECURITY.md 17, 29).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import CaseInfo, InstrumentRef
from instrument.vocabulary import AreaId, Good, ItemId, SessionId, ShortText, Text

MAX_FACILITATORS = 2
MAX_SESSIONS = 60
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanStatus(StrEnum):
    """The life-cycle state of a plan version: `draft` while edited, `agreed` once signed."""

    DRAFT = "draft"
    AGREED = "agreed"


class Period(StrEnum):
    """The period a planned frequency counts sessions in."""

    WEEK = "week"
    FORTNIGHT = "fortnight"
    MONTH = "month"


class Attendance(StrEnum):
    """Whether a planned session took place with the participant."""

    ATTENDED = "attended"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    DID_NOT_ATTEND = "did-not-attend"


class Engagement(StrEnum):
    """The participant's engagement in a session, as the facilitator saw it (never a score)."""

    LITTLE = "little"
    SOME = "some"
    GOOD = "good"


class ProgressChange(StrEnum):
    """The change the facilitators see in a focus area at a review."""

    WORSE = "worse"
    NONE = "none"
    SOME = "some"
    MARKED = "marked"


class Decision(StrEnum):
    """What a review decides for the plan."""

    CONTINUES = "continues"
    CHANGES = "changes"
    ENDS = "ends"


class Ending(StrEnum):
    """Why a plan ended."""

    COMPLETED = "completed"
    DISENGAGED = "disengaged"
    TRANSFERRED = "transferred"
    OTHER = "other"


class Frequency(_Frozen):
    """How often sessions are planned, e.g. one a week."""

    sessions: int = Field(ge=1, le=7, description="Sessions in each period, 1 to 7.")
    per: Period = Field(description="The period: `week`, `fortnight` or `month`.")


class PlannedSession(_Frozen):
    """A catalogue session chosen for the plan, in the order it is planned."""

    session: SessionId = Field(description="The catalogue session id, e.g. `identity.1`.")
    reason: Text | None = Field(
        default=None,
        description="Why the session was added although the suggestion did not include it.",
    )


class DroppedSession(_Frozen):
    """A suggested session the facilitators left out, and why."""

    session: SessionId = Field(description="The suggested session left out.")
    reason: Text | None = Field(
        default=None, description="Why it was left out (required; hidden from viewers)."
    )


class ApproachGoal(_Frozen):
    """A Good Lives approach goal: a good the participant seeks and a lawful way to meet it."""

    good: Good | None = Field(
        default=None,
        description="The good it serves, e.g. `relatedness`; absent for a goal carried from the "
        "judgement's Good Lives panel, which names none.",
    )
    goal: Text | None = Field(
        default=None, description="The goal, in the participant's terms (hidden from viewers)."
    )


class Adaptation(_Frozen):
    """An adaptation to delivery carried from the assessment's responsivity notes."""

    responsivity: ItemId = Field(description="The responsivity id, e.g. `RS1`.")
    adaptation: Text | None = Field(
        default=None, description="How delivery adapts (hidden from viewers)."
    )


class PlanSignature(_Frozen):
    """A signature on an agreed plan version."""

    meaning: str = Field(pattern=r"^agreed by$", description="Always `agreed by`.")
    by: ShortText = Field(description="The signer's username.")
    at: dt.datetime = Field(description="When it was signed (UTC, ISO 8601).")


class PlanInfo(_Frozen):
    """The plan version: number, status, what it builds on, and amendment details."""

    version: int = Field(ge=1, description="The plan version within the case, from 1.")
    status: PlanStatus = Field(description="`draft` while edited, `agreed` once signed.")
    assessment_version: int = Field(
        ge=1, description="The final assessment version whose formulation the plan builds on."
    )
    created_on: dt.date = Field(description="When this version was started.")
    agreed_on: dt.date | None = Field(default=None, description="When it was agreed and signed.")
    replaces: int | None = Field(
        default=None, ge=1, description="For an amendment: the agreed version it replaces."
    )
    amendment_reason: Text | None = Field(
        default=None, description="For an amendment: why the agreed plan was changed."
    )


class Plan(_Frozen):
    """A tailored intervention plan: who delivers which sessions, how often, until which review."""

    instrument: InstrumentRef = Field(description="The definition whose catalogue is used.")
    case: CaseInfo = Field(description="The case the plan belongs to.")
    plan: PlanInfo = Field(description="Version, status and provenance.")
    facilitators: list[ShortText] = Field(
        min_length=1,
        max_length=MAX_FACILITATORS,
        description="The usernames of the one or two facilitators, of the case's team.",
    )
    focus: list[AreaId] = Field(
        max_length=6, description="The areas the plan works on, from the formulation's focus."
    )
    sessions: list[PlannedSession] = Field(
        max_length=MAX_SESSIONS, description="The chosen sessions, in planned order."
    )
    dropped: list[DroppedSession] = Field(
        default_factory=list, description="Suggested sessions left out, each with a reason."
    )
    order_reason: Text | None = Field(
        default=None,
        description="Why the order departs from the suggestion (foundation sessions first).",
    )
    approach_goals: list[ApproachGoal] = Field(
        default_factory=list, max_length=22, description="Good Lives approach goals."
    )
    frequency: Frequency = Field(description="How often sessions are planned.")
    adaptations: list[Adaptation] = Field(
        default_factory=list, description="Adaptations to delivery, from the assessment."
    )
    review_on: dt.date = Field(description="When progress is first reviewed.")
    signatures: list[PlanSignature] = Field(
        default_factory=list, description="Who agreed the plan (agreed versions only)."
    )


class DeliveredSession(_Frozen):
    """One entry of the delivery log: a session that took place, or was declined or missed."""

    number: int = Field(ge=1, description="The entry's number within the case, from 1.")
    plan_version: int = Field(ge=1, description="The agreed plan version it was delivered under.")
    date: dt.date = Field(description="When the session took place or was due.")
    facilitators: list[ShortText] = Field(
        min_length=1, max_length=MAX_FACILITATORS, description="The facilitators present."
    )
    sessions: list[SessionId] = Field(
        default_factory=list, max_length=6, description="The catalogue sessions covered or due."
    )
    attendance: Attendance = Field(description="Attended, declined, cancelled or did not attend.")
    reason: Text | None = Field(
        default=None, description="Why the session did not take place (required unless attended)."
    )
    duration_minutes: int | None = Field(
        default=None, ge=1, le=480, description="How long the session lasted, in minutes."
    )
    engagement: Engagement | None = Field(
        default=None, description="The participant's engagement as the facilitator saw it."
    )
    notes: Text | None = Field(
        default=None, description="The facilitator's notes: evidence-level, never shown to viewers."
    )


class AreaProgress(_Frozen):
    """The change seen in one focus area at a review, with the evidence for it."""

    area: AreaId = Field(description="The focus area.")
    change: ProgressChange = Field(description="`worse`, `none`, `some` or `marked`.")
    evidence: Text | None = Field(
        default=None, description="What the facilitators saw (required; hidden from viewers)."
    )


class ProgressReview(_Frozen):
    """A progress review of the plan: change per focus area and what happens next."""

    number: int = Field(ge=1, description="The review's number within the case, from 1.")
    plan_version: int = Field(ge=1, description="The agreed plan version reviewed.")
    reviewed_on: dt.date = Field(description="When the review took place.")
    by: list[ShortText] = Field(
        min_length=1, max_length=MAX_FACILITATORS, description="Who reviewed (usernames)."
    )
    progress: list[AreaProgress] = Field(description="One entry per focus area of the plan.")
    decision: Decision = Field(description="Whether the plan continues, changes or ends.")
    ending: Ending | None = Field(
        default=None, description="Why the plan ends (only when the decision is `ends`)."
    )
    ending_reason: Text | None = Field(
        default=None, description="What `other` means here (required for `other`)."
    )
    next_review_on: dt.date | None = Field(
        default=None, description="The next review (required unless the plan ends)."
    )


class SuggestedSession(_Frozen):
    """A session the plan suggests, and why: its area and the driving items it addresses."""

    session: SessionId = Field(description="The catalogue session id.")
    title: ShortText = Field(description="The session's title.")
    area: AreaId | None = Field(description="The focus area, or none for a foundation session.")
    addresses: list[ItemId] = Field(description="The area's driving items the session addresses.")


class AreaGoals(_Frozen):
    """The Good Lives goods an area's work serves, and the approach goals written for them."""

    area: AreaId = Field(description="The focus area.")
    goods: list[Good] = Field(description="The goods the area's work serves.")
    approach_goals: list[ApproachGoal] = Field(description="Approach goals for those goods.")


class Suggestion(_Frozen):
    """What the formulation suggests: focus areas, sessions in order, and goals beside them."""

    focus: list[AreaId] = Field(description="The focus areas, in order.")
    drivers: dict[AreaId, list[ItemId]] = Field(description="The items driving each focus area.")
    sessions: list[SuggestedSession] = Field(description="Foundation sessions first, then areas.")
    goals: list[AreaGoals] = Field(description="Good Lives goods and goals beside each area.")
