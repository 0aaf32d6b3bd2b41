"""The `Store` protocol: what the service needs from a database, whatever engine stands behind it.

A store hands out transactions: `write()` is one atomic unit of work (the business change and
its audit entry commit together or not at all), `read()` one consistent snapshot. A transaction
groups repositories by table group (users, teams, sessions, cases, assessments, formulations,
signatures) and appends audit entries; every method speaks in typed records (`records.py`),
never rows, and no SQL crosses this line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from instrument.access import Role
from instrument.assessment import Assessment
from instrument.audit import AuditEntry, AuditEvent, Verification
from instrument.formulation import Formulation, Review
from instrument.store.records import (
    AssessmentRecord,
    BackupReport,
    CasePage,
    CaseQuery,
    CaseRecord,
    FieldChange,
    FieldChangeRecord,
    SessionRecord,
    StoredSignature,
    UserRecord,
    VersionSummary,
)
from instrument.vocabulary import AssessmentStatus, Pathway


class Teams(Protocol):
    """The teams."""

    def id_of(self, name: str) -> int | None:
        """Return the id of the team with this name, or None."""

    def add(self, name: str, now: dt.datetime) -> int:
        """Add a team and return its id."""

    def names(self) -> list[str]:
        """Return every team name, in order."""


class Users(Protocol):
    """The users, their password hashes and lockout counters."""

    def get(self, user_id: int) -> UserRecord | None:
        """Return a user by id, or None."""

    def find(self, username: str) -> UserRecord | None:
        """Return a user by username (any case), or None."""

    def any(self) -> bool:
        """Return whether any user exists."""

    def all(self) -> list[UserRecord]:
        """Return every user in username order."""

    def names(self) -> dict[int, str]:
        """Return every user's username by id."""

    def add(
        self, username: str, role: Role, team_id: int, password_hash: str, now: dt.datetime
    ) -> int:
        """Add a user and return its id."""

    def clear_failures(self, user_id: int) -> None:
        """Reset the failure count and the lockouts (a good sign-in, an unlock)."""

    def set_failures(self, user_id: int, failures: int) -> None:
        """Record the number of consecutive failures."""

    def lock(self, user_id: int, until: dt.datetime) -> None:
        """Lock the account until a time, count the lockout, reset the failure count."""

    def confirm(self, user_id: int, now: dt.datetime) -> None:
        """Record a password re-entry now (and reset the failure count)."""

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the stored password hash (a rehash with new parameters)."""

    def set_role(self, user_id: int, role: Role) -> None:
        """Change a user's role."""

    def set_team(self, user_id: int, team_id: int) -> None:
        """Move a user to another team."""

    def deactivate(self, user_id: int) -> None:
        """Deactivate a user."""

    def other_active_admins(self, user_id: int) -> int:
        """Return how many active administrators there are besides this user."""


class Sessions(Protocol):
    """The server-side sessions, keyed by the hash of their id."""

    def find_open(self, key: str) -> SessionRecord | None:
        """Return an open session with its user, or None."""

    def add(self, key: str, user_id: int, now: dt.datetime) -> None:
        """Open a session."""

    def touch(self, key: str, now: dt.datetime) -> None:
        """Record that a session was used now."""

    def end(self, key: str, now: dt.datetime, reason: str) -> None:
        """End one session with a reason."""

    def end_all(self, user_id: int, now: dt.datetime, reason: str) -> None:
        """End every open session of a user."""


class Cases(Protocol):
    """The cases and the case list."""

    def find(self, reference: str, team: str | None) -> list[CaseRecord]:
        """Return the cases with this reference, in one team or in all."""

    def get(self, case_id: int) -> CaseRecord | None:
        """Return a case by id, or None."""

    def in_team(self, team_id: int, reference: str) -> CaseRecord | None:
        """Return the case with this reference in a team, or None."""

    def add(
        self,
        team_id: int,
        reference: str,
        pathway: Pathway,
        created_by: int | None,
        now: dt.datetime,
    ) -> int:
        """Add a case with no assessment and return its id."""

    def search(self, query: CaseQuery, *, limit: int | None = None, offset: int = 0) -> CasePage:
        """Return one page of the matching cases (reference order) and how many match in all."""


