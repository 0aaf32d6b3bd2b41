"""Who may do what: roles, the acting user, the access matrix (as data) and the password rules.

Everything here is a pure decision. The matrix `MATRIX` is the one place the rules are written;
`can(actor, action, resource)` reads it, the service asks it before every operation, and the
README's "Roles and permissions" table is generated from it (a test compares the two).

A `Scope` says how far a permission reaches: `ANY` (every team, or no team at all for
system-wide things such as users) or `OWN_TEAM` (only cases of the actor's own team). A role
without an entry for an action is denied: deny by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from instrument.errors import Problem

MIN_PASSWORD = 15
MAX_PASSWORD = 1024
COMMON_PASSWORDS_REFUSED = 1000
MIN_STRENGTH = 3
"""The lowest zxcvbn score (0 to 4) a new password may have (SECURITY.md 33)."""
STRENGTH_CHARACTERS = 72
"""zxcvbn rates at most this many characters; a longer password is rated by its beginning."""


class Role(StrEnum):
    """The role of a user; `system` is the built-in actor of the command line, never a user's."""

    ADMIN = "admin"
    PSYCHOLOGIST = "psychologist"
    SUPERVISOR = "supervisor"
    FACILITATOR = "facilitator"
    VIEWER = "viewer"
    SYSTEM = "system"


USER_ROLES: tuple[Role, ...] = (
    Role.ADMIN,
    Role.PSYCHOLOGIST,
    Role.SUPERVISOR,
    Role.FACILITATOR,
    Role.VIEWER,
)
"""The roles a user account may have (everything but `system`)."""


class Action(StrEnum):
    """An operation the access matrix decides on."""

    MANAGE_USERS = "manage-users"
    MANAGE_TEAMS = "manage-teams"
    READ_AUDIT = "read-audit"
    BACKUP = "backup"
    CREATE_CASE = "create-case"
    LIST_CASES = "list-cases"
    VIEW_CASE = "view-case"
    READ_EVIDENCE = "read-evidence"
    READ_FORMULATION = "read-formulation"
    EDIT_DRAFT = "edit-draft"
    REVIEW = "review"
    FINALISE = "finalise"
    AMEND = "amend"
    COUNTERSIGN = "countersign"
    EXPORT_CASE = "export-case"
    IMPORT = "import"
    READ_PLAN = "read-plan"
    READ_PLAN_NOTES = "read-plan-notes"
    EDIT_PLAN = "edit-plan"
    AGREE_PLAN = "agree-plan"
    LOG_SESSION = "log-session"
    REVIEW_PROGRESS = "review-progress"


class Scope(StrEnum):
    """How far a permission reaches."""

    ANY = "any team"
    OWN_TEAM = "own team"


ACTION_MEANING: dict[Action, str] = {
    Action.MANAGE_USERS: "add users, change roles and teams, deactivate, unlock",
    Action.MANAGE_TEAMS: "add and list teams",
    Action.READ_AUDIT: "read the audit log",
    Action.BACKUP: "back up the database",
    Action.CREATE_CASE: "create a case",
    Action.LIST_CASES: "list and search cases",
    Action.VIEW_CASE: "open a case: its reference, pathway, versions and status",
    Action.READ_EVIDENCE: "read assessments with their evidence text and assessors",
    Action.READ_FORMULATION: "read formulations and profiles (redacted without read-evidence)",
    Action.EDIT_DRAFT: "start and autosave draft assessments",
    Action.REVIEW: "set overrides and narratives on a draft's formulation",
    Action.FINALISE: "finalise (sign) a draft",
    Action.AMEND: "amend a finalised version (a new draft with a reason)",
    Action.COUNTERSIGN: "countersign a finalised version",
    Action.EXPORT_CASE: "export a case as JSON",
    Action.IMPORT: "import assessment and case documents",
    Action.READ_PLAN: "read intervention plans, delivery logs and reviews (redacted without "
    "read-plan-notes)",
    Action.READ_PLAN_NOTES: "read the plan's free text: reasons, goals, adaptations, session "
    "notes, review evidence",
    Action.EDIT_PLAN: "start, edit and amend intervention plans",
    Action.AGREE_PLAN: "agree (sign) a plan, as one of its facilitators",
    Action.LOG_SESSION: "log delivered sessions in the delivery log",
    Action.REVIEW_PROGRESS: "record progress reviews of a plan",
}

