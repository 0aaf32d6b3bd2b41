"""The case-conference view: one case per screen, legible from the back of the room.

A team chooses the cases of a conference once (the conference list, kept in this browser session
in the order chosen) and moves through them with one click on "Next case". Each case shows its
header, the ranked priorities and the profile side by side (wherever each has 600 px, stacked on
a narrower screen; each chart fits its box), then every priority with its reasons, the strengths
and the 5P summary, every item (the heatmap) and the change across the case's assessments; each
chart carries the same facts as a table beside it, for people who cannot see it. Presenter mode
hides the sidebar, the app's toolbar and every control that is not needed to present, sets the
judgement caution as one slim line (it stays on screen) and draws the chart rows closer, so that
both charts fit above the fold of a 1366 × 768 screen. The assessor's summary judgements and
scenarios (issue 13) come right after the escalation prompt and the focus for supervisors and
psychologists, after the priorities for viewers.

What a role sees is what the service returns: viewers get the redacted formulation (no evidence
text, no names). Every text a person typed (evidence, rationale, narrative) is shown as escaped
Markdown (`plain`); the only markup this page writes is its own constant style sheet.

The downloads (the report as HTML, PDF and Word, the profile chart as PNG and SVG) are built
only when clicked, on the server's download thread with a service of their own; each one is
recorded as an `export` by `Service.export_formulation`, which also asks for the password
entered within the last 5 minutes. The report's sign-off block carries the version's signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import streamlit as st

from instrument.access import Actor, Role
from instrument.errors import InstrumentError
from instrument.formulation import Formulation, Priority
from instrument.plan import progress_rows
from instrument.plan import timeline as plan_timeline
from instrument.profile import (
    describe_heatmap,
    describe_priorities,
    describe_profile,
    describe_strengths,
    heatmap_spec,
    priorities_spec,
    profile_spec,
    strengths_spec,
)
from instrument.profile.plan import (
    describe_progress,
    describe_timeline,
    progress_spec,
    timeline_spec,
)
from instrument.service import CaseRow, Service, VersionRow
from instrument.service.documents import formulation_document
from instrument.ui import charts, form, judgement_view, navigation, state
from instrument.ui.components import (
    BAND_BADGES,
    FIVE_P_TITLES,
    cached_instrument,
    escalation_panel,
    focus_panel,
    plain,
    show_error,
)
from instrument.ui.context import current_actor, current_service, open_case
from instrument.ui.exports import download_button, file_name, password_gate
from instrument.vocabulary import AssessmentStatus

Kind = Literal["html", "pdf", "docx", "png", "svg"]

DOCUMENTS: dict[Kind, tuple[str, str, str]] = {
    "html": ("Report (HTML)", "report.html", "text/html"),
    "pdf": ("Report (PDF)", "report.pdf", "application/pdf"),
    "docx": (
        "Report (Word)",
        "report.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "png": ("Profile chart (PNG)", "profile.png", "image/png"),
    "svg": ("Profile chart (SVG)", "profile.svg", "image/svg+xml"),
}
"""What the page offers to download: label, file name ending and media type."""


# Constant style sheets (no user text ever goes in them). Projector: larger type everywhere on
# this page. Presenter mode: no sidebar, no toolbar, less margin.
CHARTS_CSS = """
[class*="st-key-ifi-conference-chart-"] { flex: 1 1 600px !important; min-width: min(600px, 100%); }
"""
PROJECTOR_CSS = """<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { padding-top: 4rem !important; }
</style>"""
PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] {
  padding-top: 0.5rem !important; padding-left: 2rem !important; padding-right: 2rem !important;
}
.st-key-caution [data-testid="stAlertContainer"] { padding: 0.15rem 0.75rem; }
.st-key-caution p { font-size: 0.62rem; line-height: 1.35; }
.st-key-caution [data-testid="stAlertDynamicIcon"] { font-size: 0.9rem; }
[data-testid="stMain"] h1 { font-size: 1.7rem; padding: 0.25rem 0; }
</style>"""


def _key(name: str) -> str:
    return state.widget_key(state.CONFERENCE, name)


