"""The administration pages: users, teams, audit log; nobody else reaches them."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from instrument.errors import AuthenticationError
from instrument.ui import state
from tests.ui.conftest import PASSWORD, Web, audit_actions, infos, table, texts


def _key(name: str) -> str:
    return state.widget_key(state.ADMIN_FORMS, name)


def _click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def _users(web: Web) -> dict[str, tuple[str, str, bool]]:
    with web.service() as service:
        return {
            u.username: (u.role.value, u.team, u.active)
            for u in service.list_users(web.actor("admin"))
        }


def test_the_users_page_lists_every_account(web: Web) -> None:
    at = web.app("admin")
    assert not at.exception
    assert [t.value for t in at.title] == ["Users"]
    frame = table(at)
    assert list(frame["Username"]) == [
        "admin",
        "admin.two",
        "psy.north",
        "psy.south",
        "sup.north",
        "view.north",
    ]
    assert set(frame["Status"]) == {"active"}


def test_adding_a_user(web: Web) -> None:
    at = web.app("admin")
    at.text_input(key=_key("new_username")).input("psy.new")
    at.selectbox(key=_key("new_role")).select("supervisor")
    at.selectbox(key=_key("new_team")).select("south")
    at.text_input(key=_key("new_password")).input("four unrelated words here")
    _click(at, "Add user")
    assert not at.exception
    assert [s.value for s in at.success] == ["User psy.new added."]
    assert _users(web)["psy.new"] == ("supervisor", "south", True)
    # The form is empty again for the next user.
    assert at.text_input(key=_key("new_username")).value == ""
    assert at.text_input(key=_key("new_password")).value == ""


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("psy.new", "short", "The password has 5 characters; at least 15 are needed"),
        ("no spaces allowed", "four unrelated words here", "A username is 2 to 40 letters"),
        ("psy.north", "four unrelated words here", "The username psy\\.north is taken"),
    ],
)
def test_a_refused_user_says_why_beside_the_field(
    web: Web, username: str, password: str, message: str
) -> None:
    at = web.app("admin")
    at.text_input(key=_key("new_username")).input(username)
    at.text_input(key=_key("new_password")).input(password)
    _click(at, "Add user")
    assert not at.exception
    assert [t.value for t in at.title] == ["Users"]
    assert any(e.value.startswith(message) for e in at.error), [e.value for e in at.error]
    assert PASSWORD not in texts(at)


def test_a_role_change_asks_for_the_password_again(web: Web) -> None:
    at = web.app("admin")
    at.selectbox(key=_key("user")).select("view.north").run()
    assert _key("confirm_password") in [t.key for t in at.text_input]
    at.selectbox(key=_key("role")).select("supervisor")
    at.text_input(key=_key("confirm_password")).input("not my password at all")
    _click(at, "Change role")
    assert any("password is not right" in e.value for e in at.error)
    assert _users(web)["view.north"][0] == "viewer"
    at.text_input(key=_key("confirm_password")).input(PASSWORD)
    _click(at, "Change role")
    assert [s.value for s in at.success] == ["view.north is now supervisor."]
    assert _users(web)["view.north"][0] == "supervisor"
    assert "role-change" in audit_actions(web)


def test_moving_a_user_to_another_team(web: Web) -> None:
    at = web.app("admin")
    at.selectbox(key=_key("user")).select("psy.north").run()
    at.selectbox(key=_key("team")).select("south")
    _click(at, "Move")
    assert _users(web)["psy.north"][1] == "south"


def test_deactivating_needs_a_tick_and_ends_the_users_sessions(web: Web) -> None:
    psychologist = web.app("psychologist")
    assert [t.value for t in psychologist.title] == ["Cases"]
    psychologist_cookies = dict(web.cookies)
    at = web.app("admin")
    at.selectbox(key=_key("user")).select("psy.north").run()
    deactivate = next(b for b in at.button if b.label == "Deactivate")
    assert deactivate.disabled
    at.checkbox(key=_key("deactivate_sure")).check().run()
    _click(at, "Deactivate")
    assert [s.value for s in at.success] == ["psy.north deactivated; their sessions have ended."]
    assert _users(web)["psy.north"][2] is False
    web.cookies.clear()
    web.cookies.update(psychologist_cookies)  # the psychologist's tab runs again
    psychologist.run()
    assert [t.value for t in psychologist.title] == ["Sign in"]
    with web.service() as service, pytest.raises(AuthenticationError):
        service.sign_in("psy.north", PASSWORD)


def test_unlocking_a_locked_account(web: Web) -> None:
    with web.service() as service:
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                service.sign_in("psy.north", "wrong password, again and again")
    at = web.app("admin")
    assert any(s.startswith("locked until") for s in table(at)["Status"])
    at.selectbox(key=_key("user")).select("psy.north").run()
    _click(at, "Unlock")
    assert [s.value for s in at.success] == ["psy.north unlocked."]
    assert set(table(at)["Status"]) == {"active"}


def test_adding_a_team(web: Web) -> None:
    at = web.app("admin", "teams")
    assert list(table(at)["Team"]) == ["default", "north", "south"]
    at.text_input(key=_key("team_name")).input("east")
    _click(at, "Add team")
    assert [s.value for s in at.success] == ["Team east added."]
    assert list(table(at)["Team"]) == ["default", "east", "north", "south"]
    assert at.text_input(key=_key("team_name")).value == ""
    at.text_input(key=_key("team_name")).input("<b>bad</b>")
    _click(at, "Add team")
    assert any(e.value.startswith("A team name is") for e in at.error)
    assert at.text_input(key=_key("team_name")).value == "<b>bad</b>"  # kept to correct it


def test_the_audit_log_filters_and_holds_no_case_content(web: Web) -> None:
    actor = web.actor("psychologist")
    with web.service() as service:
        service.create_case(actor, "C-CANARY-1", "engaged")
        service.open_case(actor, "C-CANARY-1")
    at = web.app("admin", "audit")
    assert not at.exception
    frame = table(at)
    assert {"create", "view", "sign-in"} <= set(frame["Action"])
    assert "CANARY" not in texts(at)
    assert not any("CANARY" in str(v) for column in frame.columns for v in frame[column])
    at.selectbox(key=_key("audit_action")).select("view").run()
    assert set(table(at)["Action"]) == {"view"}
    assert list(table(at)["User"]) == ["psy.north"]
    at.selectbox(key=_key("audit_user")).select("view.north").run()
    assert infos(at) == ["No entries match these filters."]


@pytest.mark.parametrize("role", ["psychologist", "supervisor", "viewer"])
@pytest.mark.parametrize("page", ["users", "teams", "audit"])
def test_no_other_role_reaches_an_admin_page(web: Web, role: str, page: str) -> None:
    at = web.app(role, page)
    assert not at.exception
    assert [t.value for t in at.title] == ["Cases"]
    assert "admin.two" not in texts(at)
    assert not {"users-list", "audit-read", "teams-list"} & set(audit_actions(web))
