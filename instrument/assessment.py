"""The assessment: one participant, one occasion, the ratings with their evidence.

The model is the interchange document other tools produce (names and values fixed by the
foundation issue). `check_assessment` holds the rules that need the instrument (unknown ids,
relevance that must or must not be there); `finalisation_problems` lists what still blocks
finalising, as a list so that a form can show every one at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from instrument.definition import Instrument
from instrument.errors import Problem
from instrument.judgement import Judgement, check_judgement
from instrument.vocabulary import (
    AssessmentStatus,
    AssessorRole,
    CaseReference,
    ItemId,
    OmitReason,
    Pathway,
    Presence,
    Relevance,
    ResponsivityPresence,
    SemanticVersion,
    ShortText,
    Source,
    Text,
    Timeframe,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstrumentRef(_Frozen):
    """Which instrument definition, and which version of it, the assessment was made with."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="The instrument id, e.g. `ifi`.")
    version: SemanticVersion = Field(description="The definition version, e.g. `1.0.0`.")


class CaseInfo(_Frozen):
    """The case the assessment belongs to."""

    reference: CaseReference = Field(
        description=(
            "The case reference, unique within a team: letters, digits and `._/-`, up to 40 "
            "characters, e.g. `C-0001`. Never a name."
        )
    )
    pathway: Pathway = Field(description="The referral pathway: prevention, engaged or convicted.")


class Assessor(_Frozen):
    """A person who carried out the assessment."""

    name: ShortText = Field(description="The assessor's name as it should appear on reports.")
    role: AssessorRole = Field(description="The assessor's role in this assessment.")


class UpgradeRecord(_Frozen):
    """Where an upgraded assessment came from, and what the assessor must look at (1.1 on)."""

    from_version: SemanticVersion = Field(description="The instrument version upgraded from.")
    new_items: list[ItemId] = Field(
        default_factory=list, description="Items new in this version: they arrive unrated."
    )
    review_items: list[ItemId] = Field(
        default_factory=list,
        description="Items whose rating was carried over but whose guidance changed: check each.",
    )
    note: Text = Field(description="What changed between the versions.")


class AssessmentInfo(_Frozen):
    """The occasion: version, status, date and assessors."""

    version: int = Field(ge=1, description="The version of this case's assessment, from 1.")
    status: AssessmentStatus = Field(
        description="`draft` while being completed, `final` once signed."
    )
    assessed_on: dt.date | None = Field(
        default=None, description="The date of the assessment (ISO 8601, e.g. `2026-11-01`)."
    )
    assessors: list[Assessor] = Field(
        default_factory=list, max_length=10, description="Who assessed; at least one to finalise."
    )
    replaces: int | None = Field(
        default=None,
        ge=1,
        description="For an amendment: the finalised version this version replaces.",
    )
    amendment_reason: Text | None = Field(
        default=None, description="For an amendment: why the finalised version was amended."
    )
    provisional_reason: Text | None = Field(
        default=None,
        description=(
            "The assessor's record that the formulation is provisional, and why (1.1 on): lets "
            "an assessment with most of an area's main drivers omitted be finalised."
        ),
    )
    upgraded_from: UpgradeRecord | None = Field(
        default=None, description="Set when the assessment was upgraded from an earlier version."
    )


class Rating(_Frozen):
    """The rating of one item: presence, relevance, and the evidence behind them."""

    presence: Presence = Field(
        description="`no`, `partial`, `yes`, or `omit` when there is not enough information."
    )
    relevance: Relevance | None = Field(
        default=None,
        description="Required when presence is `partial` or `yes`; absent otherwise.",
    )
    evidence: Text | None = Field(
        default=None,
        description=(
            "What the rating rests on. Required for `partial` and `yes` before finalising; for "
            "`omit`, why the item could not be rated."
        ),
    )
    sources: list[Source] = Field(
        default_factory=list, max_length=6, description="Where the evidence came from."
    )
    omit_reason: OmitReason | None = Field(
        default=None,
        description=(
            "Why the item is omitted (1.1 on; only with `omit`): `not-asked`, `declined`, "
            "`no-records`, `conflicting-information`, or `other` with the text in `evidence`."
        ),
    )
    timeframe: Timeframe | None = Field(
        default=None, description="Whether the evidence is `current` or `historical`."
    )

    @property
    def is_present(self) -> bool:
        """Return True when the factor is rated `partial` or `yes`."""
        return self.presence in (Presence.PARTIAL, Presence.YES)


