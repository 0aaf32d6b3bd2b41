"""The assessor's own focus on a draft's formulation (1.1 on): up to three offered areas, why.

Kept apart from the facade's module while the service is being split into modules; `Service`
delegates to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from instrument.access import Action, Actor
from instrument.audit import AuditAction
from instrument.errors import DocumentError, Problem
from instrument.formulation import apply_focus, formulate

if TYPE_CHECKING:
    from instrument.service import Draft, Service


def set_focus(
    service: Service,
    actor: Actor,
    reference: str,
    version: int,
    areas: Sequence[str],
    rationale: str,
    *,
    base_revision: int | None = None,
) -> Draft:
    """Set (or, with no areas, clear) the assessor's focus on a draft, with a written reason.

    Raises:
        DocumentError: for a definition without a focus (1.0), more than three areas, an area
            the formulation does not offer, or a rationale that is too short.
    """
    with service._editing(
        actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
    ) as (op, tx, case, row):
        assessment = service._assessment(row)
        instrument = service._instrument(assessment)
        if instrument.rule.focus_size is None:
            raise DocumentError(
                [
                    Problem(
                        "$.review.focus",
                        f"{instrument.id} {instrument.version} names no focus",
                        "upgrade the assessment to 1.1 to choose a focus",
                    )
                ]
            )
        review = service._review(row)
        current = formulate(instrument, assessment, generated_at=op.now, review=review)
        offered = [p.area for p in current.priorities if p.offered]
        changed = apply_focus(
            review,
            areas,
            rationale,
            op.actor.username,
            op.now,
            instrument=instrument,
            offered=offered,
        )
        return service._store_draft(op, tx, case, row, assessment, changed)