_CASE_READ = {
    Action.LIST_CASES: Scope.OWN_TEAM,
    Action.VIEW_CASE: Scope.OWN_TEAM,
    Action.READ_FORMULATION: Scope.OWN_TEAM,
    Action.READ_PLAN: Scope.OWN_TEAM,
}

# Those who deliver and review the intervention: psychologists and facilitators.
_PLAN_WORK = {
    Action.READ_PLAN_NOTES: Scope.OWN_TEAM,
    Action.EDIT_PLAN: Scope.OWN_TEAM,
    Action.AGREE_PLAN: Scope.OWN_TEAM,
    Action.LOG_SESSION: Scope.OWN_TEAM,
    Action.REVIEW_PROGRESS: Scope.OWN_TEAM,
}

MATRIX: dict[Role, dict[Action, Scope]] = {
    Role.ADMIN: {
        Action.MANAGE_USERS: Scope.ANY,
        Action.MANAGE_TEAMS: Scope.ANY,
        Action.READ_AUDIT: Scope.ANY,
        Action.BACKUP: Scope.ANY,
    },
    Role.PSYCHOLOGIST: {
        **_CASE_READ,
        Action.CREATE_CASE: Scope.OWN_TEAM,
        Action.READ_EVIDENCE: Scope.OWN_TEAM,
        Action.EDIT_DRAFT: Scope.OWN_TEAM,
        Action.REVIEW: Scope.OWN_TEAM,
        Action.FINALISE: Scope.OWN_TEAM,
        Action.AMEND: Scope.OWN_TEAM,
        Action.EXPORT_CASE: Scope.OWN_TEAM,
        Action.IMPORT: Scope.OWN_TEAM,
        **_PLAN_WORK,
    },
    Role.SUPERVISOR: {
        **_CASE_READ,
        Action.READ_EVIDENCE: Scope.OWN_TEAM,
        Action.COUNTERSIGN: Scope.OWN_TEAM,
        Action.EXPORT_CASE: Scope.OWN_TEAM,
        Action.READ_PLAN_NOTES: Scope.OWN_TEAM,
    },
    # Probation staff who deliver sessions: the formulation (without evidence) and the plan of
    # their team's cases; they plan, log and review, and never edit or sign an assessment.
    Role.FACILITATOR: {**_CASE_READ, **_PLAN_WORK},
    Role.VIEWER: dict(_CASE_READ),
    # The command line's built-in actor: operator tasks on any team, never a signature.
    Role.SYSTEM: {
        Action.MANAGE_USERS: Scope.ANY,
        Action.MANAGE_TEAMS: Scope.ANY,
        Action.READ_AUDIT: Scope.ANY,
        Action.BACKUP: Scope.ANY,
        Action.CREATE_CASE: Scope.ANY,
        Action.LIST_CASES: Scope.ANY,
        Action.VIEW_CASE: Scope.ANY,
        Action.READ_EVIDENCE: Scope.ANY,
        Action.READ_FORMULATION: Scope.ANY,
        Action.EDIT_DRAFT: Scope.ANY,
        Action.EXPORT_CASE: Scope.ANY,
        Action.IMPORT: Scope.ANY,
        Action.READ_PLAN: Scope.ANY,
        Action.READ_PLAN_NOTES: Scope.ANY,
    },
}


@dataclass(frozen=True)
class Actor:
    """The user an operation is done for: id, username, role and team name.

    `session` is the stored key of the sign-in session the actor acts through: a password
    re-entry belongs to that session, not to the user (SECURITY.md 28).
    """

    user_id: int | None
    username: str
    role: Role
    team: str | None = None
    session: str | None = field(default=None, compare=False, repr=False)
    must_change: bool = field(default=False, compare=False, repr=False)
    """True while the account holds a one-time password: only changing it is allowed."""


