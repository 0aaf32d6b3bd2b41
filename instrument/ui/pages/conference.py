"""The case-conference view: one case per screen, legible from the back of the room.

A team chooses the cases of a conference once (the conference list, kept in this browser session
in the order chosen) and moves through them with one click on "Next case". Each case shows its
header, the ranked priorities and the profile side by side, then every priority with its reasons,
the strengths and the 5P summary; each chart carries the same facts as a table beside it, for
people who cannot see it. Presenter mode hides the sidebar, the app's toolbar and every control
that is not needed to present; the judgement caution stays on screen.

What a role sees is what the service returns: viewers get the redacted formulation (no evidence
text, no names). Every text a person typed (evidence, rationale, narrative) is shown as escaped
Markdown (`plain`); the only markup this page writes is its own constant style sheet.

The downloads (the report as HTML and PDF, the profile chart as PNG and SVG) are built only when
clicked, on the server's download thread with a service of their own; each one is recorded as an
`export` by `Service.export_formulation`, which also asks for the password entered within the
last 5 minutes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, Literal

import altair as alt
import streamlit as st
import vl_convert

from instrument.access import Actor, Role
from instrument.errors import AuthenticationError, InstrumentError
from instrument.formulation import Formulation, Priority
from instrument.profile import (
    FONT,
    Description,
    describe_priorities,
    describe_profile,
    describe_strengths,
    priorities,
    profile,
    strengths,
)
from instrument.report import VL_VERSION, chart_png, chart_spec, chart_svg, render_html, render_pdf
from instrument.service import CaseRow, Service, VersionRow
from instrument.ui import context, form, judgement_view, navigation, state
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
from instrument.vocabulary import AssessmentStatus

Kind = Literal["html", "pdf", "png", "svg"]

DOCUMENTS: dict[Kind, tuple[str, str, str]] = {
    "html": ("Report (HTML)", "report.html", "text/html"),
    "pdf": ("Report (PDF)", "report.pdf", "application/pdf"),
    "png": ("Profile chart (PNG)", "profile.png", "image/png"),
    "svg": ("Profile chart (SVG)", "profile.svg", "image/svg+xml"),
}
"""What the page offers to download: label, file name ending and media type."""


# Constant style sheets (no user text ever goes in them). Projector: larger type everywhere on
# this page. Presenter mode: no sidebar, no toolbar, less margin.
PROJECTOR_CSS = """<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { padding-top: 4rem !important; }
</style>"""
PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] {
  padding-top: 1rem !important; padding-left: 2rem !important; padding-right: 2rem !important;
}
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


def file_name(reference: str, version: int, kind: Kind) -> str:
    """Return a download's file name, e.g. `C-0042-v2-report.pdf` (`/` in a reference made `-`)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", reference)
    return f"{stem}-v{version}-{DOCUMENTS[kind][1]}"


def document_bytes(
    service: Service, actor: Actor, reference: str, version: int, kind: Kind
) -> bytes:
    """Return one document of a version, audited as an `export` (redacted for viewers).

    Raises:
        AuthenticationError: when the password must be entered again.
        NotFoundError: when the actor may not read the case's formulation.
    """
    formulation = service.export_formulation(actor, reference, version)
    if kind == "html":
        return render_html(formulation, redact=formulation.redacted).encode("utf-8")
    if kind == "pdf":
        return render_pdf(formulation, redact=formulation.redacted)
    chart = profile(formulation)
    if kind == "png":
        return chart_png(chart)
    return chart_svg(chart).encode("utf-8")


def document_download(
    actor: Actor, reference: str, version: int, kind: Kind
) -> Callable[[], bytes]:
    """Return the callable that builds a document when its download is clicked.

    It runs on the server's download thread, so it opens a service (a connection) of its own.
    """

    def build() -> bytes:
        with context.open_service() as service:
            return document_bytes(service, actor, reference, version, kind)

    return build


def _password_gate(service: Service, actor: Actor) -> bool:
    """Return True when the password was entered in the last 5 minutes; else ask for it."""
    if not service.needs_password(actor):
        return True
    st.markdown("Enter your password again to download (needed every 5 minutes).")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        password = st.text_input("Password", type="password", key=_key("password"), width=420)
        confirmed = st.button("Confirm password", key=_key("confirm"))
    if confirmed:
        try:
            service.confirm_password(actor, password or "")
        except AuthenticationError as error:
            show_error(error)
            return False
        st.session_state.pop(_key("password"), None)
        st.rerun()
    return False


def _downloads(
    service: Service, actor: Actor, reference: str, version: int, redacted: bool
) -> None:
    st.header("Take the case away", anchor="downloads", divider="gray")
    st.markdown(
        "The report (HTML or PDF) holds every chart, the priorities with their reasons, the "
        "strengths, the 5P narrative and the data quality"
        + (", without evidence text (your role)" if redacted else "")
        + ". Each document is made when you click and recorded in the audit log as an export."
    )
    if not _password_gate(service, actor):
        return
    with st.container(horizontal=True):
        for kind, (label, _, mime) in DOCUMENTS.items():
            st.download_button(
                label,
                data=document_download(actor, reference, version, kind),
                file_name=file_name(reference, version, kind),
                mime=mime,
                key=_key(f"download.{kind}"),
                icon=":material/download:",
                on_click="ignore",
            )


# --- drawing a case ------------------------------------------------------------------------------


