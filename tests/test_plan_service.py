"""The plan's use cases through the service: access, transactions, audit, the bad input refused."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from instrument.access import SYSTEM
from instrument.errors import (
    AuthenticationError,
    ConflictError,
    DocumentError,
    NotFoundError,
    PermissionDeniedError,
)
from instrument.plan import InterventionStatus, PlanStatus
from instrument.store.sqlite import MIGRATIONS
from instrument.store.sqlite.store import SqliteStore
from tests.plan_support import entry, finalised_case, plan_team
from tests.store_support import PASSWORD, Clock, dump, open_service

TODAY = dt.date(2026, 11, 23)


def _start(s, fay, reference="C-1", facilitators=("fay", "fred")):  # type: ignore[no-untyped-def]
    return s.start_plan(
        fay,
        reference,
        facilitators=list(facilitators),
        frequency={"sessions": 1, "per": "week"},
        review_on=TODAY + dt.timedelta(days=56),
        approach_goals=[{"good": "relatedness", "goal": "Rejoin the club."}],
    )


def _unchanged(db: Path, before: list[str]) -> None:
    after = [line for line in dump(db) if "audit_" not in line]
    assert after == [line for line in before if "audit_" not in line]


@pytest.fixture
def ready(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock()
    team, fay, fred, sid = plan_team(tmp_path / "p.db", clock)
    finalised_case(team.service, team.psychologist, "C-1")
    return team, fay, fred, sid


def test_a_plan_from_start_to_a_completed_intervention(ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = ready
    s, clock = team.service, team.clock
    draft = _start(s, fay)
    plan = draft.plan
    assert plan.plan.status is PlanStatus.DRAFT
    assert plan.sessions[0].session == "foundation.1"
    assert [a.responsivity for a in plan.adaptations] == ["RS1"]
    assert s.plan_problems(fay, "C-1", 1) == []
    # Saving per field, with the revision; a stale one is refused naming who saved and when.
    saved = s.save_plan(fay, "C-1", 1, "frequency", {"sessions": 2, "per": "week"}, base_revision=1)
    assert saved.revision == 2
    with pytest.raises(ConflictError, match="changed by fay"):
        s.save_plan(fred, "C-1", 1, "order_reason", "Mine.", base_revision=1)
    # Agreeing is a signature: the password again (the sign-in's entry lasts 5 minutes), and only
    # a facilitator of the plan.
    clock.advance(minutes=6)
    with pytest.raises(AuthenticationError):
        s.agree_plan(fay, "C-1", 1)
    s.confirm_password(fay, PASSWORD)
    agreed = s.agree_plan(fay, "C-1", 1)
    assert agreed.plan.plan.status is PlanStatus.AGREED
    assert [x.by for x in agreed.plan.signatures] == ["fay"]
    s.confirm_password(fred, PASSWORD)
    both = s.agree_plan(fred, "C-1", 1)
    assert [x.by for x in both.plan.signatures] == ["fay", "fred"]
    # An agreed plan is frozen: a change is refused and nothing is written.
    before = dump(s.store.path)
    with pytest.raises(ConflictError, match="amend it instead"):
        s.save_plan(fay, "C-1", 1, "order_reason", "Late.", base_revision=both.revision)
    _unchanged(s.store.path, before)
    # Eight sessions, one declined.
    sessions = [p.session for p in both.plan.sessions]
    for n in range(8):
        clock.advance(days=7)
        day = clock.now.date()
        fields = entry(day, sessions[n])
        if n == 2:
            fields |= {
                "attendance": "declined",
                "reason": "Felt unwell.",
                "duration_minutes": None,
                "engagement": None,
            }
        logged = s.log_session(fay, "C-1", fields)
        assert logged.entry.number == n + 1
    records = s.case_plan(fay, "C-1")
    assert [d.attendance.value for d in records.delivery].count("declined") == 1
    assert records.state.attendance["attended"] == 7
    # On its review date the review is not yet due; the day after it is.
    assert records.state.review_due is False
    clock.advance(days=1)
    assert s.case_plan(fay, "C-1").state.review_due is True
    rows = s.list_cases(fay, review_due=True)
    assert [(r.reference, r.plan_status, r.review_due) for r in rows] == [("C-1", "agreed", True)]
    assert rows[0].next_review_on == TODAY + dt.timedelta(days=56)
    review = s.record_review(
        fred,
        "C-1",
        {
            "reviewed_on": clock.now.date().isoformat(),
            "by": ["fay", "fred"],
            "progress": [
                {"area": area, "change": "some", "evidence": "Fictional evidence."}
                for area in both.plan.focus
            ],
            "decision": "ends",
            "ending": "completed",
        },
    )
    assert review.number == 1
    state = s.case_plan(fay, "C-1").state
    assert state.status is InterventionStatus.ENDED
    assert state.review_due is False
    assert s.list_cases(fay, review_due=True) == []
    with pytest.raises(ConflictError, match="ended"):
        s.log_session(fay, "C-1", entry(clock.now.date(), sessions[8]))


def test_bad_input_is_refused_and_nothing_is_written(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = ready
    s = team.service
    db = s.store.path
    # A facilitator of another team, then an unknown one: the same answer.
    before = dump(db)
    for name in ("sid", "nobody"):
        with pytest.raises(DocumentError) as refused:
            _start(s, fay, facilitators=("fay", name))
        assert refused.value.where == "$.facilitators[1]"
        assert refused.value.message == f"{name!r} is not a facilitator of this case's team"
    _unchanged(db, before)
    # A review without a plan.
    with pytest.raises(ConflictError, match="no agreed plan"):
        s.record_review(
            fay,
            "C-1",
            {
                "reviewed_on": TODAY.isoformat(),
                "by": ["fay"],
                "progress": [],
                "decision": "continues",
            },
        )
    # A session without an agreed plan.
    draft = _start(s, fay)
    with pytest.raises(ConflictError, match="no agreed plan"):
        s.log_session(fay, "C-1", entry(TODAY, "foundation.1"))
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", draft.version)
    before = dump(db)
    # A session dated in the future.
    with pytest.raises(DocumentError) as future:
        s.log_session(fay, "C-1", entry(TODAY + dt.timedelta(days=1), "foundation.1"))
    assert future.value.where == "$.date"
    # A declined session without a reason; an unknown session; another team's facilitator.
    with pytest.raises(DocumentError, match="needs a reason"):
        s.log_session(
            fay,
            "C-1",
            entry(
                TODAY, "foundation.1", attendance="declined", duration_minutes=None, engagement=None
            ),
        )
    with pytest.raises(DocumentError):
        s.log_session(fay, "C-1", entry(TODAY, "identity.9"))
    with pytest.raises(DocumentError, match="not a facilitator"):
        s.log_session(fay, "C-1", entry(TODAY, "foundation.1", facilitators=["sid"]))
    # A review missing a focus area.
    with pytest.raises(DocumentError, match="no progress recorded"):
        s.record_review(
            fay,
            "C-1",
            {
                "reviewed_on": TODAY.isoformat(),
                "by": ["fay"],
                "progress": [],
                "decision": "continues",
                "next_review_on": "2027-01-30",
            },
        )
    _unchanged(db, before)


def test_autosave_of_a_log_entry_explains_a_conflict(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = ready
    s = team.service
    _start(s, fay)
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", 1)
    logged = s.log_session(fay, "C-1", entry(TODAY, "foundation.1"))
    first = s.save_session(fay, "C-1", 1, {"notes": "Tab one."}, base_revision=logged.revision)
    with pytest.raises(ConflictError, match="log entry 1 was changed by fay"):
        s.save_session(fred, "C-1", 1, {"notes": "Tab two."}, base_revision=logged.revision)
    declined = s.save_session(
        fred,
        "C-1",
        1,
        {"attendance": "declined", "reason": "Unwell."},
        base_revision=first.revision,
    )
    assert declined.entry.engagement is None
    assert declined.entry.duration_minutes is None
    with pytest.raises(DocumentError) as future:
        s.save_session(fred, "C-1", 1, {"date": "2027-01-01"}, base_revision=declined.revision)
    assert future.value.where == "$.date"
    with pytest.raises(DocumentError, match="not a field"):
        s.save_session(fred, "C-1", 1, {"number": 9}, base_revision=declined.revision)


def test_amending_an_agreed_plan(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = ready
    s = team.service
    _start(s, fay)
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", 1)
    with pytest.raises(DocumentError):
        s.amend_plan(fay, "C-1", 1, " ")
    new = s.amend_plan(fay, "C-1", 1, "The first review asked for more sessions.")
    assert (new.version, new.plan.plan.replaces, new.plan.plan.status) == (2, 1, PlanStatus.DRAFT)
    with pytest.raises(ConflictError, match="not the latest"):
        s.amend_plan(fay, "C-1", 1, "Again.")
    # Sessions still go under the agreed version 1 until version 2 is agreed.
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.1")).entry.plan_version == 1
    s.agree_plan(fay, "C-1", 2)
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.2")).entry.plan_version == 2


def test_who_may_do_what(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, sid = ready
    s = team.service
    # A facilitator never edits an assessment or signs a formulation.
    with pytest.raises(PermissionDeniedError):
        s.start_assessment(fay, "C-1")
    with pytest.raises(PermissionDeniedError):
        s.finalise(fay, "C-1", 1)
    # ... and sees the formulation without evidence.
    assert s.formulation(fay, "C-1", 1).redacted is True
    # Another team's facilitator: the case does not exist for them.
    with pytest.raises(NotFoundError):
        _start(s, sid)
    with pytest.raises(NotFoundError):
        s.case_plan(sid, "C-1")
    # A viewer reads the plan without free text or names, and may not change it.
    _start(s, fay)
    seen = s.case_plan(team.viewer, "C-1")
    assert seen.redacted
    assert seen.plans[0].facilitators == ["facilitator 1", "facilitator 2"]
    assert all(g.goal is None for g in seen.plans[0].approach_goals)
    with pytest.raises(PermissionDeniedError):
        s.save_plan(team.viewer, "C-1", 1, "order_reason", "x", base_revision=1)
    # A supervisor reads the notes but does not plan.
    assert not s.case_plan(team.supervisor, "C-1").redacted
    with pytest.raises(PermissionDeniedError):
        s.save_plan(team.supervisor, "C-1", 1, "order_reason", "x", base_revision=1)


def test_the_audit_log_holds_codes_only(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = ready
    s = team.service
    canary = "CANARY-plan-5d1"
    draft = s.start_plan(
        fay,
        "C-1",
        facilitators=["fay", "fred"],
        frequency={"sessions": 1, "per": "week"},
        review_on=TODAY + dt.timedelta(days=30),
        approach_goals=[{"good": "work", "goal": canary}],
    )
    draft = s.save_plan(fay, "C-1", 1, "order_reason", canary, base_revision=draft.revision)
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", 1)
    logged = s.log_session(fay, "C-1", entry(TODAY, "foundation.1", notes=canary))
    s.save_session(fay, "C-1", 1, {"notes": canary + "2"}, base_revision=logged.revision)
    focus = s.case_plan(fay, "C-1").plans[0].focus
    s.record_review(
        fred,
        "C-1",
        {
            "reviewed_on": TODAY.isoformat(),
            "by": ["fred"],
            "progress": [{"area": a, "change": "some", "evidence": canary} for a in focus],
            "decision": "ends",
            "ending": "other",
            "ending_reason": canary,
        },
    )
    s.amend_plan(fay, "C-1", 1, canary)
    rows = s.store.conn.execute("SELECT * FROM audit_log").fetchall()  # type: ignore[attr-defined]
    text = "\n".join(repr(tuple(row)) for row in rows)
    assert canary not in text
    actions = {row["action"] for row in rows}
    assert {"plan-start", "plan-save", "plan-agree", "session-log", "session-save"} <= actions
    assert {"progress-review", "plan-amend"} <= actions
    assert s.store.verify_audit().ok


def test_a_migration_3_database_gains_the_plan_tables_and_facilitators(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = SqliteStore.open(db, upto=3)
    old.close()
    service = open_service(db)
    service.add_team(SYSTEM, "north")
    service.add_user(SYSTEM, "pat", "psychologist", PASSWORD, "north")
    service.add_user(SYSTEM, "fay", "facilitator", PASSWORD, "north")
    conn = service.store.conn  # type: ignore[attr-defined]
    numbers = [r[0] for r in conn.execute("SELECT number FROM schema_migrations")]
    assert numbers == [n for n, _, _ in MIGRATIONS]
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"plans", "plan_versions", "plan_signatures"} <= tables
    assert {"delivered_sessions", "progress_reviews"} <= tables
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO users (username, role, team_id, password_hash, created_at)"
            " VALUES ('x', 'wizard', 1, 'h', 'now')"
        )
    assert service.store.verify_audit().ok


def test_a_fault_at_every_step_of_a_plan_operation_leaves_before_or_after(ready) -> None:  # type: ignore[no-untyped-def]
    """SECURITY.md 5 for the plan: start, save, agree, log, save a session, review, amend."""
    from tests.test_reliability import _faults

    team, fay, fred, _ = ready
    s = team.service
    steps = {"start": _faults(s, lambda: _start(s, fay))}
    steps["save"] = _faults(
        s, lambda: s.save_plan(fay, "C-1", 1, "order_reason", "R.", base_revision=1)
    )
    s.confirm_password(fay, PASSWORD)
    steps["agree"] = _faults(s, lambda: s.agree_plan(fay, "C-1", 1))
    steps["log"] = _faults(s, lambda: s.log_session(fay, "C-1", entry(TODAY, "foundation.1")))
    steps["save-session"] = _faults(
        s, lambda: s.save_session(fay, "C-1", 1, {"notes": "N."}, base_revision=1)
    )
    focus = s.case_plan(fay, "C-1").plans[0].focus
    steps["review"] = _faults(
        s,
        lambda: s.record_review(
            fred,
            "C-1",
            {
                "reviewed_on": TODAY.isoformat(),
                "by": ["fred"],
                "progress": [{"area": a, "change": "some", "evidence": "E."} for a in focus],
                "decision": "continues",
                "next_review_on": "2027-02-01",
            },
        ),
    )
    steps["amend"] = _faults(s, lambda: s.amend_plan(fay, "C-1", 1, "A reason."))
    assert min(steps.values()) >= 3, steps


def test_an_ended_plan_is_amended_and_runs_again(ready) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = ready
    s = team.service
    _start(s, fay)
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", 1)
    focus = s.case_plan(fay, "C-1").plans[0].focus
    ends = {
        "reviewed_on": TODAY.isoformat(),
        "by": ["fay"],
        "progress": [{"area": a, "change": "none", "evidence": "E."} for a in focus],
        "decision": "ends",
        "ending": "disengaged",
    }
    s.record_review(fred, "C-1", ends)
    with pytest.raises(ConflictError, match="ended"):
        s.log_session(fay, "C-1", entry(TODAY, "foundation.1"))
    s.amend_plan(fay, "C-1", 1, "The participant asked to start again.")
    assert s.case_plan(fay, "C-1").state.status is InterventionStatus.DRAFT
    s.agree_plan(fay, "C-1", 2)
    state = s.case_plan(fay, "C-1").state
    assert (state.status, state.agreed_version, state.ending) == (
        InterventionStatus.AGREED,
        2,
        None,
    )
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.1")).entry.plan_version == 2
    assert s.record_review(fred, "C-1", ends).plan_version == 2
    assert s.case_plan(fay, "C-1").state.status is InterventionStatus.ENDED


def test_no_intervention_indicated_closes_the_case_without_a_plan(tmp_path: Path) -> None:
    """WC-08's assessor judges that no intervention is indicated: no plan can start."""
    import json

    from instrument.errors import ConflictError
    from instrument.plan import InterventionStatus

    team, fay, _fred, _sid = plan_team(tmp_path / "n.db", Clock())
    s, pat = team.service, team.psychologist
    worked = Path(__file__).resolve().parent.parent / "formulations" / "1.1"
    document = json.loads((worked / "wc-08-nothing-offered.assessment.json").read_text("utf-8"))
    draft = s.import_assessment(pat, json.dumps(document).encode())
    reference = draft.reference
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, reference, draft.version)
    [row] = s.list_cases(pat)
    assert row.plan_status == InterventionStatus.NO_INTERVENTION
    assert s.case_plan(fay, reference).state.status is InterventionStatus.NO_INTERVENTION
    before = dump(tmp_path / "n.db")
    with pytest.raises(ConflictError) as refused:
        _start(s, fay, reference)
    assert "no intervention is indicated" in refused.value.message
    _unchanged(tmp_path / "n.db", before)
