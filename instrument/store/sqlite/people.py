"""Users, teams and sessions in SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from instrument.access import Role
from instrument.store.records import SessionRecord, UserRecord
from instrument.store.sqlite.sql import Sql, iso, parse_time

_USER = "SELECT u.*, t.name AS team FROM users u JOIN teams t ON t.id = u.team_id"


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        team_id=row["team_id"],
        team=row["team"],
        password_hash=row["password_hash"],
        active=bool(row["active"]),
        failed_count=row["failed_count"],
        lockouts=row["lockouts"],
        locked_until=parse_time(row["locked_until"]),
        confirmed_at=parse_time(row["confirmed_at"]),
    )


class SqliteTeams:
    """The teams table."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def id_of(self, name: str) -> int | None:
        """Return the id of the team with this name, or None."""
        rows = self._sql.where("teams", "name = ?", [name], select="id")
        return int(rows[0]["id"]) if rows else None

    def add(self, name: str, now: dt.datetime) -> int:
        """Add a team and return its id."""
        return self._sql.insert("teams", {"name": name, "created_at": iso(now)})

    def names(self) -> list[str]:
        """Return every team name, in order."""
        return [r["name"] for r in self._sql.where("teams", "1", [], order_by="name")]


class SqliteUsers:
    """The users table."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def get(self, user_id: int) -> UserRecord | None:
        """Return a user by id, or None."""
        row = self._sql.one(_USER + " WHERE u.id = ?", (user_id,))
        return _user(row) if row is not None else None

    def find(self, username: str) -> UserRecord | None:
        """Return a user by username (any case), or None."""
        row = self._sql.one(_USER + " WHERE u.username = ?", (username,))
        return _user(row) if row is not None else None

    def any(self) -> bool:
        """Return whether any user exists."""
        return bool(self._sql.where("users", "1", [], select="id", limit=1))

    def all(self) -> list[UserRecord]:
        """Return every user in username order."""
        return [_user(row) for row in self._sql.all(_USER + " ORDER BY u.username")]

    def names(self) -> dict[int, str]:
        """Return every user's username by id."""
        return {
            r["id"]: r["username"] for r in self._sql.where("users", "1", [], select="id, username")
        }

    def add(
        self, username: str, role: Role, team_id: int, password_hash: str, now: dt.datetime
    ) -> int:
        """Add a user and return its id."""
        return self._sql.insert(
            "users",
            {
                "username": username,
                "role": role.value,
                "team_id": team_id,
                "password_hash": password_hash,
                "created_at": iso(now),
            },
        )

    def clear_failures(self, user_id: int) -> None:
        """Reset the failure count and the lockouts (a good sign-in, an unlock)."""
        self._sql.execute(
            "UPDATE users SET failed_count = 0, lockouts = 0, locked_until = NULL WHERE id = ?",
            (user_id,),
        )

    def set_failures(self, user_id: int, failures: int) -> None:
        """Record the number of consecutive failures."""
        self._sql.execute("UPDATE users SET failed_count = ? WHERE id = ?", (failures, user_id))

    def lock(self, user_id: int, until: dt.datetime) -> None:
        """Lock the account until a time, count the lockout, reset the failure count."""
        self._sql.execute(
            "UPDATE users SET failed_count = 0, lockouts = lockouts + 1, locked_until = ?"
            " WHERE id = ?",
            (iso(until), user_id),
        )

    def confirm(self, user_id: int, now: dt.datetime) -> None:
        """Record a password re-entry now (and reset the failure count)."""
        self._sql.execute(
            "UPDATE users SET confirmed_at = ?, failed_count = 0 WHERE id = ?", (iso(now), user_id)
        )

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace the stored password hash (a rehash with new parameters)."""
        self._sql.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
        )

    def set_role(self, user_id: int, role: Role) -> None:
        """Change a user's role."""
        self._sql.execute("UPDATE users SET role = ? WHERE id = ?", (role.value, user_id))

    def set_team(self, user_id: int, team_id: int) -> None:
        """Move a user to another team."""
        self._sql.execute("UPDATE users SET team_id = ? WHERE id = ?", (team_id, user_id))

    def deactivate(self, user_id: int) -> None:
        """Deactivate a user."""
        self._sql.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))

    def other_active_admins(self, user_id: int) -> int:
        """Return how many active administrators there are besides this user."""
        row = self._sql.one(
            "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND id != ?",
            (user_id,),
        )
        return int(row[0]) if row is not None else 0


class SqliteSessions:
    """The sessions table (keyed by the hash of a session id, never the id)."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def find_open(self, key: str) -> SessionRecord | None:
        """Return an open session with its user, or None."""
        row = self._sql.one(
            "SELECT s.*, u.username, u.role, u.active, t.name AS team FROM sessions s"
            " JOIN users u ON u.id = s.user_id JOIN teams t ON t.id = u.team_id"
            " WHERE s.id = ? AND s.ended_at IS NULL",
            (key,),
        )
        if row is None:
            return None
        return SessionRecord(
            key=row["id"],
            user_id=row["user_id"],
            username=row["username"],
            role=Role(row["role"]),
            team=row["team"],
            active=bool(row["active"]),
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            last_seen_at=dt.datetime.fromisoformat(row["last_seen_at"]),
        )

    def add(self, key: str, user_id: int, now: dt.datetime) -> None:
        """Open a session."""
        self._sql.insert(
            "sessions",
            {"id": key, "user_id": user_id, "created_at": iso(now), "last_seen_at": iso(now)},
        )

    def touch(self, key: str, now: dt.datetime) -> None:
        """Record that a session was used now."""
        self._sql.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (iso(now), key))

    def end(self, key: str, now: dt.datetime, reason: str) -> None:
        """End one session with a reason."""
        self._sql.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
            (iso(now), reason, key),
        )

    def end_all(self, user_id: int, now: dt.datetime, reason: str) -> None:
        """End every open session of a user."""
        self._sql.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = ?"
            " WHERE user_id = ? AND ended_at IS NULL",
            (iso(now), reason, user_id),
        )
