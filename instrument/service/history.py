"""Field history: who changed which field of a draft, when, from what to what.

Every save of a draft (ratings, responsivity, details, overrides, narratives) records the fields
it changed in the store's `field_history`, in the same transaction as the save
(`changes.changed_fields`, called by `ServiceBase._store_draft`). The audit log keeps only the
`save` entry with ids; the content stays in the database beside the draft, and reading it needs
the right to read the draft's evidence (psychologists and supervisors of the case's team),
audited as one `view`.
"""

from __future__ import annotations

import json

from instrument.access import Action, Actor
from instrument.audit import AuditAction
from instrument.service.base import ServiceBase
from instrument.service.views import FieldChangeRow


class HistoryService(ServiceBase):
    """Reading the field history of a version."""

    def field_history(self, actor: Actor, reference: str, version: int) -> list[FieldChangeRow]:
        """Return who changed which field of a version while it was a draft, oldest first.

        Audited as one `view` of the version (ids only). Needs the right to read the draft's
        evidence: viewers, administrators and other teams are refused as for the draft itself.
        """
        with self._operation(actor, AuditAction.VIEW) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_EVIDENCE)
            record = self._version(op, tx, case, version)
            return [
                FieldChangeRow(
                    revision=change.revision,
                    field=change.path,
                    before=json.loads(change.before),
                    after=json.loads(change.after),
                    by=change.changed_by or "system",
                    at=change.changed_at,
                )
                for change in tx.history.for_version(record.id)
            ]
