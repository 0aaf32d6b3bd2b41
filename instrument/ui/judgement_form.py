"""The assessment form's Judgement tab and the bias check of its Finalise tab.

The assessor's judgement after the ratings: the 5P as a formulation, person-specific factors,
Good Lives, scenarios, summary judgements and a limitations note; the bias check is asked where
the assessment is finalised. Each part is saved through `Service.save_judgement` as soon as a
field changes, with the revision the page last read (the same draft the ratings use, kept under
the assessment page's key). A save made while another tab or person saved is merged part by part
and field by field; only a field both changed is refused, with a choice: keep mine or theirs.

Widgets are filled from the stored draft whenever its revision is not the one they were last
filled from (after every save, here or elsewhere): the database stays the source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from instrument.definition import Instrument
from instrument.errors import ConflictError, DocumentError, InstrumentError
from instrument.formulation import formulate
from instrument.formulation.finalising import judgement_required
from instrument.formulation.judgement import escalation_raised
from instrument.judgement import BIAS_QUESTIONS, GOOD_NAMES, BiasQuestion, Level, Means
from instrument.service import Draft
from instrument.ui import form, judgement_view, state
from instrument.ui import judgement_fields as fields
from instrument.ui.components import (
    FIVE_P_TITLES,
    plain,
    problem_text,
    show_error,
)
from instrument.ui.context import current_actor, current_service
from instrument.vocabulary import FiveP, Good, Presence, Relevance, Source

_LEVELS = [level.value for level in Level]
_SUMMARY_NAMES = {
    "priority": "Priority for intervention",
    "serious_harm": "Concern about serious harm",
    "urgency": "Urgency",
}


@dataclass(frozen=True)
class Sheet:
    """The draft whose judgement this tab edits, and where the page keeps that draft."""

    reference: str
    version: int
    draft_key: str

    def key(self, *parts: object) -> str:
        """Return the session-state key of one field or bookkeeping value."""
        name = ".".join(str(p) for p in (self.reference, self.version, *parts))
        return state.widget_key(state.JUDGEMENT_FORM, name)

    def field(self, name: str) -> str:
        """Return the widget key of a field named as in `judgement_fields`."""
        return self.key("f", name)

    def get(self, name: str) -> Any:
        """Return a field's current value."""
        return st.session_state.get(self.field(name))

    def draft(self) -> Draft:
        """Return the draft as the page last read or saved it."""
        value = st.session_state[self.draft_key]
        assert isinstance(value, Draft)
        return value


def _refill(sheet: Sheet) -> None:
    """Put the stored judgement into the widgets when the draft changed elsewhere.

    After a save made here the widgets already show what was saved (and what is not saved
    yet, such as a good with only its importance chosen): only new fields are filled then.
    """
    draft = sheet.draft()
    marker = sheet.key("filled")
    if st.session_state.get(marker) == draft.revision:
        return
    prefix = sheet.key("f", "")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]
    _fill_missing(sheet, draft)


def _fill_missing(sheet: Sheet, draft: Draft) -> None:
    for name, value in fields.fields_of(draft.assessment.judgement, draft.review).items():
        key = sheet.field(name)
        if value not in (None, "", []) and key not in st.session_state:
            st.session_state[key] = value
    st.session_state[sheet.key("filled")] = draft.revision


def _save(sheet: Sheet, part: str, build: Callable[[], Any], *, renumbered: bool = False) -> None:
    """Save one part from the fields; remember the new draft, or the error to show.

    `renumbered` says that fields now name other entries (a scenario was removed): every
    field is filled afresh from the saved draft.
    """
    actor = current_actor()
    if actor is None:
        return
    error_key = sheet.key("error", part)
    read = sheet.draft()
    try:
        value = build()
        draft = current_service().save_judgement(
            actor,
            sheet.reference,
            sheet.version,
            part,
            value,
            base_revision=read.revision,
            merge=True,
            base=getattr(read.assessment.judgement, part, None),
        )
    except ConflictError as error:
        st.session_state[error_key] = error
        st.session_state[sheet.key("conflict")] = True
        st.session_state[sheet.key("mine", part)] = value
        return
    except InstrumentError as error:
        st.session_state[error_key] = error
        return
    st.session_state.pop(error_key, None)
    st.session_state.pop(sheet.key("mine", part), None)
    st.session_state[sheet.draft_key] = draft
    if renumbered or draft.revision != read.revision + 1:
        # Fields renumbered, or another tab or person saved meanwhile (merged in): every
        # field is filled afresh from the saved draft, so none shows a stale value.
        st.session_state.pop(sheet.key("filled"), None)
    else:
        _fill_missing(sheet, draft)


