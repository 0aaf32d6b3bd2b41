"""The plan attacked from outside: other teams' ids, dates after today, a review without a plan,
changing a signed plan, two tabs doing the same thing. Each refused, clearly, with nothing written.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from instrument.access import Actor
from instrument.errors import ConflictError, DocumentError, InstrumentError, NotFoundError
from instrument.service import Service
from instrument.service.plans import PLAN_FIELDS
from tests.plan_support import entry, finalised_case, plan_team
from tests.store_support import PASSWORD, Clock, Team, dump

TODAY = dt.date(2026, 11, 23)


def _rows(db: Path) -> list[str]:
    """The database without its audit log (a refusal may be audited; nothing else changes)."""
    return [line for line in dump(db) if "audit_" not in line]


def _start(s: Service, who: Actor, reference: str, facilitators: list[str]) -> Any:
    return s.start_plan(
        who,
        reference,
        facilitators=facilitators,
        frequency={"sessions": 1, "per": "week"},
        review_on=TODAY + dt.timedelta(days=56),
    )


def _review(focus: list[str], on: dt.date = TODAY, **changes: Any) -> dict[str, Any]:
    return {
        "reviewed_on": on.isoformat(),
        "by": ["fay"],
        "progress": [{"area": a, "change": "some", "evidence": "Fictional."} for a in focus],
        "decision": "continues",
        "next_review_on": (on + dt.timedelta(days=28)).isoformat(),
    } | changes


@pytest.fixture
def world(tmp_path: Path) -> tuple[Team, Actor, Actor, Actor]:
    """North's C-1 with an agreed plan (fay, fred) and one logged session; south's C-2 planned."""
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    team, fay, fred, sid = plan_team(tmp_path / "p.db", clock)
    s = team.service
    finalised_case(s, team.psychologist, "C-1")
    _start(s, fay, "C-1", ["fay", "fred"])
    s.confirm_password(fay, PASSWORD)
    s.agree_plan(fay, "C-1", 1)
    s.log_session(fay, "C-1", entry(TODAY, "foundation.1"))
    finalised_case(s, team.other, "C-2")
    _start(s, sid, "C-2", ["sid"])
    return team, fay, fred, sid


def _operations(case: str) -> dict[str, Callable[[Service, Actor], object]]:
    """Every plan operation on `case`, with input that would be valid for its own team."""
    return {
        "case_plan": lambda s, a: s.case_plan(a, case),
        "plan_versions": lambda s, a: s.plan_versions(a, case),
        "delivery_log": lambda s, a: s.delivery_log(a, case),
        "plan_roster": lambda s, a: s.plan_roster(a, case),
        "suggested_sessions": lambda s, a: s.suggested_sessions(a, case),
        "plan_problems": lambda s, a: s.plan_problems(a, case, 1),
        "change_beside_progress": lambda s, a: s.change_beside_progress(a, case),
        "export_plan": lambda s, a: s.export_plan(a, case, plan_only=True),
        "start_plan": lambda s, a: _start(s, a, case, [a.username]),
        "save_plan": lambda s, a: s.save_plan(a, case, 1, "order_reason", "X.", base_revision=1),
        "agree_plan": lambda s, a: s.agree_plan(a, case, 1),
        "amend_plan": lambda s, a: s.amend_plan(a, case, 1, "A reason."),
        "log_session": lambda s, a: s.log_session(
            a, case, entry(TODAY, "foundation.2", facilitators=[a.username])
        ),
        "save_session": lambda s, a: s.save_session(a, case, 1, {"notes": "X."}, base_revision=1),
        "record_review": lambda s, a: s.record_review(a, case, _review([])),
    }


@pytest.mark.parametrize("operation", list(_operations("C-1")))
def test_another_teams_case_is_not_found_by_any_plan_operation(world, operation: str) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, sid = world
    s = team.service
    s.confirm_password(sid, PASSWORD)
    s.confirm_password(fay, PASSWORD)
    before = _rows(s.store.path)
    for actor, theirs in ((sid, "C-1"), (team.other, "C-1"), (fay, "C-2")):
        with pytest.raises(NotFoundError) as refused:
            _operations(theirs)[operation](s, actor)
        # The same answer as for a reference that exists nowhere: nothing is revealed.
        with pytest.raises(NotFoundError) as unknown:
            _operations("C-404")[operation](s, actor)
        assert refused.value.message == unknown.value.message.replace("C-404", theirs)
        assert refused.value.where == "reference"
    assert _rows(s.store.path) == before


def test_the_same_reference_in_another_team_is_a_different_case(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, sid = world
    s = team.service
    finalised_case(s, team.other, "C-1")  # south's own C-1
    north = s.delivery_log(fay, "C-1")
    before = _rows(s.store.path)
    # South's staff reach south's C-1 only: it has no plan and no entry 1, and north's
    # facilitators are not of its team.
    with pytest.raises(ConflictError, match="has no log entry 1"):
        s.save_session(sid, "C-1", 1, {"notes": "Overwrite."}, base_revision=north[0].revision)
    with pytest.raises(ConflictError, match="no agreed plan"):
        s.log_session(sid, "C-1", entry(TODAY, "foundation.1", facilitators=["sid"]))
    with pytest.raises(DocumentError, match="'fay' is not a facilitator of this case's team"):
        _start(s, sid, "C-1", ["sid", "fay"])
    assert _rows(s.store.path) == before
    assert s.delivery_log(fay, "C-1") == north


def test_a_session_or_review_dated_after_today_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = world
    s, clock = team.service, team.clock
    clock.now = dt.datetime(2026, 11, 23, 23, 59, tzinfo=dt.UTC)  # the last minute of the day
    focus = s.case_plan(fay, "C-1").plans[0].focus
    before = _rows(s.store.path)
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(DocumentError) as future:
        s.log_session(fay, "C-1", entry(tomorrow, "foundation.2"))
    assert (future.value.where, future.value.message) == (
        "$.date",
        "the session is dated 2026-11-24, after today (2026-11-23)",
    )
    (logged,) = s.delivery_log(fay, "C-1")
    with pytest.raises(DocumentError, match="after today"):
        s.save_session(fay, "C-1", 1, {"date": tomorrow.isoformat()}, base_revision=logged.revision)
    with pytest.raises(DocumentError) as review:
        s.record_review(fred, "C-1", _review(focus, tomorrow))
    assert review.value.where == "$.reviewed_on"
    assert _rows(s.store.path) == before
    # Today itself is fine, to the last minute.
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.2")).entry.number == 2


def test_a_review_of_a_draft_plan_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    team, _, _, sid = world
    s = team.service
    focus = s.plan_versions(sid, "C-2")[0].plan.focus
    before = _rows(s.store.path)
    with pytest.raises(ConflictError) as refused:
        s.record_review(sid, "C-2", _review(focus) | {"by": ["sid"]})
    assert refused.value.message == "the case has no agreed plan; cannot record a review"
    assert refused.value.fix == "agree an intervention plan first"
    assert _rows(s.store.path) == before


@pytest.mark.parametrize("field", PLAN_FIELDS)
def test_no_field_of_a_signed_plan_changes(world, field: str) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = world
    s = team.service
    agreed = s.plan_versions(fay, "C-1")[0]
    value = getattr(agreed.plan, field)
    value = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    if isinstance(value, list):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    before = _rows(s.store.path)
    with pytest.raises(ConflictError, match="amend it instead"):
        s.save_plan(fay, "C-1", 1, field, value, base_revision=agreed.revision)
    assert _rows(s.store.path) == before


def test_a_signed_plan_is_not_signed_again_nor_changed_in_the_database(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = world
    s = team.service
    s.confirm_password(fay, PASSWORD)
    s.confirm_password(team.psychologist, PASSWORD)
    before = _rows(s.store.path)
    with pytest.raises(ConflictError, match="fay has signed this plan already"):
        s.agree_plan(fay, "C-1", 1)  # a second tab signing again
    with pytest.raises(DocumentError, match="only a facilitator of the plan may sign it"):
        s.agree_plan(team.psychologist, "C-1", 1)
    assert _rows(s.store.path) == before
    # Below the service, the database's triggers keep an agreed version as it was signed.
    conn = sqlite3.connect(s.store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="an agreed plan version is frozen"):
            conn.execute("UPDATE plan_versions SET document = '{}' WHERE version = 1")
        with pytest.raises(sqlite3.IntegrityError, match="a signature is frozen"):
            conn.execute("DELETE FROM plan_signatures")
    finally:
        conn.close()
    # After an amendment the agreed version 1 still refuses change; the draft 2 takes it.
    draft = s.amend_plan(fay, "C-1", 1, "The first sessions asked for a different order.")
    with pytest.raises(ConflictError, match="amend it instead"):
        s.save_plan(fay, "C-1", 1, "order_reason", "Late.", base_revision=draft.revision)
    saved = s.save_plan(fay, "C-1", 2, "order_reason", "Now.", base_revision=draft.revision)
    assert saved.plan.order_reason == "Now."


def test_two_tabs_logging_the_same_session_log_it_once(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = world
    s = team.service
    first = entry(TODAY, "foundation.2", notes="Tab one.")
    s.log_session(fay, "C-1", first)
    before = _rows(s.store.path)
    with pytest.raises(ConflictError) as repeated:
        s.log_session(fred, "C-1", first | {"notes": "Tab two.", "sessions": ["foundation.2"]})
    assert repeated.value.message.startswith(
        "this session (foundation.2 on 2026-11-23, attended) is logged already as entry 2"
    )
    assert repeated.value.fix == "correct entry 2 in the delivery log instead of logging it twice"
    assert _rows(s.store.path) == before
    # Correcting another entry into the same session is refused too; itself, it may keep.
    (one, two) = s.delivery_log(fay, "C-1")
    with pytest.raises(ConflictError, match="logged already as entry 2"):
        s.save_session(fay, "C-1", 1, {"sessions": ["foundation.2"]}, base_revision=one.revision)
    assert _rows(s.store.path) == before
    kept = s.save_session(fay, "C-1", 2, {"notes": "Again."}, base_revision=two.revision)
    assert kept.entry.notes == "Again."
    # A different session the same day, or the same one cancelled first, is a new entry.
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.3")).entry.number == 3
    cancelled = entry(
        TODAY,
        "foundation.4",
        attendance="cancelled",
        reason="Room unavailable.",
        duration_minutes=None,
        engagement=None,
    )
    assert s.log_session(fay, "C-1", cancelled).entry.number == 4
    assert s.log_session(fay, "C-1", entry(TODAY, "foundation.4")).entry.number == 5


def test_two_tabs_recording_the_same_review_record_it_once(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = world
    s = team.service
    focus = s.case_plan(fay, "C-1").plans[0].focus
    assert s.record_review(fay, "C-1", _review(focus)).number == 1
    before = _rows(s.store.path)
    with pytest.raises(ConflictError) as repeated:
        s.record_review(fred, "C-1", _review(focus))
    assert repeated.value.message == "review 1 of plan version 1 is dated 2026-11-23 already"
    assert repeated.value.where == "$.reviewed_on"
    assert _rows(s.store.path) == before


def test_two_tabs_starting_a_plan_start_one(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = world
    s = team.service
    finalised_case(s, team.psychologist, "C-3")
    _start(s, fay, "C-3", ["fay"])
    before = _rows(s.store.path)
    with pytest.raises(ConflictError, match="case C-3 has a plan already"):
        _start(s, fay, "C-3", ["fay", "fred"])
    assert _rows(s.store.path) == before


def test_every_refusal_says_what_where_and_how_to_fix(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, _, _ = world
    s = team.service
    attempts: list[Callable[[], object]] = [
        lambda: s.log_session(fay, "C-1", entry(TODAY + dt.timedelta(days=3), "foundation.2")),
        lambda: s.log_session(fay, "C-1", entry(TODAY, "foundation.1")),
        lambda: s.save_plan(fay, "C-1", 1, "order_reason", "X.", base_revision=1),
        lambda: s.save_session(fay, "C-1", 9, {"notes": "X."}, base_revision=1),
    ]
    for attempt in attempts:
        with pytest.raises(InstrumentError) as refused:
            attempt()
        for problem in refused.value.problems():
            assert problem.message
            assert problem.where
            assert problem.fix


def test_a_replaced_plan_version_is_not_signed_any_more(world) -> None:  # type: ignore[no-untyped-def]
    team, fay, fred, _ = world
    s = team.service
    s.confirm_password(fay, PASSWORD)
    s.confirm_password(fred, PASSWORD)
    s.amend_plan(fay, "C-1", 1, "A different order after the first session.")
    s.agree_plan(fay, "C-1", 2)
    before = _rows(s.store.path)
    with pytest.raises(ConflictError) as refused:
        s.agree_plan(fred, "C-1", 1)  # fred never co-signed version 1
    assert refused.value.message == "plan version 1 was replaced by version 2"
    assert _rows(s.store.path) == before
    assert [x.by for x in s.agree_plan(fred, "C-1", 2).plan.signatures] == ["fay", "fred"]
