"""The Plan page: the intervention plan of a case, its delivery log and its progress reviews.

What it shows is computed by the core (`instrument.plan`) and read through the service; every
change is a service call, checked and audited there. The plan's draft and the delivery log are
saved per field, server-side, as the user leaves a field (`on_change`), each save carrying the
revision it was based on: a stale one is refused, and the page explains who saved last and when,
offering to load their version or to save this one over it. Agreeing a plan is a signature: the
password again when the last entry is older than 5 minutes.

Viewers read the plan, attendance and progress without any free text or name (the service gives
them redacted records); facilitators and psychologists plan, log and review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import streamlit as st

from instrument.access import Action, Actor, Resource, can
from instrument.definition import Instrument
from instrument.errors import ConflictError, InstrumentError
from instrument.plan import (
    Attendance,
    CasePlan,
    Decision,
    Ending,
    Engagement,
    Period,
    Plan,
    PlanStatus,
    ProgressChange,
    area_of,
    progress_rows,
    timeline,
)
from instrument.profile.plan import (
    describe_progress,
    describe_timeline,
    progress_spec,
    timeline_spec,
)
from instrument.service import DeliveryView, PlanDraft, Service
from instrument.service.documents import PlanFormat, plan_report
from instrument.ui import navigation, state
from instrument.ui.components import plain, problem_text, show_error
from instrument.ui.context import current_actor, current_documents, current_service, open_case

ATTENDANCE_LABELS = {
    Attendance.ATTENDED: "attended",
    Attendance.DECLINED: "declined",
    Attendance.CANCELLED: "cancelled",
    Attendance.DID_NOT_ATTEND: "did not attend",
}
CHANGE_LABELS = {
    ProgressChange.WORSE: "worse",
    ProgressChange.NONE: "no change",
    ProgressChange.SOME: "some change",
    ProgressChange.MARKED: "marked change",
}


def _key(*parts: object) -> str:
    return state.widget_key(state.PLAN_PAGE, ".".join(str(p) for p in parts))


def _today(service: Service) -> dt.date:
    """Return today as the service dates sessions and reviews (its clock's UTC date).

    The forms' default dates follow the clock that checks them (not the server's local date),
    so that a session logged early in the morning on a server in a zone ahead of UTC is not
    dated after the service's today and refused.
    """
    return service.clock().date()


@dataclass(frozen=True)
class Target:
    """The case the page works on."""

    reference: str
    team: str


# --- readings for the page (pure; tested without a browser) ---------------------------------


def session_title(instrument: Instrument, session_id: str) -> str:
    """Return `identity.1 — Who the participant is...` for a catalogue session."""
    found = instrument.session_by_id.get(session_id)
    return f"{session_id} — {found.title}" if found else session_id


def plan_rows(instrument: Instrument, plan: Plan) -> dict[str, list[Any]]:
    """Return the planned sessions as table columns: order, session, area, why added."""
    names = {area.id: area.name for area in instrument.areas} | {"foundation": "Foundation"}
    return {
        "#": list(range(1, len(plan.sessions) + 1)),
        "Session": [session_title(instrument, s.session) for s in plan.sessions],
        "Area": [names.get(area_of(s.session), "") for s in plan.sessions],
        "Why added": [s.reason or "" for s in plan.sessions],
    }


def log_rows(records: CasePlan, *, notes: bool) -> dict[str, list[Any]]:
    """Return the delivery log as table columns (notes only for those who may read them)."""
    entries = records.delivery
    columns: dict[str, list[Any]] = {
        "#": [e.number for e in entries],
        "Date": [e.date.isoformat() for e in entries],
        "Sessions": [", ".join(e.sessions) for e in entries],
        "Attendance": [ATTENDANCE_LABELS[e.attendance] for e in entries],
        "Minutes": [e.duration_minutes or "" for e in entries],
        "Engagement": [e.engagement.value if e.engagement else "" for e in entries],
    }
    if notes:
        columns["Reason"] = [e.reason or "" for e in entries]
        columns["Notes"] = [e.notes or "" for e in entries]
    return columns


def status_line(records: CasePlan) -> str:
    """Return the plan's status in words: version, status, next review, review due."""
    st_ = records.state
    if st_.version is None:
        return "No plan yet."
    text = f"Plan version {st_.version}: {st_.status.value}"
    if st_.ending is not None:
        text += f" ({st_.ending.value})"
    if st_.next_review_on is not None:
        text += f" · next review {st_.next_review_on.isoformat()}"
    if st_.review_due:
        text += " · review due"
    return text


# --- the page -------------------------------------------------------------------------------


