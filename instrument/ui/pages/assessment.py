"""The assessment page: the form generated from the instrument, saved at once on every change.

Nothing here is written per item: the domains, items, scales and guidance all come from the
instrument version the draft records. Each item's controls are drawn in the browser
(`ui/item_control.py`), inside the item's own `@st.fragment`: a click shows its consequence at
once, and its change arrives in a callback that saves it through the service with the revision
and the values it started from. A change made meanwhile in another tab or by another person is
merged field by field; only when both changed the same field does the item ask, per field,
which version to keep: nothing is resolved silently. The database stays the source of truth:
the draft is read from it on every page load. Details and Responsivity are Streamlit widgets,
refilled whenever the stored revision is not the one this browser session last saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

import streamlit as st

from instrument.access import Action, Actor, may_ever
from instrument.assessment import (
    Assessor,
    FieldMerge,
    Rating,
    ResponsivityNote,
    merge_note,
    merge_rating,
    merge_values,
)
from instrument.definition import Instrument, Item
from instrument.errors import ConflictError, InstrumentError, Problem
from instrument.service import Draft, Service
from instrument.ui import form, judgement_form, navigation, state
from instrument.ui.components import cached_instrument, plain, show_error
from instrument.ui.context import current_actor, current_service, open_case, start_assessment
from instrument.ui.exports import password_again
from instrument.ui.item_control import item_control
from instrument.vocabulary import (
    AssessmentStatus,
    AssessorRole,
    OmitReason,
    Presence,
    ResponsivityPresence,
)

MAX_ASSESSOR_ROWS = 10

# --- keys ----------------------------------------------------------------------------------------


def _key(*parts: object) -> str:
    return state.widget_key(state.ASSESSMENT_FORM, ".".join(str(p) for p in parts))


@dataclass(frozen=True)
class Target:
    """The draft this page edits: case reference and version."""

    reference: str
    version: int
    user: str = ""  # who edits (names the tab's storage of unsaved text); not part of keys

    def key(self, *parts: object) -> str:
        """Return a session-state key scoped to this draft."""
        return _key(self.reference, self.version, *parts)


@dataclass(frozen=True)
class PendingConflict:
    """A save whose fields another tab or person changed too: the person chooses per field."""

    kind: str  # "rating", "responsivity" or "details"
    subject: str  # item id, responsivity id, or "details"
    fields: tuple[str, ...]  # the fields both sides changed
    rows: tuple[form.FieldDifference, ...]  # those fields, stored and mine, as text
    message: str
    mine: dict[str, Any]  # my values of every field
    merged: dict[str, Any]  # the stored values with my changes to the other fields
    stored: Draft  # the draft as stored when the conflict was found


# --- the draft in this browser session --------------------------------------------------------


def _draft(target: Target) -> Draft:
    value = st.session_state[target.key("draft")]
    assert isinstance(value, Draft)
    return value


def _instrument(target: Target) -> Instrument:
    """Return the instrument version the draft records (never simply the newest one)."""
    return current_service().instrument_of(_draft(target))


def _remember(target: Target, draft: Draft) -> None:
    st.session_state[target.key("draft")] = draft


def _conflict(target: Target) -> PendingConflict | None:
    value = st.session_state.get(target.key("conflict"))
    return value if isinstance(value, PendingConflict) else None


def _put(key: str, value: Any, *, only_missing: bool) -> None:
    """Set a widget's value (or leave it empty), unless it already has one and `only_missing`.

    Empty values are not stored: every key held in the session makes each later widget call
    slower, so the form keeps only what has a value.
    """
    if only_missing and key in st.session_state:
        return
    if value in (None, "", []):
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = value


NOTE_FIELDS = ("presence", "note", "adaptation")


def _fill_note(target: Target, rs_id: str) -> None:
    note = _draft(target).assessment.responsivity.get(rs_id)
    if target.key(rs_id, "presence") not in st.session_state:
        # What the widgets start from: the base a stale change of this note is merged with.
        st.session_state[target.key(rs_id, "shown")] = note
    _put(target.key(rs_id, "presence"), note.presence.value if note else None, only_missing=True)
    _put(target.key(rs_id, "note"), note.note if note else None, only_missing=True)
    _put(target.key(rs_id, "adaptation"), note.adaptation if note else None, only_missing=True)


def _details_values(draft: Draft) -> dict[str, Any]:
    info = draft.assessment.assessment
    return {
        "assessed_on": info.assessed_on.isoformat() if info.assessed_on else None,
        "assessors": [a.model_dump(mode="json") for a in info.assessors],
        "notes": draft.assessment.notes,
    }


def _fill_details(target: Target) -> None:
    assessment = _draft(target).assessment
    info = assessment.assessment
    if target.key("details", "date") not in st.session_state:
        st.session_state[target.key("details", "shown")] = _details_values(_draft(target))
    _put(target.key("details", "date"), info.assessed_on, only_missing=True)
    for row in range(len(info.assessors) + 1):
        person = info.assessors[row] if row < len(info.assessors) else None
        role = person.role if person else AssessorRole.PSYCHOLOGIST
        _put(target.key("details", "name", row), person.name if person else None, only_missing=True)
        _put(target.key("details", "role", row), role.value, only_missing=True)
    _put(target.key("details", "notes"), assessment.notes, only_missing=True)


def _clear_widgets(instrument: Instrument, target: Target) -> None:
    """Forget every widget value of the form, so that each section refills from the draft.

    Items are drawn by their own controls from the draft (they keep unsaved typing themselves).
    """
    keys = [target.key(rs.id, field) for rs in instrument.responsivity for field in NOTE_FIELDS]
    keys += [target.key("details", field) for field in ("date", "notes")]
    keys += [
        target.key("details", field, row)
        for row in range(MAX_ASSESSOR_ROWS)
        for field in ("name", "role")
    ]
    for key in keys:
        st.session_state.pop(key, None)


def _sync(instrument: Instrument, target: Target, draft: Draft) -> None:
    """Adopt the stored draft; when it is not the revision last seen here, show it afresh.

    Only the open tab's widgets exist: each section fills what is missing from the draft just
    before it is drawn (Streamlit forgets the values of widgets it did not draw).
    """
    known = st.session_state.get(target.key("draft"))
    stale = not isinstance(known, Draft) or known.revision != draft.revision
    if stale and _conflict(target) is None:
        _clear_widgets(instrument, target)
    if _conflict(target) is None or not isinstance(known, Draft):
        _remember(target, draft)


# --- saving -----------------------------------------------------------------------------------


def _note_in_form(target: Target, rs_id: str) -> ResponsivityNote | None:
    s = st.session_state
    return form.note_from_fields(
        s.get(target.key(rs_id, "presence")),
        s.get(target.key(rs_id, "note")),
        s.get(target.key(rs_id, "adaptation")),
    )


def _details_in_form(target: Target) -> dict[str, Any]:
    s = st.session_state
    rows = [
        (s.get(target.key("details", "name", row)), s.get(target.key("details", "role", row)))
        for row in range(MAX_ASSESSOR_ROWS)
    ]
    notes = (s.get(target.key("details", "notes")) or "").strip()
    return {
        "assessed_on": s.get(target.key("details", "date")),
        "assessors": form.assessors_from_rows(rows),
        "notes": notes or None,
    }


def _after_save(target: Target, draft: Draft, subject: str, where: str) -> None:
    _remember(target, draft)
    st.session_state[target.key("saved", where)] = draft.saved_at
    pending = _conflict(target)
    if pending is not None and pending.subject == subject:
        # A conflict about another item still waits for its choice (nothing of it is lost).
        st.session_state.pop(target.key("conflict"), None)


def _save(target: Target, kind: str, subject: str, where: str, value: Any, base: Any) -> None:
    """Save one change through the service, merged with any change made meanwhile elsewhere.

    `base` is what the change started from. Only when another tab or person changed the same
    field is the change held back, and the person asked about those fields.
    """
    actor = current_actor()
    if actor is None:
        return
    service = current_service()
    known = _draft(target).revision
    try:
        draft = _write(service, actor, target, kind, subject, value, base, known)
    except ConflictError as error:
        _hold_conflict(service, actor, target, kind, subject, value, base, error)
        return
    except InstrumentError as error:
        st.session_state[target.key("error", where)] = error
        return
    st.session_state.pop(target.key("error", where), None)
    _after_save(target, draft, subject, where)


def _write(
    service: Service,
    actor: Actor,
    target: Target,
    kind: str,
    subject: str,
    value: Any,
    base: Any,
    revision: int,
) -> Draft:
    ref, version = target.reference, target.version
    if kind == "rating":
        return service.save_rating(
            actor, ref, version, subject, value, base_revision=revision, merge=True, base=base
        )
    if kind == "responsivity":
        return service.save_responsivity(
            actor, ref, version, subject, value, base_revision=revision, merge=True, base=base
        )
    return service.save_details(actor, ref, version, base_revision=revision, **value)


def _values(kind: str, subject: str, draft: Draft | None, value: Any) -> dict[str, Any]:
    """Return one subject's fields as plain values: from a stored draft, or a value to save."""
    if kind == "rating":
        rating = draft.assessment.ratings.get(subject) if draft else value
        return form.rating_values(rating)
    if kind == "responsivity":
        note = draft.assessment.responsivity.get(subject) if draft else value
        return {
            "presence": note.presence.value if note else None,
            "note": note.note if note else None,
            "adaptation": note.adaptation if note else None,
        }
    if draft is not None:
        return _details_values(draft)
    return {
        "assessed_on": value["assessed_on"].isoformat() if value["assessed_on"] else None,
        "assessors": [a.model_dump(mode="json") for a in value["assessors"]],
        "notes": value["notes"],
    }


