"""The audit log's entries and its keyed hash chain: ids and action codes, never clinical text.

An entry says who (user id and role, or `system`), did what (an action code), to which record
(an entity kind, its numeric id and version), with what outcome, and when (UTC). It never holds
evidence, narrative, names, case references or any other free text: the fields are typed so
that none can (SECURITY.md 17).

Each entry is chained to the one before it:

    mac = HMAC-SHA256(key, prev_mac + canonical JSON of the entry's fields)

with `prev_mac` of the first entry `GENESIS`. The store also keeps a keyed record of the head
(the last seq and mac) so that cutting the tail is detected. `verify_chain` checks contiguous
seq, each stored link, each recomputed MAC and the head, and names the first bad seq.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

GENESIS = "0" * 64


class AuditAction(StrEnum):
    """What was done; every action the service performs or refuses has one code."""

    CREATE = "create"
    VIEW = "view"
    LIST = "list"
    SEARCH = "search"
    START = "start"
    SAVE = "save"
    FINALISE = "finalise"
    COUNTERSIGN = "countersign"
    AMEND = "amend"
    OVERRIDE = "override"
    NARRATIVE = "narrative"
    EXPORT = "export"
    IMPORT = "import"
    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    SIGN_OUT_EVERYWHERE = "sign-out-everywhere"
    TIMEOUT = "timeout"
    LOCKOUT = "lockout"
    CONFIRM_PASSWORD = "confirm-password"
    USER_ADD = "user-add"
    ROLE_CHANGE = "role-change"
    TEAM_CHANGE = "team-change"
    DEACTIVATE = "deactivate"
    UNLOCK = "unlock"
    PASSWORD_REHASH = "password-rehash"
    TEAM_ADD = "team-add"
    USERS_LIST = "users-list"
    TEAMS_LIST = "teams-list"
    AUDIT_READ = "audit-read"
    BACKUP = "backup"
    PLAN_START = "plan-start"
    PLAN_SAVE = "plan-save"
    PLAN_AGREE = "plan-agree"
    PLAN_AMEND = "plan-amend"
    SESSION_LOG = "session-log"
    SESSION_SAVE = "session-save"
    PROGRESS_REVIEW = "progress-review"
    AUDIT_RESTORE = "audit-restore"
    PASSWORD_CHANGE = "password-change"
    PASSWORD_RESET = "password-reset"
    KEY_ROTATE = "key-rotate"


class Outcome(StrEnum):
    """How the action ended."""

    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"


class Entity(StrEnum):
    """The kind of record an entry refers to, by numeric id."""

    CASE = "case"
    ASSESSMENT = "assessment"
    USER = "user"
    TEAM = "team"
    SESSION = "session"
    DATABASE = "database"
    PLAN = "plan"
    DELIVERY = "delivery"
    PROGRESS = "progress"


ACTION_MEANING: dict[AuditAction, str] = {
    AuditAction.CREATE: "a case was created",
    AuditAction.VIEW: "a case was opened (once per opening)",
    AuditAction.LIST: "the case list was read",
    AuditAction.SEARCH: "the case list was searched (the search terms are not recorded)",
    AuditAction.START: "a first or next draft assessment was started",
    AuditAction.SAVE: "a draft was autosaved (one item, note or the details)",
    AuditAction.FINALISE: "a draft was finalised and signed",
    AuditAction.COUNTERSIGN: "a final version was countersigned",
    AuditAction.AMEND: "a final version was amended into a new draft",
    AuditAction.OVERRIDE: "an area override was set or cleared",
    AuditAction.NARRATIVE: "a 5P narrative was saved",
    AuditAction.EXPORT: "a case was exported",
    AuditAction.IMPORT: "a document was imported",
    AuditAction.SIGN_IN: "a sign-in (failed ones carry no user id when the user is unknown)",
    AuditAction.SIGN_OUT: "a session was ended by its user",
    AuditAction.SIGN_OUT_EVERYWHERE: "every session of a user was ended",
    AuditAction.TIMEOUT: "a session expired (idle or absolute limit)",
    AuditAction.LOCKOUT: "an account was locked after repeated failures",
    AuditAction.CONFIRM_PASSWORD: "a password was re-entered before a signature or export",
    AuditAction.USER_ADD: "a user was added",
    AuditAction.ROLE_CHANGE: "a user's role was changed",
    AuditAction.TEAM_CHANGE: "a user's team was changed",
    AuditAction.DEACTIVATE: "a user was deactivated (their sessions end)",
    AuditAction.UNLOCK: "a locked account was unlocked",
    AuditAction.PASSWORD_REHASH: "a stored password hash was upgraded to current parameters",
    AuditAction.TEAM_ADD: "a team was added",
    AuditAction.USERS_LIST: "the user list was read",
    AuditAction.TEAMS_LIST: "the team list was read",
    AuditAction.AUDIT_READ: "the audit log was read",
    AuditAction.BACKUP: "a backup was written (`failed` when it was not)",
    AuditAction.PLAN_START: "an intervention plan's first draft was started",
    AuditAction.PLAN_SAVE: "a draft plan was saved (one field)",
    AuditAction.PLAN_AGREE: "a plan was agreed and signed by a facilitator",
    AuditAction.PLAN_AMEND: "an agreed plan was amended into a new draft version",
    AuditAction.SESSION_LOG: "a session was logged in the delivery log",
    AuditAction.SESSION_SAVE: "a delivery log entry was saved (one field)",
    AuditAction.PROGRESS_REVIEW: "a progress review of the plan was recorded",
    AuditAction.AUDIT_RESTORE: "the audit log was accepted as it is after a deliberate restore",
    AuditAction.PASSWORD_CHANGE: "a user changed their own password (the one-time one included)",
    AuditAction.PASSWORD_RESET: "an administrator gave a user a new one-time password",
    AuditAction.KEY_ROTATE: "the audit or cookie key was replaced by a new one",
}


@dataclass(frozen=True)
class AuditEvent:
    """What happened, before it is placed in the chain. Ids and codes only."""

    at: dt.datetime
    action: AuditAction
    outcome: Outcome = Outcome.OK
    actor_id: int | None = None
    role: str | None = None
    entity: Entity | None = None
    entity_id: int | None = None
    version: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry of the chain: the event's fields as stored text, with seq and MACs."""

    seq: int
    at: str
    actor_id: int | None
    role: str | None
    action: str
    entity: str | None
    entity_id: int | None
    version: int | None
    outcome: str
    prev_mac: str
    mac: str

    def fields(self) -> dict[str, object]:
        """Return the fields the MAC covers (everything but the two MACs)."""
        data = asdict(self)
        del data["prev_mac"], data["mac"]
        return data


