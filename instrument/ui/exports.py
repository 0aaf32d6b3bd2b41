"""The one password gate and the one download helper of the web app.

* `password_gate` asks for the password again when it was last entered more than 5 minutes ago
  (countersigning, exports, downloads) and says whether the action may be offered;
  `password_again` is the same check as one field beside an action's own button (finalising in
  a dialog: password and confirmation in one click).
* `download_button` offers a document whose bytes are built only when clicked, on the server's
  download thread with a service (a connection) of its own; the service audits the export.
  `file_name` makes every download's name from the case reference the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from instrument.access import Actor
from instrument.errors import InstrumentError
from instrument.service import Service
from instrument.ui import context
from instrument.ui.components import show_error

PASSWORD_AGE = "needed every 5 minutes"


def password_gate(
    service: Service,
    actor: Actor,
    *,
    purpose: str,
    password_key: str,
    confirm_key: str,
    width: int = 420,
) -> bool:
    """Return True when the password was entered in the last 5 minutes; else ask for it.

    Draws a password box and a "Confirm password" button; a right password reruns the page
    (which then offers the action), a wrong one shows the service's message.
    """
    if not service.needs_password(actor):
        return True
    st.caption(f"Enter your password again to {purpose} ({PASSWORD_AGE}).")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        password = st.text_input("Password", type="password", key=password_key, width=width)
        confirmed = st.button("Confirm password", key=confirm_key)
    if confirmed:
        try:
            service.confirm_password(actor, password or "")
        except InstrumentError as error:
            show_error(error)
            return False
        st.session_state.pop(password_key, None)
        st.rerun()
    return False


def password_again(service: Service, actor: Actor, *, key: str) -> str | None:
    """Return the password box's value when the password must be entered again, else None.

    For an action confirmed in one click (finalising): pass the value to
    `Service.confirm_password` right before the action, in the same click.
    """
    if not service.needs_password(actor):
        return None
    value = st.text_input(
        "Password",
        type="password",
        key=key,
        help="Your last sign-in was more than 5 minutes ago: enter your password again.",
    )
    return str(value or "")


def file_name(reference: str, ending: str) -> str:
    """Return a download's name: the reference made safe for a file name, then `ending`.

    Every character other than letters, digits, `.`, `_` and `-` becomes `-` (a reference may
    hold `/`): `file_name("NW/2026-7", "-v3-report.pdf")` is `NW-2026-7-v3-report.pdf`.
    """
    return re.sub(r"[^A-Za-z0-9._-]", "-", reference) + ending


def built_on_click(build: Callable[[Service], bytes]) -> Callable[[], bytes]:
    """Return the callable a download button runs when clicked: `build` on a service of its own."""

    def data() -> bytes:
        with context.open_service() as service:
            return build(service)

    return data


def download_button(
    label: str, build: Callable[[Service], bytes], *, file_name: str, mime: str, key: str
) -> None:
    """Draw a download button whose document `build` makes (and the service audits) on click."""
    st.download_button(
        label,
        data=built_on_click(build),
        file_name=file_name,
        mime=mime,
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )
