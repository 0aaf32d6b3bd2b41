"""Assessments: start a draft, read a version, autosave ratings, responsivity and details.

Every change to a draft carries the revision it was based on; a stale one is refused with a
`ConflictError` naming who saved last and when, unless the caller asks to merge: then it is
merged with the stored item field by field and only a field changed on both sides is refused.
A rating is saved whole: presence with its relevance (a `partial`/`yes` rating without
relevance is refused), so a stored draft is always a valid assessment document. Each draft is
read and checked against the instrument version it records; a new draft records the newest
installed version.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from instrument.access import Action, Actor
from instrument.assessment import (
    Assessment,
    AssessmentInfo,
    Assessor,
    CaseInfo,
    InstrumentRef,
    Rating,
    ResponsivityNote,
    check_assessment,
    merge_note,
    merge_rating,
)
from instrument.audit import AuditAction
from instrument.definition import Instrument
from instrument.errors import DocumentError, Problem
from instrument.formulation import Review
from instrument.service.base import ServiceBase, document_error
from instrument.service.views import Draft
from instrument.vocabulary import AssessmentStatus, Presence


def _ordered(instrument: Instrument, ratings: dict[str, Rating]) -> dict[str, Rating]:
    return {item.id: ratings[item.id] for item in instrument.items if item.id in ratings}


class AssessmentService(ServiceBase):
    """Drafts and their autosave."""

    def start_assessment(self, actor: Actor, reference: str) -> Draft:
        """Start the case's next assessment as an empty draft (v1 for a new case).

        The draft records the newest installed version of the instrument.

        Raises:
            ConflictError: when the case already has an open draft.
        """
        with self._operation(actor, AuditAction.START) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_DRAFT)
            self._no_open_draft(tx, case)
            instrument = self.definitions.newest()
            assessment = Assessment(
                instrument=InstrumentRef(id=instrument.id, version=instrument.version),
                case=CaseInfo(reference=case.reference, pathway=case.pathway),
                assessment=AssessmentInfo(
                    version=case.latest_version + 1, status=AssessmentStatus.DRAFT
                ),
            )
            return self._insert_version(op, tx, case, assessment, Review())[1]

    def get_assessment(self, actor: Actor, reference: str, version: int) -> Draft:
        """Return an assessment version with its evidence (not for viewers; not audited)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_EVIDENCE)
            return self._draft(case, self._version(op, tx, case, version))

    def instrument_of(self, draft: Draft) -> Instrument:
        """Return the instrument definition a draft records (the form draws this one).

        A definition holds no case data; installed definitions are loaded once per process.

        Raises:
            NotFoundError: when the draft's instrument version is not installed.
        """
        return self._instrument(draft.assessment)

    def save_rating(
        self,
        actor: Actor,
        reference: str,
        version: int,
        item_id: str,
        rating: Rating | None,
        *,
        base_revision: int,
        merge: bool = False,
        base: Rating | None = None,
    ) -> Draft:
        """Autosave one item's rating (None removes it) on a draft.

        With `merge`, a change based on a stale revision is merged with the stored rating field
        by field (`base` is the rating the change started from): what only one side changed is
        kept from each side, and only a field both sides changed is refused.

        Raises:
            ConflictError: when `base_revision` is stale (naming who saved last, and when) or,
                with `merge`, when another tab or person changed the same field; or when the
                version is final.
            DocumentError: for an unknown item or an inconsistent rating (e.g. `yes` without
                relevance), with its JSON path.
        """
        check = None if merge else base_revision
        with self._editing(actor, reference, version, check) as (op, tx, case, record):
            assessment = record.assessment
            instrument = self._instrument(assessment)
            where = f"$.ratings.{item_id}"
            if item_id not in instrument.item_by_id:
                raise DocumentError(
                    [Problem(where, f"unknown item id {item_id!r}", "use an item id such as ID1")]
                )
            if merge and record.revision != base_revision:
                outcome = merge_rating(base, rating, assessment.ratings.get(item_id))
                merged = self._merged(record, where, outcome)
                rating = None if merged is None else Rating.model_validate(merged)
            rating = _keep_omit_reason(rating, assessment.ratings.get(item_id))
            ratings = {k: v for k, v in assessment.ratings.items() if k != item_id}
            if rating is not None:
                ratings[item_id] = Rating.model_validate(rating.model_dump())
            changed = assessment.model_copy(update={"ratings": _ordered(instrument, ratings)})
            problems = [
                p for p in check_assessment(instrument, changed) if p.where.startswith(where)
            ]
            if problems:
                raise DocumentError(problems)
            return self._store_draft(op, tx, case, record, changed)

    def save_responsivity(
        self,
        actor: Actor,
        reference: str,
        version: int,
        rs_id: str,
        note: ResponsivityNote | None,
        *,
        base_revision: int,
        merge: bool = False,
        base: ResponsivityNote | None = None,
    ) -> Draft:
        """Autosave one responsivity note (None removes it) on a draft.

        `merge` and `base` work as for `save_rating`: a stale change is merged field by field.
        """
        check = None if merge else base_revision
        with self._editing(actor, reference, version, check) as (op, tx, case, record):
            assessment = record.assessment
            instrument = self._instrument(assessment)
            if rs_id not in instrument.responsivity_by_id:
                raise DocumentError(
                    [
                        Problem(
                            f"$.responsivity.{rs_id}",
                            f"unknown responsivity id {rs_id!r}",
                            "use an id such as RS1",
                        )
                    ]
                )
            if merge and record.revision != base_revision:
                outcome = merge_note(base, note, assessment.responsivity.get(rs_id))
                merged = self._merged(record, f"$.responsivity.{rs_id}", outcome)
                note = None if merged is None else ResponsivityNote.model_validate(merged)
            notes = {k: v for k, v in assessment.responsivity.items() if k != rs_id}
            if note is not None:
                notes[rs_id] = ResponsivityNote.model_validate(note.model_dump())
            ordered = {r.id: notes[r.id] for r in instrument.responsivity if r.id in notes}
            changed = assessment.model_copy(update={"responsivity": ordered})
            return self._store_draft(op, tx, case, record, changed)

    def save_details(
        self,
        actor: Actor,
        reference: str,
        version: int,
        *,
        assessed_on: dt.date | None,
        assessors: list[Assessor],
        notes: str | None,
        base_revision: int,
        provisional_reason: str | None = None,
    ) -> Draft:
        """Autosave the occasion's date, assessors and notes on a draft.

        `provisional_reason` records that the formulation is provisional and why (1.1 on); None
        leaves it as it is, blank text removes it.
        """
        with self._editing(actor, reference, version, base_revision) as (op, tx, case, record):
            document = record.assessment.to_document()
            info = document["assessment"]
            if provisional_reason is not None:
                info.pop("provisional_reason", None)
                if provisional_reason.strip():
                    info["provisional_reason"] = provisional_reason.strip()
            info.pop("assessed_on", None)
            if assessed_on is not None:
                info["assessed_on"] = assessed_on.isoformat()
            info["assessors"] = [a.model_dump(mode="json") for a in assessors]
            document.pop("notes", None)
            if notes is not None and notes.strip():
                document["notes"] = notes
            try:
                changed = Assessment.model_validate(document)
            except ValidationError as error:
                raise document_error(error) from None
            return self._store_draft(op, tx, case, record, changed)


def _keep_omit_reason(rating: Rating | None, stored: Rating | None) -> Rating | None:
    """Return the rating with its omit reason as the form means it (1.1).

    The item control knows no omit reason (it is chosen beside it): an `omit` saved without one
    keeps the stored reason, and a presence other than `omit` drops it.
    """
    if rating is None:
        return None
    if rating.presence is not Presence.OMIT:
        return rating.model_copy(update={"omit_reason": None}) if rating.omit_reason else rating
    if rating.omit_reason is None and stored is not None and stored.presence is Presence.OMIT:
        return rating.model_copy(update={"omit_reason": stored.omit_reason})
    return rating
