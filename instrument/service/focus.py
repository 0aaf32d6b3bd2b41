"""The assessor's own focus on a draft's formulation (1.1 on): up to three offered areas, why."""

from __future__ import annotations

from collections.abc import Sequence

from instrument.access import Action, Actor
from instrument.audit import AuditAction
from instrument.errors import DocumentError, Problem
from instrument.formulation import apply_focus, formulate
from instrument.service.base import ServiceBase
from instrument.service.views import Draft


class FocusService(ServiceBase):
    """Set or clear the assessor's focus on a 1.1 draft."""

    def set_focus(
        self,
        actor: Actor,
        reference: str,
        version: int,
        areas: Sequence[str],
        rationale: str,
        *,
        base_revision: int | None = None,
    ) -> Draft:
        """Set (or, with no areas, clear) the assessor's focus on a draft, with a reason.

        Raises:
            DocumentError: for a definition without a focus (1.0), more than three areas, an
                area the formulation does not offer, or a rationale that is too short.
        """
        with self._editing(
            actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
        ) as (op, tx, case, record):
            assessment = record.assessment
            instrument = self._instrument(assessment)
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
            current = formulate(instrument, assessment, generated_at=op.now, review=record.review)
            offered = [p.area for p in current.priorities if p.offered]
            changed = apply_focus(
                record.review,
                areas,
                rationale,
                op.actor.username,
                op.now,
                instrument=instrument,
                offered=offered,
            )
            return self._store_draft(op, tx, case, record, assessment, changed)
