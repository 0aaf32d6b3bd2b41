"""SECURITY.md 27 and 28: lockout everywhere, bounded; re-entry belongs to the session.

Issue 11, items 6 and 7.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from instrument.definition import Instrument
from instrument.errors import AuthenticationError
from instrument.service.auth import MAX_LOCKOUT, lockout_for
from tests.store_support import PASSWORD, Team, complete, make_team, sign

WRONG = "this is not the password"


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "db.sqlite")


def _final_case(team: Team, instrument: Instrument, reference: str = "C-1") -> None:
    s, pat = team.service, team.psychologist
    s.create_case(pat, reference, "engaged")
    s.start_assessment(pat, reference)
    complete(s, pat, reference, 1, instrument)
    s.finalise(pat, reference, 1)  # signing in was the entry: no second prompt


def _lock(team: Team, username: str) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            team.service.sign_in(username, WRONG)


def test_req27_reentry_obeys_lockout(team: Team, instrument: Instrument) -> None:
    _final_case(team, instrument)
    s, pat = team.service, team.psychologist
    team.clock.advance(minutes=6)
    _lock(team, "pat")
    with pytest.raises(AuthenticationError, match="locked"):
        s.confirm_password(pat, PASSWORD)  # the right password, but the account is locked
    with pytest.raises(AuthenticationError, match="password"):
        s.export_case(pat, "C-1")
    team.clock.advance(minutes=16)
    s.confirm_password(pat, PASSWORD)
    assert s.export_case(pat, "C-1")["case"]["reference"] == "C-1"


def test_req27_wrong_reentries_lock_the_account(team: Team) -> None:
    s, pat = team.service, team.psychologist
    for _ in range(5):
        with pytest.raises(AuthenticationError, match="not right"):
            s.confirm_password(pat, WRONG)
    with pytest.raises(AuthenticationError):
        s.sign_in("pat", PASSWORD)


def test_req27_lockout_doubling_is_capped_at_24_hours(team: Team) -> None:
    assert lockout_for(0) == dt.timedelta(minutes=15)
    assert lockout_for(1) == dt.timedelta(minutes=30)
    assert lockout_for(7) == MAX_LOCKOUT == dt.timedelta(hours=24)
    assert lockout_for(10**6) == MAX_LOCKOUT
    failures = 0
    while failures < 150:  # 30 lockouts in a row: the 150th failure must not overflow
        _lock(team, "vic")
        failures += 5
        with team.service.store.read() as tx:
            record = tx.users.find("vic")
        assert record is not None
        assert record.locked_until is not None
        assert record.locked_until - team.clock.now <= MAX_LOCKOUT
        team.clock.advance(hours=24, seconds=1)
    assert failures == 150


def test_req28_reentry_belongs_to_the_session_that_made_it(
    team: Team, instrument: Instrument
) -> None:
    _final_case(team, instrument)
    s = team.service
    first = team.psychologist
    second = sign(s, "pat")  # the same user in another browser
    team.clock.advance(minutes=6)
    s.confirm_password(first, PASSWORD)
    assert s.export_case(first, "C-1")
    with pytest.raises(AuthenticationError, match="password"):
        s.export_case(second, "C-1")
    assert s.needs_password(second)
    assert not s.needs_password(first)


def test_req28_signing_in_counts_as_an_entry(team: Team, instrument: Instrument) -> None:
    _final_case(team, instrument)
    supervisor = sign(team.service, "sam")
    team.service.countersign(supervisor, "C-1", 1)  # not asked again seconds after signing in
    team.clock.advance(minutes=5, seconds=1)
    assert team.service.needs_password(supervisor)


def test_req28_an_ended_session_cannot_act(team: Team) -> None:
    s = team.service
    old = team.psychologist
    s.sign_out_everywhere(sign(s, "pat"))
    with pytest.raises(AuthenticationError, match="session has ended"):
        s.list_cases(old)
