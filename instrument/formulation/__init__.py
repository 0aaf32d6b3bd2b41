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

from pydantic import BaseModel, ConfigDict, Field

import instrument as _package
from instrument.assessment import (
    Assessment,
    Assessor,
    InstrumentRef,
    Rating,
    assessment_hash,
    check_assessment,
)
from instrument.definition import Domain, Instrument, Item
from instrument.errors import ConflictError, DocumentError, Problem
from instrument.formulation.judgement import (
    FormulationJudgement,
    PersonSpecificReason,
    redact_five_p,
    redact_judgement,
    with_judgement,
)
from instrument.priorities import (
    AreaScore,
    RankedArea,
    as_float,
    exact,
    factor_name,
    item_phrase,
    join,
    plural,
    priority_summary,
    rank_areas,
    score_areas,
    to_units,
)
from instrument.vocabulary import (
    MAX_TEXT,
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
    person_specific: list[PersonSpecificReason] | None = Field(
        default=None,
        description=(
            "Person-specific factors the assessor linked to this area, listed among its reasons "
            "and marked person-specific; they never change the score, band or rank."
        ),
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
) -> Formulation:
    """Return the formulation of an assessment: ranked priorities with reasons, 5P, and the rest.

    A pure function: the same arguments give the same formulation, byte for byte once written
    with `formulation_json`. `generated_at` is passed in (timezone-aware; stored in UTC);
    `previous` is the previous assessment of the same case, for `change`; `review` holds the
    assessor's overrides and narratives.

    Raises:
        DocumentError: when the assessment (or the review) does not fit the instrument.
        ConflictError: when `previous` is not an earlier assessment of the same case.
    """
    _check_fits(instrument, assessment, "$")
    if previous is not None:
        _check_previous(instrument, assessment, previous)
    review = _ordered_review(instrument, review or Review())
    ratings = assessment.ratings
    decimals = instrument.rule.decimals
    scores = score_areas(instrument, ratings)
    pathway = instrument.pathway_by_id[assessment.case.pathway.value]
    overrides = {area: override.band for area, override in review.overrides.items()}
    ranked = rank_areas(instrument, scores, pathway, overrides)
    # Each item's summary and phrase is built once and shared by every section that shows it.
    summaries = {item.id: _item_summary(item, ratings.get(item.id)) for item in instrument.items}
    by_domain: dict[str, list[Item]] = {domain.id: [] for domain in instrument.domains}
    by_spj: dict[SpjDomain, list[Item]] = {spj: [] for spj in SpjDomain}
    for item in instrument.items:
        by_domain[item.domain].append(item)
        if item.informs is not None:
            by_spj[item.informs].append(item)
    phrases = {
        item.id: item_phrase(item, rating)
        for item in instrument.items
        if (rating := ratings.get(item.id)) is not None and rating.presence in _PRESENT
    }
    formulation = Formulation(
        notice=instrument.notice.strip(),
        header=_header(assessment, generated_at),
        redacted=False,
        domains=[
            _domain_summary(instrument, domain, by_domain[domain.id], ratings, summaries)
            for domain in instrument.domains
        ],
        priorities=[_priority(entry, review, decimals, phrases) for entry in ranked],
        five_p=_five_p(instrument, ratings, review, summaries, phrases),
        spj=[_spj(spj, by_spj[spj], ratings, summaries) for spj in SpjDomain],
        risk_management=_risk_management(by_domain, instrument, ratings, phrases),
        responsivity=_responsivity(instrument, assessment),
        data_quality=_data_quality(instrument, assessment, scores),
        change=None if previous is None else _change(instrument, previous, assessment, scores),
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


def redact(formulation: Formulation) -> Formulation:
    """Return the formulation without evidence text (contributors, strengths, responsivity notes).

    The assessor's judgement keeps its titles, levels and links, never evidence, scenario
    texts, rationales or notes.

    Everything else stays, so that a redacted formulation still draws the same charts.
    """
    priorities = [
        priority.model_copy(
            update={
                "contributors": [
                    c.model_copy(update={"evidence": None}) for c in priority.contributors
                ],
                "strengths": [s.model_copy(update={"evidence": None}) for s in priority.strengths],
            }
        )
        for priority in formulation.priorities
    ]
    responsivity = [r.model_copy(update={"note": None}) for r in formulation.responsivity]
    update: dict[str, object] = {
        "priorities": priorities,
        "responsivity": responsivity,
        "redacted": True,
    }
    if formulation.judgement is not None:
        update["judgement"] = redact_judgement(formulation.judgement)
        update["five_p"] = redact_five_p(formulation.five_p)
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
) -> Review:
    """Return the review with the assessor's band for an area, replacing any earlier override.

    Give `instrument` to check the area id against it (`formulate` always checks).

    Raises:
        DocumentError: for an unknown area or band, a rationale shorter than
            `MIN_RATIONALE` non-blank characters, a missing name or a time without a time zone;
            `where` names the field, e.g. `$.review.overrides.identity.rationale`.
    """
    where = f"$.review.overrides.{area}"
    known = None if instrument is None else instrument.area_by_id
    if known is not None and area not in known:
        raise DocumentError(
            [
                Problem(
                    where,
                    f"unknown intervention area {area!r}",
                    "choose one of: " + ", ".join(known),
                )
            ]
        )
    try:
        chosen = Band(band)
    except ValueError:
        raise DocumentError(
            [
                Problem(
                    f"{where}.band",
                    f"unknown band {band!r}",
                    "choose one of: " + ", ".join(b.value for b in Band),
                )
            ]
        ) from None
    text = rationale.strip()
    if len("".join(text.split())) < MIN_RATIONALE:
        raise DocumentError(
            [
                Problem(
                    f"{where}.rationale",
                    f"a rationale of at least {MIN_RATIONALE} characters is required",
                    "write why your judgement departs from the computed band",
                )
            ]
        )
    if len(text) > MAX_TEXT:
        raise DocumentError(
            [Problem(f"{where}.rationale", f"longer than {MAX_TEXT:,} characters", "shorten it")]
        )
    name = by.strip()
    if not name or len(name) > 200:
        raise DocumentError(
            [
                Problem(
                    f"{where}.by",
                    "the assessor's name (1 to 200 characters) is required",
                    "give it",
                )
            ]
        )
    if at.tzinfo is None or at.utcoffset() is None:
        raise DocumentError(
            [Problem(f"{where}.at", "the time has no time zone", "give the time in UTC")]
        )
    override = Override(band=chosen, rationale=text, by=name, at=at.astimezone(dt.UTC))
    return review.model_copy(update={"overrides": {**review.overrides, area: override}})


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
        raise DocumentError(
            [
                Problem(
                    f"$.review.narratives.{heading}",
                    f"unknown 5P heading {heading!r}",
                    "choose one of: " + ", ".join(h.value for h in FiveP),
                )
            ]
        ) from None
    narrative = text.strip()
    if len(narrative) > MAX_TEXT:
        raise DocumentError(
            [
                Problem(
                    f"$.review.narratives.{chosen.value}",
                    f"longer than {MAX_TEXT:,} characters",
                    "shorten it",
                )
            ]
        )
    narratives = {key: value for key, value in review.narratives.items() if key != chosen}
    if narrative:
        narratives[chosen] = narrative
    return review.model_copy(update={"narratives": narratives})


# --- checks -------------------------------------------------------------------------------------


def _check_fits(instrument: Instrument, assessment: Assessment, where: str) -> None:
    ref = assessment.instrument
    if (ref.id, ref.version) != instrument.key:
        raise DocumentError(
            [
                Problem(
                    f"{where}.instrument",
                    f"made with {ref.id} {ref.version}, not {instrument.id} {instrument.version}",
                    "formulate it with the instrument definition it names",
                )
            ]
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
    return Review(overrides=overrides, narratives=narratives)


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
        generator=GeneratorInfo(name="instrument", version=_package.__version__),
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
    return DomainSummary(
        domain=domain.id,
        name=domain.name,
        kind=domain.kind,
        counts=PresenceCounts(**counts),
        high_relevance=len(high),
        key_factors=key_factors,
        items=[summaries[item.id] for item in items],
        summary=_domain_sentence(instrument, domain, len(items), counts, len(high), key_factors),
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
    entry: RankedArea, review: Review, decimals: int, phrases: Mapping[str, str]
) -> Priority:
    score = entry.score
    area = score.area
    return Priority(
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
        summary=priority_summary(entry, phrases),
    )


def _five_p(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    review: Review,
    summaries: Mapping[str, ItemSummary],
    phrases: Mapping[str, str],
) -> list[FivePSection]:
    present: dict[FiveP, list[str]] = {heading: [] for heading in FiveP}
    for item in instrument.items:
        if item.id in phrases:
            present[item.role].append(item.id)
    sections = []
    for heading in FiveP:
        ids = present[heading]
        if ids:
            summary = f"{_FIVE_P_LEAD[heading]}: {join([phrases[i] for i in ids])}."
        else:
            summary = f"{_FIVE_P_LEAD[heading]}: none rated present."
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
    if present:
        summary = f"{_SPJ_LEAD[spj]}: {len(present)} of {len(items)} factors rated present"
    else:
        summary = f"{_SPJ_LEAD[spj]}: none of the {len(items)} factors is rated present"
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
    return DataQuality(
        provisional=provisional,
        omitted_share=as_float(to_units(share, rule.decimals), rule.decimals),
        omitted=omitted,
        unrated=unrated,
        missing_evidence=missing_evidence,
        warnings=warnings,
    )


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
) -> Change:
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
