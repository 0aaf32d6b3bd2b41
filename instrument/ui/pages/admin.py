"""The administration pages: users, teams and the audit log. Administrators see no case content.

Three pages share this module (`render_users`, `render_teams`, `render_audit`); each calls the
service for everything, and the service checks the role again. A role change asks for the
administrator's password when it was last entered more than 5 minutes ago.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import streamlit as st

from instrument.access import USER_ROLES, Actor
from instrument.audit import ACTION_MEANING, AuditAction
from instrument.errors import InstrumentError
from instrument.service import AuditRow, UserRow
from instrument.ui import state
from instrument.ui.components import plain, problem_text, show_error
from instrument.ui.context import current_actor, current_service

ALL = "All"
ROLES = [r.value for r in USER_ROLES]


def _key(name: str) -> str:
    return state.widget_key(state.ADMIN_FORMS, name)


def when(at: dt.datetime | None) -> str:
    """Return a time as `2026-11-23 10:00:00 UTC` (empty for None)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""


def _admin() -> Actor | None:
    actor = current_actor()
    if actor is None:
        return None
    state.forget_opened_case()
    return actor


def _notice() -> None:
    message = state.take_flash()
    if message:
        st.success(message, icon=":material/check_circle:")


def _problems(error: InstrumentError, places: dict[str, Any], fallback: Any) -> None:
    """Show each problem beside its field (by `where`), the rest at `fallback`."""
    shown: dict[int, list[str]] = {}
    targets: dict[int, Any] = {}
    for problem in error.problems():
        target = places.get(problem.where, fallback)
        shown.setdefault(id(target), []).append(problem_text(problem.message, problem.fix))
        targets[id(target)] = target
    for ident, texts in shown.items():
        with targets[ident].container():
            for text in texts:
                st.error(text, icon=":material/error:")


def _run(
    action: Callable[[], object],
    done: str,
    places: dict[str, Any],
    fallback: Any,
    clear: tuple[str, ...] = (),
) -> None:
    """Do an administrator's change; on success empty the form's `clear` fields and say so."""
    try:
        action()
    except InstrumentError as error:
        _problems(error, places, fallback)
        return
    state.flash(done)
    # The fields were drawn in this run, so they are emptied at the start of the next one.
    st.session_state[_key("clear")] = clear
    st.rerun()


def _clear_added() -> None:
    """Empty the fields of a form whose addition succeeded in the previous run."""
    for key in st.session_state.pop(_key("clear"), ()):
        st.session_state.pop(key, None)


# --- users -----------------------------------------------------------------------------------


def user_status(user: UserRow, now: dt.datetime) -> str:
    """Return `active`, `deactivated` or `locked until <time>` for the users table."""
    if not user.active:
        return "deactivated"
    if user.locked_until is not None and user.locked_until > now:
        return f"locked until {when(user.locked_until)}"
    return "active"


def render_users() -> None:
    """Show the users, a form to add one, and the changes an administrator can make."""
    actor = _admin()
    if actor is None:
        return
    st.title("Users")
    _clear_added()
    _notice()
    service = current_service()
    try:
        users = service.list_users(actor)
        teams = service.list_teams(actor)
    except InstrumentError as error:
        show_error(error)
        return
    now = service.clock()
    st.dataframe(
        {
            "Username": [u.username for u in users],
            "Role": [u.role.value for u in users],
            "Team": [u.team for u in users],
            "Status": [user_status(u, now) for u in users],
        },
        hide_index=True,
        width="stretch",
    )
    left, right = st.columns(2, gap="large")
    with left:
        _add_user(actor, teams)
    with right:
        _change_user(actor, users, teams, now)


def _add_user(actor: Actor, teams: list[str]) -> None:
    st.subheader("Add a user")
    with st.form(_key("add_user"), enter_to_submit=False):
        username = st.text_input(
            "Username",
            key=_key("new_username"),
            max_chars=40,
            help="2 to 40 letters, digits, `.`, `_` or `-`.",
        )
        at_username = st.empty()
        role = st.selectbox("Role", ROLES, index=ROLES.index("psychologist"), key=_key("new_role"))
        at_role = st.empty()
        team = st.selectbox("Team", teams, key=_key("new_team"))
        at_team = st.empty()
        password = st.text_input(
            "First password",
            type="password",
            key=_key("new_password"),
            help="At least 15 characters; a passphrase of four unrelated words is good. Give "
            "it to the user in person.",
        )
        at_password = st.empty()
        at_form = st.empty()
        if st.form_submit_button("Add user", type="primary", icon=":material/person_add:"):
            _run(
                lambda: current_service().add_user(
                    actor, username.strip(), role, password, team=team
                ),
                f"User {username.strip()} added.",
                {
                    "username": at_username,
                    "role": at_role,
                    "team": at_team,
                    "password": at_password,
                },
                at_form,
                clear=(_key("new_username"), _key("new_password")),
            )