@dataclass(frozen=True)
class Verification:
    """The result of checking a chain: intact, or the first bad seq and why."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def timestamp(at: dt.datetime) -> str:
    """Return the UTC time as stored: ISO 8601 with microseconds and `+00:00`."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(fields: dict[str, object]) -> bytes:
    """Return the canonical JSON bytes of an entry's fields: sorted keys, no spaces."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_mac(key: bytes, prev_mac: str, fields: dict[str, object]) -> str:
    """Return HMAC-SHA256(key, prev_mac + canonical JSON of the fields), in hex."""
    return hmac.new(key, prev_mac.encode("ascii") + canonical(fields), hashlib.sha256).hexdigest()


def chain(key: bytes, event: AuditEvent, *, seq: int, prev_mac: str) -> AuditEntry:
    """Return the entry that places `event` after the entry whose MAC is `prev_mac`."""
    unsigned = AuditEntry(
        seq=seq,
        at=timestamp(event.at),
        actor_id=event.actor_id,
        role=event.role,
        action=AuditAction(event.action).value,
        entity=Entity(event.entity).value if event.entity is not None else None,
        entity_id=event.entity_id,
        version=event.version,
        outcome=Outcome(event.outcome).value,
        prev_mac=prev_mac,
        mac="",
    )
    mac = compute_mac(key, prev_mac, unsigned.fields())
    return AuditEntry(**{**asdict(unsigned), "mac": mac})


def head_mac(key: bytes, seq: int, mac: str) -> str:
    """Return the keyed MAC of the recorded head (the last seq and its MAC)."""
    message = f"head:{seq}:{mac}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_chain(
    key: bytes, entries: Iterable[AuditEntry], head: tuple[int, str, str] | None
) -> Verification:
    """Check a chain in seq order against its recorded head `(seq, mac, head_mac)`.

    Detects an edited field, an edited `prev_mac`, a deleted, swapped or forged entry, and a tail
    cut against the recorded head; returns the first bad seq.
    """
    expected_seq = 1
    prev = GENESIS
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            bad = min(entry.seq, expected_seq)
            return Verification(
                False, count, bad, f"seq {expected_seq} expected, {entry.seq} found"
            )
        if not hmac.compare_digest(entry.prev_mac, prev):
            return Verification(False, count, entry.seq, "prev_mac does not match the entry before")
        if not hmac.compare_digest(entry.mac, compute_mac(key, entry.prev_mac, entry.fields())):
            return Verification(False, count, entry.seq, "mac does not match the entry's fields")
        prev = entry.mac
        expected_seq += 1
    last = expected_seq - 1
    if head is None:
        if last:
            return Verification(False, count, 1, "the recorded head is missing")
        return Verification(True, 0)
    head_seq, mac, recorded = head
    if not hmac.compare_digest(recorded, head_mac(key, head_seq, mac)):
        return Verification(False, count, min(head_seq, last + 1) or 1, "the head is not valid")
    if head_seq > last:
        return Verification(
            False, count, last + 1, f"entries {last + 1} to {head_seq} are missing (tail cut)"
        )
    if head_seq < last:
        return Verification(False, count, head_seq + 1, "entries after the recorded head")
    if not hmac.compare_digest(mac, prev):
        return Verification(False, count, last, "the last entry is not the recorded head")
    return Verification(True, count)