def _keep_mine(sheet: Sheet, part: str) -> None:
    """Save this tab's refused change over the stored one, by the person's explicit choice."""
    actor = current_actor()
    if actor is None:
        return
    mine = st.session_state.get(sheet.key("mine", part))
    try:
        draft = current_service().get_assessment(actor, sheet.reference, sheet.version)
        draft = current_service().save_judgement(
            actor, sheet.reference, sheet.version, part, mine, base_revision=draft.revision
        )
    except InstrumentError as error:
        st.session_state[sheet.key("error", part)] = error
        return
    st.session_state[sheet.draft_key] = draft
    st.session_state.pop(sheet.key("error", part), None)
    st.session_state.pop(sheet.key("mine", part), None)
    st.session_state.pop(sheet.key("conflict"), None)
    st.session_state.pop(sheet.key("filled"), None)


def _reload(sheet: Sheet) -> None:
    """Drop what is typed here and show the stored version (after a refused, stale save)."""
    actor = current_actor()
    if actor is None:
        return
    try:
        draft = current_service().get_assessment(actor, sheet.reference, sheet.version)
    except InstrumentError as error:
        st.session_state[sheet.key("error", "reload")] = error
        return
    st.session_state[sheet.draft_key] = draft
    st.session_state.pop(sheet.key("filled"), None)
    st.session_state.pop(sheet.key("conflict"), None)
    for key in [k for k in st.session_state if isinstance(k, str)]:
        if key.startswith(sheet.key("error", "")):
            del st.session_state[key]


def _status(sheet: Sheet, part: str) -> None:
    error = st.session_state.get(sheet.key("error", part))
    if isinstance(error, DocumentError):
        # Say which field each problem is in: `$.judgement.person_specific.PS1.title` → the
        # factor PS1's title.
        for problem in error.problems():
            where = problem.where.removeprefix("$.judgement.").replace("_", " ")
            st.error(
                problem_text(f"Not saved: {where}: {problem.message}", problem.fix),
                icon=":material/error:",
            )
    elif isinstance(error, InstrumentError):
        show_error(error)
        if isinstance(error, ConflictError):
            left, right = st.columns(2)
            left.button(
                "Keep mine: save what I typed over it",
                key=sheet.key("keep", part),
                on_click=_keep_mine,
                args=(sheet, part),
                icon=":material/save:",
            )
            right.button(
                "Keep theirs: show the stored version (what I typed is dropped)",
                key=sheet.key("reload", part),
                on_click=_reload,
                args=(sheet,),
                icon=":material/sync:",
            )


# --- the parts ------------------------------------------------------------------------------------


def _placeable(instrument: Instrument, sheet: Sheet) -> list[tuple[str, FiveP]]:
    ratings = sheet.draft().assessment.ratings
    return [
        (item.id, item.role)
        for item in instrument.items
        if (r := ratings.get(item.id)) is not None and r.is_present
    ]


def _save_five_p(sheet: Sheet) -> None:
    instrument = current_service().instrument_of(sheet.draft())
    _save(sheet, "five_p", lambda: fields.five_p_value(sheet.get, _placeable(instrument, sheet)))