def render() -> None:
    """Show the plan of the case selected in the URL (`?case=...`)."""
    actor = current_actor()
    if actor is None:
        return
    reference = state.selected_case()
    if reference is None:
        st.title("Plan")
        st.info("Choose a case on the Cases page.", icon=":material/info:")
        navigation.link("cases", "Go to Cases", icon=":material/folder_shared:")
        return
    service = current_service()
    try:
        view = open_case(actor, reference)
        records = service.case_plan(actor, reference)
    except InstrumentError as error:
        st.title("Plan")
        show_error(error)
        navigation.link("cases", "Back to Cases", icon=":material/arrow_back:")
        return
    target = Target(view.reference, view.team)
    st.title(f"Intervention plan: case {view.reference}")
    st.caption(status_line(records))
    notice = state.take_flash()
    if notice:
        st.success(notice, icon=":material/check_circle:")
    if records.state.review_due:
        st.warning(
            "The review date has passed: record a progress review.", icon=":material/event_busy:"
        )
    team = Resource(view.team)
    plan = records.latest
    if plan is None:
        _no_plan(service, actor, target)
    else:
        instrument = service.plan_instrument(plan)
        # Keyed and tracked, so a rerun (a session logged, a field saved) keeps the tab open.
        tabs = st.tabs(
            ["Plan", "Delivery log", "Reviews", "Pictures"], key=_key("tabs"), on_change="rerun"
        )
        with tabs[0]:
            if plan.plan.status is PlanStatus.DRAFT and can(actor, Action.EDIT_PLAN, team):
                _editor(service, actor, target, instrument)
            else:
                _plan_view(instrument, plan)
            _plan_actions(service, actor, target, records)
        with tabs[1]:
            _delivery(service, actor, target, instrument, records)
        with tabs[2]:
            _reviews(service, actor, target, instrument, records)
        with tabs[3]:
            _pictures(instrument, records)
        _downloads(service, actor, target, instrument, records)
    with st.container(horizontal=True):
        navigation.link(
            "case", "Back to the case", case=view.reference, icon=":material/arrow_back:"
        )


# --- no plan yet ----------------------------------------------------------------------------


def _no_plan(service: Service, actor: Actor, target: Target) -> None:
    st.info("This case has no intervention plan yet.", icon=":material/info:")
    if not can(actor, Action.EDIT_PLAN, Resource(target.team)):
        return
    try:
        suggestion = service.suggested_sessions(actor, target.reference)
        roster = service.plan_roster(actor, target.reference)
    except InstrumentError as error:
        show_error(error)
        return
    instrument = current_documents().default_instrument()
    st.subheader("Suggested from the formulation")
    names = {area.id: area.name for area in instrument.areas}
    st.write(
        "Focus: " + (", ".join(names.get(a, a) for a in suggestion.focus) or "no area offered")
    )
    st.dataframe(
        {
            "Session": [session_title(instrument, s.session) for s in suggestion.sessions],
            "Area": [
                names.get(s.area, "Foundation") if s.area else "Foundation"
                for s in suggestion.sessions
            ],
            "Addresses": [", ".join(s.addresses) for s in suggestion.sessions],
        },
        hide_index=True,
        width="stretch",
    )
    for goals in suggestion.goals:
        st.caption(
            f"{names.get(goals.area, goals.area)} serves the goods: "
            + ", ".join(g.value for g in goals.goods)
        )
    with st.form(_key("start"), border=True):
        st.markdown("**Start the plan**")
        facilitators = st.multiselect(
            "Facilitators (one or two)",
            roster,
            default=[actor.username] if actor.username in roster else [],
            max_selections=2,
            key=_key("start", "facilitators"),
        )
        cols = st.columns(2)
        count = cols[0].number_input(
            "Sessions per period", min_value=1, max_value=7, value=1, key=_key("start", "count")
        )
        period = cols[1].selectbox("Period", [p.value for p in Period], key=_key("start", "period"))
        review_on = st.date_input(
            "First review",
            value=_today(service) + dt.timedelta(days=56),
            key=_key("start", "review_on"),
        )
        if st.form_submit_button("Start the plan", type="primary", icon=":material/add:"):
            try:
                service.start_plan(
                    actor,
                    target.reference,
                    facilitators=facilitators,
                    frequency={"sessions": int(count), "per": period},
                    review_on=review_on if isinstance(review_on, dt.date) else _today(service),
                )
            except InstrumentError as error:
                _problems(error)
                return
            state.flash("The plan was started from the suggestion.")
            st.rerun()


def _problems(error: InstrumentError) -> None:
    for p in error.problems():
        where = "" if p.where in ("$", "") else f"{p.where}: "
        st.error(where + problem_text(p.message, p.fix), icon=":material/error:")


# --- the draft editor (saved per field) ------------------------------------------------------


def _save_field(target: Target, field: str, value: Any) -> None:
    """Save one field of the draft plan; hold a conflict for the page to explain."""
    actor = current_actor()
    if actor is None:
        return
    service = current_service()
    draft = st.session_state.get(_key("draft"))
    if not isinstance(draft, PlanDraft):
        return
    try:
        saved = service.save_plan(
            actor, target.reference, draft.version, field, value, base_revision=draft.revision
        )
    except ConflictError as error:
        st.session_state[_key("conflict")] = (field, value, error.message)
        return
    except InstrumentError as error:
        st.session_state[_key("error", field)] = error
        return
    st.session_state.pop(_key("error", field), None)
    st.session_state.pop(_key("conflict"), None)
    st.session_state[_key("draft")] = saved
    st.session_state[_key("saved")] = (field, saved.saved_at)


def _on_change(target: Target, field: str, reader: Any) -> None:
    _save_field(target, field, reader())


def _edit_key(*parts: object) -> str:
    """Return a draft field's widget key, e.g. `...edit.order_reason`.

    "Load their version" moves every field to a new generation of keys, so that the browser
    draws them afresh from the stored draft (a widget keeps its own value under its old key).
    """
    generation = st.session_state.get(_key("generation", "edit"), 0)
    return _key("edit", *parts) + (f".g{generation}" if generation else "")


def _reload(target: Target) -> None:
    """Forget the widgets and the known draft: the next run reads the stored plan afresh."""
    for key in list(st.session_state.keys()):
        if str(key).startswith(_key("edit")) or str(key) in (_key("draft"), _key("conflict")):
            del st.session_state[key]
    generation = _key("generation", "edit")
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


