"""Autosaving the assessor's judgement on a draft: one part of the `judgement` section at a time.

The parts are the fields of `instrument.judgement.Judgement` (`person_specific`, `five_p`,
`good_lives`, `scenarios`, `summary`, `bias_check`, `limitations`). A part is saved whole, like a
rating: validated with the models and against the instrument (unknown ids refused with their
JSON path), written as the draft's next revision, audited as `save` (ids and the action code
only; no text of the judgement ever reaches the audit log). A stale revision is refused with the
name of who saved last, as for ratings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from instrument.access import Actor
from instrument.assessment import Assessment, FieldMerge
from instrument.errors import DocumentError, Problem
from instrument.exchange.documents import model_problems
from instrument.judgement import Judgement, check_judgement
from instrument.service.base import ServiceBase
from instrument.service.views import Draft

PARTS: tuple[str, ...] = tuple(Judgement.model_fields)


def _plain(value: Any) -> Any:
    """Return a part's value as JSON-ready data (models dumped, absent values left out)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, dict):
        return {str(key): _plain(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(child) for child in value]
    return value


def with_part(assessment: Assessment, part: str, value: Any) -> Assessment:
    """Return the assessment with one part of its judgement replaced (None or empty clears it).

    The section itself is removed when every part is empty, so that an assessment whose
    judgement was cleared is again exactly a 1.0-style document.

    Raises:
        DocumentError: for an unknown part or a value the models refuse, with its JSON path.
    """
    if part not in PARTS:
        raise DocumentError(
            [
                Problem(
                    f"$.judgement.{part}",
                    f"unknown part of the judgement {part!r}",
                    "choose one of: " + ", ".join(PARTS),
                )
            ]
        )
    current = assessment.judgement or Judgement()
    document = current.model_dump(mode="json", exclude_none=True)
    data = _plain(value)
    if data is None or data in ({}, [], ""):
        document.pop(part, None)
    else:
        document[part] = data
    try:
        judgement = Judgement.model_validate(document)
    except ValidationError as error:
        problems = model_problems(error)
        raise DocumentError(
            [Problem("$.judgement" + p.where.removeprefix("$"), p.message, p.fix) for p in problems]
        ) from None
    empty = judgement == Judgement()
    return assessment.model_copy(update={"judgement": None if empty else judgement})


def _normal(part: str, value: Any) -> Any:
    """Return a part's value as the models would store it (defaults filled, absent values out).

    A value the models refuse is compared as given (its save is refused after the merge).
    """
    data = _plain(value)
    if data in (None, {}, [], ""):
        return None
    try:
        judgement = Judgement.model_validate({part: data})
    except ValidationError:
        return data
    normal = _plain(getattr(judgement, part))
    return None if normal in (None, {}, [], "") else normal


def merge_part(part: str, base: Any, mine: Any, theirs: Any) -> tuple[Any, tuple[str, ...]]:
    """Merge my edit of one judgement part with what is stored now (three-way).

    Return the merged value and the fields both sides changed differently (those keep the
    stored value). An object part (the 5P, Good Lives, summary judgements, bias check,
    person-specific factors) merges key by key; a list or text part (scenarios, limitations) is
    one field, named by the part. Empty values (None, {}, [], "") count as the same.
    """
    b, m, t = (_normal(part, x) for x in (base, mine, theirs))
    if all(x is None or isinstance(x, dict) for x in (b, m, t)) and any(
        isinstance(x, dict) for x in (b, m, t)
    ):
        b, m, t = (x or {} for x in (b, m, t))
        merged: dict[str, Any] = {}
        conflicts: list[str] = []
        for key in sorted({*b, *m, *t}):
            kb, km, kt = b.get(key), m.get(key), t.get(key)
            if km in (kt, kb):
                chosen = kt
            elif kt == kb:
                chosen = km
            else:
                conflicts.append(key)
                chosen = kt
            if chosen is not None:
                merged[key] = chosen
        return merged or None, tuple(conflicts)
    if m in (t, b):
        return t, ()
    if t == b:
        return m, ()
    return t, (part,)


class JudgementService(ServiceBase):
    """The assessor's judgement on a draft, saved one part at a time."""

    def save_judgement(
        self,
        actor: Actor,
        reference: str,
        version: int,
        part: str,
        value: Any,
        *,
        base_revision: int,
        merge: bool = False,
        base: Any = None,
    ) -> Draft:
        """Autosave one part of the assessor's judgement on a draft (None or empty clears it).

        With `merge`, a change based on a stale revision is merged with the stored part (`base`
        is the part as the change started from it): what another tab or person changed meanwhile
        in other parts, or in other fields of this part, is kept; only a field both changed
        differently is refused. A list part (scenarios) is one field.

        Raises:
            ConflictError: when `base_revision` is stale (without `merge`), when another tab or
                person changed the same field (with `merge`), or when the version is final.
            DocumentError: for an unknown part, an invalid value or ids the instrument does not
                know, each with its JSON path (nothing is written).
        """
        check = None if merge else base_revision
        with self._editing(actor, reference, version, check) as (op, tx, case, record):
            assessment = record.assessment
            instrument = self._instrument(assessment)
            if merge and record.revision != base_revision and part in PARTS:
                stored = getattr(assessment.judgement, part, None)
                value, conflicts = merge_part(part, base, value, stored)
                if conflicts:
                    where = "$.judgement" if conflicts == (part,) else f"$.judgement.{part}"
                    self._merged(record, where, FieldMerge(None, conflicts))
            changed = with_part(assessment, part, value)
            if changed.judgement is not None:
                problems = check_judgement(instrument, changed.judgement)
                if problems:
                    raise DocumentError(problems)
            return self._store_draft(op, tx, case, record, changed)