def _five_p(sheet: Sheet, instrument: Instrument) -> None:
    st.subheader("The 5P as a formulation", anchor="judgement-five-p")
    _status(sheet, "five_p")
    st.text_area(
        "Presenting problem: what brought the participant to this assessment, in your words",
        key=sheet.field("five_p.presenting_problem"),
        on_change=_save_five_p,
        args=(sheet,),
        height=90,
        max_chars=20_000,
    )
    for heading in FiveP:
        title = FIVE_P_TITLES[heading]
        with st.container(border=True):
            not_applicable = st.toggle(
                f"{title}: not applicable to this participant",
                key=sheet.field(f"five_p.{heading.value}.na"),
                on_change=_save_five_p,
                args=(sheet,),
            )
            st.text_area(
                f"Why {title.lower()} does not apply"
                if not_applicable
                else f"Your narrative: {title.lower()}",
                key=sheet.field(f"five_p.{heading.value}.text"),
                on_change=_save_five_p,
                args=(sheet,),
                height=90,
                max_chars=20_000,
            )
    placeable = _placeable(instrument, sheet)
    with st.expander(f"Place items under another heading ({len(placeable)} rated present)"):
        st.caption("The definition's heading is the default; change it for this participant.")
        for item_id, default in placeable:
            name = f"five_p.place.{item_id}"
            if sheet.get(name) is None:
                st.session_state[sheet.field(name)] = default.value
            st.selectbox(
                f"{item_id} · {instrument.item_by_id[item_id].name}",
                [h.value for h in FiveP],
                format_func=lambda v: FIVE_P_TITLES[FiveP(v)],
                key=sheet.field(name),
                on_change=_save_five_p,
                args=(sheet,),
            )


def _person_ids(sheet: Sheet) -> list[str]:
    judgement = sheet.draft().assessment.judgement
    return list(judgement.person_specific) if judgement else []


def _save_people(
    sheet: Sheet, *, drop: str | None = None, add: dict[str, Any] | None = None
) -> None:
    def build() -> dict[str, Any]:
        ids = [i for i in _person_ids(sheet) if i != drop]
        value = fields.person_specific_value(sheet.get, ids)
        if add is not None:
            value[fields.next_person_specific_id(_person_ids(sheet))] = add
        return value

    _save(sheet, "person_specific", build, renumbered=drop is not None or add is not None)


def _add_person(sheet: Sheet) -> None:
    title = (sheet.get("new_ps.title") or "").strip()
    if not title:
        return
    _save_people(
        sheet,
        add={
            "title": title,
            "domain": sheet.get("new_ps.domain"),
            "presence": Presence.YES.value,
            "relevance": Relevance.MODERATE.value,
            "role": FiveP.PERPETUATING.value,
        },
    )
    st.session_state.pop(sheet.field("new_ps.title"), None)


def _person_specific(sheet: Sheet, instrument: Instrument) -> None:
    st.subheader("Person-specific factors", anchor="judgement-person-specific")
    st.caption(
        "What the list missed for this participant. A factor never changes a score: it is "
        "listed among the reasons of the areas you link it to, marked person-specific."
    )
    _status(sheet, "person_specific")
    domains = {d.id: d.name for d in instrument.domains}
    areas = {a.id: a.name for a in instrument.areas}
    for ps_id in _person_ids(sheet):
        with st.container(border=True):
            top, remove = st.columns([5, 1], vertical_alignment="bottom")
            top.text_input(
                f"{ps_id} title",
                key=sheet.field(f"ps.{ps_id}.title"),
                on_change=_save_people,
                args=(sheet,),
                max_chars=200,
            )
            remove.button(
                "Remove",
                key=sheet.key("remove_ps", ps_id),
                on_click=_save_people,
                args=(sheet,),
                kwargs={"drop": ps_id},
                icon=":material/delete:",
            )
            left, right = st.columns(2)
            with left:
                left.selectbox(
                    "Domain",
                    list(domains),
                    format_func=lambda v: domains[v],
                    key=sheet.field(f"ps.{ps_id}.domain"),
                    on_change=_save_people,
                    args=(sheet,),
                )
                st.segmented_control(
                    "Presence",
                    [Presence.PARTIAL.value, Presence.YES.value],
                    required=True,
                    key=sheet.field(f"ps.{ps_id}.presence"),
                    on_change=_save_people,
                    args=(sheet,),
                )
                st.segmented_control(
                    "Relevance",
                    [r.value for r in Relevance],
                    required=True,
                    key=sheet.field(f"ps.{ps_id}.relevance"),
                    on_change=_save_people,
                    args=(sheet,),
                )
                st.selectbox(
                    "5P heading",
                    [h.value for h in FiveP],
                    format_func=lambda v: FIVE_P_TITLES[FiveP(v)],
                    key=sheet.field(f"ps.{ps_id}.role"),
                    on_change=_save_people,
                    args=(sheet,),
                )
            with right:
                st.text_area(
                    "Evidence",
                    key=sheet.field(f"ps.{ps_id}.evidence"),
                    on_change=_save_people,
                    args=(sheet,),
                    height=90,
                    max_chars=20_000,
                )
                st.multiselect(
                    "Sources",
                    [s.value for s in Source],
                    key=sheet.field(f"ps.{ps_id}.sources"),
                    on_change=_save_people,
                    args=(sheet,),
                )
                st.multiselect(
                    "Linked intervention areas",
                    list(areas),
                    format_func=lambda v: areas[v],
                    key=sheet.field(f"ps.{ps_id}.areas"),
                    on_change=_save_people,
                    args=(sheet,),
                )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input(
            "New person-specific factor",
            key=sheet.field("new_ps.title"),
            max_chars=200,
            placeholder="A short title",
        )
        if sheet.get("new_ps.domain") is None:
            st.session_state[sheet.field("new_ps.domain")] = instrument.domains[0].id
        st.selectbox(
            "Its domain",
            list(domains),
            format_func=lambda v: domains[v],
            key=sheet.field("new_ps.domain"),
        )
        st.button(
            "Add the factor",
            key=sheet.key("add_ps"),
            on_click=_add_person,
            args=(sheet,),
            icon=":material/add:",
        )


