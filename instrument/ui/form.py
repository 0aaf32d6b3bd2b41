"""What the assessment form and the formulation page show, computed without a browser.

The pages draw; this module decides: which items a domain holds and how many are rated, whether
relevance applies, how the fields of one item become a `Rating` (or nothing to save yet), where a
finalisation problem points to on the page, how two versions of a rating differ in a conflict,
and how the numbers of a priority read to a psychologist. No Streamlit here, so every rule is a
plain unit test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from instrument.assessment import Assessment, Assessor, Rating, ResponsivityNote
from instrument.definition import Instrument, ScaleValue
from instrument.errors import DocumentError, Problem
from instrument.formulation import MIN_RATIONALE
from instrument.vocabulary import (
    AssessmentStatus,
    AssessorRole,
    Band,
    Presence,
    Relevance,
    ResponsivityPresence,
    Source,
    Timeframe,
    text_problem,
)

# --- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainProgress:
    """How many of a domain's items are rated, and how many of those were omitted."""

    domain: str
    name: str
    rated: int
    total: int
    omitted: int = 0

    @property
    def complete(self) -> bool:
        """Return True when every item of the domain is rated (`omit` counts as rated)."""
        return self.rated + self.omitted == self.total

    @property
    def label(self) -> str:
        """Return the progress as the form shows it, e.g. `3 rated · 1 omitted · 5 items`."""
        items = "item" if self.total == 1 else "items"
        return f"{self.rated} rated · {self.omitted} omitted · {self.total} {items}"


def domain_progress(
    instrument: Instrument, assessment: Assessment, domain_id: str
) -> DomainProgress:
    """Return the progress of one domain: items rated other than `omit`, and omitted ones."""
    domain = instrument.domain_by_id[domain_id]
    items = instrument.items_of(domain_id)
    ratings = [assessment.ratings[i.id] for i in items if i.id in assessment.ratings]
    omitted = sum(1 for r in ratings if r.presence is Presence.OMIT)
    return DomainProgress(domain.id, domain.name, len(ratings) - omitted, len(items), omitted)


def responsivity_progress(instrument: Instrument, assessment: Assessment) -> DomainProgress:
    """Return the progress of the responsivity notes, e.g. `2 noted · 1 not known · 4 items`."""
    notes = [
        assessment.responsivity[r.id]
        for r in instrument.responsivity
        if r.id in assessment.responsivity
    ]
    unknown = sum(1 for n in notes if n.presence is ResponsivityPresence.OMIT)
    return DomainProgress(
        "responsivity", "Responsivity", len(notes) - unknown, len(instrument.responsivity), unknown
    )


def progress(instrument: Instrument, assessment: Assessment) -> list[DomainProgress]:
    """Return the progress of every domain, in display order."""
    return [domain_progress(instrument, assessment, d.id) for d in instrument.domains]


# --- which version a page shows --------------------------------------------------------------