# --- the conference list (in this browser session) -----------------------------------------------


def conference_list() -> list[str]:
    """Return the case references on the conference list, in the order chosen."""
    value = st.session_state.get(_key("list"))
    return [str(r) for r in value] if isinstance(value, list) else []


def set_conference_list(references: Sequence[str]) -> None:
    """Replace the conference list (and what its chooser shows when next drawn)."""
    unique = list(dict.fromkeys(references))
    st.session_state[_key("list")] = unique
    st.session_state[_key("chooser")] = unique


def _adopt_chooser() -> None:
    value = st.session_state.get(_key("chooser"))
    st.session_state[_key("list")] = list(value) if isinstance(value, list) else []


def neighbours(order: Sequence[str], current: str | None) -> tuple[str | None, str | None]:
    """Return the cases before and after `current` on the list (the first is next when off it)."""
    if current is None or current not in order:
        return None, (order[0] if order else None)
    index = list(order).index(current)
    before = order[index - 1] if index > 0 else None
    after = order[index + 1] if index + 1 < len(order) else None
    return before, after


def conference_version(versions: Sequence[VersionRow], wanted: int | None) -> int | None:
    """Return the version to present: the one asked for, else the newest final, else the newest."""
    if wanted is not None:
        return wanted
    finals = [v.version for v in versions if v.status is AssessmentStatus.FINAL]
    if finals:
        return finals[-1]
    return versions[-1].version if versions else None


def _offered(actor: Actor) -> list[CaseRow]:
    """Return the team's assessed cases (read once per browser session: a list is audited)."""
    cached = st.session_state.get(_key("offered"))
    if isinstance(cached, list):
        return cached
    rows = [r for r in current_service().list_cases(actor) if r.latest_version is not None]
    st.session_state[_key("offered")] = rows
    return rows


def _reload_offered() -> None:
    st.session_state.pop(_key("offered"), None)


def _go_to(reference: str) -> None:
    state.select_case(reference)


def _start(references: list[str]) -> None:
    if references:
        state.select_case(references[0])


# --- the downloads -------------------------------------------------------------------------------


def _plan_section(service: Service, actor: Actor, reference: str) -> None:
    """Show the intervention plan: status, sessions by attendance, the two plan pictures."""
    found = service.report_plan(actor, reference)
    if found is None:
        return
    instrument, records = found
    plan = records.latest
    assert plan is not None
    st.subheader("Intervention plan")
    reading = records.state
    counts = ", ".join(
        f"{n} {a.value.replace('-', ' ')}" for a, n in reading.attendance.items() if n
    )
    st.markdown(
        f"Version {plan.plan.version}, {reading.status.value}"
        + (f" ({reading.ending.value})" if reading.ending else "")
        + f" · {len(plan.sessions)} sessions planned · logged: {counts or 'none'}"
        + (f" · next review {reading.next_review_on.isoformat()}" if reading.next_review_on else "")
        + (" · **review due**" if reading.review_due else "")
    )
    rows = plan_timeline(instrument, records.delivery)
    progress_ = progress_rows(instrument, records.reviews)
    with st.container(horizontal=True, wrap=True, gap="medium"):
        with st.container():
            charts.show_chart(
                timeline_spec(rows, reference),
                describe_timeline(rows),
                key=_key("plan-timeline"),
                width="content",
            )
        with st.container():
            charts.show_chart(
                progress_spec(progress_, reference),
                describe_progress(progress_),
                key=_key("plan-progress"),
                width="content",
            )


def _downloads(
    service: Service, actor: Actor, reference: str, version: int, redacted: bool
) -> None:
    st.header("Take the case away", anchor="downloads", divider="gray")
    st.markdown(
        "The report (HTML, PDF or Word) holds every chart, the priorities with their reasons, the "
        "strengths, the 5P narrative and the data quality"
        + (", without evidence text (your role)" if redacted else "")
        + ". Each document is made when you click and recorded in the audit log as an export."
    )
    if not password_gate(
        service,
        actor,
        purpose="download",
        password_key=_key("password"),
        confirm_key=_key("confirm"),
    ):
        return
    with st.container(horizontal=True):
        for kind, (label, ending, mime) in DOCUMENTS.items():
            download_button(
                label,
                _document(actor, reference, version, kind),
                file_name=file_name(reference, f"-v{version}-{ending}"),
                mime=mime,
                key=_key(f"download.{kind}"),
            )


