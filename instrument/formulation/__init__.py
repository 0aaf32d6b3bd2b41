"""The formulation: the document that leaves the system, the review that shapes it, and `formulate`.

These models are the published contract (`schemas/formulation.schema.json`). A formulation
carries everything a chart or a report needs, so a formulation from another system draws the same
pictures. Computed values are stored fields, never `@computed_field`, so that an export
re-imports under `extra="forbid"`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from importlib.metadata import version as package_version

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import (
    Assessment,
    Assessor,
    InstrumentRef,
    Rating,
    assessment_hash,
    check_assessment,
    more_than,
    omitted_main_drivers,
)
from instrument.definition import Domain, Instrument, Item
from instrument.errors import ConflictError, DocumentError, Problem
from instrument.escalation import evaluate as evaluate_escalation
from instrument.formulation.judgement import (
    FormulationJudgement,
    PersonSpecificReason,
    redact_five_p,
    redact_judgement,
    with_judgement,
)
from instrument.migration import can_upgrade, upgrade_assessment
from instrument.priorities import (
    AreaScore,
    RankedArea,
    RuleTables,
    as_float,
    exact,
    factor_name,
    item_phrase,
    join,
    plural,
    priority_summary,
    rank_areas,
    rule_tables,
    score_areas,
    to_units,
)
from instrument.sensitivity import Move, band_range, what_would_change
from instrument.vocabulary import (
    MAX_TEXT,
    AreaId,
    AssessmentStatus,
    Band,
    CaseReference,
    FiveP,
    Good,
    ItemId,
    ItemKind,
    OmitReason,
    Pathway,
    Presence,
    Relevance,
    ResponsivityPresence,
    SessionId,
    ShortText,
    Source,
    SpjDomain,
    Text,
    Timeframe,
    text_problem,
)
from instrument.wording import (
    move_sentence,
    priority_sentences,
    rated_phrase,
    rating_words,
)

GENERATOR_VERSION = package_version("instrument")
"""The version of this software, written into every formulation (from the package metadata)."""

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
    withdrawn: bool | None = Field(
        default=None,
        description=(
            "True when the assessor withdraws the area from the offer, even where the pathway "
            "always offers it (1.1 on); the rationale says why."
        ),
    )


class FocusChoice(_Frozen):
    """The assessor's own focus: the offered areas where work should start, and why (1.1 on)."""

    areas: list[AreaId] = Field(max_length=3, description="Up to three offered areas, in order.")
    rationale: Text = Field(
        min_length=MIN_RATIONALE,
        description=f"Why the assessor departs from the computed focus ({MIN_RATIONALE}+ chars).",
    )
    by: ShortText = Field(description="Who chose the focus.")
    at: dt.datetime = Field(description="When the focus was chosen (UTC, ISO 8601).")


