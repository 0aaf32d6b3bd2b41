"""The formulation page: ranked priorities with their reasons, the review, sign-off and export.

One screen at the top: the escalation prompt first when the formulation raises it, then the
priorities chart beside "Where to start" (the formulation's focus), then the assessor's summary
judgements when the version records a judgement (issue 13). Below, each area is a card that
opens on demand (only an open card runs and is drawn), and the rest is in tabs bound to the URL
(`&part=...`): 5P, scenarios and judgement (scenarios, person-specific factors, Good Lives,
limitations and the bias check), engagement and responsivity, data quality, change (its chart),
sign-off and export; only the open tab runs. With a judgement section the 5P narratives are
written on the assessment form's Judgement tab, not here.

What a role sees is what the service returns: viewers get a redacted formulation (no evidence, no
names). Psychologists review a draft's formulation here: override a band with a written
rationale, and write the 5P narrative, each heading saved when the box is left, with the same
stale-revision check as the assessment form. Supervisors countersign a final version here. The
formulation JSON and the whole case are built only when the download is clicked.

Every piece of text a person typed (evidence, rationale, narrative) is shown as text: escaped
Markdown (`plain`) or `st.text`, never as markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from instrument.access import Action, Actor, may_ever
from instrument.errors import ConflictError, DocumentError, InstrumentError
from instrument.formulation import Formulation, Priority
from instrument.profile import describe_priorities, priorities_spec
from instrument.service import Draft, Service, VersionRow
from instrument.service.documents import FORMATS, case_document, formulation_document
from instrument.ui import charts, form, judgement_view, navigation, state
from instrument.ui.components import (
    BAND_BADGES,
    FIVE_P_TITLES,
    conflict_panel,
    escalation_panel,
    plain,
    show_error,
)
from instrument.ui.context import current_actor, current_service, open_case
from instrument.ui.exports import download_button, file_name, password_gate
from instrument.vocabulary import AssessmentStatus, Band, FiveP


@dataclass(frozen=True)
class Target:
    """The version this page shows: case reference and version."""

    reference: str
    version: int

    def key(self, *parts: object) -> str:
        """Return a session-state key scoped to this version."""
        name = ".".join(str(p) for p in (self.reference, self.version, *parts))
        return state.widget_key(state.FORMULATION_REVIEW, name)


# --- the draft behind the review -----------------------------------------------------------------


def _draft(target: Target) -> Draft | None:
    value = st.session_state.get(target.key("draft"))
    return value if isinstance(value, Draft) else None


def _sync(target: Target, draft: Draft) -> None:
    """Adopt the stored draft; refill the narrative boxes when the revision is new here."""
    known = _draft(target)
    pending = st.session_state.get(target.key("conflict"))
    if (known is None or known.revision != draft.revision) and pending is None:
        for heading in FiveP:
            text = draft.review.narratives.get(heading, "")
            st.session_state[target.key("narrative", heading.value)] = text
    if pending is None or known is None:
        st.session_state[target.key("draft")] = draft


def _on_narrative(target: Target, heading: FiveP) -> None:
    actor = current_actor()
    draft = _draft(target)
    if actor is None or draft is None:
        return
    service = current_service()
    text = st.session_state.get(target.key("narrative", heading.value)) or ""
    try:
        saved = service.save_narrative(
            actor, target.reference, target.version, heading, text, base_revision=draft.revision
        )
    except ConflictError as error:
        stored = service.get_assessment(actor, target.reference, target.version)
        st.session_state[target.key("conflict")] = (heading, text, stored, error.message)
        return
    except InstrumentError as error:
        st.session_state[target.key("error", heading.value)] = error
        return
    st.session_state.pop(target.key("error", heading.value), None)
    st.session_state[target.key("draft")] = saved
    st.session_state[target.key("saved", heading.value)] = saved.saved_at


def _resolve(target: Target, keep_mine: bool) -> None:
    pending = st.session_state.pop(target.key("conflict"), None)
    if pending is None:
        return
    heading, text, stored, _ = pending
    st.session_state[target.key("draft")] = stored
    if keep_mine:
        st.session_state[target.key("narrative", heading.value)] = text
        _on_narrative(target, heading)
    else:
        st.session_state[target.key("narrative", heading.value)] = stored.review.narratives.get(
            heading, ""
        )


def _narrative_conflict(target: Target, heading: FiveP) -> None:
    pending = st.session_state.get(target.key("conflict"))
    if pending is None or pending[0] is not heading:
        return
    _, mine, stored, message = pending
    conflict_panel(
        message,
        [stored.review.narratives.get(heading, "") or form.EMPTY],
        [mine or form.EMPTY],
        keep_theirs=lambda: _resolve(target, False),
        keep_mine=lambda: _resolve(target, True),
        key=target.key("conflict"),
    )


# --- overrides -----------------------------------------------------------------------------------


def _save_override(target: Target, area: str) -> None:
    actor = current_actor()
    draft = _draft(target)
    if actor is None or draft is None:
        return
    band = st.session_state.get(target.key("override", area, "band"))
    rationale = st.session_state.get(target.key("override", area, "rationale")) or ""
    withdraw = bool(st.session_state.get(target.key("override", area, "withdraw")))
    problem_key = target.key("override", area, "problem")
    refused = form.rationale_problem(rationale)
    if band is None:
        refused = "Choose the band that should count."
    if refused or band is None:
        st.session_state[problem_key] = refused
        return
    try:
        saved = current_service().set_override(
            actor,
            target.reference,
            target.version,
            area,
            band,
            rationale,
            base_revision=draft.revision,
            withdraw=withdraw,
        )
    except DocumentError as error:
        st.session_state[problem_key] = "; ".join(
            f"{p.message} — {p.fix}" for p in error.problems()
        )
        return
    except InstrumentError as error:
        st.session_state[problem_key] = (
            f"{error.message} — {error.fix}" if error.fix else error.message
        )
        return
    st.session_state.pop(problem_key, None)
    st.session_state[target.key("draft")] = saved
    st.session_state[target.key("override", area, "open")] = False


def _clear_override(target: Target, area: str) -> None:
    actor = current_actor()
    draft = _draft(target)
    if actor is None or draft is None:
        return
    problem_key = target.key("override", area, "problem")
    try:
        saved = current_service().clear_override(
            actor, target.reference, target.version, area, base_revision=draft.revision
        )
    except InstrumentError as error:
        st.session_state[problem_key] = error.message
        return
    st.session_state.pop(problem_key, None)
    st.session_state[target.key("draft")] = saved


def _override_editor(target: Target, priority: Priority, *, can_withdraw: bool = False) -> None:
    area = priority.area
    label = "Change the override" if priority.override else "Override the band"
    # Keyed per area (the cards move when an override changes the ranking) and drawn only when
    # on; saving turns it off. A toggle, since the card around it is an expander already.
    if not st.toggle(label, key=target.key("override", area, "open")):
        return
    with st.container(border=True):
        bands = [b.value for b in Band]
        band_key = target.key("override", area, "band")
        if band_key not in st.session_state:
            st.session_state[band_key] = priority.band.value
        st.selectbox(
            "Band that should count",
            bands,
            format_func=lambda v: form.BAND_LABELS[Band(v)],
            key=band_key,
        )
        st.text_area(
            "Rationale (at least 20 characters)",
            key=target.key("override", area, "rationale"),
            max_chars=20_000,
            height=90,
            placeholder="Why your judgement departs from the computed band",
        )
        if can_withdraw:
            st.checkbox(
                "Withdraw this area from the offer (even where the pathway always offers it)",
                key=target.key("override", area, "withdraw"),
                value=bool(priority.override and priority.override.withdrawn),
            )
        problem = st.session_state.get(target.key("override", area, "problem"))
        if problem:
            st.error(plain(str(problem)), icon=":material/error:")
        left, right = st.columns(2)
        left.button(
            "Save the override",
            key=target.key("override", area, "save"),
            on_click=_save_override,
            args=(target, area),
            type="primary",
        )
        if priority.override:
            right.button(
                "Remove the override",
                key=target.key("override", area, "clear"),
                on_click=_clear_override,
                args=(target, area),
            )


# --- drawing -------------------------------------------------------------------------------------


def card_label(priority: Priority) -> str:
    """Return an area card's one-line label: rank, name, band, score, override, offered.

    A 1.1 priority (it carries `what_would_change`) shows no decimal score: people see the band
    and, inside the card, a bar; the JSON keeps the exact number.
    """
    bits = [
        f"**{priority.rank}. {plain(priority.name)}**",
        form.BAND_LABELS[priority.band],
    ]
    if priority.what_would_change is None:
        bits.append(f"score {priority.score:.2f}")
    if priority.override is not None:
        bits.append("band set by the assessor")
    if not priority.offered:
        bits.append("not offered")
    return " · ".join(bits)


def _priority(target: Target, priority: Priority, *, redacted: bool, reviewing: bool) -> None:
    # A card that opens on demand: only an open card runs and is drawn.
    card = st.expander(
        card_label(priority),
        icon=":material/flag:",
        key=target.key("card", priority.area),
        on_change="rerun",
    )
    if not card.open:
        return
    with card:
        _priority_body(target, priority, redacted=redacted, reviewing=reviewing)


def _priority_body(target: Target, priority: Priority, *, redacted: bool, reviewing: bool) -> None:
    v11 = priority.what_would_change is not None
    st.badge(
        form.BAND_LABELS[priority.band],
        color=BAND_BADGES[priority.band],
        icon=":material/flag:",
    )
    if v11:
        # People see the band and a bar; the exact score stays in the JSON.
        st.progress(
            min(max(priority.score, 0.0), 1.0),
            text="How strongly the ratings point to work here (not a risk score)",
        )
        st.caption(
            f"Coverage {form.percent(priority.coverage)} · {plain(priority.offered_reason)}",
            help=form.SCORE_NOTE,
        )
    else:
        st.caption(
            f"Score {priority.score:.2f} (not a risk score) · coverage "
            f"{form.percent(priority.coverage)} · {plain(priority.offered_reason)}",
            help=form.SCORE_NOTE,
        )
    if priority.override is not None:
        override = priority.override
        st.markdown(
            f"**Band set by the assessor:** {form.BAND_LABELS[override.band]} (the rule "
            f"computed {form.BAND_LABELS[priority.computed_band]}) · by "
            f"{plain(override.by)}, {override.at:%Y-%m-%d %H:%M} UTC"
        )
        st.markdown(f"**Rationale:** {plain(override.rationale)}")
    st.write(plain(priority.summary))
    left, right = st.columns(2)
    with left:
        st.markdown("**Contributing items**")
        if not priority.contributors:
            st.caption("No rated item contributes to this area.")
        for item in priority.contributors:
            relevance = f", {item.relevance.value} relevance"
            share = "" if v11 else f" · contributes {item.contribution:.2f}"
            st.markdown(
                f"**{item.item}** {plain(item.name)} — {item.presence.value}{relevance}{share}"
            )
            if redacted:
                continue
            sources = ", ".join(s.value for s in item.sources) or "no source recorded"
            when = f", {item.timeframe.value}" if item.timeframe else ""
            st.caption(f"Evidence ({sources}{when}): {plain(item.evidence or '(none)')}")
        if priority.omitted:
            st.caption(f"Omitted or not rated: {', '.join(priority.omitted)}")
        if redacted:
            st.caption("Evidence is not shown for your role.")
    with right:
        st.markdown("**Strengths to build on**")
        if not priority.strengths:
            st.caption("None rated present for this area.")
        for strength in priority.strengths:
            rated = strength.presence.value + (
                f", {strength.relevance.value} relevance" if strength.relevance else ""
            )
            st.markdown(f"- **{strength.item}** {plain(strength.name)} ({rated})")
        st.markdown("**Suggested sessions**")
        ids = priority.session_ids or []
        st.markdown(
            "\n".join(
                f"- {plain(topic)}" + (f" (`{ids[index]}`)" if index < len(ids) else "")
                for index, topic in enumerate(priority.sessions)
            )
        )
    _sensitivity(priority)
    if reviewing:
        _override_editor(target, priority, can_withdraw=v11)


def _sensitivity(priority: Priority) -> None:
    """Show what would change this band, and the bands its omitted items could give (1.1)."""
    span = priority.band_range
    if span is not None and span.lowest is not span.highest:
        st.caption(
            f"Omitted or unrated items could put this area anywhere from "
            f"{form.BAND_LABELS[span.lowest]} to {form.BAND_LABELS[span.highest]}."
        )
    if priority.what_would_change is not None:
        st.markdown("**What would change this band**")
        st.write(plain(priority.what_would_change.summary))


# --- the top of the page: escalation, priorities chart, focus ----------------------------------


def _escalation(formulation: Formulation) -> None:
    """Show the escalation prompt first (1.1): raised in red, otherwise why it is not raised.

    A prompt for the assessor's judgement and the local safeguarding or referral procedure,
    never a score. A formulation without it (instrument 1.0) draws nothing here.
    """
    escalation_panel(formulation)


def focus_areas(formulation: Formulation) -> list[Priority]:
    """Return the areas where work should start: the formulation's `focus` when it has one.

    Instrument 1.1 names a `focus` (at most three offered areas, adjustable by the assessor);
    before it, the first offered areas by rank, at most three, stand in for it.
    """
    by_area = {p.area: p for p in formulation.priorities}
    if formulation.focus is not None:
        return [by_area[a] for a in formulation.focus.areas if a in by_area]
    offered = sorted((p for p in formulation.priorities if p.offered), key=lambda p: p.rank)
    return offered[:3]


def _focus(formulation: Formulation) -> None:
    st.subheader("Where to start", anchor="focus")
    areas = focus_areas(formulation)
    focus = formulation.focus
    if focus is not None:
        text = plain(focus.summary)
        if focus.adjusted and focus.rationale:
            text += f" Reason: {plain(focus.rationale)}"
        st.caption(text)
    if not areas:
        st.markdown("No area offered: nothing stands out from the ratings.")
    for priority in areas:
        band = form.BAND_LABELS[priority.band]
        st.markdown(
            f"**{priority.rank}. {plain(priority.name)}** "
            f":{BAND_BADGES[priority.band]}-badge[:material/flag: {band}]  \n"
            f"{plain(priority.summary)}"
        )
    quality = formulation.data_quality
    if quality.provisional:
        st.warning(
            "Provisional: too many items are omitted or not rated to rely on this formulation.",
            icon=":material/warning:",
        )
    elif quality.warnings:
        st.caption(
            f"{len(quality.warnings)} data-quality warning"
            f"{'s' if len(quality.warnings) != 1 else ''}: see Data quality below."
        )


def _at_a_glance(
    formulation: Formulation, target: Target | None = None, *, reviewing: bool = False
) -> None:
    chart_column, focus_column = st.columns([2, 1], gap="medium")
    with chart_column:
        described = describe_priorities(formulation)
        charts.show_chart(priorities_spec(formulation), described, key="ifi-formulation-priorities")
        charts.facts_table(described)
    with focus_column:
        _focus(formulation)
        if reviewing and target is not None and formulation.focus is not None:
            _focus_editor(target, formulation)


@st.fragment
def _five_p(target: Target, formulation: Formulation, *, reviewing: bool) -> None:
    # A fragment: leaving a narrative box saves it and reruns only this section.
    if reviewing and formulation.judgement is not None:
        # With the assessor's judgement, the 5P is written on the assessment form.
        reviewing = False
        st.caption("The narratives are written on the assessment form, in its Judgement tab.")
    if reviewing:
        st.caption(
            "Write your own narrative under each heading; it is saved when you leave the box."
        )
    judgement_view.presenting_problem(formulation.judgement)
    for section in formulation.five_p:
        st.subheader(FIVE_P_TITLES[section.heading])
        st.write(plain(section.summary))
        if section.not_applicable:
            st.markdown("**Not applicable**")
            st.text(section.not_applicable)
        if reviewing:
            st.text_area(
                f"Your narrative: {FIVE_P_TITLES[section.heading].lower()}",
                key=target.key("narrative", section.heading.value),
                on_change=_on_narrative,
                args=(target, section.heading),
                max_chars=20_000,
                height=110,
            )
            _narrative_conflict(target, section.heading)
            error = st.session_state.get(target.key("error", section.heading.value))
            if isinstance(error, InstrumentError):
                show_error(error)
            at = st.session_state.get(target.key("saved", section.heading.value))
            if isinstance(at, dt.datetime):
                st.caption(f":material/cloud_done: {form.saved_label(at)}")
        elif section.narrative:
            st.markdown("**Assessor's narrative**")
            st.text(section.narrative)


def _summaries(formulation: Formulation) -> None:
    st.subheader("Engagement, intent and capability", anchor="spj")
    for spj in formulation.spj:
        st.markdown(f"- {plain(spj.summary)}")
    st.subheader("Risk management notes", anchor="risk-management")
    if formulation.risk_management:
        st.markdown("\n".join(f"- {plain(note)}" for note in formulation.risk_management))
    else:
        st.caption("No capability item is rated present.")
    st.subheader("Responsivity: adaptations to delivery", anchor="responsivity")
    applying = [r for r in formulation.responsivity if r.presence and r.presence.value == "yes"]
    if not applying:
        st.caption("No responsivity consideration is recorded as applying.")
    for entry in applying:
        st.markdown(f"**{entry.id} · {plain(entry.name)}**")
        if entry.note:
            st.text(f"Note: {entry.note}")
        if entry.adaptation:
            st.text(f"Adaptation: {entry.adaptation}")
        if entry.suggested:
            st.caption("Suggested: " + plain(form.sentences(entry.suggested)))


def _data_quality(formulation: Formulation) -> None:
    quality = formulation.data_quality
    for warning in quality.warnings:
        st.warning(plain(warning), icon=":material/warning:")
    st.caption(
        f"Omitted or not rated: {form.percent(quality.omitted_share)} of the items"
        + (f" · omitted: {', '.join(quality.omitted)}" if quality.omitted else "")
        + (f" · not rated: {', '.join(quality.unrated)}" if quality.unrated else "")
        + (
            f" · present without evidence: {', '.join(quality.missing_evidence)}"
            if quality.missing_evidence
            else ""
        )
    )


def _change(
    service: Service,
    actor: Actor,
    target: Target,
    formulation: Formulation,
    versions: list[VersionRow],
) -> None:
    """Show the change chart across the case's versions, the sentence and the area table."""
    change = formulation.change
    if change is not None:
        st.write(plain(change.summary))
    earlier = charts.finals_before(service, actor, target.reference, versions, target.version)
    if not charts.show_change(charts.over_time(formulation, earlier), key="ifi-formulation-change"):
        st.caption("There is no earlier finalised assessment of this case to compare with.")