def _document(actor: Actor, reference: str, version: int, kind: Kind) -> Callable[[Service], bytes]:
    def build(service: Service) -> bytes:
        return formulation_document(service, actor, reference, version, kind)

    return build


# --- drawing a case ------------------------------------------------------------------------------


def _lines(text: str) -> str:
    """Return typed text as escaped Markdown, keeping its line breaks."""
    return "  \n".join(plain(line) for line in text.splitlines() if line.strip())


def _one_line(text: str) -> str:
    """Return typed text as escaped Markdown on one line (inside a list)."""
    return plain(" ".join(text.split()))


def header_line(formulation: Formulation, version: int) -> str:
    """Return the case's header as one line of Markdown: pathway, version, status, date, assessors.

    Viewers' formulations carry no assessors, so no name appears for them.
    """
    header = formulation.header
    status = "final" if header.status is AssessmentStatus.FINAL else "draft"
    bits = [
        f"**Pathway** {header.pathway.value}",
        f"**Version** {version} ({status})",
        f"**Assessed** {header.assessed_on.isoformat()}" if header.assessed_on else "no date yet",
    ]
    if header.assessors:
        bits.append("**Assessors** " + ", ".join(plain(a.name) for a in header.assessors))
    return " · ".join(bits)


def _priority(priority: Priority, *, redacted: bool) -> None:
    with st.container(border=True):
        band = form.BAND_LABELS[priority.band]
        st.subheader(
            f"{priority.rank}. {plain(priority.name)} "
            f":{BAND_BADGES[priority.band]}-background[:material/flag: {band}]",
            anchor=False,
        )
        if priority.override is not None:
            st.markdown(
                ":violet-badge[:material/edit: Band set by the assessor] the rule gave "
                f"{form.BAND_LABELS[priority.computed_band].lower()}.  \n"
                f"**Rationale:** {_one_line(priority.override.rationale)}"
            )
        if not priority.offered:
            st.markdown(f":gray-badge[Not offered] {plain(priority.offered_reason)}")
        st.markdown(plain(priority.summary))
        if not priority.contributors:
            st.markdown("No rated item contributes to this area.")
        lines = []
        for item in priority.contributors:
            lines.append(
                f"- **{item.item}** {plain(item.name)}: {item.presence.value}, "
                f"{item.relevance.value} relevance"
            )
            if not redacted and item.evidence:
                sources = ", ".join(s.value for s in item.sources) or "no source recorded"
                lines.append(f"  - *Evidence ({sources}):* {_one_line(item.evidence)}")
        if lines:
            st.markdown("\n".join(lines))
        if priority.omitted:
            st.markdown(f"Omitted or not rated: {', '.join(priority.omitted)}")


def _priorities(formulation: Formulation) -> None:
    st.header("Priorities and their reasons", anchor="reasons", divider="gray")
    if formulation.redacted:
        st.markdown("*Evidence text is not shown for your role.*")
    ranked = sorted(formulation.priorities, key=lambda p: p.rank)
    for start in range(0, len(ranked), 2):
        columns = st.columns(2, gap="medium")
        for column, priority in zip(columns, ranked[start : start + 2], strict=False):
            with column:
                _priority(priority, redacted=formulation.redacted)


def _strengths_and_five_p(formulation: Formulation) -> None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.header("Strengths to build on", anchor="strengths", divider="gray")
        described = describe_strengths(formulation)
        charts.show_chart(
            strengths_spec(formulation), described, key=_key("strengths"), turned=True
        )
        charts.facts_table(described)
    with right:
        st.header("5P summary", anchor="five-p", divider="gray")
        for section in formulation.five_p:
            st.markdown(f"**{FIVE_P_TITLES[section.heading]}.** {plain(section.summary)}")
            if section.narrative:
                st.markdown(f"*Assessor's narrative:*  \n{_lines(section.narrative)}")


