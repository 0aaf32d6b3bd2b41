"""The plumbing every use case shares, written once: access check, transaction, audit entry.

`ServiceBase._operation` runs one operation: it refreshes the acting user from the database
(role and team may have changed), opens one store transaction (`write` or a read snapshot),
lets the use case do its work, and appends the operation's audit entry in the same
transaction. A refusal is audited too (in its own transaction, after the work rolled back):
`denied` for a role that may never do it, `not-found` for a case that does not exist *or
belongs to another team* (the two are indistinguishable, so existence is never revealed),
`conflict` for a stale revision or a frozen version, `failed` for a wrong password. Bad input
is refused with every problem and writes nothing at all, not even an audit entry
(SECURITY.md 18).

The shared steps of several use cases live here too: finding the case and version an actor may
act on, refusing a stale or final version, writing a draft's next revision or a new version.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from argon2 import PasswordHasher
from pydantic import ValidationError

from instrument.access import SYSTEM, Action, Actor, Resource, Role, can, may_ever
from instrument.assessment import Assessment, FieldMerge
from instrument.audit import AuditAction, AuditEvent, Entity, Outcome
from instrument.definition import Instrument
from instrument.definitions import Catalogue, catalogue
from instrument.errors import (
    AuthenticationError,
    ConflictError,
    DocumentError,
    InstrumentError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    StoreError,
)
from instrument.exchange.documents import model_problems
from instrument.formulation import Review
from instrument.service.views import Draft
from instrument.store import AssessmentRecord, CaseRecord, Store, Transaction, open_store
from instrument.vocabulary import CASE_REFERENCE_PATTERN, AssessmentStatus, Pathway

REENTRY_WINDOW = dt.timedelta(minutes=5)
DEFAULT_TEAM = "default"


def utc_now() -> dt.datetime:
    """Return the current time in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Op:
    """One audited operation: who, what, and the record it turned out to touch."""

    actor: Actor
    action: AuditAction
    now: dt.datetime
    entity: Entity | None = None
    entity_id: int | None = None
    version: int | None = None
    audit_ok: bool = True
    extra: list[AuditEvent] = field(default_factory=list)

    def event(self, outcome: Outcome, action: AuditAction | None = None) -> AuditEvent:
        """Return the audit event of this operation with the given outcome."""
        return AuditEvent(
            at=self.now,
            action=action or self.action,
            outcome=outcome,
            actor_id=self.actor.user_id,
            role=self.actor.role.value,
            entity=self.entity,
            entity_id=self.entity_id,
            version=self.version,
        )


_OUTCOMES: list[tuple[type[InstrumentError], Outcome]] = [
    (PermissionDeniedError, Outcome.DENIED),
    (NotFoundError, Outcome.NOT_FOUND),
    (ConflictError, Outcome.CONFLICT),
    (AuthenticationError, Outcome.FAILED),
]
# Bad input (`DocumentError`) is not audited: a refused document writes 0 rows (SECURITY.md 18).


def _outcome_of(error: InstrumentError) -> Outcome | None:
    for kind, outcome in _OUTCOMES:
        if isinstance(error, kind):
            return outcome
    return None


def document_error(error: ValidationError, prefix: str = "$") -> DocumentError:
    """Return a pydantic validation error as a `DocumentError` with JSON paths under `prefix`."""
    problems = model_problems(error)
    return DocumentError(
        [Problem(prefix + p.where.removeprefix("$"), p.message, p.fix) for p in problems]
    )