SYSTEM = Actor(user_id=None, username="system", role=Role.SYSTEM, team=None)
"""The built-in actor of the command line; audited as `system`."""


@dataclass(frozen=True)
class Resource:
    """What an operation touches: a case of a team, or nothing team-bound (`team=None`)."""

    team: str | None = None


GLOBAL = Resource()


def scope_of(role: Role, action: Action) -> Scope | None:
    """Return how far a role's permission for an action reaches, or None when denied."""
    return MATRIX.get(role, {}).get(action)


def can(actor: Actor, action: Action, resource: Resource = GLOBAL) -> bool:
    """Return whether the actor may do the action on the resource, as the matrix says."""
    scope = scope_of(actor.role, action)
    if scope is None:
        return False
    if scope is Scope.ANY:
        return True
    return resource.team is not None and actor.team is not None and resource.team == actor.team


def may_ever(actor: Actor, action: Action) -> bool:
    """Return whether the actor's role has the action at all, on some resource."""
    return scope_of(actor.role, action) is not None


def matrix_rows() -> list[tuple[str, dict[Role, str]]]:
    """Return the matrix as table rows: an action's meaning and each user role's scope or `-`."""
    return [
        (
            f"{action.value}: {ACTION_MEANING[action]}",
            {
                role: (scope.value if (scope := scope_of(role, action)) else "-")
                for role in (*USER_ROLES, Role.SYSTEM)
            },
        )
        for action in Action
    ]


def matrix_markdown() -> str:
    """Return the access matrix as the Markdown table the README shows."""
    roles = (*USER_ROLES, Role.SYSTEM)
    lines = [
        "| operation | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for label, cells in matrix_rows():
        lines.append(f"| {label} | " + " | ".join(cells[role] for role in roles) + " |")
    return "\n".join(lines)


@cache
def common_passwords() -> frozenset[str]:
    """Return the most common passwords (zxcvbn's ranked list), lower-cased; loaded once."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranked: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(word.lower() for word in ranked[:COMMON_PASSWORDS_REFUSED])


def password_problems(password: str, *, username: str = "") -> list[Problem]:
    """Return why a new password is refused (empty when it is accepted).

    At least 15 characters, no composition rules, none of the 1,000 most common passwords, not
    the username; long and pasted passwords (any Unicode text) are accepted.
    """
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(
            Problem(
                "password",
                f"the password has {len(password)} characters; at least {MIN_PASSWORD} are needed",
                "use a longer passphrase, e.g. four unrelated words",
            )
        )
    if len(password) > MAX_PASSWORD:
        problems.append(
            Problem("password", f"the password is longer than {MAX_PASSWORD}", "shorten it")
        )
    lowered = password.strip().lower()
    if lowered in common_passwords():
        problems.append(
            Problem("password", "this is one of the most common passwords", "choose another")
        )
    if username and lowered == username.strip().lower():
        problems.append(Problem("password", "the password must not be the username", "change it"))
    if not problems:
        problems += strength_problems(password, username=username)
    return problems


def strength_problems(password: str, *, username: str = "") -> list[Problem]:
    """Return the strength estimator's refusal with its feedback, when it rates below 3."""
    from zxcvbn import zxcvbn

    inputs = [username] if username else []
    rating = zxcvbn(password[:STRENGTH_CHARACTERS], user_inputs=inputs)
    if rating["score"] >= MIN_STRENGTH:
        return []
    feedback = rating.get("feedback") or {}
    warning = str(feedback.get("warning") or "").strip()
    suggestions = [str(s).strip() for s in feedback.get("suggestions") or [] if str(s).strip()]
    advice = " ".join([warning, *suggestions]).strip()
    message = f"this password is easy to guess (strength {rating['score']} of 4; 3 is needed)"
    return [
        Problem(
            "password",
            f"{message}: {advice}" if advice else message,
            "use a passphrase of four or more unrelated words",
        )
    ]
