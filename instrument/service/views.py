"""What the service returns: frozen views for the pages and the command line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from instrument.access import Role
from instrument.assessment import Assessment
from instrument.formulation import Review
from instrument.store.records import CaseSummary
from instrument.vocabulary import AssessmentStatus, Pathway


@dataclass(frozen=True)
class SignatureRow:
    """A signature on a final version: who (None for viewers), its meaning, when (UTC)."""

    meaning: str
    by: str | None
    at: dt.datetime
    role: str | None = None
    """The signer's role (None for viewers, and for a signer not on record)."""


@dataclass(frozen=True)
class FieldChangeRow:
    """One field a save of a draft changed: the revision it made, before and after, who, when.

    `field` is a JSON path (`$.ratings.ID3.evidence`, `$.review.narratives.presenting`);
    `before` and `after` are the values as JSON data, None when the field was absent.
    """

    revision: int
    field: str
    before: Any
    after: Any
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class VersionRow:
    """One assessment version of a case, as the history lists it."""

    version: int
    status: AssessmentStatus
    revision: int
    assessed_on: dt.date | None
    replaces: int | None
    saved_by: str | None
    saved_at: dt.datetime
    signatures: tuple[SignatureRow, ...] = ()


@dataclass(frozen=True)
class CaseView:
    """An opened case: reference, pathway, team and every version."""

    reference: str
    pathway: Pathway
    team: str
    versions: tuple[VersionRow, ...]

    @property
    def latest_version(self) -> int | None:
        """Return the newest version number, or None before the first assessment."""
        return self.versions[-1].version if self.versions else None

    @property
    def open_draft(self) -> int | None:
        """Return the version number of the open draft, if there is one."""
        drafts = [v.version for v in self.versions if v.status is AssessmentStatus.DRAFT]
        return drafts[-1] if drafts else None

    @property
    def latest_final(self) -> int | None:
        """Return the newest finalised version number, if any."""
        finals = [v.version for v in self.versions if v.status is AssessmentStatus.FINAL]
        return finals[-1] if finals else None


# One line of the case list is the store's record as it is: the list of a team of 10,000 cases
# is built once, not copied into a second type (that doubled its cost). The store leaves the
# assessor out itself when the query says names are hidden (viewers).
CaseRow = CaseSummary


@dataclass(frozen=True)
class CasePageView:
    """One page of the case list: its rows, how many cases match in all, and where it starts."""

    rows: tuple[CaseRow, ...]
    total: int
    offset: int
    limit: int

    @property
    def first(self) -> int:
        """Return the 1-based number of the first case on this page (0 when there are none)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """Return the 1-based number of the last case on this page (0 when there are none)."""
        return self.offset + len(self.rows)

    @property
    def has_previous(self) -> bool:
        """Return whether a page comes before this one."""
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        """Return whether a page comes after this one."""
        return self.offset + len(self.rows) < self.total


@dataclass(frozen=True)
class Draft:
    """An assessment version as stored: the document, its review, revision and who saved it."""

    reference: str
    version: int
    assessment: Assessment
    review: Review
    revision: int
    status: AssessmentStatus
    saved_by: str | None
    saved_at: dt.datetime
    replaces: int | None = None


@dataclass(frozen=True)
class UserRow:
    """A user as administrators see it (never the password hash)."""

    username: str
    role: Role
    team: str
    active: bool
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class AuditRow:
    """An audit entry as administrators read it, with the actor's username resolved."""

    seq: int
    at: dt.datetime
    username: str | None
    role: str | None
    action: str
    entity: str | None
    entity_id: int | None
    version: int | None
    outcome: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the case reference and team, and the versions it added."""

    reference: str
    team: str
    versions: tuple[int, ...]
    created_case: bool