class ResponsivityNote(_Frozen):
    """A responsivity consideration: whether it applies, and how delivery should adapt."""

    presence: ResponsivityPresence = Field(description="`yes`, `no`, or `omit` when unknown.")
    note: Text | None = Field(default=None, description="What the assessor found.")
    adaptation: Text | None = Field(
        default=None, description="The adaptation to delivery the assessor proposes."
    )


class Assessment(_Frozen):
    """One assessment of one participant on one occasion: the assessment interchange document."""

    instrument: InstrumentRef = Field(description="The instrument definition used.")
    case: CaseInfo = Field(description="The case assessed.")
    assessment: AssessmentInfo = Field(description="The occasion, status and assessors.")
    ratings: dict[str, Rating] = Field(
        default_factory=dict, description="Ratings keyed by item id, e.g. `ID1`."
    )
    responsivity: dict[str, ResponsivityNote] = Field(
        default_factory=dict, description="Responsivity notes keyed by id, e.g. `RS1`."
    )
    notes: Text | None = Field(default=None, description="Free notes on the assessment.")
    judgement: Judgement | None = Field(
        default=None,
        description=(
            "The assessor's judgement after the ratings: person-specific factors, the 5P as a "
            "formulation, Good Lives, scenarios, summary judgements, bias check and limitations. "
            "Optional: an assessment without it formulates as before."
        ),
    )

    def to_document(self) -> dict[str, Any]:
        """Return the interchange document as JSON-ready data (absent values left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def canonical_json(document: Any) -> str:
    """Return the canonical JSON text of a document: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assessment_hash(assessment: Assessment) -> str:
    """Return the SHA-256 (hex) of the assessment's canonical JSON."""
    return hashlib.sha256(canonical_json(assessment.to_document()).encode("utf-8")).hexdigest()


def check_assessment(instrument: Instrument, assessment: Assessment) -> list[Problem]:
    """Return every way the assessment disagrees with its instrument (empty when it agrees).

    The caller has already matched the instrument id and version.
    """
    problems: list[Problem] = []
    for item_id, rating in assessment.ratings.items():
        where = f"$.ratings.{item_id}"
        if item_id not in instrument.item_by_id:
            hint = (
                "responsivity ids belong under `responsivity`"
                if item_id in instrument.responsivity_by_id
                else f"use an item id of {instrument.id} {instrument.version}, e.g. ID1"
            )
            problems.append(Problem(where, f"unknown item id {item_id!r}", hint))
            continue
        if rating.is_present and rating.relevance is None:
            problems.append(
                Problem(
                    f"{where}.relevance",
                    f"required when presence is {rating.presence.value!r}",
                    "rate relevance as low, moderate or high",
                )
            )
        if not rating.is_present and rating.relevance is not None:
            problems.append(
                Problem(
                    f"{where}.relevance",
                    f"must be absent when presence is {rating.presence.value!r}",
                    "remove relevance, or rate presence as partial or yes",
                )
            )
        if rating.omit_reason is not None and rating.presence is not Presence.OMIT:
            problems.append(
                Problem(
                    f"{where}.omit_reason",
                    f"must be absent when presence is {rating.presence.value!r}",
                    "remove the omit reason, or rate presence as omit",
                )
            )
        elif rating.omit_reason is not None and instrument.scales.omit_reasons is None:
            problems.append(
                Problem(
                    f"{where}.omit_reason",
                    f"{instrument.id} {instrument.version} records no omit reasons",
                    "remove it, or upgrade the assessment to a version that has them",
                )
            )
    for rs_id in assessment.responsivity:
        if rs_id not in instrument.responsivity_by_id:
            problems.append(
                Problem(
                    f"$.responsivity.{rs_id}",
                    f"unknown responsivity id {rs_id!r}",
                    "use an id such as RS1",
                )
            )
    if assessment.judgement is not None:
        problems.extend(check_judgement(instrument, assessment.judgement))
    replaces = assessment.assessment.replaces
    if replaces is not None and replaces >= assessment.assessment.version:
        problems.append(
            Problem(
                "$.assessment.replaces",
                "must name an earlier version than this one",
                "give the version this amendment replaces",
            )
        )
    return problems


