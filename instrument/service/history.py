"""Field history: who changed which field of a draft, when, from what to what.

Every save of a draft (ratings, responsivity, details, overrides, narratives) records the fields
it changed in the store's `field_history`, in the same transaction as the save (`changed_fields`,
called by `ServiceBase._store_draft`). The audit log keeps only the `save` entry with ids; the
content stays in the database beside the draft, and reading it needs the right to read the
draft's evidence (psychologists and supervisors of the case's team), audited as one `view`.
"""

from __future__ import annotations

import json
from typing import Any

from instrument.access import Action, Actor
from instrument.assessment import Assessment
from instrument.audit import AuditAction
from instrument.formulation import Review
from instrument.service.base import ServiceBase
from instrument.service.views import FieldChangeRow
from instrument.store.records import FieldChange

_ABSENT = "null"


def _leaves(value: Any, path: str, out: dict[str, str]) -> None:
    """Flatten a JSON value into `path → JSON text`, down to each rating's and note's fields."""
    if isinstance(value, dict) and value and path.count(".") < 3:
        for key, inner in value.items():
            _leaves(inner, f"{path}.{key}", out)
        return
    out[path] = json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flat(assessment: Assessment, review: Review) -> dict[str, str]:
    out: dict[str, str] = {}
    document = assessment.to_document()
    for key in ("assessment", "ratings", "responsivity", "notes"):
        if key in document:
            _leaves(document[key], f"$.{key}", out)
    _leaves(review.model_dump(mode="json", exclude_none=True), "$.review", out)
    return out


def changed_fields(
    before: Assessment, before_review: Review, after: Assessment, after_review: Review
) -> list[FieldChange]:
    """Return the fields that differ between two states of a draft, in path order.

    A field is a rating's or responsivity note's own field (`$.ratings.ID3.evidence`), a detail
    of the occasion (`$.assessment.assessed_on`), an override or a narrative
    (`$.review.narratives.presenting`). A field that appears or disappears has `null` on the
    other side.
    """
    old, new = _flat(before, before_review), _flat(after, after_review)
    return [
        FieldChange(path, old.get(path, _ABSENT), new.get(path, _ABSENT))
        for path in sorted(old.keys() | new.keys())
        if old.get(path, _ABSENT) != new.get(path, _ABSENT)
    ]


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
