"""The assessment page: the form generated from the instrument, saved at once on every change.

Nothing here is written per item: the domains, items, scales and guidance all come from the
instrument definition. Each domain is one `@st.fragment`, so a click reruns only its domain; each
change calls the service in an `on_change` callback with the revision it was based on, and the
database stays the source of truth: the draft is read from it on every page load and its values
are put back into the widgets whenever the stored revision is not the one this browser session
last saw. A stale save is never resolved silently: the page shows both versions and asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import streamlit as st

from instrument.access import Action, Actor, may_ever
from instrument.assessment import Rating, ResponsivityNote
from instrument.definition import Instrument, Item, ScaleValue
from instrument.errors import ConflictError, InstrumentError, Problem
from instrument.service import Draft, Service
from instrument.ui import form, judgement_form, navigation, state
from instrument.ui.components import cached_instrument, plain, show_error
from instrument.ui.context import current_actor, current_service, open_case
from instrument.vocabulary import AssessmentStatus, AssessorRole, ResponsivityPresence

MAX_ASSESSOR_ROWS = 10

# --- keys ----------------------------------------------------------------------------------------


def _key(*parts: object) -> str:
    return state.widget_key(state.ASSESSMENT_FORM, ".".join(str(p) for p in parts))


@dataclass(frozen=True)
class Target:
    """The draft this page edits: case reference and version."""

    reference: str
    version: int

    def key(self, *parts: object) -> str:
        """Return a session-state key scoped to this draft."""
        return _key(self.reference, self.version, *parts)


@dataclass(frozen=True)
class PendingConflict:
    """A save the database refused because someone else saved first."""

    kind: str  # "rating", "responsivity" or "details"
    subject: str  # item id, responsivity id, or "details"
    mine: dict[str, str]
    theirs: dict[str, str]
    message: str
    retry: Any  # what to save when the user keeps theirs-over: a Rating, note, or details dict


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


ITEM_FIELDS = (
    "presence",
    "relevance",
    "evidence",
    "sources",
    "timeframe",
    "omit_reason",
    "waiting",
)
NOTE_FIELDS = ("presence", "note", "adaptation")


def _fill_item(target: Target, item_id: str, *, only_missing: bool = True) -> None:
    rating = _draft(target).assessment.ratings.get(item_id)
    values: dict[str, Any] = {
        "presence": rating.presence.value if rating else None,
        "relevance": rating.relevance.value if rating and rating.relevance else None,
        "evidence": rating.evidence if rating else None,
        "sources": [s.value for s in rating.sources] if rating else [],
        "timeframe": rating.timeframe.value if rating and rating.timeframe else None,
        "omit_reason": rating.omit_reason.value if rating and rating.omit_reason else None,
    }
    unsaved = st.session_state.get(target.key(item_id, "unsaved"))
    if isinstance(unsaved, dict):
        # A present rating still waiting for its relevance: what was typed comes back with it.
        values |= unsaved
        st.session_state[target.key(item_id, "waiting")] = True
    for field, value in values.items():
        _put(target.key(item_id, field), value, only_missing=only_missing)


def _fill_note(target: Target, rs_id: str) -> None:
    note = _draft(target).assessment.responsivity.get(rs_id)
    _put(target.key(rs_id, "presence"), note.presence.value if note else None, only_missing=True)
    _put(target.key(rs_id, "note"), note.note if note else None, only_missing=True)
    _put(target.key(rs_id, "adaptation"), note.adaptation if note else None, only_missing=True)


def _fill_details(target: Target) -> None:
    assessment = _draft(target).assessment
    info = assessment.assessment
    _put(target.key("details", "date"), info.assessed_on, only_missing=True)
    for row in range(len(info.assessors) + 1):
        person = info.assessors[row] if row < len(info.assessors) else None
        role = person.role if person else AssessorRole.PSYCHOLOGIST
        _put(target.key("details", "name", row), person.name if person else None, only_missing=True)
        _put(target.key("details", "role", row), role.value, only_missing=True)
    _put(target.key("details", "notes"), assessment.notes, only_missing=True)
    _put(target.key("details", "provisional"), info.provisional_reason, only_missing=True)


def _clear_widgets(instrument: Instrument, target: Target, *, unsaved: bool = False) -> None:
    """Forget every value of the form, so that each section refills from the stored draft.

    Ratings still waiting for their relevance are kept unless `unsaved` says to drop them too.
    """
    fields = (*ITEM_FIELDS, "unsaved") if unsaved else ITEM_FIELDS
    keys = [target.key(item.id, field) for item in instrument.items for field in fields]
    keys += [target.key(rs.id, field) for rs in instrument.responsivity for field in NOTE_FIELDS]
    keys += [target.key("details", field) for field in ("date", "notes", "provisional")]
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


def _rating_in_form(target: Target, item_id: str) -> Rating | None:
    s = st.session_state
    return form.rating_from_fields(
        s.get(target.key(item_id, "presence")),
        s.get(target.key(item_id, "relevance")),
        s.get(target.key(item_id, "evidence")),
        s.get(target.key(item_id, "sources")) or [],
        s.get(target.key(item_id, "timeframe")),
        s.get(target.key(item_id, "omit_reason")),
    )


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
    details = {
        "assessed_on": s.get(target.key("details", "date")),
        "assessors": form.assessors_from_rows(rows),
        "notes": notes or None,
    }
    provisional = target.key("details", "provisional")
    if provisional in s:  # drawn for 1.1 drafts only; blank text removes the record
        details["provisional_reason"] = s.get(provisional) or ""
    return details


def _after_save(target: Target, draft: Draft, where: str) -> None:
    _remember(target, draft)
    st.session_state[target.key("saved", where)] = draft.saved_at
    st.session_state.pop(target.key("conflict"), None)


def _save(target: Target, kind: str, subject: str, where: str, value: Any) -> None:
    """Save one change through the service; on a stale revision keep both versions to show."""
    actor = current_actor()
    if actor is None:
        return
    service = current_service()
    base = _draft(target).revision
    try:
        draft = _write(service, actor, target, kind, subject, value, base)
    except ConflictError as error:
        _hold_conflict(service, actor, target, kind, subject, value, error)
        return
    except InstrumentError as error:
        st.session_state[target.key("error", where)] = error
        return
    st.session_state.pop(target.key("error", where), None)
    _after_save(target, draft, where)


def _write(
    service: Service,
    actor: Actor,
    target: Target,
    kind: str,
    subject: str,
    value: Any,
    base: int,
) -> Draft:
    if kind == "rating":
        return service.save_rating(
            actor, target.reference, target.version, subject, value, base_revision=base
        )
    if kind == "responsivity":
        return service.save_responsivity(
            actor, target.reference, target.version, subject, value, base_revision=base
        )
    return service.save_details(
        actor, target.reference, target.version, base_revision=base, **value
    )


def _shown(kind: str, subject: str, draft: Draft | None, value: Any) -> dict[str, str]:
    if kind == "rating":
        rating = draft.assessment.ratings.get(subject) if draft else value
        return form.rating_fields(rating)
    if kind == "responsivity":
        note = draft.assessment.responsivity.get(subject) if draft else value
        return form.note_fields(note)
    if draft is not None:
        info = draft.assessment.assessment
        value = {
            "assessed_on": info.assessed_on,
            "assessors": info.assessors,
            "notes": draft.assessment.notes,
        }
    return {
        "Date": value["assessed_on"].isoformat() if value["assessed_on"] else "—",
        "Assessors": "; ".join(f"{a.name} ({a.role.value})" for a in value["assessors"]) or "—",
        "Notes": value["notes"] or form.EMPTY,
    }


def _hold_conflict(
    service: Service,
    actor: Actor,
    target: Target,
    kind: str,
    subject: str,
    value: Any,
    error: ConflictError,
) -> None:
    try:
        stored = service.get_assessment(actor, target.reference, target.version)
    except InstrumentError:
        stored = None
    st.session_state[target.key("conflict")] = PendingConflict(
        kind=kind,
        subject=subject,
        mine=_shown(kind, subject, None, value),
        theirs=_shown(kind, subject, stored, value) if stored else {},
        message=error.message,
        retry=value,
    )
    if stored is not None:
        st.session_state[target.key("stored")] = stored


def _on_rating(target: Target, item_id: str, domain_id: str) -> None:
    rating = _rating_in_form(target, item_id)
    waiting = target.key(item_id, "waiting")
    unsaved = target.key(item_id, "unsaved")
    if rating is not None and rating.is_present and rating.relevance is None:
        # A present factor is stored with its relevance: wait for it, and say so beside it.
        # Keep what was typed meanwhile, so that another tab and back does not lose it.
        st.session_state[waiting] = True
        st.session_state[unsaved] = {
            field: st.session_state.get(target.key(item_id, field))
            for field in ("presence", "evidence", "sources", "timeframe")
        }
        return
    st.session_state.pop(waiting, None)
    st.session_state.pop(unsaved, None)
    _save(target, "rating", item_id, item_id, rating)


def _on_note(target: Target, rs_id: str) -> None:
    _save(target, "responsivity", rs_id, "responsivity", _note_in_form(target, rs_id))


def _on_details(target: Target) -> None:
    _save(target, "details", "details", "details", _details_in_form(target))


def _keep_theirs(target: Target) -> None:
    stored = st.session_state.pop(target.key("stored"), None)
    st.session_state.pop(target.key("conflict"), None)
    if isinstance(stored, Draft):
        _clear_widgets(_instrument(target), target, unsaved=True)
        _remember(target, stored)


def _keep_mine(target: Target) -> None:
    pending = _conflict(target)
    stored = st.session_state.pop(target.key("stored"), None)
    if pending is None or not isinstance(stored, Draft):
        return
    where = pending.subject if pending.kind == "rating" else pending.kind
    _remember(target, stored)
    st.session_state.pop(target.key("conflict"), None)
    _save(target, pending.kind, pending.subject, where, pending.retry)
    if _conflict(target) is None:
        # Everything now shows what is stored, with this change on top.
        _clear_widgets(_instrument(target), target)


# --- drawing ----------------------------------------------------------------------------------


def _label(instrument: Instrument, scale: str, value: str) -> str:
    for entry in getattr(instrument.scales, scale):
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
            f"Not saved: {plain(pending.message)} Your change to {pending.subject} and the stored "
            "version are shown below. Choose which one to keep.",
            icon=":material/sync_problem:",
        )
        theirs_col, mine_col = st.columns(2)
        with theirs_col:
            st.markdown("**Stored version (theirs)**")
            for row in form.differences(pending.theirs, pending.mine):
                st.text(f"{row.field}: {row.theirs}")
        with mine_col:
            st.markdown("**Your version (not saved)**")
            for row in form.differences(pending.theirs, pending.mine):
                marker = "  ← differs" if row.differs else ""
                st.text(f"{row.field}: {row.mine}{marker}")
        keep_theirs, keep_mine = st.columns(2)
        keep_theirs.button(
            "Keep the stored version",
            key=target.key("conflict", "theirs"),
            on_click=_keep_theirs,
            args=(target,),
            width="stretch",
        )
        keep_mine.button(
            "Save my version over it",
            key=target.key("conflict", "mine"),
            on_click=_keep_mine,
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
            + (f"\n\n**Note** — {item.guidance.note.strip()}" if item.guidance.note else "")
        )


def _relevance_anchors(instrument: Instrument, target: Target, item: Item) -> list[ScaleValue]:
    """Return the relevance anchors for this item on the case's pathway (1.1 words them so)."""
    pathway = _draft(target).assessment.case.pathway
    return instrument.scales.relevance_for(pathway, instrument.kind_of(item.id))


