"""SECURITY.md 24: every account change re-authenticated; passwords have a life cycle.

Issue 11, item 3: an administrator can no longer add an account with a password of their
choosing and read another team's evidence through it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from instrument.access import Actor
from instrument.errors import AuthenticationError, DocumentError
from instrument.service import Service
from tests.store_support import PASSWORD, Team, make_team, sign

NEW = "quartz lantern meadow orbit violin"


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "db.sqlite")


def _actions(team: Team) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in team.service.store.audit_entries()]


CHANGES: dict[str, Callable[[Service, Actor], object]] = {
    "add": lambda s, a: s.add_user(a, "newbie", "viewer", None, "south"),
    "role": lambda s, a: s.set_role(a, "vic", "supervisor"),
    "team": lambda s, a: s.set_team(a, "vic", "south"),
    "deactivate": lambda s, a: s.deactivate(a, "vic"),
    "reset": lambda s, a: s.reset_password(a, "vic"),
    "unlock": lambda s, a: s.unlock(a, "vic"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_req24_every_account_change_needs_the_admins_password(team: Team, change: str) -> None:
    s, ada = team.service, team.admin
    team.clock.advance(minutes=6)  # the sign-in's own entry has aged
    with pytest.raises(AuthenticationError, match="enter your password again"):
        CHANGES[change](s, ada)
    s.confirm_password(ada, PASSWORD)
    CHANGES[change](s, ada)


def test_req24_an_admin_never_chooses_a_password(team: Team) -> None:
    with pytest.raises(DocumentError, match="administrators do not choose passwords"):
        team.service.add_user(team.admin, "newbie", "psychologist", NEW, "south")


def test_req24_a_new_account_must_change_its_one_time_password_first(team: Team) -> None:
    s = team.service
    row = s.add_user(team.admin, "newbie", "psychologist", None, "south")
    one_time = row.one_time_password
    assert one_time
    assert len(one_time) >= 20
    assert row.must_change
    newbie = sign(s, "newbie", one_time)  # the administrator could sign in with it ...
    assert newbie.must_change
    with pytest.raises(AuthenticationError, match="one-time password"):
        s.list_cases(newbie)  # ... but reaches nothing before it is changed
    with pytest.raises(AuthenticationError, match="one-time password"):
        s.create_case(newbie, "S-9", "engaged")
    s.change_password(newbie, one_time, NEW)
    with pytest.raises(AuthenticationError):
        s.sign_in("newbie", one_time)  # the one-time password is gone
    fresh = sign(s, "newbie", NEW)
    assert not fresh.must_change
    assert s.list_cases(fresh) == []
    assert ("password-change", "ok") in _actions(team)


def test_req24_users_change_their_own_password_with_the_old_one(team: Team) -> None:
    s = team.service
    pat = team.psychologist
    with pytest.raises(AuthenticationError, match="current password is not right"):
        s.change_password(pat, "not the old password", NEW)
    with pytest.raises(DocumentError, match="easy to guess"):
        s.change_password(pat, PASSWORD, "passwordpassword")
    with pytest.raises(DocumentError, match="the new password is the old one"):
        s.change_password(pat, PASSWORD, PASSWORD)
    s.change_password(pat, PASSWORD, NEW)
    assert s.session_actor(pat.session or "") is None  # every session ended
    assert sign(s, "pat", NEW).username == "pat"
    assert ("password-change", "failed") in _actions(team)


def test_req24_wrong_old_passwords_count_towards_the_lockout(team: Team) -> None:
    s = team.service
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            s.change_password(team.psychologist, "not the old password", NEW)
    with pytest.raises(AuthenticationError):
        s.sign_in("pat", PASSWORD)


def test_req24_an_admin_resets_a_password_without_seeing_the_old_one(team: Team) -> None:
    s = team.service
    victim = team.viewer
    one_time = s.reset_password(team.admin, "vic")
    assert one_time != PASSWORD
    assert s.session_actor(victim.session or "") is None  # the user's sessions ended
    with pytest.raises(AuthenticationError):
        s.sign_in("vic", PASSWORD)
    again = sign(s, "vic", one_time)
    assert again.must_change
    assert ("password-reset", "ok") in _actions(team)
    rows = {u.username: u for u in s.list_users(team.admin)}
    assert rows["vic"].must_change
    assert rows["vic"].one_time_password is None  # listing users never shows one


def test_req24_the_first_admin_holds_a_one_time_password(tmp_path: Path) -> None:
    service = Service.open(tmp_path / "x.db")
    try:
        one_time = service.ensure_admin()
        assert one_time
        admin = service.session_actor(service.sign_in("admin", one_time))
        assert admin is not None
        assert admin.must_change
        with pytest.raises(AuthenticationError, match="one-time"):
            service.add_team(admin, "north")
        service.change_password(admin, one_time, NEW)
    finally:
        service.close()


def test_req24_every_step_is_audited_without_passwords(team: Team) -> None:
    s = team.service
    row = s.add_user(team.admin, "newbie", "viewer", None, "south")
    s.reset_password(team.admin, "newbie")
    actions = [a for a, _ in _actions(team)]
    assert "user-add" in actions
    assert "password-reset" in actions
    text = repr(s.store.audit_entries())
    assert row.one_time_password
    assert row.one_time_password not in text
    assert "newbie" not in text  # ids and codes only
