"""Every session-state key and URL query parameter the web app uses, spelled once, here.

Two kinds of state, on purpose kept apart:

* **The URL** carries what a reload must land on again: the selected case (`?case=C-0042`, a
  pseudonymous reference, never a name) and the assessment version (`&v=2`). Nothing else goes in
  a URL: no evidence, no names, no session ids.
* **`st.session_state`** carries per-browser-session bookkeeping that must survive reruns but not
  reloads: which case opening has already been audited, the last sign-in warning shown. The
  database stays the source of truth for everything a user typed.

Pages never spell a key themselves; they call the functions below.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

# --- URL query parameters ------------------------------------------------------------------

CASE_PARAM: Final = "case"
"""Query parameter holding the selected case reference, e.g. `?case=C-0042`."""

VERSION_PARAM: Final = "v"
"""Query parameter holding the selected assessment version, e.g. `&v=2`."""

# --- session-state keys --------------------------------------------------------------------

OPENED_CASE: Final = "ifi.opened_case"
"""The case reference whose opening was audited (one `view` per opening, not per rerun)."""

OPENED_CASE_VIEW: Final = "ifi.opened_case_view"
"""The `CaseView` returned when that opening was audited (reference, pathway, team)."""

CASE_PAGE: Final = "ifi.case"
"""Prefix of the case page's widget keys (the version chooser)."""

FLASH: Final = "ifi.flash"
"""A one-off confirmation to show at the top of the next run (e.g. "Case C-0042 created")."""

CASE_FILTERS: Final = "ifi.case_filters"
"""Prefix of the case-list filter widgets' keys (search text, pathway, status, assessor)."""

AUDIT_FILTERS: Final = "ifi.audit_filters"
"""Prefix of the audit-log filter widgets' keys."""

ADMIN_FORMS: Final = "ifi.admin"
"""Prefix of the admin page's widget keys."""

NEW_CASE_FORM: Final = "ifi.new_case"
"""Key of the new-case form and prefix of its widgets."""

STAY_SIGNED_IN: Final = "ifi.stay_signed_in"
"""Key of the "Stay signed in" button shown before the idle limit."""

PASSWORD_CONFIRMED: Final = "ifi.password_confirmed"
"""Prefix of keys used by the re-enter-password dialogs (finalise, countersign, export, role)."""

ASSESSMENT_FORM: Final = "ifi.assessment"
"""Prefix of the assessment form's widget keys and bookkeeping: the draft last read from the
database (its revision is the base of the next autosave), the last save, a pending conflict, the
finalise and amend dialogs."""

JUDGEMENT_FORM: Final = "ifi.judgement"
"""Prefix of the assessment form's Judgement tab and bias check: one widget key per field of the
assessor's judgement, and the revision those widgets were last filled from."""

FORMULATION_REVIEW: Final = "ifi.formulation"
"""Prefix of the formulation page's widget keys and bookkeeping (overrides, narratives,
countersign and export dialogs)."""

ASSESSMENT_SECTION: Final = "section"
"""Key of the assessment form's tabs (details, one per domain, responsivity, finalise). It is
also the URL parameter the tabs are bound to (`&section=Identity`): a reload lands on the same
tab, and only the open tab is drawn."""

PLAN_PAGE: Final = "ifi.plan"
"""Prefix of the plan page's widget keys and bookkeeping: the plan version and log entries last
read from the database (their revisions are the base of the next autosave), a pending conflict,
the agree, amend and download dialogs."""
INSTRUMENT_PAGE: Final = "ifi.instrument"
"""Prefix of the Instrument page's keys (one per item, area and consideration it lists)."""

FORMULATION_PART: Final = "part"
"""Key of the formulation page's tabs (areas, 5P, engagement and responsivity, data quality,
change, sign-off and export), bound to the URL parameter of the same name (`&part=5P`): a reload
lands on the same tab, and only the open tab is drawn."""

CONFERENCE: Final = "ifi.conference"
"""Prefix of the case-conference page's keys: the conference list (case references in the
order chosen) and its chooser, the team's cases offered for it, presenter mode, the downloads'
password dialog."""


def widget_key(prefix: str, name: str) -> str:
    """Return the key of one widget under a page's prefix, e.g. `ifi.case_filters.text`."""
    return f"{prefix}.{name}"


# --- the selected case and version (in the URL) ----------------------------------------------


def selected_case() -> str | None:
    """Return the case reference in the URL, or None when no case is selected."""
    value = st.query_params.get(CASE_PARAM)
    return (value.strip() or None) if isinstance(value, str) else None


def selected_version() -> int | None:
    """Return the assessment version in the URL, or None when absent or not a positive number."""
    value = st.query_params.get(VERSION_PARAM)
    if not isinstance(value, str) or not value.isdigit():
        return None
    number = int(value)
    return number if number > 0 else None


def case_params(reference: str, version: int | None = None) -> dict[str, str]:
    """Return the query parameters that select a case (and version) on another page."""
    params = {CASE_PARAM: reference}
    if version is not None:
        params[VERSION_PARAM] = str(version)
    return params


def select_case(reference: str, version: int | None = None) -> None:
    """Put another case (and optionally its version) in the URL, on the same page."""
    st.query_params[CASE_PARAM] = reference
    select_version(version)


def select_version(version: int | None) -> None:
    """Put `version` in the URL (or remove it), keeping the selected case."""
    if version is None:
        st.query_params.pop(VERSION_PARAM, None)
    else:
        st.query_params[VERSION_PARAM] = str(version)


# --- one audited view per opening of a case ----------------------------------------------


def case_already_opened(reference: str) -> bool:
    """Return True when this browser session already audited opening `reference`."""
    return st.session_state.get(OPENED_CASE) == reference


def mark_case_opened(reference: str) -> None:
    """Remember that opening `reference` has been audited in this browser session."""
    st.session_state[OPENED_CASE] = reference


def forget_opened_case() -> None:
    """Forget the audited opening, so that coming back to a case audits a new `view`."""
    st.session_state.pop(OPENED_CASE, None)
    st.session_state.pop(OPENED_CASE_VIEW, None)


# --- one-off messages ----------------------------------------------------------------------


def flash(message: str) -> None:
    """Keep a confirmation to show once at the top of the next run."""
    st.session_state[FLASH] = message


def take_flash() -> str | None:
    """Return and forget the pending confirmation, if any."""
    value = st.session_state.pop(FLASH, None)
    return value if isinstance(value, str) else None
