"""The use cases shared by the command line and the web app: access → core → store → audit.

Every operation takes the acting user, asks `instrument.access.can` first (deny by default),
does its work in one `BEGIN IMMEDIATE` transaction together with its audit entry, and returns
frozen objects. A refusal is audited too (in its own transaction, after the work rolled back):
`denied` for a role that may never do it, `not-found` for a case that does not exist *or belongs
to another team* (the two are indistinguishable, so existence is never revealed), `conflict` for
a stale revision or a frozen version, `failed` for a wrong password. Bad input is refused with
every problem and writes nothing at all, not even an audit entry (SECURITY.md 18).

Reads that a page repeats on every rerun (`get_assessment`, `formulation`, `case_history`,
`session_actor`) are not audited; `open_case` is, once per opening: the UI calls it once when a
case is opened.

Autosave: every change to a draft carries the revision it was based on; a stale one is refused
with a `ConflictError` naming who saved last and when. A rating is saved whole: presence with
its relevance (a `partial`/`yes` rating without relevance is refused), so a stored draft is
always a valid assessment document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError

from instrument.access import (
    SYSTEM,
    USER_ROLES,
    Action,
    Actor,
    Resource,
    Role,
    can,
    may_ever,
    password_problems,
)
from instrument.assessment import (
    Assessment,
    AssessmentInfo,
    Assessor,
    CaseInfo,
    InstrumentRef,
    Rating,
    ResponsivityNote,
    assessment_hash,
    check_assessment,
)
from instrument.assessment import finalisation_problems as _finalisation_problems
from instrument.audit import AuditAction, AuditEntry, AuditEvent, Entity, Outcome
from instrument.definition import Instrument
from instrument.definitions import default_instrument, get_instrument
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
from instrument.formulation import (
    Formulation,
    Review,
    apply_override,
    clear_override,
    formulate,
    formulation_json,
    redact,
    set_narrative,
)
from instrument.formulation.finalising import judgement_problems
from instrument.store import (
    SUMMARY_REFRESH,
    BackupReport,
    Store,
    Tx,
    new_session_id,
    session_key,
    utc_now,
)
from instrument.vocabulary import (
    CASE_REFERENCE_PATTERN,
    MAX_TEXT,
    AssessmentStatus,
    Band,
    FiveP,
    Pathway,
)

__all__ = [
    "Actor",
    "AuditRow",
    "CaseRow",
    "CaseView",
    "Draft",
    "Role",
    "Service",
    "SignatureRow",
    "UserRow",
    "VersionRow",
]

IDLE_LIMIT = dt.timedelta(minutes=15)
ABSOLUTE_LIMIT = dt.timedelta(hours=10)
REENTRY_WINDOW = dt.timedelta(minutes=5)
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
SIGN_IN_FAILED = (
    "the username or password is not right, or the account is locked for a while; "
    "try again, or ask an administrator"
)
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$"
TEAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$"
DEFAULT_TEAM = "default"
FINALISED_BY = "finalised by"
COUNTERSIGNED_BY = "countersigned by"


# --- what the service returns -------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureRow:
    """A signature on a final version: who (None for viewers), its meaning, when (UTC)."""

    meaning: str
    by: str | None
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


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list."""

    reference: str
    pathway: Pathway
    team: str
    status: AssessmentStatus | None
    latest_version: int | None
    last_assessed: dt.date | None
    assessor: str | None
    top_priority: str | None


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


# --- an operation in progress -------------------------------------------------------------------


@dataclass
class _Op:
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


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _document_error(error: ValidationError, prefix: str = "$") -> DocumentError:
    problems = model_problems(error)
    return DocumentError(
        [Problem(prefix + p.where.removeprefix("$"), p.message, p.fix) for p in problems]
    )


