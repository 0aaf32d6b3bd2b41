"""The sign-in page: the notice of the last attempt, if any, and the form POSTed to the route."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from instrument.ui import context, state
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
    username = ""
    if notice is not None:
        kind, message, username = notice
        message = message[:1].upper() + message[1:]
        if kind == "info":
            st.success(message, icon=":material/logout:")
        else:
            st.error(message, icon=":material/error:")
    st.html(sign_in_form(signer.form_token("sign-in"), next_path=current_path(), username=username))
    st.caption(
        "Accounts are made by your administrator. After 15 minutes without activity you are "
        "signed out and asked to sign in again."
    )