def _keep_mine(target: Target) -> None:
    pending = st.session_state.get(_key("conflict"))
    st.session_state.pop(_key("draft"), None)
    actor = current_actor()
    if actor is None or not isinstance(pending, tuple):
        return
    service = current_service()
    records = service.case_plan(actor, target.reference)
    plan = records.latest
    if plan is None:
        return
    fresh = _fresh_draft(service, actor, target, plan.plan.version)
    st.session_state[_key("draft")] = fresh
    _save_field(target, pending[0], pending[1])


def _fresh_draft(service: Service, actor: Actor, target: Target, version: int) -> PlanDraft:
    """Read the stored draft (with its revision) by saving nothing: the log of versions."""
    drafts = service.plan_versions(actor, target.reference)
    return next(d for d in drafts if d.version == version)


def _editor(service: Service, actor: Actor, target: Target, instrument: Instrument) -> None:
    versions = service.plan_versions(actor, target.reference)
    draft = versions[-1]
    known = st.session_state.get(_key("draft"))
    drawn = _edit_key("order_reason") in st.session_state  # the fields hold their values
    if not (isinstance(known, PlanDraft) and known.version == draft.version and drawn):
        st.session_state[_key("draft")] = draft
    elif known.revision != draft.revision and _key("conflict") not in st.session_state:
        # Saved in another tab or by another person since this page drew the draft: its fields
        # may show older values, so say so now; a save based on them is refused.
        at = draft.saved_at.strftime("%Y-%m-%d %H:%M UTC")
        st.session_state[_key("conflict")] = (
            None,
            None,
            f"plan version {draft.version} was changed by {draft.saved_by or 'system'} at {at}, "
            "in another tab or by another person; load their version before you change it",
        )
    plan = draft.plan
    pending = st.session_state.get(_key("conflict"))
    if isinstance(pending, tuple):
        st.warning(plain(pending[2]), icon=":material/sync_problem:")
        left, right = st.columns(2)
        left.button(
            "Load their version",
            key=_key("conflict", "theirs"),
            on_click=_reload,
            args=(target,),
            width="stretch",
        )
        if pending[0] is not None:  # a change of mine was refused: it may be saved over theirs
            right.button(
                f"Save my {pending[0].replace('_', ' ')} over it",
                key=_key("conflict", "mine"),
                on_click=_keep_mine,
                args=(target,),
                width="stretch",
            )
    saved = st.session_state.get(_key("saved"))
    if isinstance(saved, tuple):
        st.caption(f"Saved ({saved[0].replace('_', ' ')}) at {saved[1].strftime('%H:%M:%S UTC')}.")
    roster = service.plan_roster(actor, target.reference)
    st.subheader(f"Draft plan, version {draft.version}")
    fac_key = _edit_key("facilitators")
    st.multiselect(
        "Facilitators (one or two)",
        sorted(set(roster) | set(plan.facilitators)),
        default=plan.facilitators,
        max_selections=2,
        key=fac_key,
        on_change=_on_change,
        args=(target, "facilitators", lambda: list(st.session_state[fac_key])),
    )
    _field_error("facilitators")
    cols = st.columns(3)
    count_key, period_key, review_key = (
        _edit_key("count"),
        _edit_key("period"),
        _edit_key("review_on"),
    )

    def frequency() -> dict[str, Any]:
        return {
            "sessions": int(st.session_state[count_key]),
            "per": st.session_state[period_key],
        }

    cols[0].number_input(
        "Sessions per period",
        min_value=1,
        max_value=7,
        value=plan.frequency.sessions,
        key=count_key,
        on_change=_on_change,
        args=(target, "frequency", frequency),
    )
    periods = [p.value for p in Period]
    cols[1].selectbox(
        "Period",
        periods,
        index=periods.index(plan.frequency.per.value),
        key=period_key,
        on_change=_on_change,
        args=(target, "frequency", frequency),
    )
    cols[2].date_input(
        "Review date",
        value=plan.review_on,
        key=review_key,
        on_change=_on_change,
        args=(target, "review_on", lambda: st.session_state[review_key]),
    )
    _field_error("frequency")
    _field_error("review_on")
    st.markdown("**Sessions, in planned order** (edit the order, add or remove rows)")
    options = list(instrument.session_by_id)
    sessions_key = _edit_key("sessions")
    st.data_editor(
        _text_frame(
            session=[s.session for s in plan.sessions],
            reason=[s.reason or "" for s in plan.sessions],
        ),
        column_config={
            "session": st.column_config.SelectboxColumn(
                "Session",
                options=options,
                required=True,
                width="large",
                format_func=lambda session: session_title(instrument, str(session)),
            ),
            "reason": st.column_config.TextColumn(
                "Why added (when not suggested)", max_chars=2000, width="large"
            ),
        },
        num_rows="dynamic",
        hide_index=False,
        key=sessions_key,
        on_change=_on_change,
        args=(target, "sessions", lambda: _edited_sessions(plan, sessions_key)),
        width="stretch",
    )
    _field_error("sessions")
    order_key = _edit_key("order_reason")
    st.text_area(
        "Why the order departs from the suggestion (if it does)",
        value=plan.order_reason or "",
        key=order_key,
        max_chars=5000,
        on_change=_on_change,
        args=(target, "order_reason", lambda: st.session_state[order_key].strip() or None),
    )
    _dropped_editor(service, actor, target, instrument, plan)
    _goals_editor(target, plan)
    if plan.adaptations:
        st.markdown("**Adaptations to delivery** (carried from the assessment)")
        for adaptation in plan.adaptations:
            st.markdown(f"- **{adaptation.responsivity}**: {plain(adaptation.adaptation or '')}")
    problems = service.plan_problems(actor, target.reference, draft.version)
    if problems:
        st.markdown("**Before the plan can be agreed:**")
        for p in problems:
            st.error(f"{p.where}: " + problem_text(p.message, p.fix), icon=":material/error:")


