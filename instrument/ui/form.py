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

from instrument.assessment import Assessment, Assessor, Rating, ResponsivityNote
from instrument.definition import Instrument
from instrument.errors import Problem
from instrument.formulation import MIN_RATIONALE
from instrument.vocabulary import (
    AssessmentStatus,
    AssessorRole,
    Band,
    OmitReason,
    Presence,
    Relevance,
    ResponsivityPresence,
    Source,
    Timeframe,
)

# --- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainProgress:
    """How many of a domain's items carry a rating (any presence, `omit` included)."""

    domain: str
    name: str
    rated: int
    total: int

    @property
    def complete(self) -> bool:
        """Return True when every item of the domain is rated."""
        return self.rated == self.total

    @property
    def label(self) -> str:
        """Return the progress as the form shows it, e.g. `3 / 5 rated`."""
        return f"{self.rated} / {self.total} rated"


def domain_progress(
    instrument: Instrument, assessment: Assessment, domain_id: str
) -> DomainProgress:
    """Return the progress of one domain."""
    domain = instrument.domain_by_id[domain_id]
    items = instrument.items_of(domain_id)
    rated = sum(1 for item in items if item.id in assessment.ratings)
    return DomainProgress(domain.id, domain.name, rated, len(items))


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


def rating_from_fields(
    presence: Presence | str | None,
    relevance: Relevance | str | None,
    evidence: str | None,
    sources: Sequence[Source | str],
    timeframe: Timeframe | str | None,
    omit_reason: OmitReason | str | None = None,
) -> Rating | None:
    """Return the rating the fields of one item describe, or None when presence is not chosen.

    Relevance is kept only when it applies, so switching a `yes` to `no` drops it (the document
    rule) while the evidence typed so far is kept; the omit reason likewise only with `omit`.
    Blank evidence is stored as absent.
    """
    if presence is None:
        return None
    presence = Presence(presence)
    text = (evidence or "").strip()
    return Rating(
        presence=presence,
        relevance=Relevance(relevance) if relevance and relevance_applies(presence) else None,
        evidence=text or None,
        sources=[Source(s) for s in sources],
        timeframe=Timeframe(timeframe) if timeframe else None,
        omit_reason=OmitReason(omit_reason) if omit_reason and presence is Presence.OMIT else None,
    )


def note_from_fields(
    presence: ResponsivityPresence | str | None, note: str | None, adaptation: str | None
) -> ResponsivityNote | None:
    """Return the responsivity note the fields describe, or None when presence is not chosen."""
    if presence is None:
        return None
    return ResponsivityNote(
        presence=ResponsivityPresence(presence),
        note=(note or "").strip() or None,
        adaptation=(adaptation or "").strip() or None,
    )


def assessors_from_rows(
    rows: Sequence[tuple[str | None, AssessorRole | str | None]],
) -> list[Assessor]:
    """Return the assessors named in the form's rows; rows without a name are left out."""
    return [
        Assessor(name=name.strip()[:200], role=AssessorRole(role or AssessorRole.PSYCHOLOGIST))
        for name, role in rows
        if name and name.strip()
    ]


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


def rating_fields(rating: Rating | None) -> dict[str, str]:
    """Return a rating's fields as labelled plain strings (for read-only views and conflicts)."""
    if rating is None:
        return {"Presence": NOT_RATED}
    return {
        "Presence": rating.presence.value,
        "Relevance": rating.relevance.value if rating.relevance else "—",
        "Evidence": rating.evidence or EMPTY,
        "Sources": ", ".join(s.value for s in rating.sources) or "—",
        "Timeframe": rating.timeframe.value if rating.timeframe else "—",
    } | ({"Omit reason": rating.omit_reason.value} if rating.omit_reason else {})


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


def differences(theirs: dict[str, str], mine: dict[str, str]) -> list[FieldDifference]:
    """Return every field of two versions side by side, in a stable order."""
    fields = list(dict.fromkeys([*theirs, *mine]))
    return [FieldDifference(f, theirs.get(f, "—"), mine.get(f, "—")) for f in fields]


# --- times, numbers, words ---------------------------------------------------------------------


def clock(at: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """Return a time of day as the form shows it, e.g. `10:31:02`, in `tz` (local by default)."""
    aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).strftime("%H:%M:%S")


def saved_label(at: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """Return the autosave marker, e.g. `Saved 10:31:02`."""
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
