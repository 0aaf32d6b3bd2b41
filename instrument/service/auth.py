"""Signing in, server-side sessions and password re-entry (SECURITY.md 8-11).

A session id is 256 random bits; the sessions table stores only its SHA-256. Sessions end after
15 minutes idle or 10 hours in all, at sign-out, and when their user is deactivated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import replace

from argon2.exceptions import InvalidHashError, VerificationError

from instrument.access import Actor
from instrument.audit import AuditAction, AuditEvent, Entity, Outcome
from instrument.errors import AuthenticationError
from instrument.service.base import ServiceBase
from instrument.store import SessionRecord, Transaction

IDLE_LIMIT = dt.timedelta(minutes=15)
ABSOLUTE_LIMIT = dt.timedelta(hours=10)
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
SIGN_IN_FAILED = (
    "the username or password is not right, or the account is locked for a while; "
    "try again, or ask an administrator"
)


def session_key(session_id: str) -> str:
    """Return what the sessions table stores for a session id: its SHA-256, never the id."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    """Return a new session id: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def _expiry(session: SessionRecord) -> dt.datetime:
    return min(session.last_seen_at + IDLE_LIMIT, session.created_at + ABSOLUTE_LIMIT)


class AuthService(ServiceBase):
    """Sign-in, sessions, sign-out and password re-entry."""

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
            user = tx.users.find(username.strip())
        if user is None:
            self._verify(self._dummy_hash, password)  # the same time as for a known user
            self.store.audit_only(
                AuditEvent(at=now, action=AuditAction.SIGN_IN, outcome=Outcome.FAILED)
            )
            raise AuthenticationError(SIGN_IN_FAILED)
        locked = user.locked_until is not None and now < user.locked_until
        usable = user.active and not locked
        good = self._verify(user.password_hash if usable else self._dummy_hash, password)
        session_id = new_session_id()
        event = AuditEvent(
            at=now,
            action=AuditAction.SIGN_IN,
            actor_id=user.id,
            role=user.role.value,
            entity=Entity.USER,
            entity_id=user.id,
        )
        with self.store.write() as tx:
            if usable and good:
                tx.users.clear_failures(user.id)
                if self.hasher.check_needs_rehash(user.password_hash):
                    tx.users.set_password_hash(user.id, self.hasher.hash(password))
                    tx.audit(replace(event, action=AuditAction.PASSWORD_REHASH))
                tx.sessions.add(session_key(session_id), user.id, now)
                tx.audit(event)
            else:
                self._record_failure(tx, user.id, now, event, count=usable)
        if not (usable and good):
            raise AuthenticationError(SIGN_IN_FAILED)
        return session_id

    @staticmethod
    def _record_failure(
        tx: Transaction, user_id: int, now: dt.datetime, event: AuditEvent, *, count: bool
    ) -> None:
        tx.audit(replace(event, outcome=Outcome.FAILED))
        if not count:
            return
        user = tx.users.get(user_id)
        assert user is not None
        failures = user.failed_count + 1
        if failures >= MAX_FAILURES:
            tx.users.lock(user_id, now + LOCKOUT * (2**user.lockouts))
            tx.audit(replace(event, action=AuditAction.LOCKOUT, outcome=Outcome.OK))
        else:
            tx.users.set_failures(user_id, failures)

    def session_actor(self, session_id: str) -> Actor | None:
        """Return who a session belongs to, touching its last-seen time; None when not valid.

        None when the id is unknown or ended, idle for more than 15 minutes, older than 10
        hours, or its user was deactivated; an expiry is recorded (and audited) once.
        """
        if not session_id:
            return None
        now = self._now()
        with self.store.write() as tx:
            session = tx.sessions.find_open(session_key(session_id))
            if session is None:
                return None
            reason = None
            if not session.active:
                reason = "deactivated"
            elif now > _expiry(session):
                reason = "timeout"
            if reason is not None:
                self._end_session(tx, session, now, reason, AuditAction.TIMEOUT)
                return None
            tx.sessions.touch(session.key, now)
            return Actor(session.user_id, session.username, session.role, session.team)

    def session_expires_in(self, session_id: str) -> dt.timedelta | None:
        """Return how long the session has before it expires (for the idle warning), or None."""
        now = self._now()
        with self.store.read() as tx:
            session = tx.sessions.find_open(session_key(session_id))
        if session is None or not session.active:
            return None
        left = _expiry(session) - now
        return left if left > dt.timedelta(0) else None

    def sign_out(self, session_id: str) -> None:
        """End a session (every tab carrying it is signed out); unknown ids are ignored."""
        now = self._now()
        with self.store.write() as tx:
            session = tx.sessions.find_open(session_key(session_id))
            if session is None:
                return
            self._end_session(tx, session, now, "sign-out", AuditAction.SIGN_OUT)

    @staticmethod
    def _end_session(
        tx: Transaction,
        session: SessionRecord,
        now: dt.datetime,
        reason: str,
        action: AuditAction,
    ) -> None:
        """End one session and audit it as `action` by the session's own user."""
        tx.sessions.end(session.key, now, reason)
        tx.audit(
            AuditEvent(
                at=now,
                action=action,
                actor_id=session.user_id,
                role=session.role.value,
                entity=Entity.USER,
                entity_id=session.user_id,
            )
        )

    def sign_out_everywhere(self, actor: Actor) -> None:
        """End every session of the actor."""
        with self._operation(actor, AuditAction.SIGN_OUT_EVERYWHERE) as (op, tx):
            op.entity, op.entity_id = Entity.USER, op.actor.user_id
            if op.actor.user_id is not None:
                tx.sessions.end_all(op.actor.user_id, op.now, "sign-out")

    def confirm_password(self, actor: Actor, password: str) -> None:
        """Record that the actor entered their password again (valid for 5 minutes).

        Raises:
            AuthenticationError: when it is wrong (counted towards the lockout, audited).
        """
        now = self._now()
        with self.store.read() as tx:
            fresh = self._fresh(tx, actor)
            user = tx.users.get(fresh.user_id) if fresh.user_id is not None else None
        good = user is not None and self._verify(user.password_hash, password)
        event = AuditEvent(
            at=now,
            action=AuditAction.CONFIRM_PASSWORD,
            actor_id=fresh.user_id,
            role=fresh.role.value,
            entity=Entity.USER,
            entity_id=fresh.user_id,
        )
        with self.store.write() as tx:
            if good and fresh.user_id is not None:
                tx.users.confirm(fresh.user_id, now)
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