def _text_frame(**columns: list[str]) -> Any:
    """Return a table of text columns for a data editor (typed even when it has no row)."""
    import pandas as pd  # type: ignore[import-untyped]  # a Streamlit dependency, no stubs

    return pd.DataFrame(
        {name: pd.Series(values, dtype="string") for name, values in columns.items()}
    )


def _field_error(field: str) -> None:
    error = st.session_state.get(_key("error", field))
    if isinstance(error, InstrumentError):
        _problems(error)


def _edited_sessions(plan: Plan, key: str) -> list[dict[str, Any]]:
    """Apply the data editor's changes (edited, added, deleted rows) to the planned sessions."""
    rows = [{"session": s.session, "reason": s.reason or ""} for s in plan.sessions]
    changes = st.session_state.get(key) or {}
    for index, change in (changes.get("edited_rows") or {}).items():
        rows[int(index)] |= change
    for index in sorted(changes.get("deleted_rows") or [], reverse=True):
        rows.pop(int(index))
    rows += [row for row in changes.get("added_rows") or [] if row.get("session")]
    return [
        {"session": row["session"], **({"reason": row["reason"]} if row.get("reason") else {})}
        for row in rows
    ]


def _dropped_editor(
    service: Service, actor: Actor, target: Target, instrument: Instrument, plan: Plan
) -> None:
    suggestion = service.suggested_sessions(actor, target.reference)
    chosen = {s.session for s in plan.sessions}
    left_out = [s.session for s in suggestion.sessions if s.session not in chosen]
    if not left_out:
        return
    st.markdown("**Suggested sessions left out** (each needs a reason)")
    reasons = {d.session: d.reason or "" for d in plan.dropped}
    keys = {session: _edit_key("dropped", session) for session in left_out}

    def dropped() -> list[dict[str, Any]]:
        return [
            {"session": s, "reason": st.session_state.get(k, "").strip() or None}
            for s, k in keys.items()
        ]

    for session, key in keys.items():
        st.text_input(
            session_title(instrument, session),
            value=reasons.get(session, ""),
            key=key,
            max_chars=2000,
            on_change=_on_change,
            args=(target, "dropped", dropped),
        )
    _field_error("dropped")


def _goals_editor(target: Target, plan: Plan) -> None:
    st.markdown("**Good Lives approach goals**")
    key = _edit_key("goals")
    goods = [g.value for g in instrument_goods()]
    st.data_editor(
        _text_frame(
            good=[g.good.value if g.good else "" for g in plan.approach_goals],
            goal=[g.goal or "" for g in plan.approach_goals],
        ),
        column_config={
            "good": st.column_config.SelectboxColumn("Good", options=goods),
            "goal": st.column_config.TextColumn("Goal", max_chars=2000, width="large"),
        },
        num_rows="dynamic",
        key=key,
        on_change=_on_change,
        args=(target, "approach_goals", lambda: _edited_goals(plan, key)),
        width="stretch",
    )
    _field_error("approach_goals")


def instrument_goods() -> list[Any]:
    """Return the Good Lives goods of the newest definition, in its order."""
    return [good.id for good in current_documents().default_instrument().goods]


def _edited_goals(plan: Plan, key: str) -> list[dict[str, Any]]:
    rows = [
        {"good": g.good.value if g.good else "", "goal": g.goal or ""} for g in plan.approach_goals
    ]
    changes = st.session_state.get(key) or {}
    for index, change in (changes.get("edited_rows") or {}).items():
        rows[int(index)] |= change
    for index in sorted(changes.get("deleted_rows") or [], reverse=True):
        rows.pop(int(index))
    rows += [row for row in changes.get("added_rows") or [] if row.get("good") or row.get("goal")]
    return [{"good": row.get("good") or None, "goal": row.get("goal") or None} for row in rows]


# --- the agreed plan ------------------------------------------------------------------------


def _plan_view(instrument: Instrument, plan: Plan) -> None:
    st.subheader(f"Plan version {plan.plan.version} ({plan.plan.status.value})")
    signed = "; ".join(
        f"{s.meaning} {s.by} on {s.at.strftime('%Y-%m-%d')}" for s in plan.signatures
    )
    st.write(
        f"Facilitators: {plain(', '.join(plan.facilitators))} · "
        f"{plan.frequency.sessions} a {plan.frequency.per.value} · "
        f"review {plan.review_on.isoformat()}" + (f" · {plain(signed)}" if signed else "")
    )
    st.dataframe(plan_rows(instrument, plan), hide_index=True, width="stretch")
    if plan.order_reason:
        st.caption("Order: " + plain(plan.order_reason))
    if plan.dropped:
        st.caption(
            "Left out: "
            + "; ".join(
                plain(d.session + (f" ({d.reason})" if d.reason else "")) for d in plan.dropped
            )
        )
    if plan.approach_goals:
        st.markdown("**Good Lives approach goals**")
        for g in plan.approach_goals:
            good = f"**{g.good.value}**" if g.good else "**goal**"
            st.markdown(f"- {good}" + (f": {plain(g.goal)}" if g.goal else ""))
    if plan.adaptations:
        st.markdown("**Adaptations to delivery**")
        for a in plan.adaptations:
            st.markdown(
                f"- **{a.responsivity}**" + (f": {plain(a.adaptation)}" if a.adaptation else "")
            )


