"""Deny by default (SECURITY.md 12): every role × every operation × {own team, other team}.

Each case runs on a fresh copy of one prepared database, so that every allowed operation finds
the state it needs (a draft to edit, a final to amend or countersign) and nothing leaks between
cases. Allowed means it succeeds; refused means `PermissionDeniedError` (the role may never do
it) or `NotFoundError` (another team's case: its existence is not revealed).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from instrument.access import MATRIX, SYSTEM, Action, Actor, Resource, Role, can, may_ever
from instrument.assessment import Assessor, Rating, ResponsivityNote
from instrument.definitions import current_instrument
from instrument.errors import NotFoundError, PermissionDeniedError
from instrument.service import Service
from tests.store_support import PASSWORD, T0, Clock, complete, dump, open_service

TEAMS = ("north", "south")
ROLES = ("admin", "psychologist", "supervisor", "facilitator", "viewer")
TODAY = T0.date()


def _prepare(folder: Path) -> Path:
    db = folder / "template.db"
    service = open_service(db)
    instrument = current_instrument()
    for team in TEAMS:
        service.add_team(SYSTEM, team)
        for role in ROLES:
            service.add_user(SYSTEM, f"{role}-{team}", role, PASSWORD, team)
        for case in ("D", "F", "E"):
            service.create_case(SYSTEM, f"{team}-{case}", "engaged", team)
        author = service.session_actor(service.sign_in(f"psychologist-{team}", PASSWORD))
        assert author is not None
        for case in ("D", "F"):
            service.start_assessment(author, f"{team}-{case}")
            complete(service, author, f"{team}-{case}", 1, instrument)
        service.confirm_password(author, PASSWORD)
        service.finalise(author, f"{team}-F", 1)
        # P: a draft plan; A: an agreed plan with one logged session.
        for case in ("P", "A"):
            service.create_case(SYSTEM, f"{team}-{case}", "engaged", team)
            service.start_assessment(author, f"{team}-{case}")
            complete(service, author, f"{team}-{case}", 1, instrument)
            service.finalise(author, f"{team}-{case}", 1)
            service.start_plan(
                author,
                f"{team}-{case}",
                facilitators=[f"psychologist-{team}", f"facilitator-{team}"],
                frequency={"sessions": 1, "per": "week"},
                review_on=TODAY + dt.timedelta(days=30),
            )
        service.agree_plan(author, f"{team}-A", 1)
        service.log_session(author, f"{team}-A", _session(team))
        for role in ROLES:
            actor = service.session_actor(service.sign_in(f"{role}-{team}", PASSWORD))
            assert actor is not None
            service.confirm_password(actor, PASSWORD)
    service.close()
    return db


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _prepare(tmp_path_factory.mktemp("matrix"))


def _copy(template: Path, target: Path) -> Service:
    db = target / "case.db"
    shutil.copy(template, db)
    shutil.copy(Path(str(template) + ".key"), Path(str(db) + ".key"))
    shutil.copy(Path(str(template) + ".head"), Path(str(db) + ".head"))
    (target / "case.db.key").chmod(0o600)
    return open_service(db, Clock(T0))


def _actor(service: Service, role: str) -> Actor:
    if role == "system":
        return SYSTEM
    row = service.store.conn.execute(
        "SELECT u.id, u.username, t.name FROM users u JOIN teams t ON t.id = u.team_id"
        " WHERE u.username = ?",
        (f"{role}-north",),
    ).fetchone()
    session = service.store.conn.execute(  # the password was entered in this session
        "SELECT id FROM sessions WHERE user_id = ? AND ended_at IS NULL ORDER BY rowid DESC",
        (row[0],),
    ).fetchone()
    return Actor(row[0], row[1], Role(role), row[2], session=session[0])


def _revision(service: Service, reference: str) -> int:
    row = service.store.conn.execute(
        "SELECT a.revision FROM assessments a JOIN cases c ON c.id = a.case_id"
        " WHERE c.reference = ? AND a.version = 1",
        (reference,),
    ).fetchone()
    return int(row[0])


def _session(team: str, **changes: Any) -> dict[str, Any]:
    return {
        "date": TODAY.isoformat(),
        "facilitators": [f"psychologist-{team}"],
        "sessions": ["foundation.1"],
        "attendance": "attended",
        "duration_minutes": 60,
        "engagement": "good",
    } | changes


def _plan_revision(service: Service, reference: str) -> int:
    row = service.store.conn.execute(  # type: ignore[attr-defined]
        "SELECT p.revision FROM plan_versions p JOIN cases c ON c.id = p.case_id"
        " WHERE c.reference = ? AND p.version = 1",
        (reference,),
    ).fetchone()
    return int(row[0])


def _entry_revision(service: Service, reference: str) -> int:
    row = service.store.conn.execute(  # type: ignore[attr-defined]
        "SELECT d.revision FROM delivered_sessions d JOIN cases c ON c.id = d.case_id"
        " WHERE c.reference = ? AND d.number = 1",
        (reference,),
    ).fetchone()
    return int(row[0])


def _review(service: Service, team: str) -> dict[str, Any]:
    row = service.store.conn.execute(  # type: ignore[attr-defined]
        "SELECT p.document FROM plan_versions p JOIN cases c ON c.id = p.case_id"
        " WHERE c.reference = ?",
        (f"{team}-A",),
    ).fetchone()
    focus = json.loads(row[0])["focus"]
    return {
        "reviewed_on": TODAY.isoformat(),
        "by": [f"psychologist-{team}"],
        "progress": [{"area": a, "change": "some", "evidence": "E."} for a in focus],
        "decision": "continues",
        "next_review_on": (TODAY + dt.timedelta(days=30)).isoformat(),
    }


def _import_bytes(reference: str) -> bytes:
    instrument = current_instrument()
    return json.dumps(
        {
            "instrument": {"id": instrument.id, "version": instrument.version},
            "case": {"reference": reference, "pathway": "engaged"},
            "assessment": {"version": 1, "status": "draft"},
        }
    ).encode()


Operation = Callable[[Service, Actor, str], Any]
LISTS = ("list_cases", "list_cases_page")

# Each case operation: the matrix action it needs, and how to do it on team `t`'s cases.
CASE_OPERATIONS: dict[str, tuple[Action, Operation]] = {
    "create_case": (Action.CREATE_CASE, lambda s, a, t: s.create_case(a, f"{t}-new", "engaged", t)),
    "list_cases": (Action.LIST_CASES, lambda s, a, t: s.list_cases(a, team=t)),
    "list_cases_page": (
        Action.LIST_CASES,
        lambda s, a, t: list(s.list_cases_page(a, team=t, limit=1).rows),
    ),
    "open_case": (Action.VIEW_CASE, lambda s, a, t: s.open_case(a, f"{t}-F", team=t)),
    "case_history": (Action.VIEW_CASE, lambda s, a, t: s.case_history(a, f"{t}-F", team=t)),
    "formulation": (Action.READ_FORMULATION, lambda s, a, t: s.formulation(a, f"{t}-F", 1)),
    "get_assessment": (Action.READ_EVIDENCE, lambda s, a, t: s.get_assessment(a, f"{t}-F", 1)),
    "finalisation_problems": (
        Action.READ_EVIDENCE,
        lambda s, a, t: s.finalisation_problems(a, f"{t}-D", 1),
    ),
    "start_assessment": (Action.EDIT_DRAFT, lambda s, a, t: s.start_assessment(a, f"{t}-E")),
    "save_rating": (
        Action.EDIT_DRAFT,
        lambda s, a, t: s.save_rating(
            a, f"{t}-D", 1, "ID1", Rating(presence="no"), base_revision=_revision(s, f"{t}-D")
        ),
    ),
    "save_responsivity": (
        Action.EDIT_DRAFT,
        lambda s, a, t: s.save_responsivity(
            a,
            f"{t}-D",
            1,
            "RS1",
            ResponsivityNote(presence="no"),
            base_revision=_revision(s, f"{t}-D"),
        ),
    ),
    "save_details": (
        Action.EDIT_DRAFT,
        lambda s, a, t: s.save_details(
            a,
            f"{t}-D",
            1,
            assessed_on=None,
            assessors=[Assessor(name="B. Assessor", role="psychologist")],
            notes=None,
            base_revision=_revision(s, f"{t}-D"),
        ),
    ),
    "set_override": (
        Action.REVIEW,
        lambda s, a, t: s.set_override(
            a, f"{t}-D", 1, "identity", "high", "A rationale of more than twenty characters."
        ),
    ),
    "clear_override": (
        Action.REVIEW,
        lambda s, a, t: s.clear_override(a, f"{t}-D", 1, "identity"),
    ),
    "save_narrative": (
        Action.REVIEW,
        lambda s, a, t: s.save_narrative(
            a, f"{t}-D", 1, "presenting", "Narrative.", base_revision=_revision(s, f"{t}-D")
        ),
    ),
    "finalise": (Action.FINALISE, lambda s, a, t: s.finalise(a, f"{t}-D", 1)),
    "amend": (Action.AMEND, lambda s, a, t: s.amend(a, f"{t}-F", 1, "A reason.")),
    "countersign": (Action.COUNTERSIGN, lambda s, a, t: s.countersign(a, f"{t}-F", 1)),
    "export_case": (Action.EXPORT_CASE, lambda s, a, t: s.export_case(a, f"{t}-F", team=t)),
    "import_assessment": (
        Action.IMPORT,
        lambda s, a, t: s.import_assessment(a, _import_bytes(f"{t}-imp"), t),
    ),
    "case_plan": (Action.READ_PLAN, lambda s, a, t: s.case_plan(a, f"{t}-A")),
    "delivery_log": (Action.READ_PLAN_NOTES, lambda s, a, t: s.delivery_log(a, f"{t}-A")),
    "start_plan": (
        Action.EDIT_PLAN,
        lambda s, a, t: s.start_plan(
            a,
            f"{t}-F",
            facilitators=[f"psychologist-{t}"],
            frequency={"sessions": 1, "per": "week"},
            review_on=TODAY + dt.timedelta(days=30),
        ),
    ),
    "save_plan": (
        Action.EDIT_PLAN,
        lambda s, a, t: s.save_plan(
            a, f"{t}-P", 1, "order_reason", "R.", base_revision=_plan_revision(s, f"{t}-P")
        ),
    ),
    "amend_plan": (Action.EDIT_PLAN, lambda s, a, t: s.amend_plan(a, f"{t}-A", 1, "R.")),
    "agree_plan": (Action.AGREE_PLAN, lambda s, a, t: s.agree_plan(a, f"{t}-P", 1)),
    "log_session": (  # another session than the one logged in the template (a repeat is refused)
        Action.LOG_SESSION,
        lambda s, a, t: s.log_session(a, f"{t}-A", _session(t, sessions=["foundation.2"])),
    ),
    "save_session": (
        Action.LOG_SESSION,
        lambda s, a, t: s.save_session(
            a, f"{t}-A", 1, {"notes": "N."}, base_revision=_entry_revision(s, f"{t}-A")
        ),
    ),
    "record_review": (
        Action.REVIEW_PROGRESS,
        lambda s, a, t: s.record_review(a, f"{t}-A", _review(s, t)),
    ),
}

GLOBAL_OPERATIONS: dict[str, tuple[Action, Operation]] = {
    "add_user": (
        Action.MANAGE_USERS,
        lambda s, a, t: s.add_user(a, "newuser", "viewer", None, t),
    ),
    "list_users": (Action.MANAGE_USERS, lambda s, a, t: s.list_users(a)),
    "set_team": (Action.MANAGE_USERS, lambda s, a, t: s.set_team(a, "viewer-north", t)),
    "unlock": (Action.MANAGE_USERS, lambda s, a, t: s.unlock(a, "viewer-north")),
    "deactivate": (Action.MANAGE_USERS, lambda s, a, t: s.deactivate(a, "viewer-south")),
    "set_role": (Action.MANAGE_USERS, lambda s, a, t: s.set_role(a, "viewer-south", "supervisor")),
    "add_team": (Action.MANAGE_TEAMS, lambda s, a, t: s.add_team(a, f"{t}-2")),
    "list_teams": (Action.MANAGE_TEAMS, lambda s, a, t: s.list_teams(a)),
    "audit_entries": (Action.READ_AUDIT, lambda s, a, t: s.audit_entries(a)),
    "backup": (Action.BACKUP, lambda s, a, t: s.backup(a, s.store.path.parent / f"{t}.bak")),
}

ALL = {**CASE_OPERATIONS, **GLOBAL_OPERATIONS}


def test_every_action_of_the_matrix_is_exercised() -> None:
    assert {action for action, _ in ALL.values()} == set(Action)


@pytest.mark.parametrize("team", ["own", "other"])
@pytest.mark.parametrize("operation", list(ALL))
@pytest.mark.parametrize("role", [*ROLES, "system"])
def test_role_operation_team(
    template: Path, tmp_path: Path, role: str, operation: str, team: str
) -> None:
    service = _copy(template, tmp_path)
    actor = _actor(service, role)
    action, run = ALL[operation]
    target = "north" if team == "own" else "south"
    resource = Resource(target) if operation in CASE_OPERATIONS else Resource()
    allowed = can(actor, action, resource)
    before = dump(service.store.path)
    if allowed:
        result = run(service, actor, target)
        if operation in LISTS:
            assert result
            assert {row.team for row in result} == {target}
        return
    if operation in LISTS and may_ever(actor, action):
        assert run(service, actor, target) == []  # 0 rows of another team
        return
    with pytest.raises((PermissionDeniedError, NotFoundError)) as refused:
        run(service, actor, target)
    # A role that may never do it, or adding to another team: refused as such.
    if MATRIX[actor.role].get(action) is None or operation in ("create_case", "import_assessment"):
        assert isinstance(refused.value, PermissionDeniedError)
    else:  # the role may, but not on another team's case: it does not exist for them
        assert isinstance(refused.value, NotFoundError)
    after = dump(service.store.path)
    changed = [line for line in after if line not in before]
    assert all(
        line.startswith(('INSERT INTO "audit_log"', "UPDATE", 'INSERT INTO "audit_head"'))
        or "audit_head" in line
        for line in changed
    ), changed
    denied = service.store.audit_entries(newest_first=True, limit=1)[0]
    assert denied.outcome in ("denied", "not-found")


def test_list_cases_of_another_team_returns_no_row(template: Path, tmp_path: Path) -> None:
    service = _copy(template, tmp_path)
    for role in ("psychologist", "supervisor", "viewer"):
        actor = _actor(service, role)
        assert service.list_cases(actor, team="south") == []
        assert service.list_cases_page(actor, team="south").total == 0
        assert {row.team for row in service.list_cases(actor)} == {"north"}


def test_a_sweep_over_every_case_id_reveals_no_other_team(template: Path, tmp_path: Path) -> None:
    service = _copy(template, tmp_path)
    references = [r[0] for r in service.store.conn.execute("SELECT reference FROM cases")]
    for role in ("psychologist", "supervisor", "viewer"):
        actor = _actor(service, role)
        seen, messages = [], set()
        for reference in [*references, "north-X", "south-X", "%", "*"]:
            try:
                seen.append(service.open_case(actor, reference).team)
            except NotFoundError as error:
                messages.add(str(error).replace(reference, "REF"))
        assert messages == {"reference: case REF was not found"}
        assert seen
        assert set(seen) == {"north"}


def test_viewers_write_nothing(template: Path, tmp_path: Path) -> None:
    service = _copy(template, tmp_path)
    viewer = _actor(service, "viewer")
    before = [line for line in dump(service.store.path) if "audit_" not in line]
    for name, (_, run) in ALL.items():
        try:
            run(service, viewer, "north")
        except (PermissionDeniedError, NotFoundError):
            continue
        assert name in {
            "list_cases",
            "list_cases_page",
            "open_case",
            "case_history",
            "formulation",
            "case_plan",
        }
    after = [line for line in dump(service.store.path) if "audit_" not in line]
    assert after == before
