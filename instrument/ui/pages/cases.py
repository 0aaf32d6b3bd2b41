"""The Cases page: the team's cases as a searchable, filterable table, and a new-case form.

The table shows one page of cases at a time (`PAGE_SIZE`), read as one page from the store with
the total that matches, so a team with 10,000 cases paints as fast as one with 50; Previous and
Next move through the pages, and a change of search or filter starts again at the first page.
The table is a real HTML table (headers, rows, cells) that screen readers can read, not a
canvas grid; its cells are Markdown, so every value is escaped. Each case of the page has a link
below the table, in the same tab.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from instrument.access import Action, Actor, Resource, can
from instrument.errors import InstrumentError
from instrument.plan import InterventionStatus
from instrument.service import PAGE_SIZE, CasePageView, CaseRow
from instrument.ui import navigation, state
from instrument.ui.components import cached_instrument, plain, problem_text, show_error
from instrument.ui.context import current_actor, current_service
from instrument.vocabulary import AssessmentStatus, Pathway

ALL = "All"
NOT_ASSESSED = "not assessed"


def _key(name: str) -> str:
    return state.widget_key(state.CASE_FILTERS, name)


def _form_key(name: str) -> str:
    return state.widget_key(state.NEW_CASE_FORM, name)


def render() -> None:
    """Show the cases of the signed-in user's team."""
    actor = current_actor()
    if actor is None:  # the router shows only the sign-in page then
        return
    state.forget_opened_case()
    st.title("Cases")
    st.caption(
        f"Cases of team {plain(actor.team or '-')}. A case is known only by its reference: "
        "never type a name."
    )
    notice = state.take_flash()
    if notice:
        st.success(notice, icon=":material/check_circle:")
    if can(actor, Action.CREATE_CASE, Resource(actor.team)):
        _new_case_form(actor)
    _case_table(actor)


# --- the new-case form -----------------------------------------------------------------------


def _new_case_form(actor: Actor) -> None:
    with (
        st.expander("New case", icon=":material/add:"),
        st.form(state.NEW_CASE_FORM, enter_to_submit=True, border=False, width=560),
    ):
        reference = st.text_input(
            "Reference",
            key=_form_key("reference"),
            max_chars=40,
            placeholder="e.g. C-0042",
            help="A pseudonymous reference from your case system: letters, digits, `.`, `_`, "
            "`/` or `-`. Never a name.",
        )
        pathways = cached_instrument().pathways
        labels = {p.id.value: p.label for p in pathways}
        pathway = st.selectbox(
            "Pathway",
            list(labels),
            format_func=lambda v: labels[v],
            key=_form_key("pathway"),
            help="Which pathway the participant was referred on; it decides which areas are "
            "always offered.",
        )
        # The definition's own words beside the choice (a form does not rerun on a change).
        st.caption(
            "  \n".join(
                f"**{plain(p.label)}** — {plain(' '.join(p.description.split()))}" for p in pathways
            )
        )
        team = st.selectbox(
            "Team",
            [actor.team or ""],
            key=_form_key("team"),
            help="A new case belongs to your own team.",
        )
        problem = st.empty()
        if st.form_submit_button("Create case", type="primary", icon=":material/add:"):
            _create(actor, reference, pathway, team or None, problem)


def _create(
    actor: Actor, reference: str, pathway: str | None, team: str | None, problem: Any
) -> None:
    reference = reference.strip()
    if not reference:
        problem.error("Enter a reference for the case, e.g. C-0042.", icon=":material/error:")
        return
    try:
        current_service().create_case(actor, reference, pathway or "", team=team)
    except InstrumentError as error:
        with problem.container():
            for p in error.problems():
                where = "" if p.where in ("$", "") else f"{p.where.capitalize()}: "
                st.error(where + problem_text(p.message, p.fix), icon=":material/error:")
        return
    state.flash(f"Case {reference} created.")
    navigation.go("case", case=reference)


# --- the table -------------------------------------------------------------------------------


def _filters(actor: Actor) -> dict[str, Any]:
    names = can(actor, Action.READ_EVIDENCE, Resource(actor.team))
    columns = st.columns([3, 2, 2, 2, 2] if names else [3, 2, 2, 2])
    text = columns[0].text_input(
        "Search reference", key=_key("text"), placeholder="Part of a reference", max_chars=40
    )
    pathway = columns[1].selectbox(
        "Pathway", [ALL, *(p.value for p in Pathway)], key=_key("pathway")
    )
    status = columns[2].selectbox(
        "Status", [ALL, *(s.value for s in AssessmentStatus)], key=_key("status")
    )
    assessor = ""
    if names:
        assessor = columns[3].text_input(
            "Assessor", key=_key("assessor"), placeholder="Part of a name", max_chars=80
        )
    due = columns[-1].toggle(
        "Review due",
        key=_key("review_due"),
        help="Only cases whose intervention plan is past its review date.",
    )
    return {
        "text": text.strip() or None,
        "pathway": None if pathway == ALL else pathway,
        "status": None if status == ALL else status,
        "assessor": assessor.strip() or None,
        "review_due": bool(due),
    }