def _shown_value(instrument: Instrument, field: str, value: Any) -> str:
    """Return one field's value as text for the conflict panel, with the scale's labels."""
    if value in (None, "", []):
        return form.EMPTY
    if field == "assessors":
        return "; ".join(f"{a['name']} ({a['role']})" for a in value)
    if isinstance(value, list):
        return ", ".join(_label(instrument, field, str(v)) for v in value)
    if field in ("presence", "relevance", "timeframe"):
        return _label(instrument, field, str(value))
    return str(value)


def _hold_conflict(
    service: Service,
    actor: Actor,
    target: Target,
    kind: str,
    subject: str,
    value: Any,
    base: Any,
    error: ConflictError,
) -> None:
    """Keep a refused change to show per field; details merge here when no field clashes."""
    try:
        stored = service.get_assessment(actor, target.reference, target.version)
    except InstrumentError:
        st.session_state[target.key("error", subject)] = error
        return
    mine = _values(kind, subject, None, value)
    theirs = _values(kind, subject, stored, value)
    if kind == "details":
        outcome = merge_values(base, mine, theirs)
        if not outcome.conflicts and outcome.merged is not None:
            _remember(target, stored)
            merged = _details_from_values(outcome.merged)
            _save(target, kind, subject, "details", merged, outcome.merged)
            return
        fields, merged_values = outcome.conflicts, outcome.merged or theirs
    else:
        fields = tuple(error.where.rsplit(".", 1)[-1:]) if error.where else ()
        check = _check_merge(kind, base, value, stored, subject)
        fields, merged_values = check.conflicts or fields, check.merged or theirs
    instrument = _instrument(target)
    rows = tuple(
        form.FieldDifference(
            form.FIELD_LABELS.get(f, f.replace("_", " ").capitalize()),
            _shown_value(instrument, f, theirs.get(f)),
            _shown_value(instrument, f, mine.get(f)),
        )
        for f in fields
    )
    st.session_state[target.key("conflict")] = PendingConflict(
        kind=kind,
        subject=subject,
        fields=tuple(fields),
        rows=rows,
        message=error.message,
        mine=mine,
        merged=merged_values,
        stored=stored,
    )