def _item_editor(instrument: Instrument, target: Target, item: Item) -> None:
    args = (target, item.id, item.domain)
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.subheader(f"{item.id} · {item.name}", anchor=form.item_anchor(item.id))
            _saved_marker(target, item.id)
            _guidance(instrument, item)
        _conflict_panel(target, {item.id})
        left, right = st.columns([2, 3])
        with left:
            # Segmented controls, not radios: a radio reads the whole session state each time it
            # is drawn, which made a full form several times slower (see bench_form.py).
            presence = st.segmented_control(
                "Presence",
                [v.value for v in instrument.scales.presence],
                format_func=lambda v: _label(instrument, "presence", v),
                required=True,
                key=target.key(item.id, "presence"),
                on_change=_on_rating,
                args=args,
            )
            if form.relevance_applies(presence):
                anchors = _relevance_anchors(instrument, target, item)
                labels = {v.value: v.label for v in anchors}
                relevance = st.segmented_control(
                    "Relevance",
                    [v.value for v in anchors],
                    format_func=lambda v: labels.get(v, v),
                    required=True,
                    key=target.key(item.id, "relevance"),
                    on_change=_on_rating,
                    args=args,
                    help="\n\n".join(f"**{v.label}**: {v.description.strip()}" for v in anchors),
                )
                if relevance is None and st.session_state.get(target.key(item.id, "waiting")):
                    st.warning(
                        "Not saved yet: choose the relevance to save this rating.",
                        icon=":material/pending:",
                    )
            if presence is not None:
                st.segmented_control(
                    "Timeframe",
                    [v.value for v in instrument.scales.timeframe],
                    format_func=lambda v: _label(instrument, "timeframe", v),
                    key=target.key(item.id, "timeframe"),
                    on_change=_on_rating,
                    args=args,
                    help="Click the chosen value again to clear it.",
                )
        with right:
            if presence == "omit" and instrument.scales.omit_reasons:
                reasons = {v.value: v.label for v in instrument.scales.omit_reasons}
                st.segmented_control(
                    "Why omitted",
                    list(reasons),
                    format_func=lambda v: reasons.get(v, v),
                    key=target.key(item.id, "omit_reason"),
                    on_change=_on_rating,
                    args=args,
                    help="Needed before finalising; for Other, say why in the text below.",
                )
            if presence is None:
                st.caption("Rate presence first; evidence and sources are recorded with it.")
            else:
                st.text_area(
                    "Evidence" if presence != "omit" else "Why it could not be rated",
                    key=target.key(item.id, "evidence"),
                    on_change=_on_rating,
                    args=args,
                    height=90,
                    max_chars=20_000,
                    placeholder="What the rating rests on (saved when you leave the box)",
                )
                st.multiselect(
                    "Sources",
                    [v.value for v in instrument.scales.sources],
                    format_func=lambda v: _label(instrument, "sources", v),
                    key=target.key(item.id, "sources"),
                    on_change=_on_rating,
                    args=args,
                    placeholder="Where the evidence came from",
                )