# --- sign-off and export -------------------------------------------------------------------------


def _signatures(target: Target, version: VersionRow | None) -> None:
    st.subheader("Sign-off", anchor="sign-off")
    if version is None or version.status is AssessmentStatus.DRAFT:
        st.info(
            "This formulation belongs to a draft: it changes as the ratings change. Review the "
            "bands and write the narrative here, then finalise the assessment to sign and "
            "freeze both.",
            icon=":material/edit_note:",
        )
        if version is not None:
            st.page_link(
                navigation.page("assessment"),
                label="Finalise on the assessment page",
                icon=":material/task_alt:",
                query_params={
                    **state.case_params(target.reference, version.version),
                    state.ASSESSMENT_SECTION: form.FINALISE_SECTION,
                },
            )
        return
    for signature in version.signatures:
        icon = ":material/move_to_inbox:" if signature.imported else ":material/verified:"
        text = signature.describe()
        st.markdown(f"{icon} {plain(text[:1].upper() + text[1:])}")
    if not any(s.meaning == "countersigned by" for s in version.signatures):
        st.caption("Not countersigned yet: a supervisor of the team countersigns on this page.")


def _password_gate(service: Service, actor: Actor, target: Target, purpose: str) -> bool:
    return password_gate(
        service,
        actor,
        purpose=purpose,
        password_key=target.key("password", purpose),
        confirm_key=target.key("confirm", purpose),
        width=320,
    )