def _plan_actions(service: Service, actor: Actor, target: Target, records: CasePlan) -> None:
    plan = records.latest
    if plan is None:
        return
    team = Resource(target.team)
    unsigned = actor.username in plan.facilitators and not any(
        s.by == actor.username for s in plan.signatures
    )
    if can(actor, Action.AGREE_PLAN, team) and unsigned:
        label = (
            "Agree and sign the plan"
            if plan.plan.status is PlanStatus.DRAFT
            else ("Sign as the second facilitator")
        )
        with st.expander(label, icon=":material/draw:"):
            st.write(
                f"Signed 'agreed by {plain(actor.username)}' with today's date; an agreed plan "
                "no longer changes (it is amended instead)."
            )
            password = _password_entry(
                service,
                actor,
                "agree",
                "Your last sign-in was more than 5 minutes ago: enter it again.",
            )
            if st.button("Sign", key=_key("agree", "confirm"), type="primary"):
                try:
                    if password is not None:
                        service.confirm_password(actor, password)
                    service.agree_plan(actor, target.reference, plan.plan.version)
                except InstrumentError as error:
                    _problems(error)
                    return
                st.session_state.pop(_key("draft"), None)
                state.flash(f"Plan version {plan.plan.version} is agreed.")
                st.rerun()
    if plan.plan.status is PlanStatus.AGREED and can(actor, Action.EDIT_PLAN, team):
        with st.expander("Amend the plan…", icon=":material/edit:"):
            reason = st.text_area(
                "Why the plan changes", key=_key("amend", "reason"), max_chars=5000
            )
            if st.button("Amend", key=_key("amend", "confirm")):
                try:
                    service.amend_plan(actor, target.reference, plan.plan.version, reason)
                except InstrumentError as error:
                    _problems(error)
                    return
                _reload(target)
                state.flash(f"Plan version {plan.plan.version + 1} is a new draft.")
                st.rerun()


# --- the delivery log -----------------------------------------------------------------------


def _delivery(
    service: Service, actor: Actor, target: Target, instrument: Instrument, records: CasePlan
) -> None:
    team = Resource(target.team)
    notes = can(actor, Action.READ_PLAN_NOTES, team)
    if records.delivery:
        st.dataframe(log_rows(records, notes=notes), hide_index=True, width="stretch")
    else:
        st.info("No session has been logged yet.", icon=":material/info:")
    agreed = records.agreed
    if agreed is None or not can(actor, Action.LOG_SESSION, team):
        return
    if records.state.status.value != "ended":
        _log_form(service, actor, target, instrument, agreed)
    if records.delivery:
        _entry_editor(service, actor, target, instrument, records)


def _team_roster(service: Service, actor: Actor, target: Target) -> list[str]:
    """Return who may facilitate the case now (its team's practitioners), or [] when unknown."""
    try:
        return service.plan_roster(actor, target.reference)
    except InstrumentError:
        return []


def _person(roster: list[str]) -> Any:
    """Return a facilitator's label: the username, marked when no longer of the case's team.

    The plan may name someone who has since moved team or left; choosing them is refused by the
    service, and the list says why before anyone tries.
    """

    def label(name: str) -> str:
        if not roster or name in roster:
            return name
        return f"{name} (no longer of this case's team)"

    return label


def _when_and_who(
    service: Service,
    cols: Any,
    labels: tuple[str, str],
    facilitators: list[str],
    keys: tuple[str, str],
    roster: list[str],
) -> tuple[Any, list[str]]:
    """A form's date (today by default) and its one or two facilitators, in the first columns.

    Their first values are set in the session state rather than passed to the widgets, so that
    a callback may set them again (emptying the form) without Streamlit's warning.
    """
    today = _today(service)  # a session or review is dated on or before the day it is recorded
    date_key, people_key = _key(keys[0], "date"), _key(*keys)
    st.session_state.setdefault(date_key, today)
    st.session_state.setdefault(people_key, list(facilitators))
    day = cols[0].date_input(labels[0], max_value=today, key=date_key)
    people = cols[1].multiselect(
        labels[1], facilitators, max_selections=2, format_func=_person(roster), key=people_key
    )
    return day, list(people)


def _log_form(
    service: Service, actor: Actor, target: Target, instrument: Instrument, plan: Plan
) -> None:
    # Not `clear_on_submit`: that empties the form in the browser on every submit, so a
    # refused entry would lose what was typed. `_submit_log` empties it once the entry is logged.
    for name, empty in _log_defaults(service, plan.facilitators).items():
        st.session_state.setdefault(_key("log", name), empty)
    with st.form(_key("log"), border=True):
        st.markdown("**Log a session**")
        cols = st.columns(3)
        _when_and_who(
            service,
            cols,
            ("Date", "Facilitators present"),
            plan.facilitators,
            ("log", "facilitators"),
            _team_roster(service, actor, target),
        )
        cols[2].selectbox(
            "Attendance",
            list(Attendance),
            format_func=lambda a: ATTENDANCE_LABELS[a],
            key=_key("log", "attendance"),
        )
        st.multiselect(
            "Sessions covered (or due)",
            session_choices(instrument, plan),
            format_func=lambda s: session_title(instrument, s),
            max_selections=6,
            key=_key("log", "sessions"),
        )
        halves = st.columns(2)
        halves[0].number_input(
            "Minutes (attended)", min_value=0, max_value=480, key=_key("log", "minutes")
        )
        halves[1].selectbox(
            "Engagement as you saw it (attended)",
            [None, *Engagement],
            format_func=lambda e: "-" if e is None else e.value,
            key=_key("log", "engagement"),
        )
        st.text_input(
            "Reason (when the session did not take place)",
            max_chars=2000,
            key=_key("log", "reason"),
        )
        st.text_area("Notes", max_chars=20000, key=_key("log", "notes"))
        st.form_submit_button(
            "Log the session",
            type="primary",
            icon=":material/add:",
            on_click=_submit_log,
            args=(target, list(plan.facilitators)),
        )
        error = st.session_state.get(_key("log", "error"))
        if isinstance(error, InstrumentError):
            _problems(error)


