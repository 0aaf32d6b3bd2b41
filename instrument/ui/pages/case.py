"""The Case page: one case's assessments over time, their status and signatures, and the ways on.

Opening a case is audited once (`context.open_case` calls `Service.open_case`, one `view`); the
reruns that follow read the history without auditing (`Service.case_history`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import streamlit as st

from instrument.access import Action, Actor, Resource, can
from instrument.errors import InstrumentError
from instrument.service import CaseView, FieldChangeRow, VersionRow
from instrument.ui import charts, navigation, state
from instrument.ui.components import plain, show_error
from instrument.ui.context import current_actor, current_service, open_case, start_assessment
from instrument.vocabulary import AssessmentStatus


def when(at: dt.datetime | None) -> str:
    """Return a time as `2026-11-23 10:00 UTC` (empty for None)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if at else ""


def history_columns(versions: list[VersionRow], *, names: bool) -> dict[str, list[Any]]:
    """Return the versions, newest first, as table columns (names only for those allowed)."""
    newest = sorted(versions, key=lambda v: v.version, reverse=True)
    columns: dict[str, list[Any]] = {
        "Version": [f"v{v.version}" for v in newest],
        "Status": [v.status.value for v in newest],
        "Assessed on": [v.assessed_on.isoformat() if v.assessed_on else "" for v in newest],
        "Last saved": [when(v.saved_at) for v in newest],
        "Amends": [f"v{v.replaces}" if v.replaces else "" for v in newest],
        "Signatures": [
            "; ".join(
                f"{s.meaning} {s.by}, {when(s.at)}"
                if names and s.by
                else f"{s.meaning.removesuffix(' by')}, {when(s.at)}"
                for s in v.signatures
            )
            for v in newest
        ],
    }
    if names:
        columns["Saved by"] = [v.saved_by or "" for v in newest]
    return columns


def _open(actor: Actor, reference: str) -> tuple[CaseView, list[VersionRow]]:
    """Open the case (one audited `view` per opening) and read its current history."""
    already = state.case_already_opened(reference)
    view = open_case(actor, reference)
    if not already:
        return view, list(view.versions)
    return view, current_service().case_history(actor, reference)


def render() -> None:
    """Show the case selected in the URL (`?case=...`)."""
    actor = current_actor()
    if actor is None:
        return
    reference = state.selected_case()
    if reference is None:
        st.title("Case")
        st.info("Choose a case on the Cases page.", icon=":material/info:")
        navigation.link("cases", "Go to Cases", icon=":material/folder_shared:")
        return
    try:
        view, versions = _open(actor, reference)
    except InstrumentError as error:
        st.title("Case")
        show_error(error)
        navigation.link("cases", "Back to Cases", icon=":material/arrow_back:")
        return

    st.title(f"Case {view.reference}")
    st.caption(f"Pathway: {view.pathway.value} · Team: {plain(view.team)}")
    notice = state.take_flash()
    if notice:
        st.success(notice, icon=":material/check_circle:")
    _actions(actor, view, versions)
    _history(actor, view, versions)
    _change(actor, view, versions)
    navigation.link("cases", "Back to Cases", icon=":material/arrow_back:")


def _actions(actor: Actor, view: CaseView, versions: list[VersionRow]) -> None:
    team = Resource(view.team)
    drafts = [v.version for v in versions if v.status is AssessmentStatus.DRAFT]
    finals = [v.version for v in versions if v.status is AssessmentStatus.FINAL]
    with st.container(horizontal=True):
        if drafts and can(actor, Action.READ_EVIDENCE, team):
            verb = "Continue" if can(actor, Action.EDIT_DRAFT, team) else "Open"
            if st.button(
                f"{verb} draft assessment v{drafts[-1]}",
                type="primary",
                icon=":material/edit_note:",
            ):
                navigation.go("assessment", case=view.reference, version=drafts[-1])
        elif not drafts and can(actor, Action.EDIT_DRAFT, team):
            label = "Start next assessment" if versions else "Start assessment"
            if st.button(label, type="primary", icon=":material/add:"):
                _start(actor, view.reference)
        if (
            finals
            and can(actor, Action.READ_FORMULATION, team)
            and st.button(f"Open formulation v{finals[-1]}", icon=":material/insights:")
        ):
            navigation.go("formulation", case=view.reference, version=finals[-1])
        if (
            versions
            and can(actor, Action.READ_FORMULATION, team)
            and st.button("Case conference view", icon=":material/co_present:")
        ):
            navigation.go("conference", case=view.reference)
    if not versions:
        st.info("This case has no assessment yet.", icon=":material/info:")