def finalisation_problems(instrument: Instrument, assessment: Assessment) -> list[Problem]:
    """Return everything that blocks finalising the assessment (empty when it may be finalised)."""
    problems = check_assessment(instrument, assessment)
    info = assessment.assessment
    if not info.assessors:
        problems.append(
            Problem("$.assessment.assessors", "at least one assessor is needed", "add an assessor")
        )
    if info.assessed_on is None:
        problems.append(
            Problem("$.assessment.assessed_on", "the assessment date is missing", "add the date")
        )
    for item in instrument.items:
        rating = assessment.ratings.get(item.id)
        where = f"$.ratings.{item.id}"
        if rating is None:
            problems.append(
                Problem(
                    where,
                    f"{item.id} ({item.name}) is not rated",
                    "rate it, or choose omit when there is not enough information",
                )
            )
        elif rating.is_present and not (rating.evidence or "").strip():
            problems.append(
                Problem(
                    f"{where}.evidence",
                    f"evidence is required when presence is {rating.presence.value!r}",
                    "describe what the rating rests on",
                )
            )
        elif (
            rating.presence is Presence.OMIT
            and instrument.scales.omit_reasons is not None
            and rating.omit_reason is None
        ):
            problems.append(
                Problem(
                    f"{where}.omit_reason",
                    f"{item.id} ({item.name}) is omitted without a reason",
                    "say why: not-asked, declined, no-records, conflicting-information or other",
                )
            )
        elif rating.omit_reason is OmitReason.OTHER and not (rating.evidence or "").strip():
            problems.append(
                Problem(
                    f"{where}.evidence",
                    "the omit reason `other` needs its text",
                    "say in the text why the item could not be rated",
                )
            )
        elif rating.is_present and not rating.sources:
            problems.append(
                Problem(
                    f"{where}.sources",
                    "at least one source is required when the factor is present",
                    "choose where the evidence came from",
                )
            )
    problems += _omitted_drivers(instrument, assessment)
    return problems


def omitted_main_drivers(instrument: Instrument, assessment: Assessment) -> dict[str, list[str]]:
    """Return, per area, its omitted or unrated main drivers when more than the limit allows.

    Empty when the definition sets no limit (1.0) or no area passes it.
    """
    limit = instrument.rule.main_drivers_omitted_limit
    if limit is None:
        return {}
    found = {}
    for area in instrument.areas:
        drivers = instrument.main_drivers(area.id)
        missing = [
            item.id
            for item in drivers
            if (r := assessment.ratings.get(item.id)) is None or r.presence is Presence.OMIT
        ]
        if drivers and len(missing) > limit * len(drivers):
            found[area.id] = missing
    return found


def more_than(limit: float | None) -> str:
    """Return a share limit in words: `more than half` for 0.5, else `more than 40%`."""
    if limit is None or limit == 0.5:
        return "more than half"
    return f"more than {limit:.0%}"


def _omitted_drivers(instrument: Instrument, assessment: Assessment) -> list[Problem]:
    if (assessment.assessment.provisional_reason or "").strip():
        return []
    return [
        Problem(
            "$.assessment.provisional_reason",
            f"{more_than(instrument.rule.main_drivers_omitted_limit)} of the main drivers of "
            f"{instrument.area_by_id[area].name} are "
            f"omitted or not rated ({', '.join(items)})",
            "gather the information and rate them, or record that the formulation is "
            "provisional and why",
        )
        for area, items in omitted_main_drivers(instrument, assessment).items()
    ]