def _check_merge(kind: str, base: Any, value: Any, stored: Draft, subject: str) -> FieldMerge:
    if kind == "rating":
        return merge_rating(base, value, stored.assessment.ratings.get(subject))
    return merge_note(base, value, stored.assessment.responsivity.get(subject))


def _details_from_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "assessed_on": dt.date.fromisoformat(values["assessed_on"])
        if values["assessed_on"]
        else None,
        "assessors": [Assessor.model_validate(a) for a in values["assessors"]],
        "notes": values["notes"],
    }


def _on_control(target: Target, item_id: str) -> None:
    """Save the change an item's control sent (merged with changes made elsewhere)."""
    result = st.session_state.get(target.key(item_id, "control"))
    payload = result.get("change") if isinstance(result, dict) else getattr(result, "change", None)
    if payload is None:
        return
    try:
        change = form.item_change(payload)
    except InstrumentError as error:  # e.g. a control or bidi character (SECURITY.md 32)
        st.session_state[target.key("error", item_id)] = error
        return
    except ValueError as error:
        st.session_state[target.key("error", item_id)] = InstrumentError(
            f"the change to {item_id} could not be read ({error}) and was not saved.",
            where=f"$.ratings.{item_id}",
            fix="reload the page and make the change again",
        )
        return
    st.session_state[target.key(item_id, "ack")] = change.seq
    if change.waiting:
        return  # the control says so beside the item: a present factor waits for its relevance
    _save(target, "rating", item_id, item_id, change.rating, change.base)


def _on_note(target: Target, rs_id: str) -> None:
    base = st.session_state.get(target.key(rs_id, "shown"))
    where = f"responsivity.{rs_id}"
    try:
        note = _note_in_form(target, rs_id)
    except InstrumentError as error:  # e.g. a control or bidi character (SECURITY.md 32)
        st.session_state[target.key("error", where)] = error
        return
    _save(target, "responsivity", rs_id, where, note, base)
    if target.key("error", where) not in st.session_state and _conflict(target) is None:
        st.session_state[target.key(rs_id, "shown")] = _note_in_form(target, rs_id)


def _on_details(target: Target) -> None:
    base = st.session_state.get(target.key("details", "shown")) or _details_values(_draft(target))
    try:
        value = _details_in_form(target)
    except InstrumentError as error:  # e.g. a control or bidi character (SECURITY.md 32)
        st.session_state[target.key("error", "details")] = error
        return
    _save(target, "details", "details", "details", value, base)
    if _conflict(target) is None:
        st.session_state[target.key("details", "shown")] = _values("details", "", None, value)


def _reset_control(target: Target, pending: PendingConflict) -> None:
    """Make the item's control show what is stored again (its local edits are settled)."""
    if pending.kind == "rating":
        reset = target.key(pending.subject, "reset")
        st.session_state[reset] = int(st.session_state.get(reset, 0)) + 1


def _keep_theirs(target: Target) -> None:
    pending = _conflict(target)
    st.session_state.pop(target.key("conflict"), None)
    if pending is not None:
        _clear_widgets(_instrument(target), target)
        _remember(target, pending.stored)
        _reset_control(target, pending)


def _resolve(target: Target) -> None:
    """Save the stored version with, for each clashing field, the version the person chose."""
    pending = _conflict(target)
    if pending is None:
        return
    values = dict(pending.merged)
    for field in pending.fields:
        if st.session_state.get(target.key("conflict", field)) == "mine":
            values[field] = pending.mine.get(field)
        st.session_state.pop(target.key("conflict", field), None)
    st.session_state.pop(target.key("conflict"), None)
    stored = pending.stored
    _remember(target, stored)
    _reset_control(target, pending)
    kind, subject = pending.kind, pending.subject
    if kind == "rating":
        where = subject
        base: Any = stored.assessment.ratings.get(subject)
        value: Any = Rating.model_validate(values) if values.get("presence") else None
    elif kind == "responsivity":
        where = f"responsivity.{subject}"
        base = stored.assessment.responsivity.get(subject)
        value = ResponsivityNote.model_validate(values) if values.get("presence") else None
    else:
        where = "details"
        base = _details_values(stored)
        value = _details_from_values(values)
    _save(target, kind, subject, where, value, base)
    if _conflict(target) is None:
        _clear_widgets(_instrument(target), target)


