"""What the store gives back: frozen, typed records, never database rows.

Times are timezone-aware UTC datetimes, choices are the vocabulary's enums. An assessment
version's documents are kept as the stored JSON text and parsed once, on first use, so that a
caller who only needs the revision pays nothing for a large document.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from instrument.access import Role
from instrument.assessment import Assessment
from instrument.formulation import Review
from instrument.plan import DeliveredSession, InterventionStatus, Plan, PlanSignature, PlanStatus
from instrument.vocabulary import AssessmentStatus, Pathway


@dataclass(frozen=True)
class UserRecord:
    """A stored user, with the password hash and the lockout counters."""

    id: int
    username: str
    role: Role
    team_id: int
    team: str
    password_hash: str
    active: bool
    failed_count: int
    lockouts: int
    locked_until: dt.datetime | None
    confirmed_at: dt.datetime | None
    must_change: bool = False


@dataclass(frozen=True)
class SessionRecord:
    """An open (not ended) session with its user as the database knows them now."""

    key: str
    user_id: int
    username: str
    role: Role
    team: str
    active: bool
    created_at: dt.datetime
    last_seen_at: dt.datetime
    confirmed_at: dt.datetime | None = None
    must_change: bool = False


# Stored as a case's top priority when its final formulation offers no area.
NO_AREA_OFFERED = "no-area-offered"
# The plan column of a case closed without a plan by the assessor's "no intervention indicated".
NO_INTERVENTION = InterventionStatus.NO_INTERVENTION.value


@dataclass(frozen=True)
class CaseRecord:
    """A stored case: ids, reference, pathway and its version counters."""

    id: int
    team_id: int
    team: str
    reference: str
    pathway: Pathway
    latest_version: int
    latest_final: int | None


@dataclass(frozen=True)
class CaseSummary:
    """One line of the case list: the case with its latest version's summary columns.

    `assessor` is the latest version's first assessor, None when the list hides names.
    """

    reference: str
    pathway: Pathway
    team: str
    status: AssessmentStatus | None
    latest_version: int | None
    last_assessed: dt.date | None
    assessor: str | None
    top_priority: str | None
    # True when the newest final formulation offers no area: the list says "no area offered",
    # never a tie-order winner (the stored top priority is then `NO_AREA_OFFERED`).
    no_area_offered: bool = False
    plan_status: str | None = None
    next_review_on: dt.date | None = None
    review_due: bool = False


@dataclass(frozen=True)
class CaseQuery:
    """Which cases a list asks for: one team or all, and the filters (None: any).

    `names=False` leaves the assessor's name out of every row (viewers). `today` says which
    plans are past their review date (`review_due` on each row); `review_due=True` keeps only those.
    """

    team: str | None = None
    text: str | None = None
    pathway: Pathway | None = None
    status: AssessmentStatus | None = None
    assessor: str | None = None
    names: bool = True
    today: dt.date | None = None
    review_due: bool = False


@dataclass(frozen=True)
class CasePage:
    """One page of the case list and how many cases match in all."""

    rows: tuple[CaseSummary, ...]
    total: int


@dataclass(frozen=True)
class VersionSummary:
    """An assessment version as the history lists it (no documents)."""

    id: int
    version: int
    status: AssessmentStatus
    revision: int
    assessed_on: dt.date | None
    replaces: int | None
    saved_by: str | None
    saved_at: dt.datetime


@dataclass(frozen=True)
class AssessmentRecord:
    """A stored assessment version with its document and review.

    `saved_by` is the username of who saved it last, None when the system did.
    """

    id: int
    case_id: int
    version: int
    status: AssessmentStatus
    revision: int
    sha256: str | None
    replaces: int | None
    saved_by: str | None
    saved_at: dt.datetime
    document_json: str = field(repr=False)
    review_json: str = field(repr=False)

    @cached_property
    def assessment(self) -> Assessment:
        """Return the assessment document (parsed once)."""
        return Assessment.model_validate_json(self.document_json)

    @cached_property
    def review(self) -> Review:
        """Return the assessor's review of this version (parsed once)."""
        return Review.model_validate_json(self.review_json)

    @property
    def final(self) -> bool:
        """Return whether this version is finalised (and so frozen)."""
        return self.status is AssessmentStatus.FINAL


@dataclass(frozen=True)
class StoredSignature:
    """A signature on an assessment version: its meaning, who and when."""

    assessment_id: int
    user_id: int | None
    signer: str
    meaning: str
    signed_at: dt.datetime
    imported: bool
    role: Role | None = None
    """The signer's role as the users table holds it now (None for a signer not on record)."""
    imported_by: str | None = None
    imported_at: dt.datetime | None = None


@dataclass(frozen=True)
class FieldChange:
    """One field of a draft that a save changed: its JSON path, the value before and after.

    Values are JSON text (`null` when the field was absent); paths are those of the assessment
    document (`$.ratings.ID3.evidence`) or of the review (`$.review.narratives.presenting`).
    """

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class FieldChangeRecord:
    """A stored field change: the revision it made, the field, before and after, who and when."""

    revision: int
    path: str
    before: str
    after: str
    changed_by: str | None
    changed_at: dt.datetime


@dataclass(frozen=True)
class BackupReport:
    """What a verified backup holds: its path and the row count of each table."""

    path: Path
    counts: dict[str, int]


@dataclass(frozen=True)
class PlanRecord:
    """A stored plan version: its status, revision, who saved it last, and its document."""

    id: int
    case_id: int
    version: int
    status: PlanStatus
    revision: int
    saved_by: str | None
    saved_at: dt.datetime
    document_json: str = field(repr=False)
    signatures: tuple[PlanSignature, ...] = ()

    @cached_property
    def plan(self) -> Plan:
        """Return the plan document with its signatures (parsed once)."""
        plan = Plan.model_validate_json(self.document_json)
        return plan.model_copy(update={"signatures": list(self.signatures)})

    @property
    def agreed(self) -> bool:
        """Return whether this version is agreed (and so frozen)."""
        return self.status is PlanStatus.AGREED


@dataclass(frozen=True)
class DeliveryRecord:
    """A stored delivery log entry: its number, revision, who saved it last, and its document."""

    id: int
    case_id: int
    number: int
    revision: int
    saved_by: str | None
    saved_at: dt.datetime
    document_json: str = field(repr=False)

    @cached_property
    def entry(self) -> DeliveredSession:
        """Return the log entry (parsed once)."""
        return DeliveredSession.model_validate_json(self.document_json)
