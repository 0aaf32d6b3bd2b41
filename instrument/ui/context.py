"""Who is using this browser session, and the service they work through.

The seam every page uses:

* `current_service()` is this browser session's `Service` (its own SQLite connection), made on
  first use by `st.cache_resource(scope="session")` and closed when the session ends;
  `current_documents()` the documents service on the installed definitions (one per process).
* `open_case(actor, reference)` opens a case for a page, auditing one `view` per opening (not
  per rerun); every page showing a case's content calls it first.
* `current_actor()` is the signed-in user, looked up on every run from the signed session cookie
  and the server-side sessions table; None means "show only the sign-in page".

Nothing here is cached per user at module level: the only module-level names are functions.
Tests replace `request_cookies` (pytest's monkeypatch) to stand in for a browser's cookie; the
browser cannot reach that hook, it can only send a cookie the server signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import streamlit as st

from instrument.access import Actor
from instrument.assessment import Assessor
from instrument.service import CaseView, Draft, Service
from instrument.service.documents import Documents
from instrument.ui import state
from instrument.ui.settings import current_settings
from instrument.ui.sign_in import SESSION_COOKIE, signer_for
from instrument.vocabulary import AssessorRole


def _close(service: Service) -> None:
    service.close()


def open_service() -> Service:
    """Open a service on the configured database (tests replace this to freeze the clock)."""
    settings = current_settings()
    return Service.open(
        settings.db, key_path=settings.audit_key_path, definitions=settings.definitions
    )


@st.cache_resource(show_spinner=False)
def current_documents() -> Documents:
    """Return the documents service on the installed definitions (one per server process).

    It holds the definitions only, never case data (SECURITY.md 13), so one serves every user.
    """
    return Documents(current_settings().definitions)


@st.cache_resource(scope="session", on_release=_close, show_spinner=False)
def current_service() -> Service:
    """Return this browser session's service (one connection per session, closed on release)."""
    return open_service()


def request_cookies() -> Mapping[str, str]:
    """Return the cookies the browser sent when this session's websocket opened."""
    return st.context.cookies


def current_session_id() -> str | None:
    """Return the server-side session id carried by the signed cookie, or None."""
    signer = signer_for(current_settings())
    return signer.session_id(request_cookies().get(SESSION_COOKIE))


def current_actor() -> Actor | None:
    """Return the signed-in user, or None when signed out, expired, revoked or deactivated."""
    session_id = current_session_id()
    if session_id is None:
        return None
    return current_service().session_actor(session_id)


def session_expires_in() -> dt.timedelta | None:
    """Return how long this session has before idle expiry (without counting as activity)."""
    session_id = current_session_id()
    if session_id is None:
        return None
    return current_service().session_expires_in(session_id)


def open_case(actor: Actor, reference: str) -> CaseView:
    """Return the case, auditing one `view` per opening however many reruns follow.

    The first call for a reference in this browser session calls `Service.open_case` (audited);
    later calls (reruns, the assessment and formulation pages of the same case) reuse it. Going
    back to the Cases page (`state.forget_opened_case`) or to another case starts a new opening.
    """
    view = st.session_state.get(state.OPENED_CASE_VIEW)
    if state.case_already_opened(reference) and isinstance(view, CaseView):
        return view
    view = current_service().open_case(actor, reference)
    state.mark_case_opened(reference)
    st.session_state[state.OPENED_CASE_VIEW] = view
    return view


def start_assessment(actor: Actor, reference: str) -> Draft:
    """Start the case's next assessment, dated today (UTC) with the signed-in person as assessor.

    Both are ordinary values of the draft: the Details tab shows them and they can be changed.
    """
    service = current_service()
    draft = service.start_assessment(actor, reference)
    info = draft.assessment.assessment
    if info.assessed_on is not None or info.assessors:
        return draft  # an amendment keeps what the signed version said
    return service.save_details(
        actor,
        reference,
        draft.version,
        assessed_on=service.clock().astimezone(dt.UTC).date(),
        assessors=[Assessor(name=actor.username, role=AssessorRole.PSYCHOLOGIST)],
        notes=draft.assessment.notes,
        base_revision=draft.revision,
    )