class ServiceBase:
    """The store, the clock and the password hasher, and the plumbing of every operation."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        hasher: PasswordHasher | None = None,
        definitions: Path | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.definitions_folder = definitions
        self._dummy: str | None = None

    @classmethod
    def open(
        cls,
        db_path: Path,
        *,
        key_path: Path | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        hasher: PasswordHasher | None = None,
        definitions: Path | None = None,
    ) -> Self:
        """Open the database (migrations, `quick_check`) and return the service over it.

        `definitions` is the folder of extra instrument definitions (`INSTRUMENT_DEFINITIONS`).
        """
        store = open_store(Path(db_path), key_path=key_path, now=clock())
        return cls(store, clock=clock, hasher=hasher, definitions=definitions)

    @property
    def definitions(self) -> Catalogue:
        """Return the installed definitions: the shipped ones and the extra folder's."""
        return catalogue(self.definitions_folder)

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def unsafe(self) -> str | None:
        """Return why writes are refused (a failed integrity check), or None when they are not."""
        return self.store.unsafe

    # --- one operation -------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(dt.UTC)

    @contextmanager
    def _operation(
        self, actor: Actor, action: AuditAction, *, write: bool = True, audit_ok: bool = True
    ) -> Iterator[tuple[Op, Transaction]]:
        """Run one operation: refresh the actor, do the work, audit it; audit any refusal."""
        op = Op(actor, action, self._now(), audit_ok=audit_ok and write)
        try:
            with self.store.write() if write else self.store.read() as tx:
                op.actor = self._fresh(tx, actor)
                yield op, tx
                if write:
                    for event in op.extra:
                        tx.audit(event)
                    if op.audit_ok:
                        tx.audit(op.event(Outcome.OK))
        except InstrumentError as error:
            outcome = _outcome_of(error)
            if outcome is not None and not isinstance(error, StoreError):
                self.store.audit_only(op.event(outcome))
            raise

    @staticmethod
    def _fresh(tx: Transaction, actor: Actor) -> Actor:
        """Return the actor as the database knows it now (role and team may have changed)."""
        if actor.role is Role.SYSTEM:
            if actor.user_id is not None:
                raise PermissionDeniedError("only the built-in system actor has the system role")
            return SYSTEM
        user = tx.users.get(actor.user_id) if actor.user_id is not None else None
        if user is None or not user.active:
            raise AuthenticationError("your account is not active; sign in again")
        return Actor(user.id, user.username, user.role, user.team)

    @staticmethod
    def _require(op: Op, action: Action) -> None:
        """Refuse, as `denied`, an operation the actor's role may never do."""
        if not may_ever(op.actor, action):
            raise PermissionDeniedError(
                f"a {op.actor.role.value} may not {action.value.replace('-', ' ')}",
                fix="ask a user with the right role",
            )

    # --- teams and cases -----------------------------------------------------------------------

    @staticmethod
    def _team_id(tx: Transaction, name: str) -> int:
        team_id = tx.teams.id_of(name)
        if team_id is None:
            raise NotFoundError(f"team {name!r} does not exist", where="team", fix="add it first")
        return team_id

    @staticmethod
    def _target_team(op: Op, team: str | None) -> str:
        """Return the team an actor creates or imports into: their own, or any for `system`."""
        if op.actor.role is Role.SYSTEM:
            return team or DEFAULT_TEAM
        if op.actor.team is None or (team is not None and team != op.actor.team):
            raise PermissionDeniedError(
                "you may only add cases to your own team", where="team", fix="leave team out"
            )
        return op.actor.team

    def _case(
        self, op: Op, tx: Transaction, reference: str, action: Action, team: str | None = None
    ) -> CaseRecord:
        """Return the case the actor may act on, or refuse without revealing existence."""
        self._require(op, action)
        op.entity = Entity.CASE
        scope_team = team if op.actor.role is Role.SYSTEM else op.actor.team
        cases = tx.cases.find(reference, scope_team)
        if len(cases) > 1:
            raise ConflictError(
                f"case {reference} exists in several teams", where="team", fix="name the team"
            )
        case = cases[0] if cases else None
        if case is None or not can(op.actor, action, Resource(case.team)):
            raise NotFoundError(
                f"case {reference} was not found",
                where="reference",
                fix="check the reference; you see only your own team's cases",
            )
        op.entity_id = case.id
        return case

    @staticmethod
    def _insert_case(
        op: Op, tx: Transaction, reference: str, pathway: Pathway | str, team_name: str
    ) -> int:
        problems = []
        if not isinstance(reference, str) or not re.match(CASE_REFERENCE_PATTERN, reference):
            problems.append(
                Problem(
                    "reference",
                    "a case reference is 1 to 40 letters, digits, dots, underscores, slashes "
                    "or hyphens (never a name)",
                    "e.g. C-0001",
                )
            )
        if pathway not in {p.value for p in Pathway}:
            problems.append(
                Problem(
                    "pathway",
                    f"unknown pathway {pathway!r}",
                    "choose one of: " + ", ".join(p.value for p in Pathway),
                )
            )
        if problems:
            raise DocumentError(problems)
        team_id = ServiceBase._team_id(tx, team_name)
        if tx.cases.in_team(team_id, reference) is not None:
            raise ConflictError(
                f"case {reference} already exists in team {team_name}",
                where="reference",
                fix="open it, or choose another reference",
            )
        return tx.cases.add(team_id, reference, Pathway(pathway), op.actor.user_id, op.now)

    # --- versions ------------------------------------------------------------------------------

    @staticmethod
    def _version(op: Op, tx: Transaction, case: CaseRecord, version: int) -> AssessmentRecord:
        op.version = version
        record = tx.assessments.get(case.id, version)
        if record is None:
            raise NotFoundError(
                f"case {case.reference} has no version {version}",
                where="version",
                fix="choose a version from the case history",
            )
        return record

    @staticmethod
    def _saved_by(record: AssessmentRecord) -> str:
        return record.saved_by if record.saved_by is not None else "system"

    def _editable(self, record: AssessmentRecord, base_revision: int | None) -> None:
        """Refuse a change to a final version, or one based on a stale revision."""
        if record.final:
            raise ConflictError(
                f"version {record.version} is final and cannot change",
                where="version",
                fix="amend it: that makes a new draft version",
            )
        if base_revision is not None and base_revision != record.revision:
            raise ConflictError(
                f"version {record.version} was changed by {self._last_change(record)}, in "
                "another tab or by another person, after this page loaded it; your change was "
                "not saved.",
                where="revision",
                fix="reload the draft to see their change, then make yours again",
            )

    def _last_change(self, record: AssessmentRecord) -> str:
        """Return who saved a version last and when, e.g. `psy.a at 2026-11-30 10:31:02 UTC`."""
        at = record.saved_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self._saved_by(record)} at {at}"

    def _merged(
        self, record: AssessmentRecord, where: str, outcome: FieldMerge
    ) -> dict[str, Any] | None:
        """Return a stale change merged with the stored item, or refuse the fields both changed."""
        if outcome.conflicts:
            fields = " and ".join(outcome.conflicts)
            raise ConflictError(
                f"{where.rsplit('.', 1)[-1]} {fields} was changed by "
                f"{self._last_change(record)}, in another tab or by another person, while you "
                f"edited it; your change to {'it' if len(outcome.conflicts) == 1 else 'them'} "
                "was not saved.",
                where=f"{where}.{outcome.conflicts[0]}",
                fix="choose, field by field, which version to keep",
            )
        return outcome.merged

    def _instrument(self, assessment: Assessment) -> Instrument:
        """Return the instrument definition the assessment records (its id and version)."""
        return self.definitions.get(assessment.instrument.id, assessment.instrument.version)

    def _draft(self, case: CaseRecord, record: AssessmentRecord) -> Draft:
        return Draft(
            reference=case.reference,
            version=record.version,
            assessment=record.assessment,
            review=record.review,
            revision=record.revision,
            status=record.status,
            saved_by=self._saved_by(record),
            saved_at=record.saved_at,
            replaces=record.replaces,
        )

    @contextmanager
    def _editing(
        self,
        actor: Actor,
        reference: str,
        version: int,
        base_revision: int | None,
        action: AuditAction = AuditAction.SAVE,
        permission: Action = Action.EDIT_DRAFT,
    ) -> Iterator[tuple[Op, Transaction, CaseRecord, AssessmentRecord]]:
        """Run an operation that changes a draft: it must exist, be a draft and be current."""
        with self._operation(actor, action) as (op, tx):
            case = self._case(op, tx, reference, permission)
            record = self._version(op, tx, case, version)
            self._editable(record, base_revision)
            yield op, tx, case, record

    def _store_draft(
        self,
        op: Op,
        tx: Transaction,
        case: CaseRecord,
        record: AssessmentRecord,
        assessment: Assessment,
        review: Review | None = None,
    ) -> Draft:
        """Write a changed draft (document and/or review) as the next revision."""
        from instrument.service.changes import changed_fields

        new_review = review or record.review
        saved = tx.assessments.save_draft(
            record, assessment, new_review, by=op.actor.user_id, now=op.now
        )
        if not saved:
            raise ConflictError("the draft changed meanwhile", fix="reload it and try again")
        # The field history, in the same transaction: content here, ids only in the audit log.
        changes = changed_fields(record.assessment, record.review, assessment, new_review)
        tx.history.record(record.id, record.revision + 1, changes, by=op.actor.user_id, now=op.now)
        return self._draft(case, self._version(op, tx, case, record.version))

    def _no_open_draft(self, tx: Transaction, case: CaseRecord) -> None:
        draft = tx.assessments.open_draft(case.id)
        if draft is not None:
            raise ConflictError(
                f"case {case.reference} already has an open draft, version {draft}",
                where="version",
                fix="continue that draft, or finalise it first",
            )

    def _insert_version(
        self,
        op: Op,
        tx: Transaction,
        case: CaseRecord,
        assessment: Assessment,
        review: Review,
        *,
        status: AssessmentStatus = AssessmentStatus.DRAFT,
    ) -> tuple[int, Draft]:
        """Add the version the assessment document numbers; return its id and it as a draft."""
        info = assessment.assessment
        assessment_id = tx.assessments.add(
            case.id,
            assessment,
            review,
            status=status,
            by=op.actor.user_id,
            saved_at=op.now,
            now=op.now,
        )
        op.version = info.version
        draft = Draft(
            reference=case.reference,
            version=info.version,
            assessment=assessment,
            review=review,
            revision=1,
            status=status,
            saved_by=op.actor.username,
            saved_at=op.now,
            replaces=info.replaces,
        )
        return assessment_id, draft

    @staticmethod
    def _previous_final(tx: Transaction, case: CaseRecord, version: int) -> Assessment | None:
        """Return the final assessment before `version` that is the previous occasion.

        Finals replaced by an amendment are skipped: the amendment stands for them.
        """
        replaced = tx.assessments.replaced(case.id, version)
        for record in tx.assessments.finals_before(case.id, version):
            if record.version not in replaced:
                return record.assessment
        return None

    @staticmethod
    def _previous_review(tx: Transaction, case: CaseRecord, version: int) -> Review | None:
        """Return the review (overrides, narratives) of the previous occasion, as above."""
        replaced = tx.assessments.replaced(case.id, version)
        for record in tx.assessments.finals_before(case.id, version):
            if record.version not in replaced:
                return record.review
        return None

    # --- password re-entry ---------------------------------------------------------------------

    @staticmethod
    def _needs_password(tx: Transaction, actor: Actor, now: dt.datetime) -> bool:
        if actor.role is Role.SYSTEM:
            return False
        user = tx.users.get(actor.user_id) if actor.user_id is not None else None
        confirmed = user.confirmed_at if user is not None else None
        return confirmed is None or now - confirmed > REENTRY_WINDOW

    def _require_password(self, tx: Transaction, op: Op) -> None:
        if self._needs_password(tx, op.actor, op.now):
            raise AuthenticationError(
                "enter your password again to sign or export (it is needed within 5 minutes)",
                where="password",
                fix="confirm your password, then try again",
            )
