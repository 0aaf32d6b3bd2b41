"""Administration: the first administrator, users, roles, teams and the audit viewer."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from instrument.access import USER_ROLES, Action, Actor, Role, password_problems
from instrument.audit import AuditAction, AuditEntry, AuditEvent, Entity
from instrument.errors import ConflictError, DocumentError, NotFoundError, Problem
from instrument.service.base import DEFAULT_TEAM, Op, ServiceBase
from instrument.service.views import AuditRow, UserRow
from instrument.store import Transaction, UserRecord

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$"
TEAM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$"


def _user_row(user: UserRecord) -> UserRow:
    return UserRow(user.username, user.role, user.team, user.active, user.locked_until)


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


class AdminService(ServiceBase):
    """Users, roles, teams and the audit log, for administrators."""

    def ensure_admin(self) -> str | None:
        """On an empty database create the user `admin`; return its random password once.

        Returns None when any user exists.
        """
        password = secrets.token_urlsafe(18)
        password_hash = self.hasher.hash(password)
        now = self._now()
        with self.store.write() as tx:
            if tx.users.any():
                return None
            user_id = tx.users.add(
                "admin", Role.ADMIN, self._team_id(tx, DEFAULT_TEAM), password_hash, now
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
            if tx.users.find(username) is not None:
                raise ConflictError(
                    f"the username {username} is taken", where="username", fix="choose another"
                )
            user_id = tx.users.add(username, Role(role), team_id, password_hash, op.now)
            op.entity, op.entity_id = Entity.USER, user_id
            return UserRow(username, Role(role), team_name, True, None)

    def _user(self, op: Op, tx: Transaction, username: str) -> UserRecord:
        self._require(op, Action.MANAGE_USERS)
        user = tx.users.find(username)
        op.entity = Entity.USER
        if user is None:
            raise NotFoundError(f"no user {username}", where="username", fix="check the name")
        op.entity_id = user.id
        return user

    def list_users(self, actor: Actor) -> list[UserRow]:
        """Return every user (administrators)."""
        with self._operation(actor, AuditAction.USERS_LIST) as (op, tx):
            self._require(op, Action.MANAGE_USERS)
            return [_user_row(user) for user in tx.users.all()]

    def set_role(self, actor: Actor, username: str, role: Role | str) -> None:
        """Change a user's role; needs the password entered within 5 minutes."""
        with self._operation(actor, AuditAction.ROLE_CHANGE) as (op, tx):
            user = self._user(op, tx, username)
            if role not in {r.value for r in USER_ROLES}:
                raise DocumentError([Problem("role", f"unknown role {role!r}", "choose another")])
            self._require_password(tx, op)
            if user.role is Role.ADMIN and role != Role.ADMIN.value:
                self._keep_an_admin(tx, user.id)
            tx.users.set_role(user.id, Role(role))

    @staticmethod
    def _keep_an_admin(tx: Transaction, user_id: int) -> None:
        if tx.users.other_active_admins(user_id) == 0:
            raise ConflictError(
                "this is the last active administrator", fix="make another user admin first"
            )

    def set_team(self, actor: Actor, username: str, team: str) -> None:
        """Move a user to another team."""
        with self._operation(actor, AuditAction.TEAM_CHANGE) as (op, tx):
            user = self._user(op, tx, username)
            tx.users.set_team(user.id, self._team_id(tx, team))

    def deactivate(self, actor: Actor, username: str) -> None:
        """Deactivate a user: they cannot sign in, and every session of theirs ends now."""
        with self._operation(actor, AuditAction.DEACTIVATE) as (op, tx):
            user = self._user(op, tx, username)
            if user.role is Role.ADMIN:
                self._keep_an_admin(tx, user.id)
            tx.users.deactivate(user.id)
            tx.sessions.end_all(user.id, op.now, "deactivated")

    def unlock(self, actor: Actor, username: str) -> None:
        """Lift a lockout and reset the failure count."""
        with self._operation(actor, AuditAction.UNLOCK) as (op, tx):
            user = self._user(op, tx, username)
            tx.users.clear_failures(user.id)

    def add_team(self, actor: Actor, name: str) -> None:
        """Add a team."""
        with self._operation(actor, AuditAction.TEAM_ADD) as (op, tx):
            self._require(op, Action.MANAGE_TEAMS)
            if not re.match(TEAM_PATTERN, name):
                raise DocumentError(
                    [Problem("team", "a team name is 1 to 40 letters, digits, ` ._-`", "rename")]
                )
            if tx.teams.id_of(name) is not None:
                raise ConflictError(f"team {name} exists", where="team", fix="choose another")
            op.entity = Entity.TEAM
            op.entity_id = tx.teams.add(name, op.now)

    def list_teams(self, actor: Actor) -> list[str]:
        """Return every team name."""
        with self._operation(actor, AuditAction.TEAMS_LIST) as (op, tx):
            self._require(op, Action.MANAGE_TEAMS)
            return tx.teams.names()

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
                user = tx.users.find(username)
                if user is None:
                    return []
                actor_id = user.id
            names = tx.users.names()
        entries = self.store.audit_entries(
            action=action, actor_id=actor_id, limit=limit, newest_first=True
        )
        return [_audit_row(entry, names) for entry in entries]
