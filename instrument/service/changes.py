"""Which fields of a draft one save changed: `changed_fields`, a pure comparison.

Called by `ServiceBase._store_draft` in the save's transaction; `history.py` reads the stored
changes back. A module of its own so that the service's base needs nothing from its use cases.
"""

from __future__ import annotations

import json
from typing import Any

from instrument.assessment import Assessment
from instrument.formulation import Review
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