def _start(actor: Actor, reference: str) -> None:
    try:
        draft = start_assessment(actor, reference)
    except InstrumentError as error:
        show_error(error)
        return
    navigation.go("assessment", case=reference, version=draft.version)


def _change(actor: Actor, view: CaseView, versions: list[VersionRow]) -> None:
    """Draw how the priorities and domains changed across the case's finalised assessments."""
    finals = [v.version for v in versions if v.status is AssessmentStatus.FINAL]
    if not finals or not can(actor, Action.READ_FORMULATION, Resource(view.team)):
        return
    st.subheader("Change across assessments")
    service = current_service()
    try:
        newest = service.formulation(actor, view.reference, finals[-1])
        earlier = charts.finals_before(service, actor, view.reference, versions, finals[-1])
        shown = charts.show_change(
            charts.over_time(newest, earlier), key=state.widget_key(state.CASE_PAGE, "change")
        )
    except InstrumentError as error:
        show_error(error)
        return
    if not shown:
        st.caption(
            "One finalised assessment so far: the chart appears when a second one is finalised."
        )


def _history(actor: Actor, view: CaseView, versions: list[VersionRow]) -> None:
    if not versions:
        return
    team = Resource(view.team)
    names = can(actor, Action.READ_EVIDENCE, team)
    st.subheader("Assessments over time")
    columns = history_columns(versions, names=names)
    order = [
        "Version",
        "Status",
        "Assessed on",
        "Saved by",
        "Last saved",
        "Amends",
        "Signatures",
    ]
    # A real table that screen readers can read; its cells are Markdown, so text is escaped.
    st.table(
        {name: [plain(str(v)) for v in columns[name]] for name in order if name in columns},
        hide_index=True,
    )
    numbers = sorted((v.version for v in versions), reverse=True)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Version",
            numbers,
            format_func=lambda n: f"v{n}",
            key=state.widget_key(state.CASE_PAGE, "version"),
            width=160,
        )
        if can(actor, Action.READ_EVIDENCE, team) and st.button(
            "Open assessment", icon=":material/edit_note:"
        ):
            navigation.go("assessment", case=view.reference, version=chosen)
        if can(actor, Action.READ_FORMULATION, team) and st.button(
            "Open formulation", icon=":material/insights:"
        ):
            navigation.go("formulation", case=view.reference, version=chosen)
    if can(actor, Action.READ_EVIDENCE, team) and chosen is not None:
        _field_history(actor, view.reference, chosen)


def change_rows(changes: list[FieldChangeRow]) -> dict[str, list[str]]:
    """Return the field changes, newest first, as table columns of escaped Markdown."""
    newest = list(reversed(changes))

    def shown(value: object) -> str:
        if value is None:
            return "(empty)"
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return plain(text)

    return {
        "When": [when(c.at) for c in newest],
        "Who": [plain(c.by) for c in newest],
        "Field": [plain(c.field.removeprefix("$.")) for c in newest],
        "Before": [shown(c.before) for c in newest],
        "After": [shown(c.after) for c in newest],
    }


def _field_history(actor: Actor, reference: str, version: int) -> None:
    """Who changed which field of the chosen version, when, from what to what (on demand)."""
    box = st.expander(
        f"Field history of v{version}: who changed what, when",
        icon=":material/history:",
        key=state.widget_key(state.CASE_PAGE, f"history.{version}"),
        on_change="rerun",
    )
    # Read once per opening of the box (one audited view), not on every rerun while it is open.
    kept = state.widget_key(state.CASE_PAGE, f"history.{reference}.{version}.rows")
    if not box.open:
        st.session_state.pop(kept, None)
        return
    with box:
        changes = st.session_state.get(kept)
        if not isinstance(changes, list):
            try:
                changes = current_service().field_history(actor, reference, version)
            except InstrumentError as error:
                show_error(error)
                return
            st.session_state[kept] = changes
        if not changes:
            st.caption("No field of this version was changed in the application.")
            return
        st.caption(f"{len(changes)} field change{'s' if len(changes) != 1 else ''}, newest first.")
        st.table(change_rows(changes), hide_index=True)