def _log_defaults(service: Service, facilitators: list[str]) -> dict[str, Any]:
    """Return the empty log form: today, the plan's facilitators, attended, an hour."""
    return {
        "date": _today(service),
        "facilitators": list(facilitators),
        "attendance": Attendance.ATTENDED,
        "sessions": [],
        "minutes": 60,
        "engagement": None,
        "reason": "",
        "notes": "",
    }


def _submit_log(target: Target, facilitators: list[str]) -> None:
    """Log the form's session; on success empty the form (a callback may set its widgets)."""
    actor = current_actor()
    if actor is None:
        return
    service = current_service()
    value = st.session_state.get
    day = value(_key("log", "date"))
    attendance = Attendance(value(_key("log", "attendance")) or Attendance.ATTENDED)
    attended = attendance is Attendance.ATTENDED
    minutes = value(_key("log", "minutes"))
    engagement = value(_key("log", "engagement"))
    entry = {
        "date": day.isoformat() if isinstance(day, dt.date) else "",
        "facilitators": list(value(_key("log", "facilitators")) or []),
        "sessions": list(value(_key("log", "sessions")) or []),
        "attendance": attendance.value,
        "reason": str(value(_key("log", "reason")) or "").strip() or None,
        "duration_minutes": int(minutes) if attended and minutes else None,
        "engagement": Engagement(engagement).value if attended and engagement else None,
        "notes": str(value(_key("log", "notes")) or "").strip() or None,
    }
    try:
        logged = service.log_session(actor, target.reference, entry)
    except InstrumentError as error:
        st.session_state[_key("log", "error")] = error
        return
    st.session_state.pop(_key("log", "error"), None)
    for name, empty in _log_defaults(service, facilitators).items():
        st.session_state[_key("log", name)] = empty
    state.flash(f"Session {logged.entry.number} is logged.")


def _entry_editor(
    service: Service, actor: Actor, target: Target, instrument: Instrument, records: CasePlan
) -> None:
    entries = service.delivery_log(actor, target.reference)
    numbers = [e.entry.number for e in entries]
    with st.expander("Correct a logged session", icon=":material/edit:"):
        number = st.selectbox("Entry", numbers, index=len(numbers) - 1, key=_key("entry", "number"))
        found = next(e for e in entries if e.entry.number == number)
        known = st.session_state.get(_key("entry", number))
        drawn = _field_key(number, "notes") in st.session_state  # the fields hold their values
        if not isinstance(known, DeliveryView) or not drawn:
            st.session_state[_key("entry", number)] = found
        elif known.revision != found.revision and _key("entry", "conflict") not in st.session_state:
            # Saved in another tab or by another person since this page drew the entry: its
            # fields may show older values, so say so now; a save based on them is refused.
            st.session_state[_key("entry", "conflict")] = _changed_elsewhere(found)
        pending = st.session_state.get(_key("entry", "conflict"))
        if isinstance(pending, str):
            st.warning(plain(pending), icon=":material/sync_problem:")
            if st.button("Load their version", key=_key("entry", "reload")):
                st.session_state.pop(_key("entry", "conflict"), None)
                st.session_state[_key("entry", number)] = found
                for key in list(st.session_state.keys()):
                    if str(key).startswith(_key("entry", "error")):
                        del st.session_state[key]
                # New widget keys: every field is drawn afresh from the stored entry.
                generation = _key("entry", "generation")
                st.session_state[generation] = st.session_state.get(generation, 0) + 1
                st.rerun()
        _entry_fields(target, number, found)
        _entry_people(service, actor, target, instrument, records, found)
        notes_key = _field_key(number, "notes")
        st.text_area(
            "Notes",
            value=found.entry.notes or "",
            key=notes_key,
            max_chars=20000,
            on_change=_save_entry,
            args=(target, number, lambda: {"notes": st.session_state[notes_key].strip() or None}),
        )
        minutes_key = _field_key(number, "minutes")
        if found.entry.attendance is Attendance.ATTENDED:
            st.number_input(
                "Minutes",
                min_value=1,
                max_value=480,
                value=found.entry.duration_minutes or 60,
                key=minutes_key,
                on_change=_save_entry,
                args=(
                    target,
                    number,
                    lambda: {"duration_minutes": int(st.session_state[minutes_key])},
                ),
            )
        _entry_error(number, "notes", "duration_minutes")


def _field_key(number: int, name: str) -> str:
    """Return a correction field's widget key, e.g. `...entry.field.1.notes`.

    "Load their version" moves every field to a new generation of keys, so that the browser
    draws them afresh from the stored entry (a widget keeps its own value under its old key).
    """
    generation = st.session_state.get(_key("entry", "generation"), 0)
    return _key("entry", "field", number, name) + (f".g{generation}" if generation else "")


def _changed_elsewhere(found: DeliveryView) -> str:
    at = found.saved_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"log entry {found.entry.number} was changed by {found.saved_by or 'system'} at {at}, "
        "in another tab or by another person; load their version before you change it"
    )


def _entry_error(number: int, *fields: str) -> None:
    """Show, beside its field, why the service refused a change to the entry."""
    for field in fields:
        error = st.session_state.get(_key("entry", "error", number, field))
        if isinstance(error, InstrumentError):
            _problems(error)