def _every_item(formulation: Formulation) -> None:
    st.header("Every item", anchor="items", divider="gray")
    described = describe_heatmap(formulation)
    charts.show_chart(heatmap_spec(formulation), described, key=_key("heatmap"), width="content")
    charts.facts_table(described)


def _change(
    service: Service,
    actor: Actor,
    reference: str,
    versions: Sequence[VersionRow],
    formulation: Formulation,
) -> None:
    st.header("Change across assessments", anchor="change", divider="gray")
    if formulation.change is not None:
        st.markdown(plain(formulation.change.summary))
    version = formulation.header.assessment_version
    earlier = charts.finals_before(service, actor, reference, versions, version)
    if not charts.show_change(charts.over_time(formulation, earlier), key=_key("change")):
        st.markdown("This is the case's first assessment: there is nothing to compare with.")


def _case(actor: Actor, reference: str, presenter: bool) -> None:
    service = current_service()
    try:
        already = state.case_already_opened(reference)
        view = open_case(actor, reference)
        versions = list(view.versions) if not already else service.case_history(actor, reference)
        version = conference_version(versions, state.selected_version())
        formulation = (
            service.formulation(actor, reference, version) if version is not None else None
        )
    except InstrumentError as error:
        _top(reference, None, presenter)
        show_error(error)
        return
    _top(reference, formulation, presenter, version)
    if formulation is None or version is None:
        st.info("This case has no assessment yet: nothing to present.", icon=":material/info:")
        return
    # The escalation prompt and the focus come before anything else about the case (1.1).
    escalation_panel(formulation)
    focus_panel(formulation)
    # Supervisors and psychologists start from the assessor's own judgements and scenarios.
    judgements_first = actor.role in (Role.SUPERVISOR, Role.PSYCHOLOGIST)
    if judgements_first:
        judgement_view.summary_judgements(formulation)
        judgement_view.scenarios(formulation)
    ranked, counted = describe_priorities(formulation), describe_profile(formulation)
    # Side by side wherever each can have 600 px (1920 with the sidebar, 1366 in presenter
    # mode), one above the other on a narrower screen; each chart fits its box (CHARTS_CSS).
    # Presenter mode draws the rows closer, so that both charts fit under the header on a
    # 768-pixel-high screen.
    scale = 0.72 if presenter else 1.0
    with st.container(horizontal=True, wrap=True, gap="medium"):
        with st.container(key="ifi-conference-chart-priorities"):
            charts.show_chart(
                priorities_spec(formulation), ranked, key=_key("priorities"), height_scale=scale
            )
            charts.facts_table(ranked)
        with st.container(key="ifi-conference-chart-profile"):
            charts.show_chart(
                profile_spec(formulation), counted, key=_key("profile"), height_scale=scale
            )
            charts.facts_table(counted)
    _priorities(formulation)
    if not judgements_first:
        judgement_view.summary_judgements(formulation)
        judgement_view.scenarios(formulation)
    _strengths_and_five_p(formulation)
    _every_item(formulation)
    _plan_section(service, actor, reference)
    try:
        _change(service, actor, reference, versions, formulation)
    except InstrumentError as error:
        show_error(error)
    if not presenter:
        _downloads(service, actor, reference, version, formulation.redacted)