def _countersign(service: Service, actor: Actor, target: Target, version: VersionRow) -> None:
    signed = any(
        s.meaning == "countersigned by" and s.by == actor.username for s in version.signatures
    )
    if signed:
        st.success("You have countersigned this version.", icon=":material/verified:")
        return
    st.write(
        "Countersigning records that you, as supervisor, have reviewed this finalised "
        "formulation. It is stored as 'countersigned by' with the time (UTC)."
    )
    if not _password_gate(service, actor, target, "countersign"):
        return
    if st.button("Countersign", key=target.key("countersign"), type="primary"):
        try:
            service.countersign(actor, target.reference, target.version)
        except InstrumentError as error:
            show_error(error)
            return
        state.flash(f"Version {target.version} of {target.reference} is countersigned.")
        st.rerun()


def _export(service: Service, actor: Actor, target: Target) -> None:
    st.subheader("Export", anchor="export")
    whole_case = may_ever(actor, Action.EXPORT_CASE)
    st.caption(
        "The formulation JSON follows the published schema (schemas/formulation.schema.json)"
        + (
            "; the case JSON holds every version with its review, formulation and signatures"
            if whole_case
            else "; for your role it leaves the evidence and names out"
        )
        + ". Files are built when you click, and each export is recorded in the audit log."
    )
    if not _password_gate(service, actor, target, "export"):
        return
    with st.container(horizontal=True):
        for fmt in FORMATS.values():
            ending = f"-v{target.version}{fmt.formulation_suffix}"
            download_button(
                f"Download the formulation ({fmt.label})",
                formulation_export(actor, target.reference, target.version, fmt.name),
                file_name=file_name(target.reference, ending),
                mime=fmt.media_type,
                key=target.key("download", "formulation", fmt.name),
            )
            if whole_case:
                download_button(
                    f"Download the whole case ({fmt.label})",
                    case_export(actor, target.reference, fmt.name),
                    file_name=file_name(target.reference, fmt.case_suffix),
                    mime=fmt.media_type,
                    key=target.key("download", "case", fmt.name),
                )