class Assessments(Protocol):
    """The assessment versions of cases: drafts change, finals are frozen."""

    def get(self, case_id: int, version: int) -> AssessmentRecord | None:
        """Return one version of a case, or None."""

    def all(self, case_id: int) -> list[AssessmentRecord]:
        """Return every version of a case, oldest first."""

    def versions(self, case_id: int) -> list[VersionSummary]:
        """Return the history of a case (no documents), oldest first."""

    def open_draft(self, case_id: int) -> int | None:
        """Return the version number of the case's open draft, or None."""

    def is_final(self, case_id: int, version: int) -> bool:
        """Return whether this version of the case exists and is final."""

    def amended_by(self, case_id: int, version: int) -> int | None:
        """Return the version that replaces this one, or None."""

    def replaced(self, case_id: int, upto: int) -> set[int]:
        """Return the versions replaced by an amendment numbered `upto` or lower."""

    def finals_before(self, case_id: int, version: int) -> list[AssessmentRecord]:
        """Return the final versions before `version`, newest first."""

    def add(
        self,
        case_id: int,
        assessment: Assessment,
        review: Review,
        *,
        status: AssessmentStatus,
        by: int | None,
        saved_at: dt.datetime,
        now: dt.datetime,
    ) -> int:
        """Add a version (numbered as its document says) and return its id."""

    def save_draft(
        self,
        record: AssessmentRecord,
        assessment: Assessment,
        review: Review,
        *,
        by: int | None,
        now: dt.datetime,
    ) -> bool:
        """Store a draft's next revision; False when it changed meanwhile or is final."""

    def finalise(
        self,
        record: AssessmentRecord,
        final: Assessment,
        sha256: str,
        *,
        by: int | None,
        now: dt.datetime,
    ) -> None:
        """Freeze a draft as final with the hash of its document."""


class Formulations(Protocol):
    """The formulations stored with final versions."""

    def get(self, assessment_id: int) -> Formulation | None:
        """Return the stored formulation of a version, or None."""

    def add(
        self,
        case_id: int,
        assessment_id: int,
        formulation: Formulation,
        sha256: str,
        now: dt.datetime,
    ) -> None:
        """Store the formulation of a final version."""


class Signatures(Protocol):
    """The signatures on final versions."""

    def add(
        self,
        assessment_id: int,
        *,
        user_id: int | None,
        signer: str,
        meaning: str,
        at: dt.datetime,
        sha256: str,
        imported: bool = False,
    ) -> None:
        """Record a signature."""

    def has(self, assessment_id: int, meaning: str, user_id: int | None) -> bool:
        """Return whether this user already signed the version with this meaning."""

    def for_case(self, case_id: int) -> list[StoredSignature]:
        """Return every signature on the versions of a case, in the order they were made."""


class RenderedDocuments(Protocol):
    """The kept reports and charts of final formulations, keyed by the formulation's hash."""

    def get(self, key: str, kind: str) -> bytes | None:
        """Return the kept document of this key and kind (`html`, `pdf`, `png`, `svg`), or None."""

    def add(self, key: str, kind: str, content: bytes, now: dt.datetime) -> None:
        """Keep a document; keeping the same key and kind again changes nothing."""


class FieldHistory(Protocol):
    """Which field of a draft each save changed (content kept here, never in the audit log)."""

    def record(
        self,
        assessment_id: int,
        revision: int,
        changes: Sequence[FieldChange],
        *,
        by: int | None,
        now: dt.datetime,
    ) -> None:
        """Store the fields one save changed, as made by revision `revision`."""

    def for_version(self, assessment_id: int) -> list[FieldChangeRecord]:
        """Return every recorded change of one version, oldest first."""


class Transaction(Protocol):
    """One unit of work: the repositories, and the audit log to append to."""

    @property
    def teams(self) -> Teams:
        """The teams."""

    @property
    def users(self) -> Users:
        """The users."""

    @property
    def sessions(self) -> Sessions:
        """The sessions."""

    @property
    def cases(self) -> Cases:
        """The cases."""

    @property
    def assessments(self) -> Assessments:
        """The assessment versions."""

    @property
    def formulations(self) -> Formulations:
        """The stored formulations."""

    @property
    def signatures(self) -> Signatures:
        """The signatures."""

    @property
    def rendered(self) -> RenderedDocuments:
        """The kept reports and charts of final formulations."""

    @property
    def history(self) -> FieldHistory:
        """The field history of drafts."""

    def audit(self, event: AuditEvent) -> AuditEntry:
        """Append an event to the audit chain, in this transaction."""


class Store(Protocol):
    """One open database: transactions, the audit log, backups."""

    @property
    def path(self) -> Path:
        """The database's location (a file for SQLite)."""

    @property
    def unsafe(self) -> str | None:
        """Why writes are refused (a failed integrity check), or None."""

    def write(self) -> AbstractContextManager[Transaction]:
        """Open a write transaction: committed when the block ends, rolled back on an error."""

    def read(self) -> AbstractContextManager[Transaction]:
        """Open a read snapshot."""

    def audit_only(self, event: AuditEvent) -> None:
        """Record an event that changes nothing else, in its own write."""

    def audit_entries(
        self,
        *,
        action: str | None = None,
        actor_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """Return audit entries in seq order (or newest first), optionally filtered."""

    def verify_audit(self) -> Verification:
        """Check the whole audit chain against the recorded head."""

    def backup(self, out: Path) -> BackupReport:
        """Write a verified copy of the database."""

    def close(self) -> None:
        """Close the database."""