class Service:
    """The instrument's use cases over one open store; one per browser session or CLI run."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    @classmethod
    def open(
        cls,
        db_path: Path,
        *,
        key_path: Path | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> Service:
        """Open the database (migrations, `quick_check`) and return the service over it."""
        store = Store.open(Path(db_path), key_path=key_path, now=clock())
        return cls(store, clock=clock, hasher=hasher)

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def unsafe(self) -> str | None:
        """Return why writes are refused (a failed integrity check), or None when they are not."""
        return self.store.unsafe

    # --- plumbing ----------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(dt.UTC)

    @contextmanager
    def _operation(
        self, actor: Actor, action: AuditAction, *, write: bool = True, audit_ok: bool = True
    ) -> Iterator[tuple[_Op, Tx]]:
        """Run one operation: refresh the actor, do the work, audit it; audit any refusal."""
        op = _Op(actor, action, self._now(), audit_ok=audit_ok and write)
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

    def _fresh(self, tx: Tx, actor: Actor) -> Actor:
        """Return the actor as the database knows it now (role and team may have changed)."""
        if actor.role is Role.SYSTEM:
            if actor.user_id is not None:
                raise PermissionDeniedError("only the built-in system actor has the system role")
            return SYSTEM
        row = tx.one(
            "SELECT u.id, u.username, u.role, u.active, t.name AS team FROM users u"
            " JOIN teams t ON t.id = u.team_id WHERE u.id = ?",
            (actor.user_id,),
        )
        if row is None or not row["active"]:
            raise AuthenticationError("your account is not active; sign in again")
        return Actor(row["id"], row["username"], Role(row["role"]), row["team"])

    def _require(self, op: _Op, action: Action) -> None:
        """Refuse, as `denied`, an operation the actor's role may never do."""
        if not may_ever(op.actor, action):
            raise PermissionDeniedError(
                f"a {op.actor.role.value} may not {action.value.replace('-', ' ')}",
                fix="ask a user with the right role",
            )

    def _team_id(self, tx: Tx, name: str) -> int:
        row = tx.one("SELECT id FROM teams WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"team {name!r} does not exist", where="team", fix="add it first")
        return int(row["id"])

    def _target_team(self, op: _Op, team: str | None) -> str:
        """Return the team an actor creates or imports into: their own, or any for `system`."""
        if op.actor.role is Role.SYSTEM:
            return team or DEFAULT_TEAM
        if op.actor.team is None or (team is not None and team != op.actor.team):
            raise PermissionDeniedError(
                "you may only add cases to your own team", where="team", fix="leave team out"
            )
        return op.actor.team

    def _case(
        self, op: _Op, tx: Tx, reference: str, action: Action, team: str | None = None
    ) -> sqlite3.Row:
        """Return the case row the actor may act on, or refuse without revealing existence."""
        self._require(op, action)
        op.entity = Entity.CASE
        sql = (
            "SELECT c.*, t.name AS team FROM cases c JOIN teams t ON t.id = c.team_id"
            " WHERE c.reference = ?"
        )
        params: list[Any] = [reference]
        scope_team = team if op.actor.role is Role.SYSTEM else op.actor.team
        if scope_team is not None:
            sql += " AND t.name = ?"
            params.append(scope_team)
        rows = tx.all(sql, params)
        if len(rows) > 1:
            raise ConflictError(
                f"case {reference} exists in several teams", where="team", fix="name the team"
            )
        row = rows[0] if rows else None
        if row is None or not can(op.actor, action, Resource(row["team"])):
            raise NotFoundError(
                f"case {reference} was not found",
                where="reference",
                fix="check the reference; you see only your own team's cases",
            )
        op.entity_id = int(row["id"])
        return row

    def _version(self, op: _Op, tx: Tx, case: sqlite3.Row, version: int) -> sqlite3.Row:
        op.version = version
        row = tx.one(
            "SELECT a.*, u.username AS saved_by_name FROM assessments a"
            " LEFT JOIN users u ON u.id = a.saved_by WHERE a.case_id = ? AND a.version = ?",
            (case["id"], version),
        )
        if row is None:
            raise NotFoundError(
                f"case {case['reference']} has no version {version}",
                where="version",
                fix="choose a version from the case history",
            )
        return row

    @staticmethod
    def _saved_by(row: sqlite3.Row) -> str:
        name = row["saved_by_name"]
        return str(name) if name is not None else "system"

    def _editable(self, row: sqlite3.Row, base_revision: int | None) -> None:
        """Refuse a change to a final version, or one based on a stale revision."""
        if row["status"] == AssessmentStatus.FINAL.value:
            raise ConflictError(
                f"version {row['version']} is final and cannot change",
                where="version",
                fix="amend it: that makes a new draft version",
            )
        if base_revision is not None and base_revision != row["revision"]:
            at = dt.datetime.fromisoformat(row["saved_at"]).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise ConflictError(
                f"version {row['version']} was changed by {self._saved_by(row)} at {at} "
                f"(revision {row['revision']}); your change was based on revision "
                f"{base_revision} and was not saved",
                where="revision",
                fix="reload the draft to see their change, then make yours again",
            )

    @staticmethod
    def _assessment(row: sqlite3.Row) -> Assessment:
        return Assessment.model_validate_json(row["document"])

    @staticmethod
    def _review(row: sqlite3.Row) -> Review:
        return Review.model_validate_json(row["review"])

    @staticmethod
    def _instrument(assessment: Assessment) -> Instrument:
        return get_instrument(assessment.instrument.id, assessment.instrument.version)

    def _draft(self, case: sqlite3.Row, row: sqlite3.Row) -> Draft:
        return Draft(
            reference=case["reference"],
            version=row["version"],
            assessment=self._assessment(row),
            review=self._review(row),
            revision=row["revision"],
            status=AssessmentStatus(row["status"]),
            saved_by=self._saved_by(row),
            saved_at=dt.datetime.fromisoformat(row["saved_at"]),
            replaces=row["replaces"],
        )

    def _store_draft(
        self,
        op: _Op,
        tx: Tx,
        case: sqlite3.Row,
        row: sqlite3.Row,
        assessment: Assessment,
        review: Review | None = None,
    ) -> Draft:
        """Write a changed draft (document and/or review) as the next revision."""
        info = assessment.assessment
        updated = tx.execute(
            "UPDATE assessments SET document = ?, review = ?, revision = revision + 1,"
            " assessed_on = ?, assessor = ?, saved_by = ?, saved_at = ?"
            " WHERE id = ? AND revision = ? AND status = 'draft'",
            (
                json.dumps(assessment.to_document(), ensure_ascii=False),
                (review or self._review(row)).model_dump_json(exclude_none=True),
                info.assessed_on.isoformat() if info.assessed_on else None,
                info.assessors[0].name if info.assessors else None,
                op.actor.user_id,
                _time(op.now),
                row["id"],
                row["revision"],
            ),
        )
        if updated.rowcount != 1:
            raise ConflictError("the draft changed meanwhile", fix="reload it and try again")
        _refresh_summary(tx, case["id"])
        fresh = self._version(op, tx, case, row["version"])
        return self._draft(case, fresh)

    def _needs_password(self, tx: Tx, actor: Actor, now: dt.datetime) -> bool:
        if actor.role is Role.SYSTEM:
            return False
        row = tx.one("SELECT confirmed_at FROM users WHERE id = ?", (actor.user_id,))
        confirmed = _parse_time(row["confirmed_at"]) if row else None
        return confirmed is None or now - confirmed > REENTRY_WINDOW

    def _require_password(self, tx: Tx, op: _Op) -> None:
        if self._needs_password(tx, op.actor, op.now):
            raise AuthenticationError(
                "enter your password again to sign or export (it is needed within 5 minutes)",
                where="password",
                fix="confirm your password, then try again",
            )

    # --- sign-in and sessions ----------------------------------------------------------------

    @property
    def _dummy_hash(self) -> str:
        """Return a hash to verify against for unknown users, so they take the same time."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_hex(16))
        return self._dummy

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def sign_in(self, username: str, password: str) -> str:
        """Check a username and password; return a new session id (256 random bits).

        Raises:
            AuthenticationError: one message for an unknown user, a wrong password, a locked or
                deactivated account. Five failures in a row lock the account for 15 minutes,
                doubling on each repeat; every failure and lockout is audited.
        """
        now = self._now()
        with self.store.read() as tx:
            user = tx.one("SELECT * FROM users WHERE username = ?", (username.strip(),))
        if user is None:
            self._verify(self._dummy_hash, password)  # the same time as for a known user
            self.store.audit_only(
                AuditEvent(at=now, action=AuditAction.SIGN_IN, outcome=Outcome.FAILED)
            )
            raise AuthenticationError(SIGN_IN_FAILED)
        locked_until = _parse_time(user["locked_until"])
        locked = locked_until is not None and now < locked_until
        usable = bool(user["active"]) and not locked
        good = self._verify(user["password_hash"] if usable else self._dummy_hash, password)
        session_id = new_session_id()
        event = AuditEvent(
            at=now,
            action=AuditAction.SIGN_IN,
            actor_id=user["id"],
            role=user["role"],
            entity=Entity.USER,
            entity_id=user["id"],
        )
        with self.store.write() as tx:
            if usable and good:
                tx.execute(
                    "UPDATE users SET failed_count = 0, lockouts = 0, locked_until = NULL"
                    " WHERE id = ?",
                    (user["id"],),
                )
                if self.hasher.check_needs_rehash(user["password_hash"]):
                    tx.execute(
                        "UPDATE users SET password_hash = ? WHERE id = ?",
                        (self.hasher.hash(password), user["id"]),
                    )
                    tx.audit(_replace(event, action=AuditAction.PASSWORD_REHASH))
                tx.insert(
                    "sessions",
                    {
                        "id": session_key(session_id),
                        "user_id": user["id"],
                        "created_at": _time(now),
                        "last_seen_at": _time(now),
                    },
                )
                tx.audit(event)
            else:
                self._record_failure(tx, user["id"], now, event, count=usable)
        if not (usable and good):
            raise AuthenticationError(SIGN_IN_FAILED)
        return session_id

    def _record_failure(
        self, tx: Tx, user_id: int, now: dt.datetime, event: AuditEvent, *, count: bool
    ) -> None:
        tx.audit(_replace(event, outcome=Outcome.FAILED))
        if not count:
            return
        row = tx.one("SELECT failed_count, lockouts FROM users WHERE id = ?", (user_id,))
        assert row is not None
        failures = row["failed_count"] + 1
        if failures >= MAX_FAILURES:
            until = now + LOCKOUT * (2 ** row["lockouts"])
            tx.execute(
                "UPDATE users SET failed_count = 0, lockouts = lockouts + 1, locked_until = ?"
                " WHERE id = ?",
                (_time(until), user_id),
            )
            tx.audit(_replace(event, action=AuditAction.LOCKOUT, outcome=Outcome.OK))
        else:
            tx.execute("UPDATE users SET failed_count = ? WHERE id = ?", (failures, user_id))

    def _session(self, tx: Tx, session_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = tx.one(
            "SELECT s.*, u.username, u.role, u.active, t.name AS team FROM sessions s"
            " JOIN users u ON u.id = s.user_id JOIN teams t ON t.id = u.team_id"
            " WHERE s.id = ? AND s.ended_at IS NULL",
            (session_key(session_id),),
        )
        return row

    @staticmethod
    def _expiry(row: sqlite3.Row) -> dt.datetime:
        last_seen = dt.datetime.fromisoformat(row["last_seen_at"])
        created = dt.datetime.fromisoformat(row["created_at"])
        return min(last_seen + IDLE_LIMIT, created + ABSOLUTE_LIMIT)

    def session_actor(self, session_id: str) -> Actor | None:
        """Return who a session belongs to, touching its last-seen time; None when not valid.

        None when the id is unknown or ended, idle for more than 15 minutes, older than 10
        hours, or its user was deactivated; an expiry is recorded (and audited) once.
        """
        if not session_id:
            return None
        now = self._now()
        with self.store.write() as tx:
            row = self._session(tx, session_id)
            if row is None:
                return None
            reason = None
            if not row["active"]:
                reason = "deactivated"
            elif now > self._expiry(row):
                reason = "timeout"
            if reason is not None:
                self._end_session(tx, row, now, reason, AuditAction.TIMEOUT)
                return None
            tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (_time(now), row["id"]))
            return Actor(row["user_id"], row["username"], Role(row["role"]), row["team"])

    def session_expires_in(self, session_id: str) -> dt.timedelta | None:
        """Return how long the session has before it expires (for the idle warning), or None."""
        now = self._now()
        with self.store.read() as tx:
            row = self._session(tx, session_id)
        if row is None or not row["active"]:
            return None
        left = self._expiry(row) - now
        return left if left > dt.timedelta(0) else None

    def sign_out(self, session_id: str) -> None:
        """End a session (every tab carrying it is signed out); unknown ids are ignored."""
        now = self._now()
        with self.store.write() as tx:
            row = self._session(tx, session_id)
            if row is None:
                return
            self._end_session(tx, row, now, "sign-out", AuditAction.SIGN_OUT)

    @staticmethod
    def _end_session(tx: Tx, row: Any, now: dt.datetime, reason: str, action: AuditAction) -> None:
        """End one session row and audit it as `action` by the session's own user."""
        tx.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
            (_time(now), reason, row["id"]),
        )
        tx.audit(
            AuditEvent(
                at=now,
                action=action,
                actor_id=row["user_id"],
                role=row["role"],
                entity=Entity.USER,
                entity_id=row["user_id"],
            )
        )

    def sign_out_everywhere(self, actor: Actor) -> None:
        """End every session of the actor."""
        with self._operation(actor, AuditAction.SIGN_OUT_EVERYWHERE) as (op, tx):
            op.entity, op.entity_id = Entity.USER, op.actor.user_id
            self._end_sessions(tx, op.actor.user_id, op.now, "sign-out")

    @staticmethod
    def _end_sessions(tx: Tx, user_id: int | None, now: dt.datetime, reason: str) -> None:
        tx.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = ?"
            " WHERE user_id = ? AND ended_at IS NULL",
            (_time(now), reason, user_id),
        )

    def confirm_password(self, actor: Actor, password: str) -> None:
        """Record that the actor entered their password again (valid for 5 minutes).

        Raises:
            AuthenticationError: when it is wrong (counted towards the lockout, audited).
        """
        now = self._now()
        with self.store.read() as tx:
            fresh = self._fresh(tx, actor)
            row = tx.one("SELECT password_hash FROM users WHERE id = ?", (fresh.user_id,))
        good = row is not None and self._verify(row["password_hash"], password)
        event = AuditEvent(
            at=now,
            action=AuditAction.CONFIRM_PASSWORD,
            actor_id=fresh.user_id,
            role=fresh.role.value,
            entity=Entity.USER,
            entity_id=fresh.user_id,
        )
        with self.store.write() as tx:
            if good:
                tx.execute(
                    "UPDATE users SET confirmed_at = ?, failed_count = 0 WHERE id = ?",
                    (_time(now), fresh.user_id),
                )
                tx.audit(event)
            elif fresh.user_id is not None:
                self._record_failure(tx, fresh.user_id, now, event, count=True)
        if not good:
            raise AuthenticationError(
                "the password is not right", where="password", fix="enter it again"
            )

    def needs_password(self, actor: Actor) -> bool:
        """Return True when the actor has not entered their password in the last 5 minutes."""
        with self.store.read() as tx:
            return self._needs_password(tx, actor, self._now())

    # --- users and teams ---------------------------------------------------------------------

    def ensure_admin(self) -> str | None:
        """On an empty database create the user `admin`; return its random password once.

        Returns None when any user exists.
        """
        password = secrets.token_urlsafe(18)
        password_hash = self.hasher.hash(password)
        now = self._now()
        with self.store.write() as tx:
            if tx.one("SELECT 1 FROM users LIMIT 1") is not None:
                return None
            user_id = tx.insert(
                "users",
                {
                    "username": "admin",
                    "role": Role.ADMIN.value,
                    "team_id": self._team_id(tx, DEFAULT_TEAM),
                    "password_hash": password_hash,
                    "created_at": _time(now),
                },
            )
            tx.audit(
                AuditEvent(
                    at=now,
                    action=AuditAction.USER_ADD,
                    role=Role.SYSTEM.value,
                    entity=Entity.USER,
                    entity_id=user_id,
                )
            )
        return password

    def add_user(
        self,
        actor: Actor,
        username: str,
        role: Role | str,
        password: str,
        team: str | None = None,
    ) -> UserRow:
        """Add a user with a role and team (default `default`).

        Raises:
            DocumentError: for a bad username, role or password, naming the field.
            ConflictError: when the username is taken.
        """
        problems = []
        if not re.match(USERNAME_PATTERN, username):
            problems.append(
                Problem(
                    "username",
                    "a username is 2 to 40 letters, digits, `.`, `_` or `-`",
                    "choose another",
                )
            )
        if role not in {r.value for r in USER_ROLES}:
            problems.append(
                Problem(
                    "role",
                    f"unknown role {role!r}",
                    "choose one of: " + ", ".join(r.value for r in USER_ROLES),
                )
            )
        problems += password_problems(password, username=username)
        password_hash = None if problems else self.hasher.hash(password)
        with self._operation(actor, AuditAction.USER_ADD) as (op, tx):
            self._require(op, Action.MANAGE_USERS)
            if problems or password_hash is None:
                raise DocumentError(problems)
            team_name = team or DEFAULT_TEAM
            team_id = self._team_id(tx, team_name)
            if tx.one("SELECT 1 FROM users WHERE username = ?", (username,)):
                raise ConflictError(
                    f"the username {username} is taken", where="username", fix="choose another"
                )
            user_id = tx.insert(
                "users",
                {
                    "username": username,
                    "role": Role(role).value,
                    "team_id": team_id,
                    "password_hash": password_hash,
                    "created_at": _time(op.now),
                },
            )
            op.entity, op.entity_id = Entity.USER, user_id
            return UserRow(username, Role(role), team_name, True, None)

    def _user(self, op: _Op, tx: Tx, username: str) -> sqlite3.Row:
        self._require(op, Action.MANAGE_USERS)
        row = tx.one(
            "SELECT u.*, t.name AS team FROM users u JOIN teams t ON t.id = u.team_id"
            " WHERE u.username = ?",
            (username,),
        )
        op.entity = Entity.USER
        if row is None:
            raise NotFoundError(f"no user {username}", where="username", fix="check the name")
        op.entity_id = int(row["id"])
        return row

    def list_users(self, actor: Actor) -> list[UserRow]:
        """Return every user (administrators)."""
        with self._operation(actor, AuditAction.USERS_LIST) as (op, tx):
            self._require(op, Action.MANAGE_USERS)
            rows = tx.all(
                "SELECT u.*, t.name AS team FROM users u JOIN teams t ON t.id = u.team_id"
                " ORDER BY u.username"
            )
            return [
                UserRow(
                    r["username"],
                    Role(r["role"]),
                    r["team"],
                    bool(r["active"]),
                    _parse_time(r["locked_until"]),
                )
                for r in rows
            ]

    def set_role(self, actor: Actor, username: str, role: Role | str) -> None:
        """Change a user's role; needs the password entered within 5 minutes."""
        with self._operation(actor, AuditAction.ROLE_CHANGE) as (op, tx):
            row = self._user(op, tx, username)
            if role not in {r.value for r in USER_ROLES}:
                raise DocumentError([Problem("role", f"unknown role {role!r}", "choose another")])
            self._require_password(tx, op)
            if row["role"] == Role.ADMIN.value and role != Role.ADMIN.value:
                self._keep_an_admin(tx, row["id"])
            tx.execute("UPDATE users SET role = ? WHERE id = ?", (Role(role).value, row["id"]))

    @staticmethod
    def _keep_an_admin(tx: Tx, user_id: int) -> None:
        others = tx.one(
            "SELECT count(*) AS n FROM users WHERE role = 'admin' AND active = 1 AND id != ?",
            (user_id,),
        )
        if others is None or others["n"] == 0:
            raise ConflictError(
                "this is the last active administrator", fix="make another user admin first"
            )

    def set_team(self, actor: Actor, username: str, team: str) -> None:
        """Move a user to another team."""
        with self._operation(actor, AuditAction.TEAM_CHANGE) as (op, tx):
            row = self._user(op, tx, username)
            team_id = self._team_id(tx, team)
            tx.execute("UPDATE users SET team_id = ? WHERE id = ?", (team_id, row["id"]))

    def deactivate(self, actor: Actor, username: str) -> None:
        """Deactivate a user: they cannot sign in, and every session of theirs ends now."""
        with self._operation(actor, AuditAction.DEACTIVATE) as (op, tx):
            row = self._user(op, tx, username)
            if row["role"] == Role.ADMIN.value:
                self._keep_an_admin(tx, row["id"])
            tx.execute("UPDATE users SET active = 0 WHERE id = ?", (row["id"],))
            self._end_sessions(tx, row["id"], op.now, "deactivated")

    def unlock(self, actor: Actor, username: str) -> None:
        """Lift a lockout and reset the failure count."""
        with self._operation(actor, AuditAction.UNLOCK) as (op, tx):
            row = self._user(op, tx, username)
            tx.execute(
                "UPDATE users SET failed_count = 0, lockouts = 0, locked_until = NULL WHERE id = ?",
                (row["id"],),
            )

    def add_team(self, actor: Actor, name: str) -> None:
        """Add a team."""
        with self._operation(actor, AuditAction.TEAM_ADD) as (op, tx):
            self._require(op, Action.MANAGE_TEAMS)
            if not re.match(TEAM_PATTERN, name):
                raise DocumentError(
                    [Problem("team", "a team name is 1 to 40 letters, digits, ` ._-`", "rename")]
                )
            if tx.one("SELECT 1 FROM teams WHERE name = ?", (name,)):
                raise ConflictError(f"team {name} exists", where="team", fix="choose another")
            op.entity = Entity.TEAM
            op.entity_id = tx.insert("teams", {"name": name, "created_at": _time(op.now)})

    def list_teams(self, actor: Actor) -> list[str]:
        """Return every team name."""
        with self._operation(actor, AuditAction.TEAMS_LIST) as (op, tx):
            self._require(op, Action.MANAGE_TEAMS)
            return [row["name"] for row in tx.all("SELECT name FROM teams ORDER BY name")]

    def audit_entries(
        self,
        actor: Actor,
        *,
        action: str | None = None,
        username: str | None = None,
        limit: int = 500,
    ) -> list[AuditRow]:
        """Return audit entries, newest first, optionally for one action code or one user."""
        with self._operation(actor, AuditAction.AUDIT_READ) as (op, tx):
            self._require(op, Action.READ_AUDIT)
            actor_id = None
            if username is not None:
                user = tx.one("SELECT id FROM users WHERE username = ?", (username,))
                if user is None:
                    return []
                actor_id = user["id"]
            names = {row["id"]: row["username"] for row in tx.all("SELECT id, username FROM users")}
        entries = self.store.audit_entries(
            action=action, actor_id=actor_id, limit=limit, newest_first=True
        )
        return [_audit_row(entry, names) for entry in entries]

    # --- cases -------------------------------------------------------------------------------

    def create_case(
        self, actor: Actor, reference: str, pathway: Pathway | str, team: str | None = None
    ) -> CaseView:
        """Create a case (reference unique within its team) with no assessment yet."""
        with self._operation(actor, AuditAction.CREATE) as (op, tx):
            self._require(op, Action.CREATE_CASE)
            team_name = self._target_team(op, team)
            case_id = self._insert_case(op, tx, reference, pathway, team_name)
            op.entity, op.entity_id = Entity.CASE, case_id
            return CaseView(reference, Pathway(pathway), team_name, ())

    def _insert_case(
        self, op: _Op, tx: Tx, reference: str, pathway: Pathway | str, team_name: str
    ) -> int:
        problems = []
        if not isinstance(reference, str) or not re.match(CASE_REFERENCE_PATTERN, reference):
            problems.append(
                Problem(
                    "reference",
                    "a case reference is 1 to 40 letters, digits or `._/-` (never a name)",
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
        team_id = self._team_id(tx, team_name)
        if tx.one("SELECT 1 FROM cases WHERE team_id = ? AND reference = ?", (team_id, reference)):
            raise ConflictError(
                f"case {reference} already exists in team {team_name}",
                where="reference",
                fix="open it, or choose another reference",
            )
        return tx.insert(
            "cases",
            {
                "team_id": team_id,
                "reference": reference,
                "pathway": Pathway(pathway).value,
                "created_by": op.actor.user_id,
                "created_at": _time(op.now),
            },
        )

    def list_cases(
        self,
        actor: Actor,
        *,
        text: str | None = None,
        pathway: Pathway | str | None = None,
        status: AssessmentStatus | str | None = None,
        assessor: str | None = None,
        team: str | None = None,
    ) -> list[CaseRow]:
        """Return the cases the actor may see, in reference order, filtered as asked.

        `text` matches part of the reference, `assessor` part of the latest version's first
        assessor's name. Audited as `list`, or `search` when any filter is given (the terms are
        not recorded).
        """
        searching = any(v is not None for v in (text, pathway, status, assessor, team))
        action = AuditAction.SEARCH if searching else AuditAction.LIST
        with self._operation(actor, action) as (op, tx):
            self._require(op, Action.LIST_CASES)
            where, params = [], []
            scope_team = op.actor.team if op.actor.role is not Role.SYSTEM else team
            if op.actor.role is not Role.SYSTEM and team is not None and team != scope_team:
                return []
            if scope_team is not None:
                where.append("t.name = ?")
                params.append(scope_team)
            if text:
                where.append("c.reference LIKE ? ESCAPE '\\'")
                params.append("%" + _like(text) + "%")
            if pathway is not None:
                where.append("c.pathway = ?")
                params.append(str(pathway))
            if status is not None:
                where.append("c.latest_status = ?")
                params.append(str(status))
            hide_names = not can(op.actor, Action.READ_EVIDENCE, Resource(scope_team))
            if assessor:
                if hide_names:
                    return []
                where.append("c.latest_assessor LIKE ? ESCAPE '\\'")
                params.append("%" + _like(assessor) + "%")
            # One team's cases come in reference order from the (team_id, reference) index.
            order = " ORDER BY c.reference" if scope_team else " ORDER BY t.name, c.reference"
            rows = tx.all(
                _LIST_SQL + (" WHERE " + " AND ".join(where) if where else "") + order,
                params,
            )
        date = dt.date.fromisoformat
        return [
            CaseRow(
                r[0],
                _PATHWAYS[r[1]],
                r[2],
                _STATUSES[r[3]] if r[3] else None,
                r[4] or None,
                date(r[5]) if r[5] else None,
                None if hide_names else r[6],
                r[7],
            )
            for r in rows
        ]

    def _versions(self, tx: Tx, case: sqlite3.Row, *, names: bool) -> tuple[VersionRow, ...]:
        rows = tx.all(
            "SELECT a.id, a.version, a.status, a.revision, a.assessed_on, a.replaces,"
            " a.saved_at, u.username FROM assessments a LEFT JOIN users u ON u.id = a.saved_by"
            " WHERE a.case_id = ? ORDER BY a.version",
            (case["id"],),
        )
        signatures: dict[int, list[SignatureRow]] = {}
        for s in tx.all(
            "SELECT s.assessment_id, s.meaning, s.signer, s.signed_at FROM signatures s"
            " JOIN assessments a ON a.id = s.assessment_id WHERE a.case_id = ? ORDER BY s.id",
            (case["id"],),
        ):
            signatures.setdefault(s["assessment_id"], []).append(
                SignatureRow(
                    s["meaning"],
                    s["signer"] if names else None,
                    dt.datetime.fromisoformat(s["signed_at"]),
                )
            )
        return tuple(
            VersionRow(
                version=r["version"],
                status=AssessmentStatus(r["status"]),
                revision=r["revision"],
                assessed_on=dt.date.fromisoformat(r["assessed_on"]) if r["assessed_on"] else None,
                replaces=r["replaces"],
                saved_by=(r["username"] or "system") if names else None,
                saved_at=dt.datetime.fromisoformat(r["saved_at"]),
                signatures=tuple(signatures.get(r["id"], ())),
            )
            for r in rows
        )

    def _case_view(self, op: _Op, tx: Tx, case: sqlite3.Row) -> CaseView:
        names = can(op.actor, Action.READ_EVIDENCE, Resource(case["team"]))
        return CaseView(
            reference=case["reference"],
            pathway=Pathway(case["pathway"]),
            team=case["team"],
            versions=self._versions(tx, case, names=names),
        )

    def open_case(self, actor: Actor, reference: str, *, team: str | None = None) -> CaseView:
        """Open a case: audited as one `view` (call it once per opening, not per rerun)."""
        with self._operation(actor, AuditAction.VIEW) as (op, tx):
            case = self._case(op, tx, reference, Action.VIEW_CASE, team)
            return self._case_view(op, tx, case)

    def case_history(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> list[VersionRow]:
        """Return every version of a case, oldest first (not audited: part of a view)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.VIEW_CASE, team)
            return list(self._case_view(op, tx, case).versions)

    # --- assessments -------------------------------------------------------------------------

    def start_assessment(self, actor: Actor, reference: str) -> Draft:
        """Start the case's next assessment as an empty draft (v1 for a new case).

        Raises:
            ConflictError: when the case already has an open draft.
        """
        with self._operation(actor, AuditAction.START) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_DRAFT)
            self._no_open_draft(tx, case)
            instrument = default_instrument()
            version = case["latest_version"] + 1
            assessment = Assessment(
                instrument=InstrumentRef(id=instrument.id, version=instrument.version),
                case=CaseInfo(reference=case["reference"], pathway=case["pathway"]),
                assessment=AssessmentInfo(version=version, status=AssessmentStatus.DRAFT),
            )
            return self._insert_version(op, tx, case, assessment, Review())

    def _no_open_draft(self, tx: Tx, case: sqlite3.Row) -> None:
        draft = tx.one(
            "SELECT version FROM assessments WHERE case_id = ? AND status = 'draft'",
            (case["id"],),
        )
        if draft is not None:
            raise ConflictError(
                f"case {case['reference']} already has an open draft, version {draft['version']}",
                where="version",
                fix="continue that draft, or finalise it first",
            )

    def _insert_version(
        self,
        op: _Op,
        tx: Tx,
        case: sqlite3.Row,
        assessment: Assessment,
        review: Review,
        *,
        status: AssessmentStatus = AssessmentStatus.DRAFT,
        saved_at: dt.datetime | None = None,
    ) -> Draft:
        info = assessment.assessment
        version = info.version
        final = status is AssessmentStatus.FINAL
        tx.insert(
            "assessments",
            {
                "case_id": case["id"],
                "version": version,
                "status": status.value,
                "revision": 1,
                "document": json.dumps(assessment.to_document(), ensure_ascii=False),
                "review": review.model_dump_json(exclude_none=True),
                "sha256": assessment_hash(assessment) if final else None,
                "replaces": info.replaces,
                "assessed_on": info.assessed_on.isoformat() if info.assessed_on else None,
                "assessor": info.assessors[0].name if info.assessors else None,
                "saved_by": op.actor.user_id,
                "saved_at": _time(saved_at or op.now),
                "created_by": op.actor.user_id,
                "created_at": _time(op.now),
                "finalised_at": _time(saved_at or op.now) if final else None,
            },
        )
        tx.execute(
            "UPDATE cases SET latest_version = max(latest_version, ?),"
            " latest_final = CASE WHEN ? THEN max(coalesce(latest_final, 0), ?)"
            " ELSE latest_final END WHERE id = ?",
            (version, final, version, case["id"]),
        )
        _refresh_summary(tx, case["id"])
        op.version = version
        return Draft(
            reference=case["reference"],
            version=version,
            assessment=assessment,
            review=review,
            revision=1,
            status=status,
            saved_by=op.actor.username,
            saved_at=saved_at or op.now,
            replaces=info.replaces,
        )

    def get_assessment(self, actor: Actor, reference: str, version: int) -> Draft:
        """Return an assessment version with its evidence (not for viewers; not audited)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_EVIDENCE)
            return self._draft(case, self._version(op, tx, case, version))

    @contextmanager
    def _editing(
        self,
        actor: Actor,
        reference: str,
        version: int,
        base_revision: int | None,
        action: AuditAction = AuditAction.SAVE,
        permission: Action = Action.EDIT_DRAFT,
    ) -> Iterator[tuple[_Op, Tx, sqlite3.Row, sqlite3.Row]]:
        with self._operation(actor, action) as (op, tx):
            case = self._case(op, tx, reference, permission)
            row = self._version(op, tx, case, version)
            self._editable(row, base_revision)
            yield op, tx, case, row

    def save_rating(
        self,
        actor: Actor,
        reference: str,
        version: int,
        item_id: str,
        rating: Rating | None,
        *,
        base_revision: int,
    ) -> Draft:
        """Autosave one item's rating (None removes it) on a draft.

        Raises:
            ConflictError: when `base_revision` is stale (naming who saved last, and when) or
                the version is final.
            DocumentError: for an unknown item or an inconsistent rating (e.g. `yes` without
                relevance), with its JSON path.
        """
        with self._editing(actor, reference, version, base_revision) as (op, tx, case, row):
            assessment = self._assessment(row)
            instrument = self._instrument(assessment)
            where = f"$.ratings.{item_id}"
            if item_id not in instrument.item_by_id:
                raise DocumentError(
                    [Problem(where, f"unknown item id {item_id!r}", "use an item id such as ID1")]
                )
            ratings = {k: v for k, v in assessment.ratings.items() if k != item_id}
            if rating is not None:
                ratings[item_id] = Rating.model_validate(rating.model_dump())
            changed = assessment.model_copy(update={"ratings": _ordered(instrument, ratings)})
            problems = [
                p for p in check_assessment(instrument, changed) if p.where.startswith(where)
            ]
            if problems:
                raise DocumentError(problems)
            return self._store_draft(op, tx, case, row, changed)

    def save_responsivity(
        self,
        actor: Actor,
        reference: str,
        version: int,
        rs_id: str,
        note: ResponsivityNote | None,
        *,
        base_revision: int,
    ) -> Draft:
        """Autosave one responsivity note (None removes it) on a draft."""
        with self._editing(actor, reference, version, base_revision) as (op, tx, case, row):
            assessment = self._assessment(row)
            instrument = self._instrument(assessment)
            if rs_id not in instrument.responsivity_by_id:
                raise DocumentError(
                    [
                        Problem(
                            f"$.responsivity.{rs_id}",
                            f"unknown responsivity id {rs_id!r}",
                            "use an id such as RS1",
                        )
                    ]
                )
            notes = {k: v for k, v in assessment.responsivity.items() if k != rs_id}
            if note is not None:
                notes[rs_id] = ResponsivityNote.model_validate(note.model_dump())
            ordered = {r.id: notes[r.id] for r in instrument.responsivity if r.id in notes}
            changed = assessment.model_copy(update={"responsivity": ordered})
            return self._store_draft(op, tx, case, row, changed)

    def save_details(
        self,
        actor: Actor,
        reference: str,
        version: int,
        *,
        assessed_on: dt.date | None,
        assessors: list[Assessor],
        notes: str | None,
        base_revision: int,
    ) -> Draft:
        """Autosave the occasion's date, assessors and notes on a draft."""
        with self._editing(actor, reference, version, base_revision) as (op, tx, case, row):
            assessment = self._assessment(row)
            document = assessment.to_document()
            info = document["assessment"]
            info.pop("assessed_on", None)
            if assessed_on is not None:
                info["assessed_on"] = assessed_on.isoformat()
            info["assessors"] = [a.model_dump(mode="json") for a in assessors]
            document.pop("notes", None)
            if notes is not None and notes.strip():
                document["notes"] = notes
            try:
                changed = Assessment.model_validate(document)
            except ValidationError as error:
                raise _document_error(error) from None
            return self._store_draft(op, tx, case, row, changed)

    def save_judgement(
        self,
        actor: Actor,
        reference: str,
        version: int,
        part: str,
        value: Any,
        *,
        base_revision: int,
    ) -> Draft:
        """Autosave one part of the assessor's judgement on a draft (`service/judgement.py`)."""
        from instrument.service.judgement import save_judgement

        return save_judgement(
            self, actor, reference, version, part, value, base_revision=base_revision
        )

    def finalisation_problems(self, actor: Actor, reference: str, version: int) -> list[Problem]:
        """Return what still blocks finalising the version (empty when it may be finalised)."""
        with self._operation(actor, AuditAction.FINALISE, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_EVIDENCE)
            row = self._version(op, tx, case, version)
        if row["status"] == AssessmentStatus.FINAL.value:
            return [Problem("version", f"version {version} is already final", "amend it")]
        assessment = self._assessment(row)
        instrument = self._instrument(assessment)
        return _finalisation_problems(instrument, assessment) + judgement_problems(
            instrument, assessment, self._review(row)
        )

    def _previous_final(self, tx: Tx, case: sqlite3.Row, version: int) -> Assessment | None:
        """Return the final assessment before `version` that is the previous occasion.

        Finals replaced by an amendment are skipped: the amendment stands for them.
        """
        replaced = {
            r["replaces"]
            for r in tx.all(
                "SELECT replaces FROM assessments WHERE case_id = ? AND version <= ?"
                " AND replaces IS NOT NULL",
                (case["id"], version),
            )
        }
        rows = tx.all(
            "SELECT version, document FROM assessments WHERE case_id = ? AND status = 'final'"
            " AND version < ? ORDER BY version DESC",
            (case["id"], version),
        )
        for row in rows:
            if row["version"] not in replaced:
                return self._assessment(row)
        return None

    def finalise(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Finalise a draft: check it, freeze it, store its formulation and sign it.

        Needs the password entered within the last 5 minutes. The formulation stores the
        SHA-256 of the exact assessment it was made from; the signature says "finalised by".

        Raises:
            DocumentError: listing everything that blocks finalising.
            AuthenticationError: when the password must be entered again.
        """
        with self._editing(
            actor, reference, version, None, AuditAction.FINALISE, Action.FINALISE
        ) as (op, tx, case, row):
            self._require_password(tx, op)
            draft = self._assessment(row)
            instrument = self._instrument(draft)
            problems = _finalisation_problems(instrument, draft)
            problems += judgement_problems(instrument, draft, self._review(row))
            if problems:
                raise DocumentError(problems)
            info = draft.assessment.model_copy(update={"status": AssessmentStatus.FINAL})
            final = draft.model_copy(update={"assessment": info})
            formulation = formulate(
                instrument,
                final,
                self._previous_final(tx, case, version),
                generated_at=op.now,
                review=self._review(row),
            )
            sha = assessment_hash(final)
            tx.execute(
                "UPDATE assessments SET status = 'final', document = ?, sha256 = ?,"
                " revision = revision + 1, saved_by = ?, saved_at = ?, finalised_at = ?"
                " WHERE id = ? AND status = 'draft'",
                (
                    json.dumps(final.to_document(), ensure_ascii=False),
                    sha,
                    op.actor.user_id,
                    _time(op.now),
                    _time(op.now),
                    row["id"],
                ),
            )
            self._store_formulation(tx, row["id"], formulation, sha, op.now)
            self._sign(tx, op, row["id"], FINALISED_BY, sha)
            tx.execute(
                "UPDATE cases SET latest_final = max(coalesce(latest_final, 0), ?) WHERE id = ?",
                (version, case["id"]),
            )
            _refresh_summary(tx, case["id"])
            return formulation

    @staticmethod
    def _store_formulation(
        tx: Tx, assessment_id: int, formulation: Formulation, sha: str, now: dt.datetime
    ) -> None:
        top = formulation.priorities[0].area if formulation.priorities else None
        tx.insert(
            "formulations",
            {
                "assessment_id": assessment_id,
                "document": formulation_json(formulation),
                "assessment_sha256": sha,
                "top_priority": top,
                "created_at": _time(now),
            },
        )

    @staticmethod
    def _sign(tx: Tx, op: _Op, assessment_id: int, meaning: str, sha: str) -> None:
        tx.insert(
            "signatures",
            {
                "assessment_id": assessment_id,
                "user_id": op.actor.user_id,
                "signer": op.actor.username,
                "meaning": meaning,
                "signed_at": _time(op.now),
                "assessment_sha256": sha,
            },
        )

    def countersign(self, actor: Actor, reference: str, version: int) -> None:
        """Countersign a final version (supervisors); needs the password within 5 minutes."""
        with self._operation(actor, AuditAction.COUNTERSIGN) as (op, tx):
            case = self._case(op, tx, reference, Action.COUNTERSIGN)
            row = self._version(op, tx, case, version)
            if row["status"] != AssessmentStatus.FINAL.value:
                raise ConflictError(
                    f"version {version} is a draft; only final versions are countersigned",
                    where="version",
                    fix="wait until it is finalised",
                )
            self._require_password(tx, op)
            already = tx.one(
                "SELECT 1 FROM signatures WHERE assessment_id = ? AND meaning = ? AND user_id = ?",
                (row["id"], COUNTERSIGNED_BY, op.actor.user_id),
            )
            if already:
                raise ConflictError(
                    f"you have already countersigned version {version}", where="version"
                )
            self._sign(tx, op, row["id"], COUNTERSIGNED_BY, row["sha256"])

    def amend(self, actor: Actor, reference: str, version: int, reason: str) -> Draft:
        """Amend a final version: a new draft pointing at it, with the reason; it stays as is."""
        with self._operation(actor, AuditAction.AMEND) as (op, tx):
            case = self._case(op, tx, reference, Action.AMEND)
            row = self._version(op, tx, case, version)
            if row["status"] != AssessmentStatus.FINAL.value:
                raise ConflictError(
                    f"version {version} is a draft: change it directly", where="version"
                )
            text = (reason or "").strip()
            if not text or len(text) > MAX_TEXT:
                raise DocumentError(
                    [Problem("reason", "a reason (1 to 20,000 characters) is required", "give it")]
                )
            replaced_by = tx.one(
                "SELECT version FROM assessments WHERE case_id = ? AND replaces = ?",
                (case["id"], version),
            )
            if replaced_by is not None:
                raise ConflictError(
                    f"version {version} is already amended by version {replaced_by['version']}",
                    where="version",
                    fix=f"amend version {replaced_by['version']} instead",
                )
            self._no_open_draft(tx, case)
            final = self._assessment(row)
            new_version = case["latest_version"] + 1
            info = final.assessment.model_copy(
                update={
                    "version": new_version,
                    "status": AssessmentStatus.DRAFT,
                    "replaces": version,
                    "amendment_reason": text,
                }
            )
            draft = final.model_copy(update={"assessment": info})
            return self._insert_version(op, tx, case, draft, self._review(row))

    def formulation(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Return a version's formulation: stored for finals, computed for drafts.

        Viewers get it redacted: no evidence text, no responsivity notes, no names.
        """
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            return self._formulation(op, tx, reference, version)

    def export_formulation(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Return a version's formulation to leave the system as a report or chart: audited.

        The same formulation as `formulation` (redacted for viewers), recorded as one `export`
        of the case and version (ids only); needs the password entered within 5 minutes. Call
        it once per document made: the app's report and chart downloads do, when clicked.
        """
        with self._operation(actor, AuditAction.EXPORT) as (op, tx):
            result = self._formulation(op, tx, reference, version)
            self._require_password(tx, op)
            return result

    def _formulation(self, op: _Op, tx: Tx, reference: str, version: int) -> Formulation:
        case = self._case(op, tx, reference, Action.READ_FORMULATION)
        row = self._version(op, tx, case, version)
        if row["status"] == AssessmentStatus.FINAL.value:
            stored = tx.one(
                "SELECT document FROM formulations WHERE assessment_id = ?", (row["id"],)
            )
            if stored is None:
                raise StoreError(f"the formulation of version {version} is missing")
            result = Formulation.model_validate_json(stored["document"])
        else:
            assessment = self._assessment(row)
            result = formulate(
                self._instrument(assessment),
                assessment,
                self._previous_final(tx, case, version),
                generated_at=op.now,
                review=self._review(row),
            )
        full = can(op.actor, Action.READ_EVIDENCE, Resource(case["team"]))
        return result if full else _for_viewers(result)

    def set_override(
        self,
        actor: Actor,
        reference: str,
        version: int,
        area: str,
        band: Band | str,
        rationale: str,
        *,
        base_revision: int | None = None,
    ) -> Draft:
        """Set the assessor's band for an area on a draft, with a rationale (20+ characters)."""
        with self._editing(
            actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
        ) as (op, tx, case, row):
            instrument = self._instrument(self._assessment(row))
            review = apply_override(
                self._review(row),
                area,
                band,
                rationale,
                op.actor.username,
                op.now,
                instrument=instrument,
            )
            return self._store_draft(op, tx, case, row, self._assessment(row), review)

    def clear_override(
        self,
        actor: Actor,
        reference: str,
        version: int,
        area: str,
        *,
        base_revision: int | None = None,
    ) -> Draft:
        """Remove the assessor's override for an area on a draft."""
        with self._editing(
            actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
        ) as (op, tx, case, row):
            review = clear_override(self._review(row), area)
            return self._store_draft(op, tx, case, row, self._assessment(row), review)

    def save_narrative(
        self,
        actor: Actor,
        reference: str,
        version: int,
        heading: FiveP | str,
        text: str,
        *,
        base_revision: int,
    ) -> Draft:
        """Autosave the assessor's narrative for one 5P heading (blank text removes it)."""
        with self._editing(
            actor, reference, version, base_revision, AuditAction.NARRATIVE, Action.REVIEW
        ) as (op, tx, case, row):
            review = set_narrative(self._review(row), heading, text)
            return self._store_draft(op, tx, case, row, self._assessment(row), review)

    # --- exchange and backup -----------------------------------------------------------------

    def export_case(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> dict[str, Any]:
        """Return the case with every version, review, formulation and signature as one document.

        Needs the password entered within 5 minutes; validated against the published
        `schemas/case.schema.json` before it is returned.
        """
        from instrument.exchange.case import case_document

        with self._operation(actor, AuditAction.EXPORT) as (op, tx):
            case = self._case(op, tx, reference, Action.EXPORT_CASE, team)
            self._require_password(tx, op)
            rows = tx.all(
                "SELECT a.*, f.document AS formulation FROM assessments a"
                " LEFT JOIN formulations f ON f.assessment_id = a.id"
                " WHERE a.case_id = ? ORDER BY a.version",
                (case["id"],),
            )
            signatures = tx.all(
                "SELECT s.* FROM signatures s JOIN assessments a ON a.id = s.assessment_id"
                " WHERE a.case_id = ? ORDER BY s.id",
                (case["id"],),
            )
            return case_document(case, rows, signatures)

    def import_assessment(self, actor: Actor, data: bytes, team: str | None = None) -> Draft:
        """Import an assessment document as a new draft of its case (created when new).

        The strict limits of SECURITY.md 18 apply; the document becomes the case's next version
        as a draft, whatever its own version and status say: an import never overwrites a final
        version. All or nothing.

        Raises:
            DocumentError: listing every problem with its JSON path (nothing is written).
            ConflictError: when the case has an open draft, or a different pathway.
        """
        from instrument.exchange.assessments import parse_assessment

        with self._operation(actor, AuditAction.IMPORT) as (op, tx):
            self._require(op, Action.IMPORT)
            team_name = self._target_team(op, team)
            assessment = parse_assessment(data)
            case, created = self._import_target(op, tx, assessment.case, team_name)
            if not created:
                self._no_open_draft(tx, case)
            version = case["latest_version"] + 1
            replaces = assessment.assessment.replaces
            keep = replaces is not None and tx.one(
                "SELECT 1 FROM assessments WHERE case_id = ? AND version = ? AND status = 'final'",
                (case["id"], replaces),
            )
            info = assessment.assessment.model_copy(
                update={
                    "version": version,
                    "status": AssessmentStatus.DRAFT,
                    "replaces": replaces if keep else None,
                    "amendment_reason": assessment.assessment.amendment_reason if keep else None,
                }
            )
            draft = assessment.model_copy(update={"assessment": info})
            return self._insert_version(op, tx, case, draft, Review())

    def _import_target(
        self, op: _Op, tx: Tx, info: CaseInfo, team_name: str
    ) -> tuple[sqlite3.Row, bool]:
        """Return the case an import goes to, creating it (audited `create`) when new."""
        team_id = self._team_id(tx, team_name)
        row = tx.one(
            "SELECT c.*, t.name AS team FROM cases c JOIN teams t ON t.id = c.team_id"
            " WHERE c.team_id = ? AND c.reference = ?",
            (team_id, info.reference),
        )
        created = row is None
        if row is None:
            case_id = self._insert_case(op, tx, info.reference, info.pathway, team_name)
            op.extra.append(
                AuditEvent(
                    at=op.now,
                    action=AuditAction.CREATE,
                    actor_id=op.actor.user_id,
                    role=op.actor.role.value,
                    entity=Entity.CASE,
                    entity_id=case_id,
                )
            )
            row = tx.one(
                "SELECT c.*, t.name AS team FROM cases c JOIN teams t ON t.id = c.team_id"
                " WHERE c.id = ?",
                (case_id,),
            )
            assert row is not None
        elif row["pathway"] != info.pathway.value:
            raise ConflictError(
                f"case {info.reference} is on the {row['pathway']} pathway",
                where="$.case.pathway",
                fix="correct the pathway in the document",
            )
        op.entity, op.entity_id = Entity.CASE, int(row["id"])
        return row, created

    def import_case(self, actor: Actor, data: bytes, team: str | None = None) -> ImportResult:
        """Import a case export into a team where its reference is new, version by version.

        Final versions stay final with their stored formulation (checked against the hash of
        the assessment) and their signatures (recorded as imported).

        Raises:
            DocumentError: listing every problem with its JSON path (nothing is written).
            ConflictError: when the reference exists in the team: import its assessment instead.
        """
        from instrument.exchange.case import parse_case

        with self._operation(actor, AuditAction.IMPORT) as (op, tx):
            self._require(op, Action.IMPORT)
            team_name = self._target_team(op, team)
            export = parse_case(data)
            team_id = self._team_id(tx, team_name)
            if tx.one(
                "SELECT 1 FROM cases WHERE team_id = ? AND reference = ?",
                (team_id, export.case.reference),
            ):
                raise ConflictError(
                    f"case {export.case.reference} already exists in team {team_name}",
                    where="$.case.reference",
                    fix="import its latest assessment document instead (a new draft)",
                )
            case, _ = self._import_target(op, tx, export.case, team_name)
            for record in export.versions:
                final = record.assessment.assessment.status is AssessmentStatus.FINAL
                status = AssessmentStatus.FINAL if final else AssessmentStatus.DRAFT
                self._insert_version(op, tx, case, record.assessment, record.review, status=status)
                row = tx.one(
                    "SELECT id FROM assessments WHERE case_id = ? AND version = ?",
                    (case["id"], record.assessment.assessment.version),
                )
                assert row is not None
                if record.formulation is not None:
                    sha = assessment_hash(record.assessment)
                    self._store_formulation(tx, row["id"], record.formulation, sha, op.now)
                    for signature in record.signatures:
                        tx.insert(
                            "signatures",
                            {
                                "assessment_id": row["id"],
                                "user_id": None,
                                "signer": signature.by,
                                "meaning": signature.meaning,
                                "signed_at": _time(signature.at),
                                "assessment_sha256": sha,
                                "imported": 1,
                            },
                        )
                    _refresh_summary(tx, case["id"])
            op.version = None
            return ImportResult(
                export.case.reference,
                team_name,
                tuple(r.assessment.assessment.version for r in export.versions),
                True,
            )

    def import_document(self, actor: Actor, data: bytes, team: str | None = None) -> ImportResult:
        """Import an assessment document or a case export, whichever `data` is."""
        from instrument.exchange.case import is_case_document

        if is_case_document(data):
            return self.import_case(actor, data, team)
        draft = self.import_assessment(actor, data, team)
        actor_team = team or (actor.team if actor.role is not Role.SYSTEM else DEFAULT_TEAM)
        return ImportResult(
            draft.reference,
            actor_team or DEFAULT_TEAM,
            (draft.version,),
            draft.version == 1,
        )

    def backup(self, actor: Actor, out: Path) -> BackupReport:
        """Write a verified copy of the database to `out` with SQLite's backup API."""
        with self._operation(actor, AuditAction.BACKUP) as (op, _tx):
            self._require(op, Action.BACKUP)
            op.entity = Entity.DATABASE
        return self.store.backup(Path(out))


# --- helpers -----------------------------------------------------------------------------------

_LIST_SQL = (
    "SELECT c.reference, c.pathway, t.name, c.latest_status, c.latest_version,"
    " c.latest_assessed_on, c.latest_assessor, c.top_priority"
    " FROM cases c JOIN teams t ON t.id = c.team_id"
)
_PATHWAYS = {p.value: p for p in Pathway}
_STATUSES = {s.value: s for s in AssessmentStatus}


def _refresh_summary(tx: Tx, case_id: int) -> None:
    """Refresh the case row's list columns, in the transaction that changed a version."""
    tx.execute(SUMMARY_REFRESH + " WHERE id = ?", (case_id,))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ordered(instrument: Instrument, ratings: dict[str, Rating]) -> dict[str, Rating]:
    return {item.id: ratings[item.id] for item in instrument.items if item.id in ratings}


def _replace(event: AuditEvent, **changes: Any) -> AuditEvent:
    from dataclasses import replace

    return replace(event, **changes)


def _audit_row(entry: AuditEntry, names: dict[int, str]) -> AuditRow:
    return AuditRow(
        seq=entry.seq,
        at=dt.datetime.fromisoformat(entry.at),
        username=names.get(entry.actor_id) if entry.actor_id is not None else None,
        role=entry.role,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        version=entry.version,
        outcome=entry.outcome,
    )


def _for_viewers(formulation: Formulation) -> Formulation:
    """Return the formulation for a viewer: redacted, and without any person's name."""
    redacted = redact(formulation)
    header = redacted.header.model_copy(update={"assessors": []})
    overrides = {
        area: override.model_copy(update={"by": "assessor"})
        for area, override in redacted.review.overrides.items()
    }
    priorities = [
        p.model_copy(update={"override": overrides.get(p.area)}) if p.override else p
        for p in redacted.priorities
    ]
    review = redacted.review.model_copy(update={"overrides": overrides})
    return redacted.model_copy(
        update={"header": header, "review": review, "priorities": priorities}
    )