# --- drawing ----------------------------------------------------------------------------------


def _label(instrument: Instrument, scale: str, value: str) -> str:
    for entry in getattr(instrument.scales, scale, []):
        if entry.value == value:
            return str(entry.label)
    return value


def _saved_marker(target: Target, where: str) -> None:
    at = st.session_state.get(target.key("saved", where))
    error = st.session_state.get(target.key("error", where))
    if isinstance(error, InstrumentError):
        show_error(error)
    if isinstance(at, dt.datetime):
        st.caption(f":material/cloud_done: {form.saved_label(at)}", width="content")


def _conflict_panel(target: Target, subjects: set[str]) -> None:
    pending = _conflict(target)
    if pending is None or pending.subject not in subjects:
        return
    with st.container(border=True):
        st.error(
            f"Not saved: {plain(pending.message)} For each field below, choose which version to "
            "keep; everything else of both versions is kept.",
            icon=":material/sync_problem:",
        )
        for field, row in zip(pending.fields, pending.rows, strict=True):
            st.markdown(f"**{row.field}**")
            theirs_col, mine_col = st.columns(2)
            theirs_col.caption("Saved in another tab or by another person")
            theirs_col.text(row.theirs)
            mine_col.caption("Yours (not saved)")
            mine_col.text(row.mine)
            st.segmented_control(
                f"Keep which {row.field.lower()}?",
                ["theirs", "mine"],
                format_func=lambda v: "The other version" if v == "theirs" else "Mine",
                default="theirs",
                required=True,
                key=target.key("conflict", field),
            )
        keep_theirs, resolve = st.columns(2)
        keep_theirs.button(
            "Keep all of the other version",
            key=target.key("conflict", "theirs"),
            on_click=_keep_theirs,
            args=(target,),
            width="stretch",
        )
        resolve.button(
            "Save my choices",
            key=target.key("conflict", "resolve"),
            on_click=_resolve,
            args=(target,),
            type="primary",
            width="stretch",
        )


def _guidance(instrument: Instrument, item: Item) -> None:
    with st.popover("Guidance", icon=":material/help:"):
        st.markdown(
            f"{item.description.strip()}\n\n"
            f"**{_label(instrument, 'presence', 'no')}** — {item.guidance.no.strip()}\n\n"
            f"**{_label(instrument, 'presence', 'partial')}** — {item.guidance.partial.strip()}\n\n"
            f"**{_label(instrument, 'presence', 'yes')}** — {item.guidance.yes.strip()}\n\n"
            f"*{_label(instrument, 'presence', 'omit')}* — "
            "not enough reliable information to rate; never the same as No."
        )


def _control_data(instrument: Instrument, target: Target, item_id: str) -> dict[str, Any]:
    s = st.session_state
    pending = _conflict(target)
    error = s.get(target.key("error", item_id))
    at = s.get(target.key("saved", item_id))
    return form.control_data(
        instrument,
        item_id,
        _draft(target).assessment.ratings.get(item_id),
        pathway=_draft(target).assessment.case.pathway.value,
        # Per user: text kept in a shared browser tab is never restored for someone else.
        storage=f"{target.user}/{target.reference}/{target.version}/{item_id}",
        ack=int(s.get(target.key(item_id, "ack"), 0)),
        saved=form.saved_label(at) if isinstance(at, dt.datetime) else "",
        error=f"Not saved: {error.message}" if isinstance(error, InstrumentError) else "",
        conflict=(
            "Not saved: the same field was changed in another tab or by another person; "
            "choose below which version to keep."
            if pending is not None and pending.subject == item_id
            else ""
        ),
        reset=int(s.get(target.key(item_id, "reset"), 0)),
    )


def _item_editor(instrument: Instrument, target: Target, item: Item) -> None:
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.subheader(f"{item.id} · {item.name}", anchor=form.item_anchor(item.id))
            _guidance(instrument, item)
        _conflict_panel(target, {item.id})
        item_control(
            target.key(item.id, "control"),
            _control_data(instrument, target, item.id),
            partial(_on_control, target, item.id),
        )
        _omit_reason(instrument, target, item)


def _omit_reason(instrument: Instrument, target: Target, item: Item) -> None:
    """Ask why an omitted item is omitted (1.1: needed before finalising)."""
    stored = _draft(target).assessment.ratings.get(item.id)
    reasons = instrument.scales.omit_reasons
    if not reasons or stored is None or stored.presence is not Presence.OMIT:
        return
    labels = {v.value: v.label for v in reasons}
    key = target.key(item.id, "omit_reason")
    st.session_state[key] = stored.omit_reason.value if stored.omit_reason else None
    st.segmented_control(
        "Why omitted",
        list(labels),
        format_func=lambda v: labels.get(v, v),
        key=key,
        on_change=_on_omit_reason,
        args=(target, item.id),
        help="Needed before finalising; for Other, say why in the evidence text.",
    )


def _on_omit_reason(target: Target, item_id: str) -> None:
    actor = current_actor()
    stored = _draft(target).assessment.ratings.get(item_id)
    if actor is None or stored is None:
        return
    value = st.session_state.get(target.key(item_id, "omit_reason"))
    rating = stored.model_copy(update={"omit_reason": OmitReason(value) if value else None})
    try:
        draft = current_service().save_rating(
            actor,
            target.reference,
            target.version,
            item_id,
            rating,
            base_revision=_draft(target).revision,
        )
    except InstrumentError as error:
        st.session_state[target.key("error", item_id)] = error
        return
    _remember(target, draft)


