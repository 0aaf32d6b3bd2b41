"""The formulation page: ranked priorities with their reasons, the review, sign-off and export.

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
import json
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from instrument.access import Action, Actor, may_ever
from instrument.errors import ConflictError, DocumentError, InstrumentError
from instrument.exchange.documents import schema_problems
from instrument.formulation import Formulation, Priority, formulation_json
from instrument.service import Draft, Service, VersionRow
from instrument.ui import context, form, judgement_view, navigation, state
from instrument.ui.components import (
    BAND_BADGES,
    FIVE_P_TITLES,
    escalation_panel,
    focus_panel,
    plain,
    show_error,
)
from instrument.ui.context import current_actor, current_service, open_case
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
    with st.container(border=True):
        st.error(f"Not saved: {plain(message)}", icon=":material/sync_problem:")
        theirs_col, mine_col = st.columns(2)
        theirs_col.markdown("**Stored version (theirs)**")
        theirs_col.text(stored.review.narratives.get(heading, "") or form.EMPTY)
        mine_col.markdown("**Your version (not saved)**")
        mine_col.text(mine or form.EMPTY)
        left, right = st.columns(2)
        left.button(
            "Keep the stored version",
            key=target.key("conflict", "theirs"),
            on_click=_resolve,
            args=(target, False),
            width="stretch",
        )
        right.button(
            "Save my version over it",
            key=target.key("conflict", "mine"),
            on_click=_resolve,
            args=(target, True),
            type="primary",
            width="stretch",
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
    # open; saving closes it.
    editor = st.expander(
        label,
        icon=":material/edit:",
        key=target.key("override", area, "open"),
        on_change="rerun",
    )
    if not editor.open:
        return
    with editor:
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


def _priority(
    target: Target, priority: Priority, *, redacted: bool, reviewing: bool, v11: bool = False
) -> None:
    with st.container(border=True):
        st.subheader(f"{priority.rank}. {priority.name}", anchor=f"area-{priority.area}")
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
        with st.expander("What would change this band", icon=":material/swap_vert:"):
            st.write(plain(priority.what_would_change.summary))


def _overview(formulation: Formulation) -> None:
    """Show the ranked areas at a glance; the cards below give the reasons."""
    v11 = formulation.focus is not None
    rows = [
        {
            "Rank": p.rank,
            "Area": p.name,
            "Band": form.BAND_LABELS[p.band],
            "Computed band": form.BAND_LABELS[p.computed_band],
            "Score": p.score if v11 else f"{p.score:.2f}",
            "Coverage": form.percent(p.coverage),
            "Overridden": "yes" if p.override else "",
            "Offered": "yes" if p.offered else "no",
        }
        for p in formulation.priorities
    ]
    config = (
        {
            "Score": st.column_config.ProgressColumn(
                "Strength of the ratings", min_value=0.0, max_value=1.0, format=" "
            )
        }
        if v11
        else None
    )
    st.dataframe(rows, hide_index=True, width="stretch", column_config=config)


@st.fragment
def _five_p(target: Target, formulation: Formulation, *, reviewing: bool) -> None:
    # A fragment: leaving a narrative box saves it and reruns only this section.
    st.header("5P formulation", anchor="five-p", divider="gray")
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
    st.header("Engagement, intent and capability", anchor="spj", divider="gray")
    for spj in formulation.spj:
        st.markdown(f"- {plain(spj.summary)}")
    st.header("Risk management notes", anchor="risk-management", divider="gray")
    if formulation.risk_management:
        st.markdown("\n".join(f"- {plain(note)}" for note in formulation.risk_management))
    else:
        st.caption("No capability item is rated present.")
    st.header("Responsivity: adaptations to delivery", anchor="responsivity", divider="gray")
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
            st.caption("Suggested: " + plain("; ".join(entry.suggested)))
    st.header("Data quality", anchor="data-quality", divider="gray")
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
    st.header("Change since the previous assessment", anchor="change", divider="gray")
    change = formulation.change
    if change is None:
        st.caption("There is no earlier finalised assessment of this case to compare with.")
        return
    st.write(plain(change.summary))
    rows = [
        {
            "Area": a.area,
            "Band before": form.BAND_LABELS[a.band_before],
            "Band now": form.BAND_LABELS[a.band_after],
            "Score before": round(a.score_before, 2),
            "Score now": round(a.score_after, 2),
        }
        for a in change.areas
    ]
    st.dataframe(rows, hide_index=True)


# --- sign-off and export -------------------------------------------------------------------------


def _signatures(target: Target, version: VersionRow | None) -> None:
    st.header("Sign-off", anchor="sign-off", divider="gray")
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
        who = plain(signature.by) if signature.by else "a team member"
        st.markdown(
            f":material/verified: {signature.meaning.capitalize()} {who} · "
            f"{signature.at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
        )
    if not any(s.meaning == "countersigned by" for s in version.signatures):
        st.caption("Not countersigned yet: a supervisor of the team countersigns on this page.")


def _password_gate(service: Service, actor: Actor, target: Target, purpose: str) -> bool:
    """Return True when the actor entered the password in the last 5 minutes; else ask for it."""
    if not service.needs_password(actor):
        return True
    st.caption(f"Enter your password again to {purpose} (needed every 5 minutes).")
    key = target.key("password", purpose)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        password = st.text_input("Password", type="password", key=key, width=320)
        confirmed = st.button("Confirm password", key=target.key("confirm", purpose))
    if confirmed:
        try:
            service.confirm_password(actor, password or "")
        except InstrumentError as error:
            show_error(error)
            return False
        st.session_state.pop(key, None)
        st.rerun()
    return False


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


def formulation_download(actor: Actor, reference: str, version: int) -> Callable[[], bytes]:
    """Return the callable that builds the formulation JSON when the download is clicked.

    It runs on the server's download thread, so it opens its own connection. The document is
    validated against the published schema before it is handed over.
    """

    def build() -> bytes:
        with context.open_service() as service:
            return formulation_bytes(service, actor, reference, version)

    return build


def formulation_bytes(service: Service, actor: Actor, reference: str, version: int) -> bytes:
    """Return the formulation JSON of a version (audited as an export), checked against the schema.

    Raises:
        AuthenticationError: when the password must be entered again.
        DocumentError: when the document does not match the published schema (a bug).
    """
    text = formulation_json(service.export_formulation(actor, reference, version))
    problems = schema_problems("formulation", json.loads(text))
    if problems:
        raise DocumentError(problems, source="formulation export")
    return text.encode("utf-8")


def case_download(actor: Actor, reference: str) -> Callable[[], bytes]:
    """Return the callable that builds the whole case JSON (audited by the service) on click."""

    def build() -> bytes:
        with context.open_service() as service:
            document = service.export_case(actor, reference)
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    return build


def _file_stem(reference: str) -> str:
    """Return a case reference fit for a file name (`/` is allowed in references)."""
    return reference.replace("/", "-")


def _export(service: Service, actor: Actor, target: Target) -> None:
    st.header("Export", anchor="export", divider="gray")
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
        st.download_button(
            "Download the formulation (JSON)",
            data=formulation_download(actor, target.reference, target.version),
            file_name=f"{_file_stem(target.reference)}-v{target.version}.formulation.json",
            mime="application/json",
            key=target.key("download", "formulation"),
            icon=":material/download:",
            on_click="ignore",
        )
        if whole_case:
            st.download_button(
                "Download the whole case (JSON)",
                data=case_download(actor, target.reference),
                file_name=f"{_file_stem(target.reference)}.case.json",
                mime="application/json",
                key=target.key("download", "case"),
                icon=":material/download:",
                on_click="ignore",
            )


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
    with st.sidebar:
        st.markdown(
            "**On this page**  \n[Priorities](#priorities) · [5P](#five-p) · "
            "[Engagement, intent, capability](#spj) · [Responsivity](#responsivity) · "
            "[Data quality](#data-quality) · [Change](#change) · [Sign-off](#sign-off) · "
            "[Export](#export)"
        )
    row = next((v for v in versions if v.version == version), None)
    _header(formulation, target, actor)
    _body(service, actor, target, formulation, row)


def _body(
    service: Service,
    actor: Actor,
    target: Target,
    formulation: Formulation,
    row: VersionRow | None,
) -> None:
    draft_status = formulation.header.status is AssessmentStatus.DRAFT
    reviewing = draft_status and may_ever(actor, Action.REVIEW)
    if reviewing:
        try:
            _sync(target, service.get_assessment(actor, target.reference, target.version))
        except InstrumentError as error:
            show_error(error)
            reviewing = False
    escalation_panel(formulation)
    focus_panel(formulation)
    if reviewing and formulation.focus is not None:
        _focus_editor(target, formulation)
    judgement_view.summary_judgements(formulation)
    st.header("Intervention priorities", anchor="priorities", divider="gray")
    st.caption(form.SCORE_NOTE)
    _overview(formulation)
    v11 = formulation.focus is not None
    for priority in formulation.priorities:
        _priority(target, priority, redacted=formulation.redacted, reviewing=reviewing, v11=v11)
    _five_p(target, formulation, reviewing=reviewing)
    judgement_view.scenarios(formulation)
    judgement_view.rest(formulation)
    _summaries(formulation)
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