def formulation_export(
    actor: Actor, reference: str, version: int, fmt: str
) -> Callable[[Service], bytes]:
    """Return what builds a version's formulation document (audited, checked) on click."""

    def build(service: Service) -> bytes:
        return formulation_document(service, actor, reference, version, "formulation", fmt=fmt)

    return build


def case_export(actor: Actor, reference: str, fmt: str) -> Callable[[Service], bytes]:
    """Return what builds the whole case document (audited by the service) on click."""

    def build(service: Service) -> bytes:
        return case_document(service, actor, reference, fmt)

    return build


# --- the page ------------------------------------------------------------------------------------


def _choose(service: Service, actor: Actor, reference: str) -> tuple[int | None, list[VersionRow]]:
    open_case(actor, reference)
    versions = service.case_history(actor, reference)
    return form.choose_version(versions, state.selected_version()), versions


def _header(formulation: Formulation, target: Target, actor: Actor) -> None:
    header = formulation.header
    st.title(f"Formulation · {plain(target.reference)}")
    status = "final" if header.status is AssessmentStatus.FINAL else "draft (changes as you rate)"
    bits = [
        f"Version {target.version}",
        status,
        f"pathway {header.pathway.value}",
        f"assessed {header.assessed_on.isoformat()}" if header.assessed_on else "no date yet",
    ]
    if header.assessors:
        bits.append("by " + ", ".join(plain(a.name) for a in header.assessors))
    st.caption(" · ".join(bits))
    if formulation.data_quality.provisional:
        st.warning(
            "Provisional: too many items are omitted or not rated to rely on this formulation.",
            icon=":material/warning:",
        )
    message = state.take_flash()
    if message:
        st.success(plain(message), icon=":material/check_circle:")
    with st.container(horizontal=True):
        navigation.link(
            "case", "Case history", case=target.reference, icon=":material/folder_open:"
        )
        if may_ever(actor, Action.READ_EVIDENCE):
            navigation.link(
                "assessment",
                "Assessment",
                case=target.reference,
                version=target.version,
                icon=":material/edit_note:",
            )


