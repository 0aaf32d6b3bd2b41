"""The sign-in page: the notice of the last attempt, if any, and the form POSTed to the route.

The notice never holds the typed username (SECURITY.md 34), so the form always comes back empty.
The page also removes what the assessment form kept in this tab for saves never confirmed
(`item_control.forget_unsaved`): whoever signs in next finds nothing of it.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from instrument.ui import context, state
from instrument.ui.item_control import forget_unsaved
from instrument.ui.settings import current_settings
from instrument.ui.sign_in import NOTICE_COOKIE, safe_next, sign_in_form, signer_for


def current_path() -> str:
    """Return the path of this page and its case selection, to come back to after signing in."""
    path = urlsplit(st.context.url or "/").path or "/"
    query = {
        name: value
        for name in (state.CASE_PARAM, state.VERSION_PARAM)
        if isinstance(value := st.query_params.get(name), str)
    }
    return safe_next(path + ("?" + urlencode(query) if query else ""))


def render() -> None:
    """Show the sign-in page: the notice of the last attempt, if any, and the form."""
    settings = current_settings()
    signer = signer_for(settings)
    st.title("Sign in")
    notice = signer.read_notice(context.request_cookies().get(NOTICE_COOKIE))
    if notice is not None:
        kind, message = notice
        message = message[:1].upper() + message[1:]
        if kind == "info":
            st.success(message, icon=":material/logout:")
        else:
            st.error(message, icon=":material/error:")
    st.html(sign_in_form(signer.form_token("sign-in"), next_path=current_path()))
    st.caption(
        "Accounts are made by your administrator. After 15 minutes without activity you are "
        "signed out and asked to sign in again."
    )
    forget_unsaved()  # nothing typed by the last person in this tab stays in it
