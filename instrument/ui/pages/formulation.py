"""The formulation page: ranked priorities with their reasons, the review, sign-off and export.

One screen at the top: the escalation prompt first when the formulation raises it, then the
priorities chart beside "Where to start" (the formulation's focus). Below, each area is a card
that opens on demand (only an open card runs and is drawn), and the rest is in tabs bound to the
URL (`&part=...`): 5P, engagement and responsivity, data quality, change (its chart), sign-off
and export; only the open tab runs.

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
from instrument.profile import describe_priorities, priorities_spec
from instrument.service import Draft, Service, VersionRow
from instrument.ui import charts, context, form, navigation, state
from instrument.ui.components import BAND_BADGES, FIVE_P_TITLES, plain, show_error
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


def _override_editor(target: Target, priority: Priority) -> None:
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
    """Return an area card's one-line label: rank, name, band, score, override, offered."""
    bits = [
        f"**{priority.rank}. {plain(priority.name)}**",
        form.BAND_LABELS[priority.band],
        f"score {priority.score:.2f}",
    ]
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
    st.badge(
        form.BAND_LABELS[priority.band],
        color=BAND_BADGES[priority.band],
        icon=":material/flag:",
    )
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
            st.markdown(
                f"**{item.item}** {plain(item.name)} — {item.presence.value}{relevance} · "
                f"contributes {item.contribution:.2f}"
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
            st.markdown(f"- **{strength.item}** {plain(strength.name)}")
        st.markdown("**Suggested sessions**")
        st.markdown("\n".join(f"- {plain(topic)}" for topic in priority.sessions))
    if reviewing:
        _override_editor(target, priority)


# --- the top of the page: escalation, priorities chart, focus ----------------------------------


def _escalation(formulation: Formulation) -> None:
    """Show the escalation prompt first, when the formulation raises it.

    The slot for instrument 1.1's `escalation` (`raised`, `reasons` naming the items, `prompt`):
    a prompt for the assessor's judgement and the local safeguarding or referral procedure, never
    a score. A formulation without it (instrument 1.0) draws nothing here.
    """
    escalation = getattr(formulation, "escalation", None)
    if escalation is None or not getattr(escalation, "raised", False):
        return
    prompt = str(getattr(escalation, "prompt", "") or "")
    reasons = [str(r) for r in getattr(escalation, "reasons", None) or ()]
    text = plain(prompt) if prompt else "The escalation prompt is raised."
    if reasons:
        text += "  \n" + plain("Because of: " + "; ".join(reasons))
    st.error(text, icon=":material/priority_high:")


def focus_areas(formulation: Formulation) -> list[Priority]:
    """Return the areas where work should start: the formulation's `focus` when it has one.

    Instrument 1.1 names a `focus` (at most three offered areas, adjustable by the assessor);
    before it, the first offered areas by rank, at most three, stand in for it.
    """
    by_area = {p.area: p for p in formulation.priorities}
    named = getattr(formulation, "focus", None)
    if isinstance(named, list | tuple):
        ids = [str(getattr(f, "area", f)) for f in named]
        return [by_area[a] for a in ids if a in by_area]
    offered = sorted((p for p in formulation.priorities if p.offered), key=lambda p: p.rank)
    return offered[:3]


def _focus(formulation: Formulation) -> None:
    st.subheader("Where to start", anchor="focus")
    areas = focus_areas(formulation)
    if not areas:
        st.markdown("No area is offered: nothing stands out from the ratings.")
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


def _at_a_glance(formulation: Formulation) -> None:
    chart_column, focus_column = st.columns([2, 1], gap="medium")
    with chart_column:
        described = describe_priorities(formulation)
        charts.show_chart(priorities_spec(formulation), described, key="ifi-formulation-priorities")
        charts.facts_table(described)
    with focus_column:
        _focus(formulation)


@st.fragment
def _five_p(target: Target, formulation: Formulation, *, reviewing: bool) -> None:
    # A fragment: leaving a narrative box saves it and reruns only this section.
    if reviewing:
        st.caption(
            "Write your own narrative under each heading; it is saved when you leave the box."
        )
    for section in formulation.five_p:
        st.subheader(FIVE_P_TITLES[section.heading])
        st.write(plain(section.summary))
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
    _header(formulation, target, actor)
    _body(service, actor, target, formulation, versions)


PARTS = (
    "Areas",
    "5P formulation",
    "Engagement and responsivity",
    "Data quality",
    "Change",
    "Sign-off and export",
)
"""The formulation page's tabs below the chart and the focus, in order."""


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
    _at_a_glance(formulation)
    # Lazy tabs bound to the URL: only the open one runs and is drawn; a reload keeps it.
    tabs = st.tabs(list(PARTS), key=state.FORMULATION_PART, bind="query-params", default=PARTS[0])
    areas, five_p, summaries, quality, change, sign_off = tabs
    if areas.open:
        with areas:
            st.caption(form.SCORE_NOTE + " Open an area to see its reasons.")
            for priority in formulation.priorities:
                _priority(target, priority, redacted=formulation.redacted, reviewing=reviewing)
    if five_p.open:
        with five_p:
            _five_p(target, formulation, reviewing=reviewing)
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
            _signatures(target, row)
            if (
                row is not None
                and row.status is AssessmentStatus.FINAL
                and may_ever(actor, Action.COUNTERSIGN)
            ):
                _countersign(service, actor, target, row)
            _export(service, actor, target)