def _entry_fields(target: Target, number: int, found: DeliveryView) -> None:
    """The entry's date, attendance (with its reason) and engagement, each saved on change."""
    entry = found.entry
    cols = st.columns(3)
    date_key = _field_key(number, "date")
    cols[0].date_input(
        "Date",
        value=entry.date,
        max_value=max(entry.date, _today(current_service())),
        key=date_key,
        on_change=_save_entry,
        args=(target, number, lambda: {"date": st.session_state[date_key].isoformat()}),
    )
    attendance_key = _field_key(number, "attendance")
    reason_key = _field_key(number, "reason")

    def attendance() -> dict[str, Any]:
        reason = str(st.session_state.get(reason_key) or "").strip() or None
        return {"attendance": st.session_state[attendance_key], "reason": reason}

    options = [a.value for a in Attendance]
    cols[1].selectbox(
        "Attendance",
        options,
        index=options.index(entry.attendance.value),
        format_func=lambda a: ATTENDANCE_LABELS[Attendance(a)],
        key=attendance_key,
        on_change=_save_entry,
        args=(target, number, attendance),
    )
    if entry.attendance is Attendance.ATTENDED:
        engagement_key = _field_key(number, "engagement")
        levels = [e.value for e in Engagement]
        cols[2].selectbox(
            "Engagement",
            levels,
            index=levels.index(entry.engagement.value) if entry.engagement else None,
            key=engagement_key,
            on_change=_save_entry,
            args=(target, number, lambda: {"engagement": st.session_state[engagement_key]}),
        )
    _entry_error(number, "date", "engagement")
    st.text_input(
        "Reason (when the session did not take place)",
        value=entry.reason or "",
        key=reason_key,
        max_chars=2000,
        on_change=_save_entry,
        args=(target, number, attendance),
    )
    _entry_error(number, "attendance")


def session_choices(instrument: Instrument, plan: Plan | None) -> list[str]:
    """Return the catalogue sessions to choose from: the plan's in its order, then the rest."""
    planned = [s.session for s in plan.sessions] if plan else []
    return planned + [s for s in instrument.session_by_id if s not in planned]


def _entry_people(
    service: Service,
    actor: Actor,
    target: Target,
    instrument: Instrument,
    records: CasePlan,
    found: DeliveryView,
) -> None:
    """The entry's facilitators present and catalogue sessions covered, each saved on change.

    The facilitators offered are the plan's and the team's; one who has since left the team
    (or was deactivated) stays on the list so that an entry naming them still shows them, and
    choosing them again is refused by the service with its reason beside the field.
    """
    entry = found.entry
    number = entry.number
    plan = next((p for p in records.plans if p.plan.version == entry.plan_version), None)
    roster = _team_roster(service, actor, target)
    people = list(dict.fromkeys([*(plan.facilitators if plan else []), *roster]))
    people += [name for name in entry.facilitators if name not in people]
    people_key = _field_key(number, "facilitators")
    st.multiselect(
        "Facilitators present",
        people,
        default=entry.facilitators,
        max_selections=2,
        format_func=_person(roster),
        key=people_key,
        on_change=_save_entry,
        args=(target, number, lambda: {"facilitators": list(st.session_state[people_key])}),
        help="One or two of the case's team who were in the session.",
    )
    _entry_error(number, "facilitators")
    sessions_key = _field_key(number, "sessions")
    choices = session_choices(instrument, plan)
    st.multiselect(
        "Sessions covered (or due)",
        choices + [s for s in entry.sessions if s not in choices],
        default=entry.sessions,
        format_func=lambda s: session_title(instrument, s),
        max_selections=6,
        key=sessions_key,
        on_change=_save_entry,
        args=(target, number, lambda: {"sessions": list(st.session_state[sessions_key])}),
    )
    _entry_error(number, "sessions")


def _save_entry(target: Target, number: int, reader: Any) -> None:
    actor = current_actor()
    known = st.session_state.get(_key("entry", number))
    if actor is None or not isinstance(known, DeliveryView):
        return
    changes = reader()
    error_key = _key("entry", "error", number, next(iter(changes)))
    try:
        saved = current_service().save_session(
            actor, target.reference, number, changes, base_revision=known.revision
        )
    except ConflictError as error:
        st.session_state[_key("entry", "conflict")] = error.message
        return
    except InstrumentError as error:
        st.session_state[error_key] = error
        return
    st.session_state.pop(error_key, None)
    st.session_state.pop(_key("entry", "conflict"), None)
    st.session_state[_key("entry", number)] = saved


# --- reviews --------------------------------------------------------------------------------