# --- merging two edits of one rating ---------------------------------------------------------


@dataclass(frozen=True)
class FieldMerge:
    """The outcome of merging two edits of one rating (or note) field by field.

    `merged` holds every field one side changed and the other did not, plus the stored value of
    each field in `conflicts` (both sides changed it, differently): those wait for the person to
    choose. `merged` is None when the merge leaves the item unrated.
    """

    merged: dict[str, Any] | None
    conflicts: tuple[str, ...]


def _fields_of(model: type[BaseModel], value: BaseModel | None) -> dict[str, Any]:
    """Return a model's fields as plain values; an absent model has every field empty."""
    dumped = value.model_dump(mode="json") if value is not None else {}
    return {
        name: dumped.get(name) or ([] if _is_list(model, name) else None)
        for name in model.model_fields
    }


def _is_list(model: type[BaseModel], name: str) -> bool:
    default = model.model_fields[name].default_factory
    return default is list


def _merge_list(base: list[Any], mine: list[Any], theirs: list[Any]) -> list[Any]:
    """Return theirs with my additions and without my removals (a set merge, theirs' order)."""
    removed = [v for v in base if v not in mine]
    added = [v for v in mine if v not in base]
    kept = [v for v in theirs if v not in removed]
    return kept + [v for v in added if v not in kept]


def merge_values(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> FieldMerge:
    """Merge my edit of some fields with what was stored meanwhile, field by field (three-way).

    `base` is what my edit started from, `theirs` what is stored now, all with the same keys. A
    field only one side changed takes that side's value; a list takes both sides' additions and
    removals; a field both sides changed to different values is a conflict and keeps the stored
    value.
    """
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    for name in base:
        b, m, t = base[name], mine[name], theirs[name]
        if m in (t, b):
            merged[name] = t
        elif t == b:
            merged[name] = m
        elif isinstance(t, list) and isinstance(m, list) and isinstance(b, list):
            merged[name] = _merge_list(b, m, t)
        else:
            merged[name] = t
            conflicts.append(name)
    return FieldMerge(merged, tuple(conflicts))


def merge_fields(
    model: type[BaseModel],
    base: BaseModel | None,
    mine: BaseModel | None,
    theirs: BaseModel | None,
) -> FieldMerge:
    """Merge my edit of one item with what was stored meanwhile (see `merge_values`).

    The item's first field (presence) decides whether it is rated at all: when the merge leaves
    it empty while other fields hold values, that field is a conflict too; when it leaves every
    field empty, `merged` is None (the item is not rated).
    """
    outcome = merge_values(*(_fields_of(model, x) for x in (base, mine, theirs)))
    merged = outcome.merged or {}
    conflicts = list(outcome.conflicts)
    first = next(iter(model.model_fields))
    if merged[first] is None:
        if any(merged.values()) and first not in conflicts:
            conflicts.insert(0, first)
        return FieldMerge(None if not conflicts else merged, tuple(conflicts))
    return FieldMerge(merged, tuple(conflicts))


def merge_rating(base: Rating | None, mine: Rating | None, theirs: Rating | None) -> FieldMerge:
    """Merge two edits of one item's rating field by field (see `merge_fields`).

    Relevance belongs with presence: when the merged presence and relevance no longer fit
    together (a present factor without relevance, or relevance on an absent one), relevance is
    a conflict as well, so the person decides.
    """
    outcome = merge_fields(Rating, base, mine, theirs)
    merged = outcome.merged
    if merged is None or merged.get("presence") is None or "relevance" in outcome.conflicts:
        return outcome
    present = merged["presence"] in (Presence.PARTIAL.value, Presence.YES.value)
    if present == (merged.get("relevance") is None):
        return FieldMerge(merged, (*outcome.conflicts, "relevance"))
    return outcome


def merge_note(
    base: ResponsivityNote | None, mine: ResponsivityNote | None, theirs: ResponsivityNote | None
) -> FieldMerge:
    """Merge two edits of one responsivity note field by field (see `merge_fields`)."""
    return merge_fields(ResponsivityNote, base, mine, theirs)