class _Version(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def status(self) -> AssessmentStatus: ...


def choose_version(versions: Sequence[_Version], wanted: int | None) -> int | None:
    """Return the version to show: the one asked for, else the open draft, else the newest."""
    if wanted is not None:
        return wanted
    drafts = [v.version for v in versions if v.status is AssessmentStatus.DRAFT]
    if drafts:
        return drafts[-1]
    return versions[-1].version if versions else None


# --- one item's fields -----------------------------------------------------------------------


def relevance_applies(presence: Presence | str | None) -> bool:
    """Return True when relevance is asked for: presence is `partial` or `yes`."""
    return presence in (Presence.PARTIAL, Presence.YES)


def checked_text(text: str, field: str, *, single_line: bool = False) -> str:
    """Return `text` when it holds no control or bidirectional character (SECURITY.md 32).

    Raises:
        DocumentError: naming the field and the character.
    """
    problem = text_problem(text, field, single_line=single_line)
    if problem is not None:
        raise DocumentError([problem])
    return text


def rating_from_fields(
    presence: Presence | str | None,
    relevance: Relevance | str | None,
    evidence: str | None,
    sources: Sequence[Source | str],
    timeframe: Timeframe | str | None,
) -> Rating | None:
    """Return the rating the fields of one item describe, or None when presence is not chosen.

    Relevance is kept only when it applies, so switching a `yes` to `no` drops it (the document
    rule) while the evidence typed so far is kept. Blank evidence is stored as absent.
    """
    if presence is None:
        return None
    presence = Presence(presence)
    text = checked_text((evidence or "").strip(), "evidence")
    return Rating(
        presence=presence,
        relevance=Relevance(relevance) if relevance and relevance_applies(presence) else None,
        evidence=text or None,
        sources=[Source(s) for s in sources],
        timeframe=Timeframe(timeframe) if timeframe else None,
    )


def note_from_fields(
    presence: ResponsivityPresence | str | None, note: str | None, adaptation: str | None
) -> ResponsivityNote | None:
    """Return the responsivity note the fields describe, or None when presence is not chosen."""
    if presence is None:
        return None
    return ResponsivityNote(
        presence=ResponsivityPresence(presence),
        note=checked_text((note or "").strip(), "note") or None,
        adaptation=checked_text((adaptation or "").strip(), "adaptation") or None,
    )


def assessors_from_rows(
    rows: Sequence[tuple[str | None, AssessorRole | str | None]],
) -> list[Assessor]:
    """Return the assessors named in the form's rows; rows without a name are left out."""
    return [
        Assessor(
            name=checked_text(name.strip()[:200], "assessor's name", single_line=True),
            role=AssessorRole(role or AssessorRole.PSYCHOLOGIST),
        )
        for name, role in rows
        if name and name.strip()
    ]


# --- one item's controls in the browser --------------------------------------------------------

FIELD_LABELS = {
    "presence": "Presence",
    "relevance": "Relevance",
    "timeframe": "Timeframe",
    "sources": "Sources",
    "evidence": "Evidence",
    "note": "Note",
    "adaptation": "Adaptation",
}
RATED = ("no", "partial", "yes")


def rating_values(rating: Rating | None) -> dict[str, object]:
    """Return a rating as the item control holds it: plain values, empty when not rated."""
    if rating is None:
        return {
            "presence": None,
            "relevance": None,
            "timeframe": None,
            "sources": [],
            "evidence": None,
        }
    return {
        "presence": rating.presence.value,
        "relevance": rating.relevance.value if rating.relevance else None,
        "timeframe": rating.timeframe.value if rating.timeframe else None,
        "sources": [s.value for s in rating.sources],
        "evidence": rating.evidence,
    }


def _options(values: Sequence[ScaleValue]) -> list[dict[str, str]]:
    return [
        {"value": v.value, "label": v.label, "hint": " ".join(v.description.split())}
        for v in values
    ]


def control_data(
    instrument: Instrument,
    item_id: str,
    rating: Rating | None,
    *,
    storage: str,
    ack: int = 0,
    saved: str = "",
    error: str = "",
    conflict: str = "",
    reset: int = 0,
    pathway: str | None = None,
) -> dict[str, object]:
    """Return what the item control draws: its groups, labels and help, values and status.

    Everything comes from the definition: the scales' labels, and their descriptions as the help
    beside Relevance (and as each option's tooltip). `storage` names the item in the tab's
    session storage (case, version and item; never text). A new choice group (an omit reason,
    say) is one more entry in `groups` with the presence values it is shown for in `show`.
    """
    scales = instrument.scales
    # 1.1 words relevance for the case's pathway, and for strengths as their value as strengths.
    anchors = (
        scales.relevance
        if pathway is None
        else scales.relevance_for(pathway, instrument.kind_of(item_id))
    )
    relevance_help = [
        {"term": str(v.label), "text": " ".join(v.description.split())} for v in anchors
    ]
    return {
        "id": item_id,
        "storage": storage,
        "groups": [
            {"name": "presence", "label": "Presence", "options": _options(scales.presence)},
            {
                "name": "relevance",
                "label": "Relevance",
                "options": _options(anchors),
                "show": {"presence": ["partial", "yes"]},
                "required": True,
                "help": relevance_help,
                "help_for_choice": True,
            },
            {
                "name": "timeframe",
                "label": "Timeframe",
                "options": [
                    *_options(scales.timeframe),
                    {"value": "", "label": "Not stated", "hint": "No timeframe recorded."},
                ],
                "show": {"presence": list(RATED)},
            },
        ],
        "sources": {
            "label": "Sources",
            "options": _options(scales.sources),
            "all": "Select all",
            "none": "Clear all",
        },
        "evidence": {
            "label": "Evidence",
            "label_omit": "Why it could not be rated",
            "placeholder": "What the rating rests on (saved when you pause typing)",
            "placeholder_omit": "What information is missing, and where it might be found",
            "max": 20_000,
        },
        "first": "Rate presence first; evidence and sources are recorded with it.",
        "values": rating_values(rating),
        "ack": ack,
        "saved": saved,
        "error": error,
        "conflict": conflict,
        "reset": reset,
    }


@dataclass(frozen=True)
class ItemChange:
    """A change the item control sent: its sequence number, the rating, and what it started from."""

    seq: int
    rating: Rating | None
    base: Rating | None
    waiting: bool


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("text expected")
    return value


def _rating_of(values: object) -> Rating | None:
    if not isinstance(values, dict):
        raise ValueError("values expected")
    sources = values.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ValueError("sources expected as a list of values")
    return rating_from_fields(
        _text(values.get("presence")),
        _text(values.get("relevance")),
        _text(values.get("evidence")),
        sources,
        _text(values.get("timeframe")) or None,
    )


def item_change(payload: object) -> ItemChange:
    """Return the change an item control sent, checked (it comes from the browser).

    Raises:
        ValueError: when the payload is not what the control sends (a forged or broken message).
    """
    if not isinstance(payload, dict):
        raise ValueError("a change must be an object")
    seq = payload.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("a change needs its sequence number")
    values = payload.get("values")
    try:
        rating = _rating_of(values)
        base = _rating_of(payload.get("base"))
    except ValidationError as error:
        raise ValueError(f"a value is not one of the scale's: {error.errors()[0]['loc']}") from None
    waiting = rating is not None and rating.is_present and rating.relevance is None
    return ItemChange(seq, rating, base, waiting)


# --- sections and where a problem points ------------------------------------------------------

DETAILS_SECTION = "Details"
RESPONSIVITY_SECTION = "Responsivity"
JUDGEMENT_SECTION = "Judgement"
FINALISE_SECTION = "Finalise"
JUDGEMENT_ANCHOR = "judgement"
JUDGEMENT_PARTS = {
    "five_p": "5P",
    "person_specific": "Person-specific factors",
    "good_lives": "Good Lives",
    "scenarios": "Scenarios",
    "summary": "Summary judgements",
    "limitations": "Limitations",
}
"""How each part of the assessor's judgement is named where a problem points to it."""
BIAS_CHECK_ANCHOR = "bias-check"
DETAILS_ANCHOR = "assessment-details"
RESPONSIVITY_ANCHOR = "responsivity"

_RATING_PATH = re.compile(r"^\$\.ratings\.([A-Z]{2}[0-9]{1,2})(?:\.(\w+))?")
_RESPONSIVITY_PATH = re.compile(r"^\$\.responsivity\.([A-Z]{2}[0-9]{1,2})")


def section_labels(instrument: Instrument) -> list[str]:
    """Return the form's tabs in order: details, each domain, responsivity, judgement, finalise."""
    return [
        DETAILS_SECTION,
        *(domain.name for domain in instrument.domains),
        RESPONSIVITY_SECTION,
        JUDGEMENT_SECTION,
        FINALISE_SECTION,
    ]


def item_anchor(item_id: str) -> str:
    """Return the in-page anchor of an item's section, e.g. `item-id1`."""
    return f"item-{item_id.lower()}"


def domain_anchor(domain_id: str) -> str:
    """Return the in-page anchor of a domain's section, e.g. `domain-identity`."""
    return f"domain-{domain_id}"


@dataclass(frozen=True)
class ProblemLink:
    """A finalisation problem as the form lists it: the tab and anchor it leads to, and text."""

    section: str
    anchor: str
    target: str
    message: str
    fix: str


def problem_link(instrument: Instrument, problem: Problem) -> ProblemLink:
    """Return where in the form a finalisation problem can be fixed, and how to say it."""
    match = _RATING_PATH.match(problem.where)
    if match and match.group(1) in instrument.item_by_id:
        item_id, field = match.groups()
        domain = instrument.domain_by_id[instrument.item_by_id[item_id].domain]
        target = f"{item_id} {field}" if field else item_id
        return ProblemLink(domain.name, item_anchor(item_id), target, problem.message, problem.fix)
    match = _RESPONSIVITY_PATH.match(problem.where)
    if match:
        return ProblemLink(
            RESPONSIVITY_SECTION,
            RESPONSIVITY_ANCHOR,
            match.group(1),
            problem.message,
            problem.fix,
        )
    if problem.where.startswith("$.judgement"):
        part = re.split(r"[.\[]", problem.where.removeprefix("$.judgement."), maxsplit=1)[0]
        if part == "bias_check":
            return ProblemLink(
                FINALISE_SECTION, BIAS_CHECK_ANCHOR, "Bias check", problem.message, problem.fix
            )
        target = JUDGEMENT_PARTS.get(part, "Judgement")
        return ProblemLink(
            JUDGEMENT_SECTION, JUDGEMENT_ANCHOR, target, problem.message, problem.fix
        )
    field = problem.where.rsplit(".", 1)[-1].replace("_", " ")
    return ProblemLink(
        DETAILS_SECTION, DETAILS_ANCHOR, f"Assessment {field}", problem.message, problem.fix
    )


# --- conflicts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDifference:
    """One field of an item in a conflict: the stored value and the one the user tried."""

    field: str
    theirs: str
    mine: str

    @property
    def differs(self) -> bool:
        """Return True when the two versions disagree on this field."""
        return self.theirs != self.mine


NOT_RATED = "(not rated)"
EMPTY = "(empty)"


def rating_summary(rating: Rating | None) -> str:
    """Return a rating's choices on one line, e.g. `yes · high relevance · interview · current`.

    Holds no typed text (the evidence is shown on its own, as text).
    """
    if rating is None:
        return NOT_RATED
    parts = [rating.presence.value]
    if rating.relevance:
        parts.append(f"{rating.relevance.value} relevance")
    parts.append(", ".join(s.value for s in rating.sources) or "no source recorded")
    if rating.timeframe:
        parts.append(rating.timeframe.value)
    return " · ".join(parts)


def note_fields(note: ResponsivityNote | None) -> dict[str, str]:
    """Return a responsivity note's fields as labelled plain strings."""
    if note is None:
        return {"Applies": NOT_RATED}
    return {
        "Applies": note.presence.value,
        "Note": note.note or EMPTY,
        "Adaptation": note.adaptation or EMPTY,
    }


# --- times, numbers, words ---------------------------------------------------------------------


def clock(at: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """Return a time of day with its zone, e.g. `10:31:02 UTC` (UTC unless `tz` says otherwise).

    One convention for every time the app shows: UTC, and the zone always written out.
    """
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).strftime("%H:%M:%S %Z")


def timestamp(at: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """Return a date and time with its zone, e.g. `2026-11-30 10:31 UTC`."""
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def saved_label(at: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """Return the autosave marker, e.g. `Saved 10:31:02 UTC`."""
    return f"Saved {clock(at, tz)}"


BAND_LABELS: dict[Band, str] = {
    Band.HIGH: "High",
    Band.MODERATE: "Moderate",
    Band.LOW: "Low",
    Band.INSUFFICIENT_INFORMATION: "Insufficient information",
}

SCORE_NOTE = (
    "The score (0 to 1) says how strongly the rated items point to work in this area; it is not "
    "a risk score and says nothing about how likely the participant is to do anything."
)


def sentences(parts: Sequence[str]) -> str:
    """Return sentences as one text, each ending with a full stop, e.g. `Use a. Try b.`."""
    cleaned = [p.strip() for p in parts if p.strip()]
    return " ".join(p if p.endswith((".", "!", "?")) else f"{p}." for p in cleaned)


def percent(share: float) -> str:
    """Return a share from 0 to 1 as a whole percentage, e.g. `75%`."""
    return f"{round(share * 100)}%"


def rationale_problem(text: str | None) -> str | None:
    """Return why an override rationale is refused, or None when it is long enough.

    Counted as the formulation counts it: characters other than spaces.
    """
    length = len("".join((text or "").split()))
    if length >= MIN_RATIONALE:
        return None
    return (
        f"Write at least {MIN_RATIONALE} characters explaining why the band should differ "
        f"({length} so far)."
    )