def plan_label(row: CaseRow) -> str:
    """Return the case list's plan cell: status, next review, and "review due" when past it."""
    if row.plan_status is None:
        return ""
    if row.plan_status == InterventionStatus.NO_INTERVENTION:
        return "no intervention indicated"
    if row.review_due and row.next_review_on is not None:
        return f"review due (since {row.next_review_on.isoformat()})"
    if row.plan_status == "agreed" and row.next_review_on is not None:
        return f"agreed, review {row.next_review_on.isoformat()}"
    return row.plan_status


def table_columns(rows: list[CaseRow], *, names: bool) -> dict[str, list[Any]]:
    """Return the case list as columns for the table, area ids turned into area names."""
    areas = cached_instrument().area_by_id
    columns: dict[str, list[Any]] = {
        "Reference": [r.reference for r in rows],
        "Pathway": [r.pathway.value for r in rows],
        "Status": [
            f"{r.status.value} (v{r.latest_version})" if r.status else NOT_ASSESSED for r in rows
        ],
        "Last assessed": [r.last_assessed.isoformat() if r.last_assessed else "" for r in rows],
        "Top priority": [
            "no area offered"
            if r.no_area_offered
            else areas[r.top_priority].name
            if r.top_priority in areas
            else (r.top_priority or "")
            for r in rows
        ],
        "Plan": [plan_label(r) for r in rows],
    }
    if names:
        columns["Assessor"] = [r.assessor or "" for r in rows]
    return columns


def _offset(filters: dict[str, Any]) -> int:
    """Return where the shown page starts: at 0 again whenever the search or filters change."""
    seen = tuple(sorted(filters.items(), key=lambda kv: kv[0]))
    if st.session_state.get(_key("seen")) != seen:
        st.session_state[_key("seen")] = seen
        st.session_state[_key("offset")] = 0
    offset = st.session_state.get(_key("offset"), 0)
    return offset if isinstance(offset, int) and offset >= 0 else 0


def _move(offset: int) -> None:
    st.session_state[_key("offset")] = max(0, offset)


def markdown_columns(columns: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Return the columns as escaped Markdown: a table cell renders Markdown, typed text is text."""
    return {
        name: [plain(str(v)) if v != "" else "" for v in values] for name, values in columns.items()
    }


def _page(actor: Actor, filters: dict[str, Any]) -> CasePageView:
    service = current_service()
    page = service.list_cases_page(actor, **filters, offset=_offset(filters), limit=PAGE_SIZE)
    if not page.rows and page.total:  # fewer cases than before: show the last page there is
        last = (page.total - 1) // PAGE_SIZE * PAGE_SIZE
        st.session_state[_key("offset")] = last
        page = service.list_cases_page(actor, **filters, offset=last, limit=PAGE_SIZE)
    return page


def _case_table(actor: Actor) -> None:
    st.subheader("Team cases")
    filters = _filters(actor)
    try:
        page = _page(actor, filters)
    except InstrumentError as error:
        show_error(error)
        return
    rows = list(page.rows)
    if not rows:
        searching = any(v not in (None, False) for v in filters.values())
        st.info(
            "No case matches these filters." if searching else "Your team has no cases yet.",
            icon=":material/info:",
        )
        return
    names = can(actor, Action.READ_EVIDENCE, Resource(actor.team))
    columns = table_columns(rows, names=names)
    order = ["Reference", "Pathway", "Status", "Last assessed", "Assessor", "Top priority", "Plan"]
    shown = "" if page.total == len(rows) else f" Showing {page.first:,} to {page.last:,}."
    st.caption(
        f"{page.total:,} case{'s' if page.total != 1 else ''}.{shown} Open a case with its link "
        "below the table."
    )
    st.table(
        markdown_columns({name: columns[name] for name in order if name in columns}),
        hide_index=True,
    )
    _pager(page)
    _open_links([r.reference for r in rows])


def _pager(page: CasePageView) -> None:
    """Previous and Next buttons when the cases fill more than one page."""
    if not (page.has_previous or page.has_next):
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            "Previous",
            key=_key("previous"),
            icon=":material/chevron_left:",
            disabled=not page.has_previous,
            on_click=_move,
            args=(page.offset - PAGE_SIZE,),
        )
        pages = (page.total + PAGE_SIZE - 1) // PAGE_SIZE
        st.caption(f"Page {page.offset // PAGE_SIZE + 1} of {pages:,}", width="content")
        st.button(
            "Next",
            key=_key("next"),
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=not page.has_next,
            on_click=_move,
            args=(page.offset + PAGE_SIZE,),
        )


def _open_links(references: list[str]) -> None:
    """Links to the cases of this page of the table, in the same tab (keyboard and mouse)."""
    with st.container(horizontal=True, gap="small", key="ifi-case-links"):
        st.markdown("**Open a case:**")
        for reference in references:
            navigation.link("case", plain(reference), case=reference)