def render() -> None:
    """Show the formulation of the case and version selected in the URL."""
    actor = current_actor()
    if actor is None:
        return
    reference = state.selected_case()
    if reference is None:
        st.title("Formulation")
        st.info("Choose a case on the Cases page first.", icon=":material/folder_open:")
        navigation.link("cases", "Go to the cases", icon=":material/folder_shared:")
        return
    service = current_service()
    try:
        version, versions = _choose(service, actor, reference)
        if version is None:
            st.title(f"Formulation · {plain(reference)}")
            st.info("This case has no assessment yet.", icon=":material/edit_note:")
            return
        formulation = service.formulation(actor, reference, version)
    except InstrumentError as error:
        st.title(f"Formulation · {plain(reference)}")
        show_error(error)
        navigation.link("cases", "Back to the cases", icon=":material/arrow_back:")
        return
    if state.selected_version() != version:
        state.select_version(version)
    target = Target(reference, version)
    _header(formulation, target, actor)
    _body(service, actor, target, formulation, versions)


PARTS = (
    "Areas",
    "5P formulation",
    "Scenarios and judgement",
    "Engagement and responsivity",
    "Data quality",
    "Change",
    "Sign-off and export",
)
"""The formulation page's tabs below the chart and the focus, in order."""


def _judgement(formulation: Formulation) -> None:
    # Scenarios, person-specific factors, Good Lives, limitations and the bias check.
    if formulation.judgement is None:
        st.caption("This version records no judgement section (instrument 1.0).")
    judgement_view.scenarios(formulation)
    judgement_view.rest(formulation)