def _domain_progress_line(target: Target, domain_id: str) -> str:
    row = form.domain_progress(_instrument(target), _draft(target).assessment, domain_id)
    tick = ":material/check_circle:" if row.complete else ":material/radio_button_unchecked:"
    return f"{tick} {row.name} · {row.label}"


def _responsivity_progress_line(target: Target) -> str:
    row = form.responsivity_progress(_instrument(target), _draft(target).assessment)
    tick = ":material/check_circle:" if row.complete else ":material/radio_button_unchecked:"
    return f"{tick} {row.name} · {row.label}"


def _domain_section(target: Target, domain_id: str, sidebar_slot: Any) -> None:
    """Draw one domain: heading, description, its progress, and each item as its own fragment."""
    instrument = _instrument(target)
    domain = instrument.domain_by_id[domain_id]
    row = form.domain_progress(instrument, _draft(target).assessment, domain_id)
    st.header(domain.name, anchor=form.domain_anchor(domain_id), divider="gray")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(plain(domain.description.strip()))
        count_slot = st.empty()
        count_slot.markdown(f"**{row.label}**", width="content")
    for item in instrument.items_of(domain_id):
        _item_section(target, item.id, sidebar_slot, count_slot)


@st.fragment
def _item_section(target: Target, item_id: str, sidebar_slot: Any, count_slot: Any) -> None:
    # A click on an item reruns only this item (measured in bench_form.py: a whole domain as
    # one fragment took twice as long in Chromium), then updates the domain's progress lines.
    draw_item(target, item_id, sidebar_slot, count_slot)


def draw_item(target: Target, item_id: str, sidebar_slot: Any, count_slot: Any) -> None:
    """Draw one item's editor from the draft, and the domain's progress where it is shown."""
    instrument = _instrument(target)
    item = instrument.item_by_id[item_id]
    _item_editor(instrument, target, item)
    row = form.domain_progress(instrument, _draft(target).assessment, item.domain)
    sidebar_slot.markdown(_domain_progress_line(target, item.domain))
    count_slot.markdown(f"**{row.label}**", width="content")


@st.fragment
def _details_section(target: Target) -> None:
    _fill_details(target)
    st.header("Assessment details", anchor=form.DETAILS_ANCHOR, divider="gray")
    _conflict_panel(target, {"details"})
    date_col, saved_col = st.columns([3, 1])
    with date_col:
        st.date_input(
            "Date of the assessment",
            value=None,
            key=target.key("details", "date"),
            on_change=_on_details,
            args=(target,),
            format="YYYY-MM-DD",
            max_value=dt.date.today() + dt.timedelta(days=1),
            min_value=dt.date(1990, 1, 1),
        )
    with saved_col:
        _saved_marker(target, "details")
    named = sum(
        1
        for row in range(MAX_ASSESSOR_ROWS)
        if (st.session_state.get(target.key("details", "name", row)) or "").strip()
    )
    roles = [r.value for r in AssessorRole]
    for row in range(min(named + 1, MAX_ASSESSOR_ROWS)):
        name_col, role_col = st.columns([3, 2])
        name_col.text_input(
            "Assessor" if row == 0 else f"Assessor {row + 1}",
            key=target.key("details", "name", row),
            on_change=_on_details,
            args=(target,),
            max_chars=200,
            placeholder="Name as it should appear on reports",
        )
        role_col.segmented_control(
            "Role",
            roles,
            required=True,
            key=target.key("details", "role", row),
            on_change=_on_details,
            args=(target,),
        )
    st.text_area(
        "Notes on the assessment",
        key=target.key("details", "notes"),
        on_change=_on_details,
        args=(target,),
        height=80,
        max_chars=20_000,
    )
    _provisional_record(target)


def _provisional_record(target: Target) -> None:
    """Let the assessor record that the formulation is provisional, and why (1.1)."""
    if _instrument(target).rule.main_drivers_omitted_limit is None:
        return
    key = target.key("details", "provisional")
    if key not in st.session_state:
        st.session_state[key] = _draft(target).assessment.assessment.provisional_reason or ""
    st.text_area(
        "Provisional formulation: why (leave empty unless it is provisional)",
        key=key,
        on_change=_on_provisional,
        args=(target,),
        height=80,
        max_chars=20_000,
        help=(
            "Record here that the formulation is provisional and why, for example when the "
            "participant declined to discuss most topics. Finalising is refused while more than "
            "half of an area's main drivers are omitted, unless this is recorded."
        ),
    )


def _on_provisional(target: Target) -> None:
    actor = current_actor()
    if actor is None:
        return
    draft = _draft(target)
    info = draft.assessment.assessment
    try:
        saved = current_service().save_details(
            actor,
            target.reference,
            target.version,
            assessed_on=info.assessed_on,
            assessors=list(info.assessors),
            notes=draft.assessment.notes,
            base_revision=draft.revision,
            provisional_reason=st.session_state.get(target.key("details", "provisional")) or "",
        )
    except InstrumentError as error:
        st.session_state[target.key("error", "details")] = error
        return
    _remember(target, saved)


