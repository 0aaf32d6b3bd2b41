"""The formulation: the document that leaves the system, the review that shapes it, and `formulate`.

These models are the published contract (`schemas/formulation.schema.json`). A formulation
carries everything a chart or a report needs, so a formulation from another system draws the same
pictures. Computed values are stored fields, never `@computed_field`, so that an export
re-imports under `extra="forbid"`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import Assessor, InstrumentRef
from instrument.vocabulary import (
    AreaId,
    AssessmentStatus,
    Band,
    CaseReference,
    FiveP,
    ItemId,
    ItemKind,
    Pathway,
    Presence,
    Relevance,
    ResponsivityPresence,
    ShortText,
    Source,
    SpjDomain,
    Text,
    Timeframe,
)

MIN_RATIONALE = 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Override(_Frozen):
    """The assessor's own band for an area, with the written reason for departing from the rule."""

    band: Band = Field(description="The band the assessor sets; it is the one that counts.")
    rationale: Text = Field(
        min_length=MIN_RATIONALE,
        description=(
            "Why the assessor departs from the computed band "
            f"(at least {MIN_RATIONALE} characters)."
        ),
    )
    by: ShortText = Field(description="Who set the override.")
    at: dt.datetime = Field(description="When the override was set (UTC, ISO 8601).")


class Review(_Frozen):
    """The assessor's review of a formulation: overrides and the 5P narrative."""

    overrides: dict[AreaId, Override] = Field(
        default_factory=dict, description="Overrides keyed by area id."
    )
    narratives: dict[FiveP, Text] = Field(
        default_factory=dict, description="The assessor's narrative for each 5P heading."
    )


class GeneratorInfo(_Frozen):
    """The software that generated the formulation."""

    name: str = Field(description="Always `instrument`.")
    version: str = Field(description="The generator's version.")


class Header(_Frozen):
    """Who, what and when: the provenance of the formulation."""

    case_reference: CaseReference = Field(description="The case reference.")
    pathway: Pathway = Field(description="The referral pathway.")
    assessment_version: int = Field(ge=1, description="The assessment version formulated.")
    assessment_status: AssessmentStatus = Field(description="The assessment's status.")
    status: AssessmentStatus = Field(
        description="The formulation's status: `final` once its assessment is finalised."
    )
    assessed_on: dt.date | None = Field(default=None, description="The assessment date.")
    assessors: list[Assessor] = Field(description="Who assessed.")
    instrument: InstrumentRef = Field(description="The instrument definition and version used.")
    generator: GeneratorInfo = Field(description="The software and version that generated this.")
    generated_at: dt.datetime = Field(description="When the formulation was generated (UTC).")
    assessment_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the canonical JSON of the assessment this was made from.",
    )


class ItemSummary(_Frozen):
    """One item's rating as the formulation reports it."""

    item: ItemId = Field(description="The item id.")
    name: ShortText = Field(description="The item's name.")
    presence: Presence | None = Field(default=None, description="Presence; absent when unrated.")
    relevance: Relevance | None = Field(default=None, description="Relevance, when present.")


class PresenceCounts(_Frozen):
    """How many items of a domain have each presence."""

    yes: int = Field(ge=0, description="Items rated `yes`.")
    partial: int = Field(ge=0, description="Items rated `partial`.")
    no: int = Field(ge=0, description="Items rated `no`.")
    omit: int = Field(ge=0, description="Items rated `omit`.")
    unrated: int = Field(ge=0, description="Items not rated at all (drafts only).")


class DomainSummary(_Frozen):
    """One domain: its items, counts and key factors."""

    domain: str = Field(description="The domain id.")
    name: ShortText = Field(description="The domain's name.")
    kind: ItemKind = Field(description="Risk, protective or capability.")
    counts: PresenceCounts = Field(description="Items per presence.")
    high_relevance: int = Field(ge=0, description="Items rated present with high relevance.")
    key_factors: list[ItemId] = Field(
        description="Items present with high relevance, then `yes` with moderate relevance."
    )
    items: list[ItemSummary] = Field(description="Every item of the domain, in definition order.")
    summary: Text = Field(description="A generated sentence describing the domain's ratings.")


class Contributor(_Frozen):
    """A rated item that moved an area's score, and by how much."""

    item: ItemId = Field(description="The item id.")
    name: ShortText = Field(description="The item's name.")
    presence: Presence = Field(description="Its presence (`partial` or `yes`).")
    relevance: Relevance = Field(description="Its relevance.")
    weight: float = Field(gt=0, le=1, description="Its weight in the area.")
    contribution: float = Field(
        ge=0, le=1, description="Its share of the score; the contributions add up to the score."
    )
    evidence: Text | None = Field(
        default=None, description="The evidence recorded for it; absent in redacted formulations."
    )
    sources: list[Source] = Field(description="Where the evidence came from.")
    timeframe: Timeframe | None = Field(default=None, description="Current or historical.")


class Strength(_Frozen):
    """A protective item rated present that supports the work in an area."""

    item: ItemId = Field(description="The protective item id.")
    name: ShortText = Field(description="The item's name.")
    presence: Presence = Field(description="Its presence (`partial` or `yes`).")
    relevance: Relevance | None = Field(default=None, description="Its relevance.")
    evidence: Text | None = Field(
        default=None, description="The evidence recorded for it; absent in redacted formulations."
    )