def _change_user(actor: Actor, users: list[UserRow], teams: list[str], now: dt.datetime) -> None:
    st.subheader("Change a user")
    names = [u.username for u in users]
    chosen = st.selectbox("User", names, key=_key("user"), index=None, placeholder="Choose a user")
    user = next((u for u in users if u.username == chosen), None)
    if user is None:
        st.caption("Choose a user to change their role or team, unlock or deactivate them.")
        return
    st.caption(
        f"{plain(user.username)}: {user.role.value}, team {plain(user.team)}, "
        f"{user_status(user, now)}"
    )
    service = current_service()

    with st.form(_key("role_form"), enter_to_submit=False):
        role = st.selectbox("New role", ROLES, index=ROLES.index(user.role.value), key=_key("role"))
        needs = service.needs_password(actor)
        password = ""
        if needs:
            password = st.text_input(
                "Your password",
                type="password",
                key=_key("confirm_password"),
                help="A role change needs your password, entered within the last 5 minutes.",
            )
        at_password = st.empty()
        at_role = st.empty()
        if st.form_submit_button("Change role", icon=":material/badge:"):

            def change_role() -> None:
                if needs:
                    service.confirm_password(actor, password)
                service.set_role(actor, user.username, role)

            _run(
                change_role,
                f"{user.username} is now {role}.",
                {"password": at_password, "role": at_role},
                at_role,
            )

    with st.form(_key("team_form"), enter_to_submit=False):
        index = teams.index(user.team) if user.team in teams else 0
        team = st.selectbox("Move to team", teams, index=index, key=_key("team"))
        at_team = st.empty()
        if st.form_submit_button("Move", icon=":material/group:"):
            _run(
                lambda: service.set_team(actor, user.username, team),
                f"{user.username} moved to team {team}.",
                {"team": at_team},
                at_team,
            )

    at_account = st.empty()
    with st.container(horizontal=True):
        if (
            user.locked_until is not None
            and user.locked_until > now
            and st.button("Unlock", icon=":material/lock_open:", key=_key("unlock"))
        ):
            _run(
                lambda: service.unlock(actor, user.username),
                f"{user.username} unlocked.",
                {},
                at_account,
            )
    if user.active:
        sure = st.checkbox(
            f"Deactivate {user.username}: they cannot sign in, and their open sessions end now",
            key=_key("deactivate_sure"),
        )
        if st.button(
            "Deactivate", icon=":material/person_off:", key=_key("deactivate"), disabled=not sure
        ):
            _run(
                lambda: service.deactivate(actor, user.username),
                f"{user.username} deactivated; their sessions have ended.",
                {},
                at_account,
            )


# --- teams -----------------------------------------------------------------------------------


def render_teams() -> None:
    """Show the teams and a form to add one."""
    actor = _admin()
    if actor is None:
        return
    st.title("Teams")
    _clear_added()
    _notice()
    service = current_service()
    try:
        teams = service.list_teams(actor)
    except InstrumentError as error:
        show_error(error)
        return
    st.dataframe({"Team": teams}, hide_index=True, width=480)
    st.subheader("Add a team")
    with st.form(_key("add_team"), enter_to_submit=True, width=480):
        name = st.text_input(
            "Team name",
            key=_key("team_name"),
            max_chars=40,
            help="1 to 40 letters, digits, spaces, `.`, `_` or `-`.",
        )
        at_name = st.empty()
        if st.form_submit_button("Add team", type="primary", icon=":material/group_add:"):
            _run(
                lambda: service.add_team(actor, name.strip()),
                f"Team {name.strip()} added.",
                {"team": at_name},
                at_name,
                clear=(_key("team_name"),),
            )


# --- audit log -------------------------------------------------------------------------------


def audit_columns(rows: list[AuditRow]) -> dict[str, list[Any]]:
    """Return audit entries as table columns: ids and codes only, never case content."""
    return {
        "Seq": [r.seq for r in rows],
        "Time": [when(r.at) for r in rows],
        "User": [r.username or "" for r in rows],
        "Role": [r.role or "" for r in rows],
        "Action": [r.action for r in rows],
        "Outcome": [r.outcome for r in rows],
        "Record": [
            f"{r.entity} {r.entity_id}" if r.entity and r.entity_id is not None else r.entity or ""
            for r in rows
        ],
        "Version": [f"v{r.version}" if r.version is not None else "" for r in rows],
    }


def render_audit() -> None:
    """Show the audit log, newest first, filtered by action, user and how many."""
    actor = _admin()
    if actor is None:
        return
    st.title("Audit log")
    st.caption(
        "Every view, change, sign-in and refusal, newest first. Entries hold ids and action codes "
        "only, never case content. The command instrument audit verify checks the chain."
    )
    service = current_service()
    try:
        usernames = [u.username for u in service.list_users(actor)]
    except InstrumentError as error:
        show_error(error)
        return
    actions = [a.value for a in AuditAction]
    left, middle, right = st.columns([2, 2, 1])
    action = left.selectbox(
        "Action",
        [ALL, *actions],
        key=_key("audit_action"),
        format_func=lambda a: a if a == ALL else f"{a}: {ACTION_MEANING[AuditAction(a)]}",
    )
    username = middle.selectbox("User", [ALL, *usernames], key=_key("audit_user"))
    limit = right.number_input(
        "Show at most", min_value=10, max_value=5000, value=200, step=50, key=_key("audit_limit")
    )
    try:
        rows = service.audit_entries(
            actor,
            action=None if action == ALL else action,
            username=None if username == ALL else username,
            limit=int(limit),
        )
    except InstrumentError as error:
        show_error(error)
        return
    if not rows:
        st.info("No entries match these filters.", icon=":material/info:")
        return
    st.caption(f"{len(rows)} entr{'ies' if len(rows) != 1 else 'y'} shown.")
    st.dataframe(audit_columns(rows), hide_index=True, width="stretch", height=560)


def render() -> None:
    """Show the users page (the administration section's first page)."""
    render_users()