@st.fragment
def _responsivity_section(target: Target, sidebar_slot: Any) -> None:
    instrument = _instrument(target)
    _draw_responsivity(instrument, target)
    sidebar_slot.markdown(_responsivity_progress_line(target))


def _draw_responsivity(instrument: Instrument, target: Target) -> None:
    for rs in instrument.responsivity:
        _fill_note(target, rs.id)
    st.header("Responsivity", anchor=form.RESPONSIVITY_ANCHOR, divider="gray")
    st.caption(
        "How the intervention should be delivered; never part of a priority. Saved as you go."
    )
    _conflict_panel(target, {rs.id for rs in instrument.responsivity})
    labels = {"yes": "Applies", "no": "Does not apply", "omit": "Not known"}
    for rs in instrument.responsivity:
        with st.container(border=True):
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f"**{rs.id} · {rs.name}**", width="content")
                _saved_marker(target, f"responsivity.{rs.id}")
            st.caption(plain(rs.description.strip()))
            presence = st.segmented_control(
                f"Does {rs.id} apply?",
                [p.value for p in ResponsivityPresence],
                format_func=lambda v: labels[v],
                required=True,
                key=target.key(rs.id, "presence"),
                on_change=_on_note,
                args=(target, rs.id),
                label_visibility="collapsed",
            )
            if presence is not None:
                note_col, adapt_col = st.columns(2)
                note_col.text_area(
                    "Note",
                    key=target.key(rs.id, "note"),
                    on_change=_on_note,
                    args=(target, rs.id),
                    height=70,
                    max_chars=20_000,
                )
                adapt_col.text_area(
                    "Adaptation to delivery",
                    key=target.key(rs.id, "adaptation"),
                    on_change=_on_note,
                    args=(target, rs.id),
                    height=70,
                    max_chars=20_000,
                    placeholder="e.g. " + rs.adaptations[0].strip(),
                )


# --- finalise and amend --------------------------------------------------------------------


def _open(target: Target, what: str) -> None:
    st.session_state[target.key("open", what)] = True


def _close(target: Target, what: str) -> None:
    st.session_state.pop(target.key("open", what), None)


def _is_open(target: Target, what: str) -> bool:
    return bool(st.session_state.get(target.key("open", what)))


def _finalise_section(
    service: Service, actor: Actor, instrument: Instrument, target: Target
) -> None:
    st.header("Finalise", anchor="finalise", divider="gray")
    rows = form.progress(instrument, _draft(target).assessment)
    rated, total = sum(r.rated for r in rows), sum(r.total for r in rows)
    st.write(
        f"{rated} of {total} items are rated. Finalising signs this version as yours and "
        "freezes it: it can no longer be changed. A correction later is an amendment, a new "
        "version with a reason. Review the formulation (bands and narrative) before you "
        "finalise: it is frozen with the assessment."
    )
    judgement_form.bias_check(target.reference, target.version, target.key("draft"))
    st.button(
        "Check and finalise…",
        key=target.key("finalise", "check"),
        on_click=_open,
        args=(target, "checks"),
        type="primary",
        icon=":material/task_alt:",
    )
    if not _is_open(target, "checks"):
        return
    try:
        problems = service.finalisation_problems(actor, target.reference, target.version)
    except InstrumentError as error:
        show_error(error)
        return
    if problems:
        _problem_list(instrument, target, problems)
        return
    _finalise_dialog(service, actor, target)


def _problem_list(instrument: Instrument, target: Target, problems: list[Problem]) -> None:
    st.error(
        f"This version cannot be finalised yet: {len(problems)} "
        f"{'problem' if len(problems) == 1 else 'problems'} to fix first. Each one below "
        "opens the part of the form where it is fixed.",
        icon=":material/rule:",
    )
    for index, problem in enumerate(problems):
        link = form.problem_link(instrument, problem)
        fix = f" — {link.fix}" if link.fix else ""
        st.button(
            plain(f"{link.section} · {link.target}: {link.message}{fix}"),
            key=target.key("problem", index),
            on_click=_go_to,
            args=(link.section,),
            type="tertiary",
            icon=":material/arrow_forward:",
        )


@st.dialog("Finalise this assessment")
def _finalise_dialog(service: Service, actor: Actor, target: Target) -> None:
    st.write(
        f"Finalise version {target.version} of case {plain(target.reference)}? It is signed "
        f"'finalised by {plain(actor.username)}' with today's date and can no longer be changed."
    )
    password = password_again(service, actor, key=target.key("finalise", "password"))
    confirm, cancel = st.columns(2)
    if cancel.button("Cancel", key=target.key("finalise", "cancel"), width="stretch"):
        _close(target, "checks")
        st.rerun()
    if confirm.button(
        "Finalise", key=target.key("finalise", "confirm"), type="primary", width="stretch"
    ):
        try:
            if password is not None:
                service.confirm_password(actor, password)
            service.finalise(actor, target.reference, target.version)
        except InstrumentError as error:
            show_error(error)
            return
        _close(target, "checks")
        state.flash(f"Version {target.version} of {target.reference} is finalised.")
        navigation.go("formulation", case=target.reference, version=target.version)


def _amend_section(service: Service, actor: Actor, target: Target) -> None:
    st.button(
        "Amend this version…",
        key=target.key("amend", "open"),
        on_click=_open,
        args=(target, "amend"),
        icon=":material/edit_document:",
    )
    if _is_open(target, "amend"):
        _amend_dialog(service, actor, target)
    _upgrade_button(service, actor, target)