class Review(_Frozen):
    """The assessor's review of a formulation: overrides and the 5P narrative."""

    overrides: dict[AreaId, Override] = Field(
        default_factory=dict, description="Overrides keyed by area id."
    )
    narratives: dict[FiveP, Text] = Field(
        default_factory=dict, description="The assessor's narrative for each 5P heading."
    )
    focus: FocusChoice | None = Field(
        default=None, description="The assessor's own focus, when they adjust it (1.1 on)."
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


class RatingStep(_Frozen):
    """One single-item rating change: the item's rating now and the rating it would take."""

    item: ItemId = Field(description="The item id.")
    presence_before: Presence | None = Field(default=None, description="Presence now.")
    relevance_before: Relevance | None = Field(default=None, description="Relevance now.")
    presence_after: Presence = Field(description="The presence it would take.")
    relevance_after: Relevance | None = Field(
        default=None, description="The relevance it would take."
    )


class BandMove(_Frozen):
    """A smallest set of single-item changes, and the band the area would then take."""

    band: Band = Field(description="The band after these changes.")
    changes: list[RatingStep] = Field(description="The rating changes, all needed together.")


class WhatWouldChange(_Frozen):
    """What would move an area's band one step: up to three smallest sets each way (1.1 on)."""

    up: list[BandMove] = Field(description="Sets of changes that would raise the band.")
    down: list[BandMove] = Field(description="Sets of changes that would lower the band.")
    summary: Text = Field(description="The same in sentences.")


class BandRange(_Frozen):
    """The bands the area's omitted or unrated items could move it to (1.1 on)."""

    lowest: Band = Field(description="The band were every omitted item rated `no`.")
    highest: Band = Field(description="The band were every omitted item `yes`, high relevance.")


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
    person_specific: list[PersonSpecificReason] | None = Field(
        default=None,
        description=(
            "Person-specific factors the assessor linked to this area, listed among its reasons "
            "and marked person-specific; they never change the score, band or rank."
        ),
    )
    session_ids: list[SessionId] | None = Field(
        default=None,
        description="The catalogue ids of `sessions`, those that suit the pathway (1.1 on).",
    )
    goods: list[Good] | None = Field(
        default=None, description="The Good Lives goods the area's work serves (1.1 on)."
    )
    band_range: BandRange | None = Field(
        default=None, description="The bands its omitted or unrated items could move it to."
    )
    what_would_change: WhatWouldChange | None = Field(
        default=None, description="The smallest rating changes that would move its band."
    )


class FivePSection(_Frozen):
    """One 5P heading: the rated items assigned to it, and the assessor's narrative."""

    heading: FiveP = Field(description="The 5P heading.")
    items: list[ItemSummary] = Field(description="Items of this heading rated present.")
    summary: Text = Field(description="A generated sentence listing those items.")
    narrative: Text | None = Field(default=None, description="The assessor's own narrative.")
    not_applicable: Text | None = Field(
        default=None,
        description="Why the heading does not apply to this participant, as the assessor says.",
    )
    person_specific: list[PersonSpecificReason] | None = Field(
        default=None, description="Person-specific factors the assessor placed under this heading."
    )


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


class ContradictionFlag(_Frozen):
    """Two items rated `yes` that contradict each other (1.1 on)."""

    items: list[ItemId] = Field(description="The two item ids.")
    why: Text = Field(description="Why both `yes` is unlikely.")


class DataQuality(_Frozen):
    """How complete the assessment is, and what the formulation should be read with."""

    provisional: bool = Field(description="True when too many items are omitted or unrated.")
    omitted_share: float = Field(ge=0, le=1, description="Share of items omitted or unrated.")
    omitted: list[ItemId] = Field(description="Items rated `omit`.")
    unrated: list[ItemId] = Field(description="Items not rated at all.")
    missing_evidence: list[ItemId] = Field(description="Present items without evidence text.")
    warnings: list[Text] = Field(description="Plain-language warnings for the reader.")
    provisional_reason: Text | None = Field(
        default=None, description="The assessor's record that the formulation is provisional."
    )
    omit_reasons: dict[ItemId, OmitReason] | None = Field(
        default=None, description="Why each omitted item is omitted, where given (1.1 on)."
    )
    contradictions: list[ContradictionFlag] | None = Field(
        default=None, description="Pairs of items both rated `yes` that contradict (1.1 on)."
    )
    self_report_only: list[ItemId] | None = Field(
        default=None, description="Present items whose only source is self-report (1.1 on)."
    )
    upgrade_review: list[ItemId] | None = Field(
        default=None,
        description="Upgraded assessments: new items to rate and carried ratings to check.",
    )


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
    relevance_before: Relevance | None = Field(
        default=None, description="Relevance before (1.1 on)."
    )
    relevance_after: Relevance | None = Field(default=None, description="Relevance now (1.1 on).")


class OverrideChange(_Frozen):
    """How the assessor's override of an area changed since the previous assessment (1.1 on)."""

    area: AreaId = Field(description="The area id.")
    band_before: Band | None = Field(default=None, description="The override's band before.")
    band_after: Band | None = Field(default=None, description="The override's band now.")


class Change(_Frozen):
    """Change since the previous assessment of the same case."""

    previous_version: int = Field(ge=1, description="The previous assessment's version.")
    previous_assessed_on: dt.date | None = Field(default=None, description="Its date.")
    areas: list[AreaChange] = Field(description="Every area, before and after.")
    items: list[ItemChange] = Field(
        description="Items whose presence changed (1.1 on: or whose relevance changed)."
    )
    summary: Text = Field(description="A generated sentence.")
    strengths_gained: list[ItemId] | None = Field(
        default=None, description="Protective items now rated present that were not (1.1 on)."
    )
    strengths_lost: list[ItemId] | None = Field(
        default=None, description="Protective items no longer rated present (1.1 on)."
    )
    overrides: list[OverrideChange] | None = Field(
        default=None, description="Areas whose override was set, changed or cleared (1.1 on)."
    )


class EscalationReason(_Frozen):
    """A condition of the escalation prompt that holds, with the items that make it hold."""

    reason: ShortText = Field(description="The condition, e.g. `an intent-and-action factor…`.")
    items: list[ItemId] = Field(description="The items that make it hold.")


class EscalationPrompt(_Frozen):
    """The escalation prompt (1.1 on): a prompt for judgement, never a score or a prediction."""

    raised: bool = Field(description="True when any of the definition's conditions holds.")
    reasons: list[EscalationReason] = Field(description="The conditions that hold.")
    unknown: list[ItemId] = Field(
        description="Items the conditions name that are omitted or not rated."
    )
    prompt: Text = Field(
        description=(
            "When raised, the definition's prompt: the assessor's summary judgement and the "
            "local safeguarding or referral procedure; otherwise why it is not raised."
        )
    )


class Focus(_Frozen):
    """Where work should start: at most three offered areas (1.1 on)."""

    areas: list[AreaId] = Field(
        max_length=3, description="The focus, in order; empty when nothing is offered."
    )
    computed: list[AreaId] = Field(
        max_length=3, description="The focus the rule gives: the first offered areas by rank."
    )
    adjusted: bool = Field(description="True when the assessor chose the focus.")
    rationale: Text | None = Field(default=None, description="The assessor's reason, if adjusted.")
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
    escalation: EscalationPrompt | None = Field(
        default=None, description="The escalation prompt (1.1 on); shown first wherever shown."
    )
    focus: Focus | None = Field(
        default=None, description="Where work should start: up to three offered areas (1.1 on)."
    )
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
    judgement: FormulationJudgement | None = Field(
        default=None,
        description=(
            "The assessor's judgement after the ratings (person-specific factors, presenting "
            "problem, Good Lives, scenarios, summary judgements, bias check, limitations); "
            "present only when the assessment has a `judgement` section."
        ),
    )


# --- formulate ----------------------------------------------------------------------------------

_PRESENT = (Presence.PARTIAL, Presence.YES)
_FIVE_P_LEAD = {
    FiveP.PRESENTING: "Presenting factors",
    FiveP.PREDISPOSING: "Factors that may have made the participant more open to "
    "harm-promoting groups or ideas",
    FiveP.PRECIPITATING: "Events or circumstances that may have set off the participant's "
    "interest or involvement",
    FiveP.PERPETUATING: "Factors that may keep the participant's interest or involvement going",
    FiveP.PROTECTIVE: "Strengths that support a life away from harm",
}
_SPJ_LEAD = {
    SpjDomain.ENGAGEMENT: "Engagement (what draws the participant in and holds them)",
    SpjDomain.INTENT: "Intent (views of other groups and of harm)",
    SpjDomain.CAPABILITY: "Capability (means that could enable harm)",
}


def formulate(
    instrument: Instrument,
    assessment: Assessment,
    previous: Assessment | None = None,
    *,
    generated_at: dt.datetime,
    review: Review | None = None,
    previous_review: Review | None = None,
) -> Formulation:
    """Return the formulation of an assessment: ranked priorities with reasons, 5P, and the rest.

    A pure function: the same arguments give the same formulation, byte for byte once written
    with `formulation_json`. `generated_at` is passed in (timezone-aware; stored in UTC);
    `previous` is the previous assessment of the same case, for `change`; `review` holds the
    assessor's overrides and narratives; `previous_review` the previous assessment's, for the
    change in overrides (1.1 on). A `previous` of an earlier instrument version is first upgraded
    by the migration the instrument declares.

    Raises:
        DocumentError: when the assessment (or the review) does not fit the instrument.
        ConflictError: when `previous` is not an earlier assessment of the same case.
    """
    _check_fits(instrument, assessment, "$")
    if (
        previous is not None
        and previous.instrument.version != instrument.version
        and can_upgrade(instrument, previous)
    ):
        previous = upgrade_assessment(instrument, previous)
    if previous is not None:
        _check_previous(instrument, assessment, previous)
    review = _ordered_review(instrument, review or Review())
    ratings = assessment.ratings
    decimals = instrument.rule.decimals
    scores = score_areas(instrument, ratings)
    pathway = instrument.pathway_by_id[assessment.case.pathway.value]
    overrides = {area: override.band for area, override in review.overrides.items()}
    withdrawn = frozenset(area for area, o in review.overrides.items() if o.withdrawn)
    ranked = rank_areas(instrument, scores, pathway, overrides, withdrawn)
    worded = instrument.items[0].phrase is not None if instrument.items else False
    # Each item's summary and phrase is built once and shared by every section that shows it.
    summaries = {item.id: _item_summary(item, ratings.get(item.id)) for item in instrument.items}
    by_domain: dict[str, list[Item]] = {domain.id: [] for domain in instrument.domains}
    by_spj: dict[SpjDomain, list[Item]] = {spj: [] for spj in SpjDomain}
    for item in instrument.items:
        by_domain[item.domain].append(item)
        if item.informs is not None:
            by_spj[item.informs].append(item)
    phrase = rated_phrase if worded else item_phrase
    phrases = {
        item.id: phrase(item, rating)
        for item in instrument.items
        if (rating := ratings.get(item.id)) is not None and rating.presence in _PRESENT
    }
    tables = rule_tables(instrument) if instrument.rule.what_would_change else None
    priorities = [
        _priority(entry, review, decimals, phrases, worded=worded, withdrawn=withdrawn)
        | _sensitivity(instrument, ratings, entry, tables, pathway.id)
        for entry in ranked
    ]
    formulation = Formulation(
        notice=instrument.notice.strip(),
        header=_header(assessment, generated_at),
        redacted=False,
        escalation=_escalation(instrument, ratings),
        focus=_focus(instrument, ranked, review),
        domains=[
            _domain_summary(instrument, domain, by_domain[domain.id], ratings, summaries)
            for domain in instrument.domains
        ],
        priorities=[Priority.model_validate(fields) for fields in priorities],
        five_p=_five_p(instrument, ratings, review, summaries, phrases, _leads(worded, pathway.id)),
        spj=[_spj(spj, by_spj[spj], ratings, summaries, worded=worded) for spj in SpjDomain],
        risk_management=(
            _risk_management_11(by_domain, instrument, ratings, phrases)
            if worded
            else _risk_management(by_domain, instrument, ratings, phrases)
        ),
        responsivity=_responsivity(instrument, assessment),
        data_quality=_data_quality(instrument, assessment, scores),
        change=None
        if previous is None
        else _change(instrument, previous, assessment, scores, review, previous_review),
        review=review,
    )
    return with_judgement(instrument, assessment, formulation, phrases)


def formulation_json(formulation: Formulation) -> str:
    """Return the one serialisation of a formulation used everywhere (export, CLI, store, golden).

    Absent values are left out, fields keep the model's order, text is written as UTF-8; the same
    formulation always gives the same text.
    """
    document = formulation.model_dump(mode="json", exclude_none=True)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


REDACTED_RATIONALE = "(withheld: a redacted formulation shows no text a person wrote)"
"""Stands for an override's rationale where the override is shown but its text is not."""


def redact(formulation: Formulation) -> Formulation:
    """Return the formulation without any free text a person wrote (SECURITY.md 29).

    Evidence (contributors, strengths), responsivity notes and adaptations, the 5P narratives
    and override rationales are left out; an override stays visible (its band, who and when)
    with `REDACTED_RATIONALE` instead of its text. Everything else stays, so that a redacted
    formulation still draws the same charts.

    The assessor's judgement keeps its titles, levels and links, never evidence, scenario
    texts, rationales or notes.
    """
    overrides = {
        area: override.model_copy(update={"rationale": REDACTED_RATIONALE})
        for area, override in formulation.review.overrides.items()
    }
    priorities = [
        priority.model_copy(
            update={
                "contributors": [
                    c.model_copy(update={"evidence": None}) for c in priority.contributors
                ],
                "strengths": [s.model_copy(update={"evidence": None}) for s in priority.strengths],
                "override": overrides.get(priority.area) if priority.override else None,
            }
        )
        for priority in formulation.priorities
    ]
    responsivity = [
        r.model_copy(update={"note": None, "adaptation": None}) for r in formulation.responsivity
    ]
    five_p = [section.model_copy(update={"narrative": None}) for section in formulation.five_p]
    review = formulation.review.model_copy(update={"overrides": overrides, "narratives": {}})
    update: dict[str, object] = {
        "priorities": priorities,
        "responsivity": responsivity,
        "five_p": five_p,
        "review": review,
        "redacted": True,
    }
    if formulation.judgement is not None:
        update["judgement"] = redact_judgement(formulation.judgement)
        update["five_p"] = redact_five_p(five_p)
    return formulation.model_copy(update=update)


# --- the review: overrides and narratives -------------------------------------------------------


def apply_override(
    review: Review,
    area: str,
    band: Band | str,
    rationale: str,
    by: str,
    at: dt.datetime,
    *,
    instrument: Instrument | None = None,
    withdraw: bool = False,
) -> Review:
    """Return the review with the assessor's band for an area, replacing any earlier override.

    Give `instrument` to check the area id against it (`formulate` always checks). `withdraw`
    takes the area out of the offer even where the pathway always offers it (1.1 on); the
    rationale says why.

    Raises:
        DocumentError: for an unknown area or band, a rationale shorter than
            `MIN_RATIONALE` non-blank characters, a missing name or a time without a time zone;
            `where` names the field, e.g. `$.review.overrides.identity.rationale`.
    """
    where = f"$.review.overrides.{area}"
    known = None if instrument is None else instrument.area_by_id
    if known is not None and area not in known:
        raise DocumentError.at(
            where, f"unknown intervention area {area!r}", "choose one of: " + ", ".join(known)
        )
    try:
        chosen = Band(band)
    except ValueError:
        raise DocumentError.at(
            f"{where}.band",
            f"unknown band {band!r}",
            "choose one of: " + ", ".join(b.value for b in Band),
        ) from None
    text = rationale.strip()
    if len("".join(text.split())) < MIN_RATIONALE:
        raise DocumentError.at(
            f"{where}.rationale",
            f"a rationale of at least {MIN_RATIONALE} characters is required",
            "write why your judgement departs from the computed band",
        )
    if len(text) > MAX_TEXT:
        raise DocumentError.at(
            f"{where}.rationale", f"longer than {MAX_TEXT:,} characters", "shorten it"
        )
    bad_text = text_problem(text, f"{where}.rationale")
    if bad_text is not None:
        raise DocumentError([bad_text])
    name = by.strip()
    if not name or len(name) > 200:
        raise DocumentError.at(
            f"{where}.by", "the assessor's name (1 to 200 characters) is required", "give it"
        )
    bad_name = text_problem(name, f"{where}.by", single_line=True)
    if bad_name is not None:
        raise DocumentError([bad_name])
    if at.tzinfo is None or at.utcoffset() is None:
        raise DocumentError.at(f"{where}.at", "the time has no time zone", "give the time in UTC")
    override = Override(
        band=chosen,
        rationale=text,
        by=name,
        at=at.astimezone(dt.UTC),
        withdrawn=True if withdraw else None,
    )
    return review.model_copy(update={"overrides": {**review.overrides, area: override}})


def apply_focus(
    review: Review,
    areas: Sequence[str],
    rationale: str,
    by: str,
    at: dt.datetime,
    *,
    instrument: Instrument,
    offered: Sequence[str],
) -> Review:
    """Return the review with the assessor's own focus: up to three offered areas, with a reason.

    `offered` are the areas the current formulation offers. An empty `areas` clears the choice.

    Raises:
        DocumentError: for more than three areas, a repeated, unknown or unoffered area, a
            rationale shorter than `MIN_RATIONALE` characters, or a time without a time zone.
    """
    where = "$.review.focus"
    if not areas:
        return review.model_copy(update={"focus": None})
    problems = []
    if len(areas) > 3:
        problems.append(Problem(f"{where}.areas", "at most three areas", "choose up to three"))
    if len(set(areas)) != len(areas):
        problems.append(Problem(f"{where}.areas", "an area is named twice", "name each once"))
    for index, area in enumerate(areas):
        if area not in instrument.area_by_id:
            problems.append(
                Problem(
                    f"{where}.areas[{index}]",
                    f"unknown intervention area {area!r}",
                    "choose one of: " + ", ".join(instrument.area_by_id),
                )
            )
        elif area not in offered:
            problems.append(
                Problem(
                    f"{where}.areas[{index}]",
                    f"{instrument.area_by_id[area].name} is not offered",
                    "choose offered areas, or override the area's band first",
                )
            )
    text = rationale.strip()
    if len("".join(text.split())) < MIN_RATIONALE or len(text) > MAX_TEXT:
        problems.append(
            Problem(
                f"{where}.rationale",
                f"a rationale of {MIN_RATIONALE} to {MAX_TEXT:,} characters is required",
                "write why your focus departs from the computed one",
            )
        )
    if at.tzinfo is None or at.utcoffset() is None or not by.strip() or len(by.strip()) > 200:
        problems.append(
            Problem(
                where, "the assessor's name and a time with a time zone are required", "give them"
            )
        )
    if problems:
        raise DocumentError(problems)
    choice = FocusChoice(areas=list(areas), rationale=text, by=by.strip(), at=at.astimezone(dt.UTC))
    return review.model_copy(update={"focus": choice})


def clear_override(review: Review, area: str) -> Review:
    """Return the review without an override for the area (unchanged when there is none)."""
    overrides = {key: value for key, value in review.overrides.items() if key != area}
    return review.model_copy(update={"overrides": overrides})


def set_narrative(review: Review, heading: FiveP | str, text: str) -> Review:
    """Return the review with the assessor's narrative for a 5P heading; blank text removes it.

    Raises:
        DocumentError: for an unknown heading or a text longer than the limit.
    """
    try:
        chosen = FiveP(heading)
    except ValueError:
        raise DocumentError.at(
            f"$.review.narratives.{heading}",
            f"unknown 5P heading {heading!r}",
            "choose one of: " + ", ".join(h.value for h in FiveP),
        ) from None
    narrative = text.strip()
    if len(narrative) > MAX_TEXT:
        raise DocumentError.at(
            f"$.review.narratives.{chosen.value}",
            f"longer than {MAX_TEXT:,} characters",
            "shorten it",
        )
    bad_text = text_problem(narrative, f"$.review.narratives.{chosen.value}")
    if bad_text is not None:
        raise DocumentError([bad_text])
    narratives = {key: value for key, value in review.narratives.items() if key != chosen}
    if narrative:
        narratives[chosen] = narrative
    return review.model_copy(update={"narratives": narratives})


# --- checks -------------------------------------------------------------------------------------


def _check_fits(instrument: Instrument, assessment: Assessment, where: str) -> None:
    ref = assessment.instrument
    if (ref.id, ref.version) != instrument.key:
        raise DocumentError.at(
            f"{where}.instrument",
            f"made with {ref.id} {ref.version}, not {instrument.id} {instrument.version}",
            "formulate it with the instrument definition it names",
        )
    problems = check_assessment(instrument, assessment)
    if problems:
        prefix = "$.previous" if where != "$" else "$"
        raise DocumentError(
            [Problem(prefix + p.where.removeprefix("$"), p.message, p.fix) for p in problems]
        )


def _check_previous(instrument: Instrument, assessment: Assessment, previous: Assessment) -> None:
    _check_fits(instrument, previous, "$.previous")
    if previous.case.reference != assessment.case.reference:
        raise ConflictError(
            f"the previous assessment belongs to case {previous.case.reference}, "
            f"not {assessment.case.reference}",
            where="$.previous.case.reference",
            fix="give the previous assessment of the same case",
        )
    if previous.assessment.version >= assessment.assessment.version:
        raise ConflictError(
            f"the previous assessment is version {previous.assessment.version}; it must be "
            f"earlier than version {assessment.assessment.version}",
            where="$.previous.assessment.version",
            fix="give an earlier version of this case's assessment",
        )


def _ordered_review(instrument: Instrument, review: Review) -> Review:
    """Return the review with its keys in definition and 5P order, refusing unknown areas."""
    unknown = [area for area in review.overrides if area not in instrument.area_by_id]
    if unknown:
        raise DocumentError(
            [
                Problem(
                    f"$.review.overrides.{area}",
                    f"unknown intervention area {area!r}",
                    "choose one of: " + ", ".join(instrument.area_by_id),
                )
                for area in unknown
            ]
        )
    overrides = {a.id: review.overrides[a.id] for a in instrument.areas if a.id in review.overrides}
    narratives = {h: review.narratives[h] for h in FiveP if h in review.narratives}
    if list(overrides) == list(review.overrides) and list(narratives) == list(review.narratives):
        return review
    return Review(overrides=overrides, narratives=narratives, focus=review.focus)


# --- sections -----------------------------------------------------------------------------------


def _header(assessment: Assessment, generated_at: dt.datetime) -> Header:
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    info = assessment.assessment
    return Header(
        case_reference=assessment.case.reference,
        pathway=assessment.case.pathway,
        assessment_version=info.version,
        assessment_status=info.status,
        status=info.status,
        assessed_on=info.assessed_on,
        assessors=info.assessors,
        instrument=assessment.instrument,
        generator=GeneratorInfo(name="instrument", version=GENERATOR_VERSION),
        generated_at=generated_at.astimezone(dt.UTC),
        assessment_sha256=assessment_hash(assessment),
    )


def _item_summary(item: Item, rating: Rating | None) -> ItemSummary:
    if rating is None:
        return ItemSummary(item=item.id, name=item.name)
    return ItemSummary(
        item=item.id, name=item.name, presence=rating.presence, relevance=rating.relevance
    )


def _domain_summary(
    instrument: Instrument,
    domain: Domain,
    items: Sequence[Item],
    ratings: Mapping[str, Rating],
    summaries: Mapping[str, ItemSummary],
) -> DomainSummary:
    counts = {"yes": 0, "partial": 0, "no": 0, "omit": 0, "unrated": 0}
    high: list[str] = []
    moderate_yes: list[str] = []
    for item in items:
        rating = ratings.get(item.id)
        counts["unrated" if rating is None else rating.presence] += 1
        if rating is not None and rating.presence in _PRESENT:
            if rating.relevance is Relevance.HIGH:
                high.append(item.id)
            elif rating.relevance is Relevance.MODERATE and rating.presence is Presence.YES:
                moderate_yes.append(item.id)
    key_factors = high + moderate_yes
    if instrument.items and instrument.items[0].phrase is not None:
        sentence = _domain_sentence_11(instrument, domain, len(items), counts, ratings, key_factors)
    else:
        sentence = _domain_sentence(instrument, domain, len(items), counts, len(high), key_factors)
    return DomainSummary(
        domain=domain.id,
        name=domain.name,
        kind=domain.kind,
        counts=PresenceCounts(**counts),
        high_relevance=len(high),
        key_factors=key_factors,
        items=[summaries[item.id] for item in items],
        summary=sentence,
    )


def _domain_sentence(
    instrument: Instrument,
    domain: Domain,
    total: int,
    counts: Mapping[str, int],
    high: int,
    key_factors: list[str],
) -> str:
    if counts["unrated"] == total:
        return f"{domain.name}: not rated yet."
    present = counts["yes"] + counts["partial"]
    noun = "strengths" if domain.kind is ItemKind.PROTECTIVE else "factors"
    if present:
        split = join([f"{counts[p]} {p}" for p in ("yes", "partial") if counts[p]])
        share = f"all {total}" if present == total else f"{present} of {total}"
        sentence = f"{domain.name}: {share} {noun} rated present ({split})"
        if high:
            sentence += f", {high} of high relevance"
    elif counts["omit"] + counts["unrated"] == total:
        return f"{domain.name}: all {total} {noun} are omitted or not rated."
    else:
        sentence = f"{domain.name}: none of the {total} {noun} is rated present"
    missing = counts["omit"] + counts["unrated"]
    if missing:
        sentence += f"; {missing} omitted or not rated"
    sentence += "."
    if key_factors:
        names = [f"{factor_name(instrument.item_by_id[i])} ({i})" for i in key_factors]
        sentence += f" Key {'strengths' if noun == 'strengths' else 'factors'}: {join(names)}."
    if domain.kind is ItemKind.CAPABILITY:
        sentence += " These inform the urgency and intensity of the plan, never an area's priority."
    return sentence


def _priority(
    entry: RankedArea,
    review: Review,
    decimals: int,
    phrases: Mapping[str, str],
    *,
    worded: bool,
    withdrawn: frozenset[str],
) -> dict[str, object]:
    score = entry.score
    area = score.area
    summary = (
        priority_sentences(entry, dict(phrases), withdrawn=area.id in withdrawn)
        if worded
        else priority_summary(entry, phrases)
    )
    return dict(
        area=area.id,
        name=area.name,
        rank=entry.rank,
        band=entry.band,
        computed_band=score.band,
        score=as_float(score.score_units, decimals),
        coverage=as_float(score.coverage_units, decimals),
        offered=entry.offered,
        offered_reason=entry.offered_reason,
        contributors=[
            Contributor(
                item=c.item.id,
                name=c.item.name,
                presence=c.rating.presence,
                relevance=c.rating.relevance,
                weight=c.weight,
                contribution=as_float(c.units, decimals),
                evidence=c.rating.evidence,
                sources=c.rating.sources,
                timeframe=c.rating.timeframe,
            )
            for c in score.contributions
        ],
        omitted=list(score.omitted),
        strengths=[
            Strength(
                item=item.id,
                name=item.name,
                presence=rating.presence,
                relevance=rating.relevance,
                evidence=rating.evidence,
            )
            for item, rating in score.strengths
        ],
        sessions=area.sessions,
        override=review.overrides.get(area.id),
        summary=summary,
    )


def _sensitivity(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    entry: RankedArea,
    tables: RuleTables | None,
    pathway: Pathway,
) -> dict[str, object]:
    """Return the 1.1 fields of a priority: sessions by id, goods, band range, what would change."""
    area = entry.score.area
    extra: dict[str, object] = {}
    if area.catalogue:
        suited = [session for session in area.catalogue if pathway in session.pathways]
        extra["sessions"] = [session.title for session in suited]
        extra["session_ids"] = [session.id for session in suited]
        extra["goods"] = list(area.goods)
    limit = instrument.rule.what_would_change
    if tables is None or limit is None:
        return extra
    score = entry.score
    lowest, highest = band_range(instrument, ratings, area.id, score, tables)
    up, down = what_would_change(instrument, ratings, area.id, score, tables, limit=limit)
    extra["band_range"] = BandRange(lowest=lowest, highest=highest)
    extra["what_would_change"] = WhatWouldChange(
        up=[_band_move(move) for move in up],
        down=[_band_move(move) for move in down],
        summary=_change_sentence(score.band, up, down),
    )
    return extra


def _band_move(move: Move) -> BandMove:
    return BandMove(
        band=move.band,
        changes=[
            RatingStep(
                item=step.item.id,
                presence_before=None if step.before is None else step.before.presence,
                relevance_before=None if step.before is None else step.before.relevance,
                presence_after=step.after.presence,
                relevance_after=step.after.relevance,
            )
            for step in move.steps
        ],
    )


def _step_words(move: Move) -> list[str]:
    words = []
    for step in move.steps:
        before = step.before
        now = rating_words(
            None if before is None else before.presence,
            None if before is None else before.relevance,
        )
        after = rating_words(step.after.presence, step.after.relevance)
        words.append(f"{step.item.id} were rated {after} (now {now})")
    return words


def _change_sentence(band: Band, up: Sequence[Move], down: Sequence[Move]) -> str:
    sentences = []
    if up:
        sentences.append(move_sentence("up", up[0].band, [_step_words(m) for m in up]))
    elif band is Band.HIGH:
        sentences.append("It is already high.")
    else:
        sentences.append("No change in the ratings of this area's factors would raise it.")
    if down:
        sentences.append(move_sentence("down", down[0].band, [_step_words(m) for m in down]))
    elif band is Band.LOW:
        sentences.append("It is already low.")
    return " ".join(sentences)


def _escalation(instrument: Instrument, ratings: Mapping[str, Rating]) -> EscalationPrompt | None:
    result = evaluate_escalation(instrument, ratings)
    if result is None or instrument.escalation is None:
        return None
    reasons = [
        EscalationReason(reason=raised.condition.reason, items=list(raised.items))
        for raised in result.raised_by
    ]
    if result.raised:
        named = join([f"{r.reason} ({', '.join(r.items)})" for r in reasons])
        prompt = f"Escalation prompt raised: {named}. {instrument.escalation.prompt.strip()}"
    else:
        conditions = "; ".join(c.reason for c in instrument.escalation.any_of)
        prompt = f"Not raised: none of its conditions holds ({conditions})."
    if result.unknown:
        verb = "is" if len(result.unknown) == 1 else "are"
        prompt += (
            f" {join(list(result.unknown))} {verb} omitted or not rated, so the prompt cannot be "
            "ruled out: gather the information and rate them."
        )
    return EscalationPrompt(
        raised=result.raised, reasons=reasons, unknown=list(result.unknown), prompt=prompt
    )


def _focus(instrument: Instrument, ranked: Sequence[RankedArea], review: Review) -> Focus | None:
    size = instrument.rule.focus_size
    if size is None:
        return None
    offered = [entry.score.area.id for entry in ranked if entry.offered]
    computed = offered[:size]
    names = instrument.area_by_id
    choice = review.focus
    if choice is not None:
        kept = [area for area in choice.areas if area in offered]
        dropped = [area for area in choice.areas if area not in offered]
        summary = (
            f"The assessor chose the focus: {join([names[a].name for a in kept]) or 'none'}"
            f" (from the ratings: {join([names[a].name for a in computed]) or 'none'})."
        )
        if dropped:
            summary += (
                f" {join([names[a].name for a in dropped])} "
                f"{'is' if len(dropped) == 1 else 'are'} no longer offered and left out of it."
            )
        return Focus(
            areas=kept,
            computed=computed,
            adjusted=True,
            rationale=choice.rationale,
            summary=summary,
        )
    if computed:
        summary = f"Start with {join([names[a].name for a in computed])}."
        if len(offered) > size:
            summary += f" {plural(len(offered) - size, 'other area')} offered can follow."
    else:
        summary = "No area offered: the ratings do not point to work in any area at present."
    return Focus(areas=computed, computed=computed, adjusted=False, summary=summary)


def _leads(worded: bool, pathway: Pathway) -> Mapping[FiveP, str]:
    """Return the 5P lead-ins: 1.1 words them for the pathway (prevention has no involvement)."""
    if not worded:
        return _FIVE_P_LEAD
    if pathway is Pathway.PREVENTION:
        return {
            FiveP.PRESENTING: "Presenting factors",
            FiveP.PREDISPOSING: "Factors that may make the participant more open to "
            "harm-promoting groups or ideas",
            FiveP.PRECIPITATING: "Events or circumstances that may have added to the "
            "participant's susceptibility",
            FiveP.PERPETUATING: "Factors that may keep the participant susceptible",
            FiveP.PROTECTIVE: "Strengths that support a life away from harm",
        }
    if pathway is Pathway.CONVICTED:
        return {
            **_FIVE_P_LEAD,
            FiveP.PRECIPITATING: "Events or circumstances that may have set off the "
            "participant's involvement or offending",
            FiveP.PERPETUATING: "Factors that may keep the participant's involvement going",
        }
    return _FIVE_P_LEAD


def _five_p(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    review: Review,
    summaries: Mapping[str, ItemSummary],
    phrases: Mapping[str, str],
    leads: Mapping[FiveP, str] = _FIVE_P_LEAD,
) -> list[FivePSection]:
    present: dict[FiveP, list[str]] = {heading: [] for heading in FiveP}
    for item in instrument.items:
        if item.id in phrases:
            present[item.role].append(item.id)
    sections = []
    for heading in FiveP:
        ids = present[heading]
        if ids:
            summary = f"{leads[heading]}: {join([phrases[i] for i in ids])}."
        else:
            summary = f"{leads[heading]}: none rated present."
        sections.append(
            FivePSection(
                heading=heading,
                items=[summaries[i] for i in ids],
                summary=summary,
                narrative=review.narratives.get(heading),
            )
        )
    return sections


def _spj(
    spj: SpjDomain,
    items: Sequence[Item],
    ratings: Mapping[str, Rating],
    summaries: Mapping[str, ItemSummary],
    *,
    worded: bool = False,
) -> SpjSummary:
    present: list[ItemSummary] = []
    omitted: list[str] = []
    high: list[str] = []
    for item in items:
        rating = ratings.get(item.id)
        if rating is None or rating.presence is Presence.OMIT:
            omitted.append(item.id)
        elif rating.presence in _PRESENT:
            present.append(summaries[item.id])
            if rating.relevance is Relevance.HIGH:
                high.append(item.id)
    lead = _SPJ_LEAD[spj]
    if worded and spj is SpjDomain.INTENT:
        lead = "Intent (views of other groups and of harm; intent and action)"
    if present:
        summary = f"{lead}: {len(present)} of {len(items)} factors rated present"
    else:
        summary = f"{lead}: none of the {len(items)} factors is rated present"
    if high:
        summary += f", {len(high)} of high relevance ({', '.join(high)})"
    if omitted:
        summary += f"; {len(omitted)} omitted or not rated"
    return SpjSummary(domain=spj, present=present, omitted=omitted, summary=summary + ".")


def _risk_management(
    by_domain: Mapping[str, Sequence[Item]],
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    phrases: Mapping[str, str],
) -> list[str]:
    capability = [
        item
        for domain in instrument.domains
        if domain.kind is ItemKind.CAPABILITY
        for item in by_domain[domain.id]
    ]
    present = [
        (i, r)
        for i in capability
        if (r := ratings.get(i.id)) is not None and r.presence in _PRESENT
    ]
    missing = [
        i for i in capability if (r := ratings.get(i.id)) is None or r.presence is Presence.OMIT
    ]
    notes = []
    if present:
        listed = join([phrases[item.id] for item, _ in present])
        one = len(present) == 1
        factors, they, call = ("factor", "it", "calls") if one else ("factors", "they", "call")
        if any(rating.presence is Presence.YES for _, rating in present):
            notes.append(
                f"Capability {factors} rated present: {listed}. {they.capitalize()} {call} for "
                "greater urgency and intensity: consider more frequent sessions and reviews, and "
                "share relevant information with those responsible for managing risk, following "
                "local procedures."
            )
        else:
            notes.append(
                f"Capability {factors} rated partly present: {listed}. Consider whether {they} "
                f"{call} for greater urgency or intensity, and review {'it' if one else 'them'} "
                "at each stage of the plan."
            )
    if missing:
        listed = join([f"{factor_name(item)} ({item.id})" for item in missing])
        notes.append(
            f"Capability could not be rated, or is not rated yet, for {listed}: seek the "
            "information from files or collateral sources before the plan is settled."
        )
    if not present and not missing:
        notes.append(
            "No capability factor is rated present: the urgency and intensity of the plan follow "
            "the priorities."
        )
    notes.append(
        "Capability factors never change an area's priority; they inform how urgently and "
        "intensively the plan is delivered."
    )
    return notes


def _responsivity(instrument: Instrument, assessment: Assessment) -> list[ResponsivitySummary]:
    summaries = []
    for consideration in instrument.responsivity:
        note = assessment.responsivity.get(consideration.id)
        applies = note is not None and note.presence is ResponsivityPresence.YES
        summaries.append(
            ResponsivitySummary(
                id=consideration.id,
                name=consideration.name,
                presence=None if note is None else note.presence,
                note=None if note is None else note.note,
                adaptation=None if note is None else note.adaptation,
                suggested=consideration.adaptations if applies else [],
            )
        )
    return summaries


def _data_quality(
    instrument: Instrument, assessment: Assessment, scores: Sequence[AreaScore]
) -> DataQuality:
    rule = instrument.rule
    ratings = assessment.ratings
    omitted: list[str] = []
    unrated: list[str] = []
    missing_evidence: list[str] = []
    historical: list[str] = []
    for item in instrument.items:
        rating = ratings.get(item.id)
        if rating is None:
            unrated.append(item.id)
        elif rating.presence is Presence.OMIT:
            omitted.append(item.id)
        elif rating.presence in _PRESENT:
            if not (rating.evidence or "").strip():
                missing_evidence.append(item.id)
            if rating.timeframe is Timeframe.HISTORICAL:
                historical.append(item.id)
    total = len(instrument.items)
    share = Fraction(len(omitted) + len(unrated), total) if total else Fraction(0)
    provisional = share > exact(rule.provisional_omitted_share)
    extra, more_warnings = _quality_checks(instrument, assessment)
    provisional = provisional or bool(extra.get("provisional_reason"))
    provisional = provisional or bool(omitted_main_drivers(instrument, assessment))
    warnings = _warnings(
        instrument,
        assessment,
        scores,
        provisional=provisional,
        unrated=unrated,
        missing=len(omitted) + len(unrated),
        missing_evidence=missing_evidence,
        historical=historical,
    )
    if more_warnings:
        # The draft warning stays last.
        draft = warnings[-1:] if assessment.assessment.status is AssessmentStatus.DRAFT else []
        warnings = warnings[: len(warnings) - len(draft)] + more_warnings + draft
    return DataQuality.model_validate(
        dict(
            provisional=provisional,
            omitted_share=as_float(to_units(share, rule.decimals), rule.decimals),
            omitted=omitted,
            unrated=unrated,
            missing_evidence=missing_evidence,
            warnings=warnings,
            **extra,
        )
    )


def _quality_checks(
    instrument: Instrument, assessment: Assessment
) -> tuple[dict[str, object], list[str]]:
    """Return the 1.1 data-quality fields and their warnings (nothing for 1.0)."""
    extra: dict[str, object] = {}
    warnings: list[str] = []
    ratings = assessment.ratings
    info = assessment.assessment
    if instrument.scales.omit_reasons is not None:
        reasons = {
            item.id: rating.omit_reason
            for item in instrument.items
            if (rating := ratings.get(item.id)) is not None
            and rating.presence is Presence.OMIT
            and rating.omit_reason is not None
        }
        extra["omit_reasons"] = reasons
        without = [
            item.id
            for item in instrument.items
            if (rating := ratings.get(item.id)) is not None
            and rating.presence is Presence.OMIT
            and rating.omit_reason is None
        ]
        if without:
            warnings.append(
                f"Omitted without a reason: {', '.join(without)}. Say why each is omitted "
                "before finalising."
            )
        drivers = omitted_main_drivers(instrument, assessment)
        for area_id, items in drivers.items():
            warnings.append(
                f"{more_than(instrument.rule.main_drivers_omitted_limit).capitalize()} of the "
                f"main drivers of {instrument.area_by_id[area_id].name} "
                f"are omitted or not rated ({', '.join(items)}): its band rests on too little "
                "information."
            )
    if (info.provisional_reason or "").strip():
        extra["provisional_reason"] = info.provisional_reason
        warnings.append("The assessor recorded this formulation as provisional; see the reason.")
    quality = instrument.quality
    if quality is not None:
        flags = [
            ContradictionFlag(items=list(pair.items), why=pair.why)
            for pair in quality.contradictions
            if all(
                (r := ratings.get(i)) is not None and r.presence is Presence.YES for i in pair.items
            )
        ]
        extra["contradictions"] = flags
        for flag in flags:
            first, second = flag.items
            warnings.append(
                f"{first} and {second} are both rated yes ({flag.why}): check the two ratings "
                "against each other and the evidence."
            )
        sole = set(quality.sole_sources)
        alone = [
            item.id
            for item in instrument.items
            if (r := ratings.get(item.id)) is not None
            and r.presence in _PRESENT
            and r.sources
            and set(r.sources) <= sole
        ]
        extra["self_report_only"] = alone
        if alone:
            warnings.append(
                f"Rated present on self-report alone: {', '.join(alone)}. Seek corroboration "
                "from another source where possible."
            )
    upgrade = info.upgraded_from
    if upgrade is not None:
        pending = [i for i in upgrade.new_items if ratings.get(i) is None]
        extra["upgrade_review"] = pending + list(upgrade.review_items)
        parts = []
        if pending:
            parts.append(f"rate the new items {join(pending)}")
        if upgrade.review_items:
            parts.append(
                f"check the carried-over ratings of {join(list(upgrade.review_items))} against "
                f"the {instrument.version} guidance"
            )
        if parts:
            warnings.append(
                f"Upgraded from {instrument.id} {upgrade.from_version}: {' and '.join(parts)}."
            )
    return extra, warnings


def _warnings(
    instrument: Instrument,
    assessment: Assessment,
    scores: Sequence[AreaScore],
    *,
    provisional: bool,
    unrated: list[str],
    missing: int,
    missing_evidence: list[str],
    historical: list[str],
) -> list[str]:
    rule = instrument.rule
    total = len(instrument.items)
    warnings = []
    if provisional:
        limit = f"{float(exact(rule.provisional_omitted_share) * 100):g}%"
        warnings.append(
            f"{missing} of the {total} items are omitted or not rated (more than {limit}): this "
            "formulation is provisional; gather more information before relying on it."
        )
    if unrated:
        warnings.append(
            f"Not rated yet: {', '.join(unrated)}. Rate each, or choose omit, before finalising."
        )
    insufficient = [s.area.name for s in scores if s.band is Band.INSUFFICIENT_INFORMATION]
    if insufficient:
        warnings.append(
            f"Not enough information to set a band for {join(insufficient)}: gather information "
            "on their omitted factors first."
        )
    if missing_evidence:
        warnings.append(
            f"No evidence recorded for {', '.join(missing_evidence)}, rated present: add what "
            "each rating rests on before finalising."
        )
    if historical:
        warnings.append(
            f"Rated present on historical evidence only: {', '.join(historical)}. Check that "
            "each still applies."
        )
    if assessment.assessment.status is AssessmentStatus.DRAFT:
        warnings.append(
            "Made from a draft assessment: the formulation may change before it is finalised."
        )
    return warnings


def _change(
    instrument: Instrument,
    previous: Assessment,
    assessment: Assessment,
    scores: Sequence[AreaScore],
    review: Review,
    previous_review: Review | None,
) -> Change:
    if instrument.change_detail == "full":
        return _full_change(instrument, previous, assessment, scores, review, previous_review)
    decimals = instrument.rule.decimals
    before = score_areas(instrument, previous.ratings)
    areas = [
        AreaChange(
            area=now.area.id,
            band_before=then.band,
            band_after=now.band,
            score_before=as_float(then.score_units, decimals),
            score_after=as_float(now.score_units, decimals),
        )
        for then, now in zip(before, scores, strict=True)
    ]
    items = []
    for item in instrument.items:
        old = previous.ratings.get(item.id)
        new = assessment.ratings.get(item.id)
        old_presence = None if old is None else old.presence
        new_presence = None if new is None else new.presence
        if old_presence != new_presence:
            items.append(
                ItemChange(item=item.id, presence_before=old_presence, presence_after=new_presence)
            )
    info = previous.assessment
    since = f"Since version {info.version}"
    if info.assessed_on is not None:
        since += f" (assessed on {info.assessed_on.isoformat()})"
    moved = [
        f"{instrument.area_by_id[c.area].name} {'from' if moved_before else 'moved from'} "
        f"{c.band_before} to {c.band_after}"
        for moved_before, c in enumerate(a for a in areas if a.band_before is not a.band_after)
    ]
    summary = f"{since}, " + (join(moved) if moved else "no area changed band")
    if items:
        summary += (
            f"; {plural(len(items), 'factor')} changed presence "
            f"({', '.join(c.item for c in items)})."
        )
    else:
        summary += "; no factor changed presence."
    return Change(
        previous_version=info.version,
        previous_assessed_on=info.assessed_on,
        areas=areas,
        items=items,
        summary=summary,
    )


def _full_change(
    instrument: Instrument,
    previous: Assessment,
    assessment: Assessment,
    scores: Sequence[AreaScore],
    review: Review,
    previous_review: Review | None,
) -> Change:
    """Return change in bands, presence and relevance, strengths and overrides (1.1 on)."""
    decimals = instrument.rule.decimals
    before = score_areas(instrument, previous.ratings)
    areas = [
        AreaChange(
            area=now.area.id,
            band_before=then.band,
            band_after=now.band,
            score_before=as_float(then.score_units, decimals),
            score_after=as_float(now.score_units, decimals),
        )
        for then, now in zip(before, scores, strict=True)
    ]
    items: list[ItemChange] = []
    gained: list[str] = []
    lost: list[str] = []
    risk_presence: list[str] = []
    relevance: list[str] = []
    for item in instrument.items:
        old = previous.ratings.get(item.id)
        new = assessment.ratings.get(item.id)
        old_p, new_p = (None if r is None else r.presence for r in (old, new))
        old_r, new_r = (None if r is None else r.relevance for r in (old, new))
        if old_p == new_p and old_r == new_r:
            continue
        items.append(
            ItemChange(
                item=item.id,
                presence_before=old_p,
                presence_after=new_p,
                relevance_before=old_r,
                relevance_after=new_r,
            )
        )
        protective = instrument.kind_of(item.id) is ItemKind.PROTECTIVE
        was, now_present = old_p in _PRESENT, new_p in _PRESENT
        if protective and was != now_present:
            (gained if now_present else lost).append(item.id)
        elif old_p != new_p:
            risk_presence.append(item.id)
        else:
            relevance.append(item.id)
    earlier = previous_review.overrides if previous_review is not None else {}
    overrides = [
        OverrideChange(
            area=area.id,
            band_before=earlier[area.id].band if area.id in earlier else None,
            band_after=review.overrides[area.id].band if area.id in review.overrides else None,
        )
        for area in instrument.areas
        if (earlier[area.id].band if area.id in earlier else None)
        != (review.overrides[area.id].band if area.id in review.overrides else None)
    ]
    info = previous.assessment
    since = f"Since version {info.version}"
    if info.assessed_on is not None:
        since += f" (assessed on {info.assessed_on.isoformat()})"
    moved = [
        f"{instrument.area_by_id[c.area].name} moved from {c.band_before} to {c.band_after}"
        for c in areas
        if c.band_before is not c.band_after
    ]
    parts = [join(moved) if moved else "no area changed band"]
    if risk_presence:
        parts.append(
            f"{plural(len(risk_presence), 'factor')} changed presence ({', '.join(risk_presence)})"
        )
    if relevance:
        parts.append(
            f"{plural(len(relevance), 'factor')} changed relevance only ({', '.join(relevance)})"
        )
    if gained:
        parts.append(f"strengths now rated present: {', '.join(gained)}")
    if lost:
        parts.append(f"strengths no longer rated present: {', '.join(lost)}")
    if overrides:
        parts.append(
            "the assessor's overrides changed for "
            + join([instrument.area_by_id[o.area].name for o in overrides])
        )
    if not (risk_presence or relevance or gained or lost or items):
        parts.append("no rating changed")
    return Change(
        previous_version=info.version,
        previous_assessed_on=info.assessed_on,
        areas=areas,
        items=items,
        summary=f"{since}, " + "; ".join(parts) + ".",
        strengths_gained=gained,
        strengths_lost=lost,
        overrides=overrides,
    )


def _domain_sentence_11(
    instrument: Instrument,
    domain: Domain,
    total: int,
    counts: Mapping[str, int],
    ratings: Mapping[str, Rating],
    key_factors: list[str],
) -> str:
    """Return the 1.1 domain sentence: key factors as rated (partial as partial)."""
    if counts["unrated"] == total:
        return f"{domain.name}: not rated yet."
    present = counts["yes"] + counts["partial"]
    noun = "strengths" if domain.kind is ItemKind.PROTECTIVE else "factors"
    missing = counts["omit"] + counts["unrated"]
    if present:
        split = join([f"{counts[p]} {p}" for p in ("yes", "partial") if counts[p]])
        share = f"all {total}" if present == total else f"{present} of {total}"
        sentence = f"{domain.name}: {share} {noun} rated present ({split})"
    elif missing == total:
        sentence = f"{domain.name}: all {total} {noun} are omitted or not rated"
    else:
        sentence = f"{domain.name}: none of the {total} {noun} is rated present"
    if missing and missing != total:
        sentence += f"; {missing} omitted or not rated"
    sentence += "."
    if key_factors:
        named = [rated_phrase(instrument.item_by_id[i], ratings[i]) for i in key_factors]
        sentence += f" Key {noun}: {join(named)}."
    if domain.kind is ItemKind.CAPABILITY:
        sentence += " They inform the urgency and intensity of the plan, never an area's priority."
    if domain.kind is ItemKind.INTENT:
        sentence += " They raise the escalation prompt, never an area's priority."
    return sentence


def _risk_management_11(
    by_domain: Mapping[str, Sequence[Item]],
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    phrases: Mapping[str, str],
) -> list[str]:
    """Return the 1.1 risk management notes: capability weighed, never asserted as urgent."""
    capability = [
        item
        for domain in instrument.domains
        if domain.kind is ItemKind.CAPABILITY
        for item in by_domain[domain.id]
    ]
    present = [i for i in capability if i.id in phrases]
    missing = [
        i for i in capability if (r := ratings.get(i.id)) is None or r.presence is Presence.OMIT
    ]
    notes = []
    if present:
        listed = join([phrases[item.id] for item in present])
        notes.append(
            f"Capability rated present: {listed}. Weigh this in how urgently and intensively the "
            "plan is delivered (for example, more frequent sessions and reviews), and share "
            "relevant information with those responsible for managing risk, following local "
            "procedures."
        )
    if missing:
        listed = join([f"{item.phrase} ({item.id})" for item in missing])
        notes.append(
            f"Capability is omitted or not rated yet for {listed}: seek the information from "
            "files or collateral sources before the plan is settled."
        )
    if not present and not missing:
        notes.append(
            "No capability factor is rated present: the urgency and intensity of the plan follow "
            "the priorities."
        )
    notes.append(
        "Capability and intent-and-action factors never change an area's priority; "
        "intent and action are weighed in the escalation prompt."
    )
    return notes