class Priority(_Frozen):
    """One intervention area's priority, with every reason for it."""

    area: AreaId = Field(description="The area id.")
    name: ShortText = Field(description="The area's name.")
    rank: int = Field(ge=1, description="Rank after overrides, 1 first.")
    band: Band = Field(description="The band that counts: the override's when there is one.")
    computed_band: Band = Field(description="The band the rule computed from the ratings.")
    score: float = Field(ge=0, le=1, description="The rule's score, 0 to 1 (not a risk score).")
    coverage: float = Field(
        ge=0, le=1, description="Share of the area's item weight that was rated (not omitted)."
    )
    offered: bool = Field(description="Whether the area is offered in the intervention plan.")
    offered_reason: Text = Field(description="Why the area is or is not offered.")
    contributors: list[Contributor] = Field(description="Rated items that moved the score.")
    omitted: list[ItemId] = Field(description="The area's items omitted or not rated.")
    strengths: list[Strength] = Field(description="Strengths to build on in this area.")
    sessions: list[Text] = Field(description="Suggested session topics.")
    override: Override | None = Field(default=None, description="The assessor's override.")
    summary: Text = Field(description="A generated sentence giving the reasons.")


class FivePSection(_Frozen):
    """One 5P heading: the rated items assigned to it, and the assessor's narrative."""

    heading: FiveP = Field(description="The 5P heading.")
    items: list[ItemSummary] = Field(description="Items of this heading rated present.")
    summary: Text = Field(description="A generated sentence listing those items.")
    narrative: Text | None = Field(default=None, description="The assessor's own narrative.")


class SpjSummary(_Frozen):
    """Engagement, intent or capability: the items that inform it and what they show."""

    domain: SpjDomain = Field(description="Engagement, intent or capability.")
    present: list[ItemSummary] = Field(description="Items informing it that are rated present.")
    omitted: list[ItemId] = Field(description="Items informing it that are omitted or unrated.")
    summary: Text = Field(description="A generated sentence.")


class ResponsivitySummary(_Frozen):
    """A responsivity consideration and the adaptations to delivery."""

    id: ItemId = Field(description="The responsivity id, e.g. `RS1`.")
    name: ShortText = Field(description="Its name.")
    presence: ResponsivityPresence | None = Field(default=None, description="Yes, no or omit.")
    note: Text | None = Field(default=None, description="The assessor's note.")
    adaptation: Text | None = Field(default=None, description="The assessor's adaptation.")
    suggested: list[Text] = Field(
        description="Adaptations the definition suggests when it applies."
    )


class DataQuality(_Frozen):
    """How complete the assessment is, and what the formulation should be read with."""

    provisional: bool = Field(description="True when too many items are omitted or unrated.")
    omitted_share: float = Field(ge=0, le=1, description="Share of items omitted or unrated.")
    omitted: list[ItemId] = Field(description="Items rated `omit`.")
    unrated: list[ItemId] = Field(description="Items not rated at all.")
    missing_evidence: list[ItemId] = Field(description="Present items without evidence text.")
    warnings: list[Text] = Field(description="Plain-language warnings for the reader.")


class AreaChange(_Frozen):
    """How one area's priority changed since the previous assessment."""

    area: AreaId = Field(description="The area id.")
    band_before: Band = Field(description="Computed band at the previous assessment.")
    band_after: Band = Field(description="Computed band now.")
    score_before: float = Field(ge=0, le=1, description="Score at the previous assessment.")
    score_after: float = Field(ge=0, le=1, description="Score now.")


class ItemChange(_Frozen):
    """How one item's presence changed since the previous assessment."""

    item: ItemId = Field(description="The item id.")
    presence_before: Presence | None = Field(default=None, description="Presence before.")
    presence_after: Presence | None = Field(default=None, description="Presence now.")


class Change(_Frozen):
    """Change since the previous assessment of the same case."""

    previous_version: int = Field(ge=1, description="The previous assessment's version.")
    previous_assessed_on: dt.date | None = Field(default=None, description="Its date.")
    areas: list[AreaChange] = Field(description="Every area, before and after.")
    items: list[ItemChange] = Field(description="Items whose presence changed.")
    summary: Text = Field(description="A generated sentence.")


class Formulation(_Frozen):
    """A case formulation: the published document that leaves the system."""

    notice: Text = Field(
        description=(
            "A structured professional judgement aid, not a prediction and not for automated "
            "decision-making about a person; the assessor's judgement decides."
        )
    )
    header: Header = Field(description="Provenance.")
    redacted: bool = Field(description="True when evidence text has been left out.")
    domains: list[DomainSummary] = Field(description="Per-domain summaries, in definition order.")
    priorities: list[Priority] = Field(description="Intervention priorities, ranked.")
    five_p: list[FivePSection] = Field(description="The 5P formulation, in 5P order.")
    spj: list[SpjSummary] = Field(description="Engagement, intent and capability.")
    risk_management: list[Text] = Field(
        description="Capability-driven notes on urgency and management; never change a priority."
    )
    responsivity: list[ResponsivitySummary] = Field(description="Adaptations to delivery.")
    data_quality: DataQuality = Field(description="Completeness and warnings.")
    change: Change | None = Field(default=None, description="Change since the previous assessment.")
    review: Review = Field(description="The assessor's overrides and narratives, as given.")