def _upgrade_button(service: Service, actor: Actor, target: Target) -> None:
    """Offer to upgrade a final version of an earlier definition (a new draft; it stays)."""
    current = cached_instrument()
    try:
        ref = service.get_assessment(actor, target.reference, target.version).assessment.instrument
    except InstrumentError:
        return
    if (ref.id, ref.version) == current.key:
        return
    if st.button(
        f"Upgrade to {current.version}",
        key=target.key("upgrade"),
        icon=":material/upgrade:",
        help=(
            f"Start the next version as a draft of {current.id} {current.version}, by its "
            "declared migration: new items arrive unrated and flagged. This version stays as it "
            "was signed."
        ),
    ):
        try:
            upgraded = service.upgrade(actor, target.reference, target.version)
        except InstrumentError as error:
            show_error(error)
            return
        state.flash(f"Version {upgraded.version} started as an upgrade to {current.version}.")
        navigation.go("assessment", case=target.reference, version=upgraded.version)


@st.dialog("Amend a finalised version")
def _amend_dialog(service: Service, actor: Actor, target: Target) -> None:
    st.write(
        f"Version {target.version} stays as it was signed. The amendment is a new draft version "
        "that starts from it; say why it is needed."
    )
    reason = st.text_area("Reason for the amendment", key=target.key("amend", "reason"))
    start, cancel = st.columns(2)
    if cancel.button("Cancel", key=target.key("amend", "cancel"), width="stretch"):
        _close(target, "amend")
        st.rerun()
    if start.button(
        "Start the amendment", key=target.key("amend", "start"), type="primary", width="stretch"
    ):
        try:
            draft = service.amend(actor, target.reference, target.version, reason or "")
        except InstrumentError as error:
            show_error(error)
            return
        _close(target, "amend")
        state.flash(f"Version {draft.version} started as an amendment.")
        navigation.go("assessment", case=target.reference, version=draft.version)


# --- read-only view ---------------------------------------------------------------------------


def _read_only(instrument: Instrument, draft: Draft) -> None:
    """Show a version as a record: the same tabs as the form, typed text shown as text."""
    assessment = draft.assessment
    labels = form.section_labels(instrument)[:-1]
    domains = {domain.name: domain.id for domain in instrument.domains}
    tabs = st.tabs(labels, key=state.ASSESSMENT_SECTION, bind="query-params", default=labels[0])
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open is False:
            continue
        with tab:
            if label == form.DETAILS_SECTION:
                info = assessment.assessment
                st.header("Assessment details", anchor=form.DETAILS_ANCHOR, divider="gray")
                st.text(f"Date: {info.assessed_on.isoformat() if info.assessed_on else '—'}")
                people = "; ".join(f"{a.name} ({a.role.value})" for a in info.assessors)
                st.text(f"Assessors: {people or '—'}")
                st.text(f"Notes: {assessment.notes or '—'}")
            elif label in domains:
                _read_only_domain(instrument, draft, domains[label])
            elif label == form.JUDGEMENT_SECTION:
                judgement_form.judgement_record(draft)
            else:
                st.header("Responsivity", anchor=form.RESPONSIVITY_ANCHOR, divider="gray")
                for rs in instrument.responsivity:
                    note = assessment.responsivity.get(rs.id)
                    st.markdown(f"**{rs.id} · {rs.name}**")
                    st.text("\n".join(f"{k}: {v}" for k, v in form.note_fields(note).items()))


def _read_only_domain(instrument: Instrument, draft: Draft, domain_id: str) -> None:
    domain = instrument.domain_by_id[domain_id]
    row = form.domain_progress(instrument, draft.assessment, domain_id)
    st.header(domain.name, anchor=form.domain_anchor(domain_id), divider="gray")
    st.caption(row.label)
    for item in instrument.items_of(domain_id):
        rating = draft.assessment.ratings.get(item.id)
        with st.container(border=True):
            st.markdown(f"**{item.id} · {item.name}** — {form.rating_summary(rating)}")
            if rating is not None:
                st.text(f"Evidence: {rating.evidence or form.EMPTY}")


# --- the page ---------------------------------------------------------------------------------


def _progress_panel(instrument: Instrument, target: Target) -> dict[str, Any]:
    """Draw the progress list in the sidebar; return one slot per domain for its fragment."""
    with st.sidebar:
        st.markdown("**Progress**")
        slots: dict[str, Any] = {}
        for domain in instrument.domains:
            slots[domain.id] = st.empty()
            slots[domain.id].markdown(_domain_progress_line(target, domain.id))
        slots[form.RESPONSIVITY_SECTION] = st.empty()
        slots[form.RESPONSIVITY_SECTION].markdown(_responsivity_progress_line(target))
    return slots


def _go_to(label: str) -> None:
    st.session_state[state.ASSESSMENT_SECTION] = label


def _title(draft: Draft, target: Target) -> None:
    assessment = draft.assessment
    status = draft.status.value
    st.title(f"Assessment · {plain(target.reference)}")
    amended = (
        f" · amends version {assessment.assessment.replaces}"
        if assessment.assessment.replaces
        else ""
    )
    who = f" by {draft.saved_by}" if draft.saved_by else ""
    saved = f" · last saved {form.timestamp(draft.saved_at)}{who}"
    pathway = (
        current_service().instrument_of(draft).pathway_by_id.get(assessment.case.pathway.value)
    )
    st.caption(
        f"Version {target.version} · {status} · pathway {assessment.case.pathway.value}"
        f"{amended}{saved}",
        # The definition's own words for the pathway, on hover or focus of the caption's help.
        help=plain(" ".join(pathway.description.split())) if pathway else None,
    )
    if assessment.assessment.amendment_reason:
        st.text(f"Reason for the amendment: {assessment.assessment.amendment_reason}")


