"""Upgrading a case's final assessment to the current instrument version: a new draft.

Shaped like amend: the final version stays exactly as it was; the next version of the case is a
draft of the current definition, made by the migration that definition declares (new items
unrated and flagged, split or changed items flagged for the assessor to check). The review
(narratives, overrides) is carried over; focus choices and overrides are for the assessor to
confirm on the new draft.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrument.access import Action, Actor
from instrument.audit import AuditAction
from instrument.definitions import current_instrument
from instrument.errors import ConflictError
from instrument.migration import upgrade_assessment
from instrument.vocabulary import AssessmentStatus

if TYPE_CHECKING:
    from instrument.service import Draft, Service


def upgrade_version(service: Service, actor: Actor, reference: str, version: int) -> Draft:
    """Start the case's next version as a draft of the current definition, upgraded from `version`.

    Raises:
        ConflictError: when `version` is a draft, is already of the current definition, or the
            case has an open draft.
        DocumentError: when the current definition declares no migration from its version.
    """
    target = current_instrument()
    with service._operation(actor, AuditAction.START) as (op, tx):
        case = service._case(op, tx, reference, Action.EDIT_DRAFT)
        row = service._version(op, tx, case, version)
        if row["status"] != AssessmentStatus.FINAL.value:
            raise ConflictError(
                f"version {version} is a draft: finalise it first, or start again on the current "
                "definition",
                where="version",
                fix="finalise the draft, then upgrade the final version",
            )
        final = service._assessment(row)
        if final.instrument.version == target.version:
            raise ConflictError(
                f"version {version} already uses {target.id} {target.version}",
                where="version",
                fix="amend it instead, to correct it",
            )
        service._no_open_draft(tx, case)
        upgraded = upgrade_assessment(target, final)
        info = upgraded.assessment.model_copy(
            update={
                "version": case["latest_version"] + 1,
                "replaces": None,
                "amendment_reason": None,
            }
        )
        draft = upgraded.model_copy(update={"assessment": info})
        return service._insert_version(op, tx, case, draft, service._review(row))
