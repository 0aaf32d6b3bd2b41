"""Upgrading a case's final assessment to the current instrument version: a new draft.

Shaped like amend: the final version stays exactly as it was; the next version of the case is a
draft of the current definition, made by the migration that definition declares (new items
unrated and flagged, split or changed items flagged for the assessor to check). The review
(narratives, overrides) is carried over for the assessor to confirm on the new draft.
"""

from __future__ import annotations

from instrument.access import Action, Actor
from instrument.audit import AuditAction
from instrument.errors import ConflictError
from instrument.judgement import unconfirmed
from instrument.migration import upgrade_assessment
from instrument.service.base import ServiceBase
from instrument.service.views import Draft


class UpgradeService(ServiceBase):
    """Upgrade a final version to the current definition (a new draft; the final stays)."""

    def upgrade(self, actor: Actor, reference: str, version: int) -> Draft:
        """Start the case's next version as a draft of the current definition, from `version`.

        Raises:
            ConflictError: when `version` is a draft, already uses the current definition, or
                the case has an open draft.
            DocumentError: when the current definition declares no migration from its version.
        """
        target = self.definitions.newest()
        with self._operation(actor, AuditAction.START) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_DRAFT)
            record = self._version(op, tx, case, version)
            if not record.final:
                raise ConflictError(
                    f"version {version} is a draft: finalise it first, or start again on the "
                    "current definition",
                    where="version",
                    fix="finalise the draft, then upgrade the final version",
                )
            final = record.assessment
            if final.instrument.version == target.version:
                raise ConflictError(
                    f"version {version} already uses {target.id} {target.version}",
                    where="version",
                    fix="amend it instead, to correct it",
                )
            self._no_open_draft(tx, case)
            upgraded = upgrade_assessment(target, final)
            info = upgraded.assessment.model_copy(
                update={
                    "version": case.latest_version + 1,
                    "replaces": None,
                    "amendment_reason": None,
                }
            )
            # The bias check is confirmed again when the upgraded draft is finalised.
            draft = upgraded.model_copy(
                update={"assessment": info, "judgement": unconfirmed(upgraded.judgement)}
            )
            return self._insert_version(op, tx, case, draft, record.review)[1]