def _header(draft: Draft, target: Target) -> None:
    _title(draft, target)
    message = state.take_flash()
    if message:
        st.success(plain(message), icon=":material/check_circle:")
    with st.container(horizontal=True):
        navigation.link(
            "case", "Case history", case=target.reference, icon=":material/folder_open:"
        )
        navigation.link(
            "formulation",
            "Formulation",
            case=target.reference,
            version=target.version,
            icon=":material/insights:",
        )


def _choose_version(service: Service, actor: Actor, reference: str) -> int | None:
    """Return the version in the URL, else the open draft, else the newest; audit the opening."""
    open_case(actor, reference)
    versions = service.case_history(actor, reference)
    return form.choose_version(versions, state.selected_version())


def _no_assessment_yet(service: Service, actor: Actor, reference: str) -> None:
    st.title(f"Assessment · {plain(reference)}")
    st.info("This case has no assessment yet.", icon=":material/edit_note:")
    if may_ever(actor, Action.EDIT_DRAFT) and st.button(
        "Start the first assessment", key=_key(reference, "start"), type="primary"
    ):
        try:
            draft = start_assessment(actor, reference)
        except InstrumentError as error:
            show_error(error)
            return
        navigation.go("assessment", case=reference, version=draft.version)


def render() -> None:
    """Show the assessment of the case and version selected in the URL."""
    actor = current_actor()
    if actor is None:
        return
    reference = state.selected_case()
    if reference is None:
        st.title("Assessment")
        st.info("Choose a case on the Cases page first.", icon=":material/folder_open:")
        navigation.link("cases", "Go to the cases", icon=":material/folder_shared:")
        return
    if not may_ever(actor, Action.READ_EVIDENCE):
        st.title(f"Assessment · {plain(reference)}")
        st.info(
            "Your role does not show assessment content (ratings and evidence). The formulation "
            "page shows what your role may see.",
            icon=":material/visibility_off:",
        )
        if may_ever(actor, Action.READ_FORMULATION):
            navigation.link("formulation", "Open the formulation", case=reference)
        return
    service = current_service()
    try:
        version = _choose_version(service, actor, reference)
        if version is None:
            _no_assessment_yet(service, actor, reference)
            return
        draft = service.get_assessment(actor, reference, version)
    except InstrumentError as error:
        st.title(f"Assessment · {plain(reference)}")
        show_error(error)
        navigation.link("cases", "Back to the cases", icon=":material/arrow_back:")
        return
    try:
        instrument = service.instrument_of(draft)
    except InstrumentError as error:
        st.title(f"Assessment · {plain(reference)}")
        show_error(error)
        return
    target = Target(reference, draft.version, actor.username)
    if state.selected_version() != draft.version:
        state.select_version(draft.version)
    _header(draft, target)
    _body(service, actor, instrument, draft, target)


def _body(
    service: Service, actor: Actor, instrument: Instrument, draft: Draft, target: Target
) -> None:
    """Draw the form for a draft the actor may edit; otherwise the read-only record."""
    editable = draft.status is AssessmentStatus.DRAFT and may_ever(actor, Action.EDIT_DRAFT)
    if not editable:
        if draft.status is AssessmentStatus.FINAL:
            st.info("This version is finalised and frozen.", icon=":material/lock:")
            if may_ever(actor, Action.AMEND):
                _amend_section(service, actor, target)
        _read_only(instrument, draft)
        return
    _sync(instrument, target, draft)
    slots = _progress_panel(instrument, target)
    labels = form.section_labels(instrument)
    domains = {domain.name: domain.id for domain in instrument.domains}
    # Lazy tabs bound to the URL: only the open tab runs and is drawn, which keeps every click
    # fast (a whole form of 35 items drawn at once took over a second per click in Chromium).
    tabs = st.tabs(labels, key=state.ASSESSMENT_SECTION, bind="query-params", default=labels[0])
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open is False:
            continue
        with tab:
            if label == form.DETAILS_SECTION:
                _details_section(target)
            elif label in domains:
                _domain_section(target, domains[label], slots[domains[label]])
            elif label == form.RESPONSIVITY_SECTION:
                _responsivity_section(target, slots[form.RESPONSIVITY_SECTION])
            elif label == form.JUDGEMENT_SECTION:
                judgement_form.judgement_tab(target.reference, target.version, target.key("draft"))
            elif may_ever(actor, Action.FINALISE):
                _finalise_section(service, actor, instrument, target)
            else:
                st.caption("Your role does not finalise assessments.")
            _next_button(target, labels, label)


def _next_button(target: Target, labels: list[str], label: str) -> None:
    """Offer the next tab at the end of this one, so the form reads top to bottom."""
    index = labels.index(label)
    if index + 1 < len(labels):
        following = labels[index + 1]
        st.button(
            f"Next: {following}",
            key=target.key("next", index),
            on_click=_go_to,
            args=(following,),
            icon=":material/arrow_forward:",
        )