def _domain_progress_line(target: Target, domain_id: str) -> str:
    row = form.domain_progress(_instrument(target), _draft(target).assessment, domain_id)
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
    _fill_item(target, item_id)
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
    if _instrument(target).rule.main_drivers_omitted_limit is not None:
        st.text_area(
            "Provisional formulation: why (leave empty unless it is provisional)",
            key=target.key("details", "provisional"),
            on_change=_on_details,
            args=(target,),
            height=80,
            max_chars=20_000,
            help=(
                "Record here that the formulation is provisional and why, for example when the "
                "participant declined to discuss most topics. Finalising is refused while more "
                "than half of an area's main drivers are omitted, unless this is recorded."
            ),
        )


@st.fragment
def _responsivity_section(target: Target) -> None:
    instrument = _instrument(target)
    for rs in instrument.responsivity:
        _fill_note(target, rs.id)
    st.header("Responsivity", anchor=form.RESPONSIVITY_ANCHOR, divider="gray")
    st.caption(
        "How the intervention should be delivered; never part of a priority. Saved as you go."
    )
    _saved_marker(target, "responsivity")
    _conflict_panel(target, {rs.id for rs in instrument.responsivity})
    labels = {"yes": "Applies", "no": "Does not apply", "omit": "Not known"}
    for rs in instrument.responsivity:
        with st.container(border=True):
            st.markdown(f"**{rs.id} · {rs.name}**")
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
    password = None
    if service.needs_password(actor):
        password = st.text_input(
            "Password",
            type="password",
            key=target.key("finalise", "password"),
            help="Your last sign-in was more than 5 minutes ago: enter your password again.",
        )
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


def _amend_section(service: Service, actor: Actor, target: Target, draft: Draft) -> None:
    st.button(
        "Amend this version…",
        key=target.key("amend", "open"),
        on_click=_open,
        args=(target, "amend"),
        icon=":material/edit_document:",
    )
    if _is_open(target, "amend"):
        _amend_dialog(service, actor, target)
    current = cached_instrument()
    ref = draft.assessment.instrument
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
        st.markdown("**Progress** (rated / items)")
        slots: dict[str, Any] = {}
        for domain in instrument.domains:
            slots[domain.id] = st.empty()
            slots[domain.id].markdown(_domain_progress_line(target, domain.id))
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
    saved = f" · last saved {draft.saved_at.astimezone():%Y-%m-%d %H:%M:%S}{who}"
    st.caption(
        f"Version {target.version} · {status} · pathway {assessment.case.pathway.value}"
        f"{amended}{saved}"
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
            draft = service.start_assessment(actor, reference)
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
    target = Target(reference, draft.version)
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
                _amend_section(service, actor, target, draft)
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
                _responsivity_section(target)
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