def _top(
    reference: str,
    formulation: Formulation | None,
    presenter: bool,
    version: int | None = None,
) -> None:
    """Draw the case's title and header beside the conference controls."""
    order = conference_list()
    before, after = neighbours(order, reference)
    title, controls = st.columns([3, 2], vertical_alignment="center")
    with title:
        st.title(f"Case {plain(reference)}", anchor=False)
        if formulation is not None and version is not None:
            st.markdown(header_line(formulation, version))
    with controls, st.container(horizontal=True, horizontal_alignment="right"):
        if reference in order:
            st.markdown(f"Case {order.index(reference) + 1} of {len(order)}")
        else:
            st.button(
                "Add to the list",
                key=_key("add"),
                icon=":material/playlist_add:",
                on_click=set_conference_list,
                args=([*order, reference],),
            )
        st.button(
            "Previous case",
            key=_key("previous"),
            icon=":material/arrow_back:",
            disabled=before is None,
            on_click=_go_to,
            args=(before or "",),
        )
        st.button(
            "Next case",
            key=_key("next"),
            icon=":material/arrow_forward:",
            type="primary",
            disabled=after is None,
            on_click=_go_to,
            args=(after or "",),
        )
        st.toggle(
            "Presenter mode",
            key=_key("presenter"),
            help="Hides the sidebar, the toolbar and every control not needed to present.",
        )
    if formulation is None:
        return
    if formulation.notice.strip() != cached_instrument().notice.strip():
        st.info(plain(formulation.notice), icon=":material/balance:")
    if formulation.header.status is not AssessmentStatus.FINAL:
        st.warning(
            "Draft: this formulation changes as the ratings change and is not signed.",
            icon=":material/edit_note:",
        )
    if formulation.data_quality.provisional:
        st.warning(
            "Provisional: too many items are omitted or not rated to rely on this formulation.",
            icon=":material/warning:",
        )


# --- the list editor -----------------------------------------------------------------------------


def _list_editor(actor: Actor, *, starting: bool) -> None:
    """Let the team choose the cases of the conference, in order (and start it)."""
    try:
        offered = _offered(actor)
    except InstrumentError as error:
        show_error(error)
        return
    rows = {r.reference: r for r in offered}
    chosen = conference_list()
    # The chooser offers assessed cases only; the list may hold another (opened from its page).
    st.session_state[_key("chooser")] = [r for r in chosen if r in rows]

    def label(ref: str) -> str:
        row = rows.get(ref)
        if row is None or row.status is None:
            return ref
        return f"{ref} · {row.pathway.value} · {row.status.value} v{row.latest_version}"

    st.multiselect(
        "Cases to present, in the order chosen",
        list(rows),
        key=_key("chooser"),
        on_change=_adopt_chooser,
        format_func=label,
        placeholder="Choose the cases for this conference",
    )
    with st.container(horizontal=True):
        st.button(
            "Add every assessed case",
            key=_key("all"),
            on_click=set_conference_list,
            args=([*chosen, *rows],),
            icon=":material/playlist_add:",
        )
        st.button(
            "Empty the list",
            key=_key("clear"),
            on_click=set_conference_list,
            args=([],),
            icon=":material/playlist_remove:",
            disabled=not chosen,
        )
        st.button(
            "Reload the team's cases",
            key=_key("reload"),
            on_click=_reload_offered,
            icon=":material/refresh:",
        )
        if starting:
            st.button(
                "Start the conference",
                key=_key("start"),
                on_click=_start,
                args=(chosen,),
                type="primary",
                icon=":material/play_arrow:",
                disabled=not chosen,
            )
    if not offered:
        st.info("Your team has no assessed case yet.", icon=":material/info:")


# --- the page ------------------------------------------------------------------------------------


def render() -> None:
    """Show the case selected in the URL for a case conference, or the conference list."""
    actor = current_actor()
    if actor is None:
        return
    presenter = bool(st.session_state.get(_key("presenter"), False))
    # Constant style sheets only: no user text ever goes into markup.
    style = PRESENTER_CSS if presenter else PROJECTOR_CSS
    st.markdown(style.replace("</style>", CHARTS_CSS + "</style>"), unsafe_allow_html=True)
    reference = state.selected_case()
    if reference is None:
        st.title("Case conference", anchor=False)
        st.markdown(
            "Choose the cases to discuss, in order, then start: each case fills the screen, and "
            "**Next case** moves on with one click. Presenter mode hides everything else."
        )
        _list_editor(actor, starting=True)
        return
    if not conference_list():
        set_conference_list([reference])
    _case(actor, reference, presenter)
    if not presenter:
        st.header("Conference list", anchor="conference-list", divider="gray")
        _list_editor(actor, starting=False)
        navigation.link("case", "Case history", case=reference, icon=":material/folder_open:")
