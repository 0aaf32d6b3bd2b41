"""Reusable widgets shared by the pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Literal

import streamlit as st

from instrument.access import Actor
from instrument.definition import Instrument
from instrument.errors import InstrumentError
from instrument.formulation import Formulation
from instrument.ui import state
from instrument.vocabulary import Band, FiveP


def cached_instrument() -> Instrument:
    """Return the default instrument, loaded once per server process (immutable)."""
    from instrument.ui.context import current_documents

    return current_documents().default_instrument()


def banner(instrument: Instrument) -> None:
    """Show the judgement caution that stands on every screen.

    Its container is keyed (`st-key-caution`) so that presenter mode can set it as one slim line.
    """
    with st.container(key="caution"):
        st.info(instrument.notice.strip(), icon=":material/balance:")


# --- labels shared by the formulation and case-conference pages ----------------------------

FIVE_P_TITLES: dict[FiveP, str] = {
    FiveP.PRESENTING: "Presenting",
    FiveP.PREDISPOSING: "Predisposing",
    FiveP.PRECIPITATING: "Precipitating",
    FiveP.PERPETUATING: "Perpetuating",
    FiveP.PROTECTIVE: "Protective",
}
BadgeColour = Literal["red", "orange", "green", "gray"]
BAND_BADGES: dict[Band, BadgeColour] = {
    Band.HIGH: "red",
    Band.MODERATE: "orange",
    Band.LOW: "green",
    Band.INSUFFICIENT_INFORMATION: "gray",
}
"""Streamlit badge colour of each priority band."""


# --- sign-in state, errors, plain text (added with the sign-in and cases pages) ---------------

IDLE_WARNING = dt.timedelta(minutes=3)
"""Warn this long before an idle session ends."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """Return `text` with Markdown's special characters escaped, to show it literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def show_error(error: InstrumentError) -> None:
    """Show an error's message (and how to fix it) without any traceback."""
    st.error(problem_text(error.message, error.fix), icon=":material/error:")


def problem_text(message: str, fix: str = "") -> str:
    """Return an error message (and its fix) as literal text: it may quote what a user typed."""
    text = message[:1].upper() + message[1:]
    return plain(f"{text} ({fix})" if fix else text)


def session_panel(actor: Actor) -> None:
    """Show who is signed in, the idle warning and the sign-out button in the sidebar."""
    from instrument.ui.context import current_session_id
    from instrument.ui.settings import current_settings
    from instrument.ui.sign_in import sign_out_form, signer_for

    with st.sidebar:
        team = f" · team {actor.team}" if actor.team else ""
        st.markdown(f"Signed in as **{plain(actor.username)}**  \n{actor.role}{plain(team)}")
        _idle_watch()
        token = signer_for(current_settings()).form_token("sign-out", current_session_id() or "")
        st.html(sign_out_form(token))


@st.fragment(run_every=dt.timedelta(seconds=30))
def _idle_watch() -> None:
    """Warn before the idle limit; when the session has ended, rerun into the sign-in page."""
    from instrument.ui.context import session_expires_in

    remaining = session_expires_in()
    if remaining is None or remaining <= dt.timedelta(0):
        st.rerun()
    if remaining <= IDLE_WARNING:
        minutes = max(1, round(remaining.total_seconds() / 60))
        st.warning(
            f"You will be signed out in about {minutes} min without activity.",
            icon=":material/timer:",
        )
        st.button("Stay signed in", key=state.STAY_SIGNED_IN, on_click=_keep_alive)


def _keep_alive() -> None:
    from instrument.ui.context import current_actor

    current_actor()


def conflict_panel(
    message: str,
    theirs: Sequence[str],
    mine: Sequence[str],
    *,
    keep_theirs: Callable[[], None],
    keep_mine: Callable[[], None],
    key: str,
) -> None:
    """Show a change refused by a newer stored version: both side by side, and the choice.

    `message` is shown as literal text after "Not saved:"; `theirs` and `mine` are the lines of
    the stored version and of the change that was not saved (shown as plain text). The buttons'
    keys are `key` + `.theirs` and `key` + `.mine`. The formulation page's narratives use it
    (the assessment form merges stale changes field by field and asks per field instead).
    """
    with st.container(border=True):
        st.error(f"Not saved: {plain(message)}", icon=":material/sync_problem:")
        theirs_col, mine_col = st.columns(2)
        with theirs_col:
            st.markdown("**Stored version (theirs)**")
            for line in theirs:
                st.text(line)
        with mine_col:
            st.markdown("**Your version (not saved)**")
            for line in mine:
                st.text(line)
        left, right = st.columns(2)
        left.button(
            "Keep the stored version",
            key=f"{key}.theirs",
            on_click=keep_theirs,
            width="stretch",
        )
        right.button(
            "Save my version over it",
            key=f"{key}.mine",
            on_click=keep_mine,
            type="primary",
            width="stretch",
        )


# --- the 1.1 prompts shown first on the formulation page, the conference view ---------------


def escalation_panel(formulation: Formulation) -> None:
    """Show the escalation prompt first (1.1): raised in red, otherwise why it is not raised."""
    prompt = formulation.escalation
    if prompt is None:
        return
    if prompt.raised:
        st.error(f"**Escalation prompt.** {plain(prompt.prompt)}", icon=":material/report:")
    elif prompt.unknown:
        st.warning(f"**Escalation prompt.** {plain(prompt.prompt)}", icon=":material/help:")
    else:
        st.caption(f"Escalation prompt: {plain(prompt.prompt)}")


def focus_panel(formulation: Formulation) -> None:
    """Show where work should start: the focus, or that no area is offered (1.1)."""
    focus = formulation.focus
    if focus is None:
        return
    text = f"**Focus.** {plain(focus.summary)}"
    if focus.adjusted and focus.rationale:
        text += f" Reason: {plain(focus.rationale)}"
    if focus.areas:
        st.success(text, icon=":material/my_location:")
    else:
        st.info(text, icon=":material/do_not_disturb_on:")