def _save_good_lives(sheet: Sheet) -> None:
    _save(sheet, "good_lives", lambda: fields.good_lives_value(sheet.get))


def _good_lives(sheet: Sheet) -> None:
    st.subheader("Good Lives", anchor="judgement-good-lives")
    st.caption(
        "For each primary good: how important it is to the participant, how far it is attained "
        "now, the means used, and whether the group, cause or ideas supply it. A good is saved "
        "once its importance, attainment and means are chosen."
    )
    _status(sheet, "good_lives")
    for good in Good:
        with st.container(border=True):
            st.markdown(f"**{GOOD_NAMES[good]}**")
            columns = st.columns([3, 3, 4, 3])
            for column, field, label, options in (
                (columns[0], "importance", "Importance", _LEVELS),
                (columns[1], "attainment", "Attainment now", _LEVELS),
                (columns[2], "means", "Means", [m.value for m in Means]),
            ):
                column.segmented_control(
                    label,
                    options,
                    required=True,
                    key=sheet.field(f"gl.{good.value}.{field}"),
                    on_change=_save_good_lives,
                    args=(sheet,),
                )
            columns[3].checkbox(
                "The group supplies it",
                key=sheet.field(f"gl.{good.value}.supplied"),
                on_change=_save_good_lives,
                args=(sheet,),
            )
            st.text_input(
                "Note",
                key=sheet.field(f"gl.{good.value}.note"),
                on_change=_save_good_lives,
                args=(sheet,),
                max_chars=2_000,
            )
    st.text_area(
        "Approach goals (one a line)",
        key=sheet.field("gl.goals"),
        on_change=_save_good_lives,
        args=(sheet,),
        height=90,
        max_chars=20_000,
    )


def _scenario_count(sheet: Sheet) -> int:
    judgement = sheet.draft().assessment.judgement
    return len(judgement.scenarios) if judgement else 0


def _save_scenarios(sheet: Sheet, *, drop: int | None = None, add: str | None = None) -> None:
    def build() -> list[dict[str, Any]]:
        value = fields.scenarios_value(sheet.get, _scenario_count(sheet), drop=drop)
        if add is not None:
            empty = dict.fromkeys(fields.SCENARIO_TEXTS, "")
            value.append({"title": add, **empty, "items": [], "person_specific": []})
        return value

    _save(sheet, "scenarios", build, renumbered=drop is not None)


def _add_scenario(sheet: Sheet) -> None:
    title = (sheet.get("new_sc.title") or "").strip()
    if title:
        _save_scenarios(sheet, add=title)
        st.session_state.pop(sheet.field("new_sc.title"), None)