def _body(
    service: Service,
    actor: Actor,
    target: Target,
    formulation: Formulation,
    versions: list[VersionRow],
) -> None:
    row = next((v for v in versions if v.version == target.version), None)
    draft_status = formulation.header.status is AssessmentStatus.DRAFT
    reviewing = draft_status and may_ever(actor, Action.REVIEW)
    if reviewing:
        try:
            _sync(target, service.get_assessment(actor, target.reference, target.version))
        except InstrumentError as error:
            show_error(error)
            reviewing = False
    _escalation(formulation)
    _at_a_glance(formulation, target, reviewing=reviewing)
    # The assessor's summary judgements come right after the escalation prompt and the focus.
    judgement_view.summary_judgements(formulation)
    # Lazy tabs bound to the URL: only the open one runs and is drawn; a reload keeps it.
    tabs = st.tabs(list(PARTS), key=state.FORMULATION_PART, bind="query-params", default=PARTS[0])
    areas, five_p, judgement, summaries, quality, change, sign_off = tabs
    if areas.open:
        with areas:
            st.caption(form.SCORE_NOTE + " Open an area to see its reasons.")
            for priority in formulation.priorities:
                _priority(target, priority, redacted=formulation.redacted, reviewing=reviewing)
    if five_p.open:
        with five_p:
            _five_p(target, formulation, reviewing=reviewing)
    if judgement.open:
        with judgement:
            _judgement(formulation)
    if summaries.open:
        with summaries:
            _summaries(formulation)
    if quality.open:
        with quality:
            _data_quality(formulation)
    if change.open:
        with change:
            try:
                _change(service, actor, target, formulation, versions)
            except InstrumentError as error:
                show_error(error)
    if sign_off.open:
        with sign_off:
            _sign_off(service, actor, target, row)