def _lines(text: str) -> str:
    """Return typed text as escaped Markdown, keeping its line breaks."""
    return "  \n".join(plain(line) for line in text.splitlines() if line.strip())


def _one_line(text: str) -> str:
    """Return typed text as escaped Markdown on one line (inside a list)."""
    return plain(" ".join(text.split()))


def for_screen(
    chart: Any, *, width: int | None = None, title_chars: int = 56, subtitle_chars: int = 80
) -> Any:
    """Return the chart as this page shows it: the chart's own fonts, its title wrapped.

    Streamlit puts its own font on axis and legend labels unless the chart names one; the
    chart's font is named again here so that the page matches the report. With `width`, the
    plot is narrower and the title wrapped, so that two charts fit side by side on a 1920-pixel
    screen at their own scale (shrinking them to a column would shrink the type or cut the
    titles short). The type keeps its size.
    """
    changes: dict[str, Any] = {} if width is None else {"width": width}
    title = chart.title
    if isinstance(title, dict) and isinstance(title.get("text"), str):
        subtitle = [
            line
            for part in title.get("subtitle", [])
            for line in textwrap.wrap(part, subtitle_chars)
        ]
        # limit 0: no limit (Streamlit otherwise cuts a title 40 pixels short of the width).
        changes["title"] = {
            **title,
            "text": textwrap.wrap(title["text"], title_chars),
            "subtitle": subtitle,
            "limit": 0,
        }
    shown = (chart.properties(**changes) if changes else chart).copy(deep=True)
    config = dict(chart.config) if isinstance(chart.config, dict) else {}
    for part in ("axis", "legend"):
        config[part] = {**config.get(part, {}), "labelFont": FONT, "titleFont": FONT}
    shown.config = config
    for layer in shown.layer if isinstance(shown.layer, list) else ():
        _ink_as_fill(layer)
    return shown


def _ink_as_fill(layer: Any) -> None:
    """Colour a text layer's letters through `fill` when the colour is given as is (no scale).

    Streamlit's Vega-Lite (6.5) then keeps one legend per chart; with the colour channel it
    draws a second, unmerged copy of the legend beside the first.
    """
    mark = layer.mark if isinstance(layer.mark, dict) else {}
    encoding = layer.encoding
    colour = getattr(encoding, "color", alt.Undefined)
    if mark.get("type") == "text" and isinstance(colour, dict) and colour.get("scale", 0) is None:
        encoding.fill = colour
        encoding.color = alt.Undefined


_SVG_WIDTH = re.compile(r'<svg[^>]*? width="([0-9.]+)"')
WIDTHS_KEPT = 32
"""How many measured chart widths a browser session keeps (a few per case of the conference)."""


def natural_width(chart: Any) -> int:
    """Return the chart's width in pixels as drawn at its own scale (titles and labels included).

    Measured on the chart's SVG (vl-convert, about 100 ms), so that the page can give each chart
    exactly its room and let a row of charts wrap when the screen is narrow. The widths are kept
    in this browser session, keyed by a hash of the spec: nothing of a case stays at module level.
    """
    spec = chart_spec(chart)
    spec["config"] = {**spec.get("config", {}), "aria": False}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    widths = st.session_state.setdefault(_key("widths"), {})
    if digest not in widths:
        if len(widths) >= WIDTHS_KEPT:
            widths.clear()
        svg = vl_convert.vegalite_to_svg(spec, vl_version=VL_VERSION)
        match = _SVG_WIDTH.search(svg)
        widths[digest] = math.ceil(float(match.group(1))) if match else 800
    return int(widths[digest])


def _chart(chart: Any, description: Description) -> None:
    """Draw a chart at its own size and theme."""
    st.altair_chart(
        chart,
        theme=None,
        width=natural_width(chart),
        alt=" ".join(description.sentences),
    )


def _table(description: Description) -> None:
    """Show a chart's facts as a table, for people who cannot see the chart."""
    with st.expander(f"{description.title}: as a table", icon=":material/table:"):
        columns = {
            name: [row[i] for row in description.rows] for i, name in enumerate(description.columns)
        }
        st.table(columns, hide_index=True)


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
        _chart(for_screen(strengths(formulation)), describe_strengths(formulation))
        _table(describe_strengths(formulation))
    with right:
        st.header("5P summary", anchor="five-p", divider="gray")
        for section in formulation.five_p:
            st.markdown(f"**{FIVE_P_TITLES[section.heading]}.** {plain(section.summary)}")
            if section.narrative:
                st.markdown(f"*Assessor's narrative:*  \n{_lines(section.narrative)}")


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
    with st.container(horizontal=True, wrap=True, gap="medium"):
        _chart(for_screen(priorities(formulation), width=340), ranked)
        _chart(for_screen(profile(formulation), width=400), counted)
    with st.container(horizontal=True, wrap=True, gap="medium"):
        _table(ranked)
        _table(counted)
    _priorities(formulation)
    if not judgements_first:
        judgement_view.summary_judgements(formulation)
        judgement_view.scenarios(formulation)
    _strengths_and_five_p(formulation)
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
    if formulation.change is not None:
        st.markdown(
            f"**Since version {formulation.change.previous_version}:** "
            f"{plain(formulation.change.summary)}"
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
    st.markdown(PRESENTER_CSS if presenter else PROJECTOR_CSS, unsafe_allow_html=True)
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
