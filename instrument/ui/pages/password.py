"""Your password: change it with the old one (SECURITY.md 24); the first sign-in asks for it.

A new or reset account holds a one-time password: until it is changed this is the only page
the app shows (the service refuses everything else too). After a change every session of the
user ends, so the next step is signing in with the new password.
"""

from __future__ import annotations

import streamlit as st

from instrument.errors import InstrumentError
from instrument.ui import state
from instrument.ui.components import problem_text
from instrument.ui.context import current_actor, current_service

CHANGED = "Your password is changed. Sign in again with it."


def _key(name: str) -> str:
    return state.widget_key(state.ADMIN_FORMS, f"own_password.{name}")


def render() -> None:
    """Show the form that changes the signed-in user's own password."""
    actor = current_actor()
    if actor is None:
        return
    st.title("Your password")
    if actor.must_change:
        st.info(
            "This account has a one-time password. Choose your own to go on: at least 15 "
            "characters, for example four unrelated words.",
            icon=":material/key:",
        )
    with st.form(_key("form"), enter_to_submit=False, width=520):
        old = st.text_input(
            "Current password", type="password", key=_key("old"), autocomplete="current-password"
        )
        at_old = st.empty()
        new = st.text_input(
            "New password",
            type="password",
            key=_key("new"),
            autocomplete="new-password",
            help="At least 15 characters; no rules about digits or symbols. A passphrase of "
            "four unrelated words is strong and easy to type.",
        )
        again = st.text_input(
            "New password again", type="password", key=_key("again"), autocomplete="new-password"
        )
        at_new = st.empty()
        if st.form_submit_button("Change password", type="primary", icon=":material/key:"):
            if new != again:
                at_new.error("The two new passwords differ.", icon=":material/error:")
                return
            try:
                current_service().change_password(actor, old, new)
            except InstrumentError as error:
                for problem in error.problems():
                    target = at_old if problem.where == "old_password" else at_new
                    target.error(
                        problem_text(problem.message, problem.fix), icon=":material/error:"
                    )
                return
            st.success(CHANGED, icon=":material/check_circle:")