def _sign_off(service: Service, actor: Actor, target: Target, row: VersionRow | None) -> None:
    _signatures(target, row)
    if (
        row is not None
        and row.status is AssessmentStatus.FINAL
        and may_ever(actor, Action.COUNTERSIGN)
    ):
        _countersign(service, actor, target, row)
    _export(service, actor, target)


def _save_focus(target: Target) -> None:
    actor = current_actor()
    draft = _draft(target)
    if actor is None or draft is None:
        return
    areas = list(st.session_state.get(target.key("focus", "areas")) or [])
    rationale = st.session_state.get(target.key("focus", "rationale")) or ""
    problem_key = target.key("focus", "problem")
    try:
        saved = current_service().set_focus(
            actor, target.reference, target.version, areas, rationale, base_revision=draft.revision
        )
    except InstrumentError as error:
        st.session_state[problem_key] = "; ".join(
            f"{p.message} — {p.fix}" if p.fix else p.message for p in error.problems()
        )
        return
    st.session_state.pop(problem_key, None)
    st.session_state[target.key("draft")] = saved


def _focus_editor(target: Target, formulation: Formulation) -> None:
    """Let the assessor choose the focus among the offered areas, with a reason (1.1)."""
    focus = formulation.focus
    assert focus is not None
    offered = {p.area: p.name for p in formulation.priorities if p.offered}
    if not offered:
        return
    with st.expander("Choose the focus", icon=":material/edit:"):
        areas_key = target.key("focus", "areas")
        if areas_key not in st.session_state:
            st.session_state[areas_key] = [a for a in focus.areas if a in offered]
        st.multiselect(
            "Start with (up to three offered areas; none returns to the computed focus)",
            list(offered),
            format_func=lambda a: offered.get(a, a),
            max_selections=3,
            key=areas_key,
        )
        st.text_area(
            "Why (at least 20 characters)",
            key=target.key("focus", "rationale"),
            max_chars=20_000,
            height=80,
        )
        problem = st.session_state.get(target.key("focus", "problem"))
        if problem:
            st.error(plain(str(problem)), icon=":material/error:")
        st.button(
            "Save the focus",
            key=target.key("focus", "save"),
            on_click=_save_focus,
            args=(target,),
            type="primary",
        )