def _scenarios(sheet: Sheet, instrument: Instrument) -> None:
    st.subheader("Scenarios", anchor="judgement-scenarios")
    st.caption(
        "What could happen, in general terms: no methods, targets or places, and never a "
        "probability. At least one is needed to finalise when an area is high or the "
        "escalation prompt is raised."
    )
    _status(sheet, "scenarios")
    labels = {
        "what": "What could happen",
        "who": "Who could be harmed (in general terms)",
        "triggers": "Triggers and destabilisers",
        "warning_signs": "Warning signs",
        "less_likely": "What would make it less likely",
    }
    people = _person_ids(sheet)
    for index in range(_scenario_count(sheet)):
        with st.container(border=True):
            top, remove = st.columns([5, 1], vertical_alignment="bottom")
            top.text_input(
                f"Scenario {index + 1} title",
                key=sheet.field(f"sc.{index}.title"),
                on_change=_save_scenarios,
                args=(sheet,),
                max_chars=200,
            )
            remove.button(
                "Remove",
                key=sheet.key("remove_sc", index),
                on_click=_save_scenarios,
                args=(sheet,),
                kwargs={"drop": index},
                icon=":material/delete:",
            )
            for field, label in labels.items():
                st.text_area(
                    label,
                    key=sheet.field(f"sc.{index}.{field}"),
                    on_change=_save_scenarios,
                    args=(sheet,),
                    height=70,
                    max_chars=20_000,
                )
            st.multiselect(
                "Items it rests on",
                [item.id for item in instrument.items],
                key=sheet.field(f"sc.{index}.items"),
                on_change=_save_scenarios,
                args=(sheet,),
            )
            st.multiselect(
                "Person-specific factors it rests on",
                people,
                key=sheet.field(f"sc.{index}.person_specific"),
                on_change=_save_scenarios,
                args=(sheet,),
            )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input(
            "New scenario", key=sheet.field("new_sc.title"), max_chars=200, placeholder="A title"
        )
        st.button(
            "Add the scenario",
            key=sheet.key("add_sc"),
            on_click=_add_scenario,
            args=(sheet,),
            icon=":material/add:",
        )


def _save_summary(sheet: Sheet) -> None:
    _save(sheet, "summary", lambda: fields.summary_value(sheet.get))


def _summary(sheet: Sheet) -> None:
    st.subheader("Your summary judgements", anchor="judgement-summary")
    st.caption(
        "Your own judgements, never computed: each low, moderate or high with a written "
        "rationale. They are signed with the assessment."
    )
    _status(sheet, "summary")
    bearing = _bearing(sheet)
    columns = st.columns(3)
    for column, (key, name) in zip(columns, _SUMMARY_NAMES.items(), strict=True):
        with column, st.container(border=True):
            if bearing.get(key):
                st.caption(f"Bearing on it: {bearing[key]}")
            st.segmented_control(
                name,
                _LEVELS,
                required=True,
                key=sheet.field(f"sum.{key}.level"),
                on_change=_save_summary,
                args=(sheet,),
            )
            st.text_area(
                "Rationale",
                key=sheet.field(f"sum.{key}.rationale"),
                on_change=_save_summary,
                args=(sheet,),
                height=110,
                max_chars=20_000,
            )
    st.checkbox(
        "Outcome: no intervention indicated",
        key=sheet.field("sum.no_intervention"),
        on_change=_save_summary,
        args=(sheet,),
    )


def _bearing(sheet: Sheet) -> dict[str, str]:
    """Show the escalation prompt when raised; return what bears on each summary judgement."""
    draft = sheet.draft()
    try:
        formulation = formulate(
            current_service().instrument_of(draft),
            draft.assessment,
            generated_at=draft.saved_at,
            review=draft.review,
        )
    except InstrumentError:
        return {}
    if formulation.escalation is not None and escalation_raised(formulation):
        st.warning(plain(formulation.escalation.prompt), icon=":material/priority_high:")
    judgement = formulation.judgement
    views = judgement.summary_judgements if judgement else None
    found = {}
    for view in views.judgements if views else []:
        parts = []
        if view.items:
            parts.append("items " + ", ".join(view.items))
        if view.scenarios:
            parts.append("scenarios " + ", ".join(str(n) for n in view.scenarios))
        found[view.judgement.replace("-", "_")] = "; ".join(parts)
    return found