def _reviews(
    service: Service, actor: Actor, target: Target, instrument: Instrument, records: CasePlan
) -> None:
    names = {area.id: area.name for area in instrument.areas}
    for done in records.reviews:
        with st.container(border=True):
            ended = f" ({done.ending.value})" if done.ending else ""
            st.markdown(
                f"**Review {done.number}, {done.reviewed_on.isoformat()}**: the plan "
                f"{done.decision.value}{ended}"
            )
            for p in done.progress:
                text = f"- {names.get(p.area, p.area)}: {CHANGE_LABELS[p.change]}"
                st.markdown(text + (f". {plain(p.evidence)}" if p.evidence else ""))
    if not records.reviews:
        st.info("No review has been recorded yet.", icon=":material/info:")
    _beside(service, actor, target)
    agreed = records.agreed
    team = Resource(target.team)
    if agreed is None or records.state.status.value == "ended":
        return
    if not can(actor, Action.REVIEW_PROGRESS, team):
        return
    with st.form(_key("review"), border=True):
        st.markdown("**Record a progress review**")
        day, by = _when_and_who(
            service,
            st.columns(2),
            ("Reviewed on", "Reviewed by"),
            agreed.facilitators,
            ("review", "by"),
            _team_roster(service, actor, target),
        )
        progress = []
        for area in agreed.focus:
            st.markdown(f"**{names.get(area, area)}**")
            change = st.radio(
                "Change seen",
                list(ProgressChange),
                format_func=lambda c: CHANGE_LABELS[c],
                horizontal=True,
                key=_key("review", area, "change"),
                index=1,
            )
            evidence = st.text_area(
                "Evidence", max_chars=20000, key=_key("review", area, "evidence")
            )
            seen = ProgressChange(change or ProgressChange.NONE)
            progress.append({"area": area, "change": seen.value, "evidence": evidence})
        cols = st.columns(3)
        decision = cols[0].selectbox(
            "The plan",
            list(Decision),
            format_func=lambda d: d.value,
            key=_key("review", "decision"),
        )
        ending = cols[1].selectbox(
            "Ending (when it ends)",
            [None, *Ending],
            format_func=lambda e: "-" if e is None else e.value,
            key=_key("review", "ending"),
        )
        next_on = cols[2].date_input(
            "Next review (unless it ends)",
            value=_today(service) + dt.timedelta(days=56),
            key=_key("review", "next"),
        )
        ending_reason = st.text_input(
            "What `other` means here", max_chars=2000, key=_key("review", "ending_reason")
        )
        if st.form_submit_button("Record the review", type="primary"):
            decided = Decision(decision or Decision.CONTINUES)
            ends = decided is Decision.ENDS
            review = {
                "reviewed_on": day.isoformat() if isinstance(day, dt.date) else "",
                "by": by,
                "progress": progress,
                "decision": decided.value,
                "ending": ending.value if ends and ending else None,
                "ending_reason": (ending_reason.strip() or None) if ends else None,
                "next_review_on": None
                if ends or not isinstance(next_on, dt.date)
                else next_on.isoformat(),
            }
            try:
                recorded = service.record_review(actor, target.reference, review)
            except InstrumentError as error:
                _problems(error)
                return
            state.flash(f"Review {recorded.number} is recorded.")
            st.rerun()


def _beside(service: Service, actor: Actor, target: Target) -> None:
    """Show the reassessment's band changes beside the progress the facilitators saw."""
    try:
        rows = service.change_beside_progress(actor, target.reference)
    except InstrumentError:
        return
    rows = [row for row in rows if row.band_before is not None]
    if not rows:
        return
    st.markdown("**Change in the formulation beside progress in the sessions**")
    st.dataframe(
        {
            "Focus area": [r.area_name for r in rows],
            "Band at the plan": [r.band_before.value if r.band_before else "" for r in rows],
            "Band at reassessment": [r.band_after.value if r.band_after else "" for r in rows],
            "Latest review": [CHANGE_LABELS[r.progress] if r.progress else "" for r in rows],
        },
        hide_index=True,
        width="stretch",
    )


# --- pictures and downloads -----------------------------------------------------------------


def _pictures(instrument: Instrument, records: CasePlan) -> None:
    from instrument.ui import charts

    plan = records.latest
    reference = plan.case.reference if plan else ""
    rows = timeline(instrument, records.delivery)
    progress = progress_rows(instrument, records.reviews)
    for name, spec, text in (
        ("timeline", timeline_spec(rows, reference), describe_timeline(rows)),
        ("progress", progress_spec(progress, reference), describe_progress(progress)),
    ):
        charts.show_chart(spec, text, key=_key("chart", name), width="content")
        charts.facts_table(text)


def _password_entry(service: Service, actor: Actor, purpose: str, why: str) -> str | None:
    """Ask for the password when the sign-in's entry has aged (a signature, an export)."""
    if not service.needs_password(actor):
        return None
    return st.text_input("Password", type="password", key=_key(purpose, "password"), help=why)


PLAN_DOWNLOADS: tuple[tuple[PlanFormat, str, str], ...] = (
    ("html", "HTML", "text/html"),
    ("pdf", "PDF", "application/pdf"),
    ("docx", "Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)


def _downloads(
    service: Service, actor: Actor, target: Target, instrument: Instrument, records: CasePlan
) -> None:
    with st.expander("Download the plan", icon=":material/download:"):
        st.write(
            "The 'plan only' report is for the participant's file: the plan, attendance and the "
            "change seen, with no evidence, no session notes and no review evidence."
        )
        password = _password_entry(
            service, actor, "download", "Downloads need your password within the last 5 minutes."
        )
        if st.button("Prepare the plan-only report", key=_key("download", "prepare")):
            try:
                if password is not None:
                    service.confirm_password(actor, password)
                exported = service.export_plan(actor, target.reference, plan_only=True)
            except InstrumentError as error:
                _problems(error)
                return
            for fmt, _, _ in PLAN_DOWNLOADS:
                st.session_state[_key("download", fmt)] = plan_report(instrument, exported, fmt)
        name = target.reference.replace("/", "-")
        for fmt, label, mime in PLAN_DOWNLOADS:
            content = st.session_state.get(_key("download", fmt))
            if isinstance(content, bytes):
                st.download_button(
                    f"Plan only ({label})",
                    content,
                    file_name=f"{name}-plan.{fmt}",
                    mime=mime,
                    key=_key("download", fmt, "button"),
                    on_click="ignore",
                )