def _save_limitations(sheet: Sheet) -> None:
    _save(sheet, "limitations", lambda: fields.limitations_value(sheet.get))


def judgement_tab(reference: str, version: int, draft_key: str) -> None:
    """Draw the Judgement tab of a draft the actor may edit."""
    sheet = Sheet(reference, version, draft_key)
    instrument = current_service().instrument_of(sheet.draft())
    _refill(sheet)
    st.header("Your judgement", anchor=form.JUDGEMENT_ANCHOR, divider="gray")
    judgement_optional_note(sheet.draft())
    st.caption(
        "After the ratings: what the list missed, the 5P as a formulation, Good Lives, what "
        "could happen and your own judgements. Saved as you go."
    )
    _five_p(sheet, instrument)
    _person_specific(sheet, instrument)
    _good_lives(sheet)
    _scenarios(sheet, instrument)
    _summary(sheet)
    st.subheader("Limitations", anchor="judgement-limitations")
    _status(sheet, "limitations")
    st.text_area(
        "Your note on the limits of this assessment (for the report)",
        key=sheet.field("limitations"),
        on_change=_save_limitations,
        args=(sheet,),
        height=80,
        max_chars=20_000,
    )


def _save_bias(sheet: Sheet) -> None:
    _save(sheet, "bias_check", lambda: fields.bias_check_value(sheet.get))


def bias_check(reference: str, version: int, draft_key: str) -> None:
    """Draw the bias check asked before finalising; the answers are kept with the assessment."""
    sheet = Sheet(reference, version, draft_key)
    if not judgement_required(
        current_service().instrument_of(sheet.draft()), sheet.draft().assessment
    ):
        return
    _refill(sheet)
    st.subheader("Bias check", anchor=form.BIAS_CHECK_ANCHOR)
    st.caption("Answer each question and confirm before you finalise; the answers are kept.")
    _status(sheet, "bias_check")
    for question in BiasQuestion:
        with st.container(border=True):
            applies = st.segmented_control(
                plain(BIAS_QUESTIONS[question]),
                ["yes", "no"],
                required=True,
                key=sheet.field(f"bias.{question.value}.applies"),
                on_change=_save_bias,
                args=(sheet,),
            )
            if applies == "yes":
                st.text_input(
                    "What you did about it",
                    key=sheet.field(f"bias.{question.value}.note"),
                    on_change=_save_bias,
                    args=(sheet,),
                    max_chars=2_000,
                )
    st.checkbox(
        "I have considered each question above",
        key=sheet.field("bias.confirmed"),
        on_change=_save_bias,
        args=(sheet,),
    )


def judgement_record(draft: Draft) -> None:
    """Show a version's judgement as a record (final versions, roles that do not edit)."""
    judgement = draft.assessment.judgement
    if judgement is None:
        st.header("Your judgement", anchor=form.JUDGEMENT_ANCHOR, divider="gray")
        st.caption("No judgement section was recorded with this version.")
        return
    formulation = formulate(
        current_service().instrument_of(draft),
        draft.assessment,
        generated_at=draft.saved_at,
        review=draft.review,
    )
    judgement_view.presenting_problem(formulation.judgement)
    for section in formulation.five_p:
        st.markdown(f"**{FIVE_P_TITLES[section.heading]}**")
        if section.narrative:
            st.text(section.narrative)
        if section.not_applicable:
            st.text(f"Not applicable: {section.not_applicable}")
    judgement_view.summary_judgements(formulation)
    judgement_view.scenarios(formulation)
    judgement_view.rest(formulation)


def judgement_optional_note(sheet_draft: Draft) -> bool:
    """Say when the judgement is optional (a 1.0 draft without it); return whether it is."""
    if judgement_required(current_service().instrument_of(sheet_draft), sheet_draft.assessment):
        return False
    st.info(
        "The judgement is optional for an assessment of instrument 1.0. Once you start it, "
        "finalising needs it complete (5P, scenarios where needed, summary judgements and the "
        "bias check).",
        icon=":material/info:",
    )
    return True
