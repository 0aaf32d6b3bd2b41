"""The assessor's judgement in the formulation: what it adds, and how a redacted copy shows it.

`with_judgement` is applied by `formulate` only when the assessment carries a `judgement`
section, so a formulation of an assessment without one is byte for byte what it was. It adds:

- person-specific factors among the reasons of the areas they are linked to, marked
  person-specific (`Priority.person_specific`); they never change a score, band or rank;
- a suggestion to review an area's band when a person-specific factor of high relevance is
  linked to an area that is not offered;
- the 5P as a formulation: items placed under another heading for this participant, the
  presenting problem, person-specific factors under their heading, a narrative or a reason why
  the heading does not apply;
- the Good Lives panel, with the goods the group, cause or ideas supply (what leaving would cost)
  and the assessor's approach goals;
- the scenarios, the summary judgements (each with the items and scenarios that bear on it), the
  bias check answers and a limitations statement.

A viewer's copy (`redact_judgement`) keeps titles, levels and links, never evidence, scenario
texts, rationales or notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from instrument.assessment import Assessment, Rating
from instrument.definition import Instrument
from instrument.judgement import (
    BIAS_QUESTIONS,
    GOOD_NAMES,
    BiasQuestion,
    FactorPresence,
    Judgement,
    Level,
    Means,
    PersonSpecificFactor,
    PersonSpecificId,
    SummaryJudgements,
)
from instrument.priorities import join
from instrument.vocabulary import (
    AreaId,
    Band,
    FiveP,
    Good,
    ItemId,
    ItemKind,
    Presence,
    Relevance,
    ShortText,
    Source,
    SpjDomain,
    Text,
)

if TYPE_CHECKING:
    from instrument.formulation import FivePSection, Formulation, Priority

NOT_APPLICABLE_WITHHELD = "Not applicable (the reason is left out of this copy)."
_PRESENT = (Presence.PARTIAL, Presence.YES)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonSpecificReason(_Frozen):
    """A person-specific factor listed among an area's reasons; it never moves the score."""

    id: PersonSpecificId = Field(description="The factor's id, e.g. `PS1`.")
    title: ShortText = Field(description="The factor's title.")
    presence: FactorPresence = Field(description="`partial` or `yes`.")
    relevance: Relevance = Field(description="Its relevance.")


class PersonSpecificSummary(_Frozen):
    """A person-specific factor as the formulation reports it."""

    id: PersonSpecificId = Field(description="The factor's id, e.g. `PS1`.")
    title: ShortText = Field(description="The factor's title.")
    domain: str = Field(description="The domain id it belongs with.")
    domain_name: ShortText = Field(description="The domain's name.")
    presence: FactorPresence = Field(description="`partial` or `yes`.")
    relevance: Relevance = Field(description="Its relevance.")
    role: FiveP = Field(description="Its 5P heading.")
    areas: list[AreaId] = Field(description="The intervention areas it is linked to.")
    evidence: Text | None = Field(
        default=None, description="What it rests on; absent in redacted formulations."
    )
    sources: list[Source] = Field(description="Where the evidence came from.")


class GoodSummary(_Frozen):
    """One primary good as rated."""

    good: Good = Field(description="The good's id.")
    name: ShortText = Field(description="The good's name.")
    importance: Level = Field(description="How important it is to the participant.")
    attainment: Level = Field(description="How far it is attained now.")
    means: Means = Field(description="The means used now.")
    supplied_by_group: bool = Field(description="Whether the group, cause or ideas supply it.")
    note: Text | None = Field(
        default=None, description="The assessor's note; absent in redacted formulations."
    )


class GoodLivesSummary(_Frozen):
    """The Good Lives panel, with what leaving would cost and the approach goals."""

    goods: list[GoodSummary] = Field(description="The rated goods, in the model's order.")
    unrated: list[Good] = Field(description="Goods not rated.")
    supplied_by_group: list[Good] = Field(
        description="Goods the group, cause or ideas supply now: what leaving would cost."
    )
    harmful_means: list[Good] = Field(description="Goods sought by harmful means now.")
    approach_goals: list[Text] = Field(
        description="The assessor's approach goals; left out of redacted formulations."
    )
    summary: Text = Field(description="A generated sentence.")


class ScenarioSummary(_Frozen):
    """One scenario; its texts are absent in redacted formulations."""

    number: int = Field(ge=1, description="The scenario's number, from 1.")
    title: ShortText = Field(description="The scenario's title.")
    what: Text | None = Field(default=None, description="What could happen.")
    who: Text | None = Field(default=None, description="Who could be harmed.")
    triggers: Text | None = Field(default=None, description="Triggers and destabilisers.")
    warning_signs: Text | None = Field(default=None, description="Warning signs.")
    less_likely: Text | None = Field(default=None, description="What would make it less likely.")
    items: list[ItemId] = Field(description="Items the scenario rests on.")
    person_specific: list[PersonSpecificId] = Field(
        description="Person-specific factors the scenario rests on."
    )


class SummaryJudgementView(_Frozen):
    """One summary judgement with the items and scenarios that bear on it."""

    judgement: str = Field(description="`priority`, `serious-harm` or `urgency`.")
    name: ShortText = Field(description="What is judged, in words.")
    level: Level | None = Field(default=None, description="The assessor's level; absent if none.")
    rationale: Text | None = Field(
        default=None, description="The assessor's rationale; absent in redacted formulations."
    )
    items: list[ItemId] = Field(description="Rated items that bear on this judgement.")
    scenarios: list[int] = Field(description="Numbers of the scenarios that bear on it.")


class SummaryJudgementsSummary(_Frozen):
    """The assessor's summary judgements, made by the assessor and never computed."""

    judgements: list[SummaryJudgementView] = Field(
        description="Priority for intervention, concern about serious harm, urgency."
    )
    no_intervention: bool = Field(description="True when no intervention is indicated.")
    summary: Text = Field(description="A generated sentence restating the assessor's judgements.")


class BiasAnswerSummary(_Frozen):
    """One bias-check question and the assessor's answer."""

    question: BiasQuestion = Field(description="The question's id.")
    text: Text = Field(description="The question as asked.")
    applies: bool | None = Field(default=None, description="The answer; absent if not answered.")
    note: Text | None = Field(
        default=None, description="What the assessor did; absent in redacted formulations."
    )


class BiasCheckSummary(_Frozen):
    """The bias check as answered."""

    answers: list[BiasAnswerSummary] = Field(description="Every question, in order.")
    confirmed: bool = Field(description="Whether the assessor confirmed the check.")


class FormulationJudgement(_Frozen):
    """The assessor's judgement as the formulation carries it."""

    presenting_problem: Text | None = Field(
        default=None,
        description="What brought the participant here; absent in redacted formulations.",
    )
    person_specific: list[PersonSpecificSummary] = Field(
        description="Person-specific factors, by id."
    )
    good_lives: GoodLivesSummary | None = Field(default=None, description="The Good Lives panel.")
    scenarios: list[ScenarioSummary] = Field(description="The scenarios, in order.")
    scenarios_required: bool = Field(
        description="True when an area is high or the escalation prompt is raised: at least one "
        "scenario is needed to finalise."
    )
    summary_judgements: SummaryJudgementsSummary | None = Field(
        default=None, description="The assessor's summary judgements."
    )
    bias_check: BiasCheckSummary | None = Field(default=None, description="The bias check.")
    review_suggestions: list[Text] = Field(
        description="Suggestions to review an area's band (person-specific factors linked to "
        "areas not offered)."
    )
    limitations: Text = Field(description="The limitations statement for the report.")
    assessor_limitations: Text | None = Field(
        default=None,
        description="The assessor's own note on limits; absent in redacted formulations.",
    )


# --- the rule that needs the escalation prompt --------------------------------------------------


def scenarios_required(bands: Sequence[Band], *, escalation_raised: bool) -> bool:
    """Return True when finalising needs at least one scenario.

    That is when any area's band (after overrides) is high, or when the escalation prompt is
    raised.
    """
    return escalation_raised or any(band is Band.HIGH for band in bands)


def escalation_raised(formulation: Formulation) -> bool:
    """Return whether the formulation's escalation prompt is raised (False when it has none).

    Instrument 1.0 formulations have no `escalation`; from 1.1 it is `escalation.raised`.
    """
    return formulation.escalation is not None and formulation.escalation.raised


# --- building -----------------------------------------------------------------------------------


def with_judgement(
    instrument: Instrument,
    assessment: Assessment,
    formulation: Formulation,
    phrases: Mapping[str, str],
) -> Formulation:
    """Return the formulation with the assessment's judgement applied (unchanged without one)."""
    judgement = assessment.judgement
    if judgement is None:
        return formulation
    reasons = _reasons_by_area(judgement)
    priorities = [_with_reasons(p, reasons.get(p.area, [])) for p in formulation.priorities]
    five_p = _five_p(instrument, assessment.ratings, judgement, formulation, phrases)
    raised = escalation_raised(formulation)
    section = FormulationJudgement(
        presenting_problem=_text(judgement.five_p.presenting_problem if judgement.five_p else None),
        person_specific=[
            _person_specific(instrument, ps_id, factor)
            for ps_id, factor in judgement.person_specific.items()
        ],
        good_lives=_good_lives(judgement),
        scenarios=[
            ScenarioSummary(
                number=number,
                title=s.title,
                what=s.what,
                who=s.who,
                triggers=s.triggers,
                warning_signs=s.warning_signs,
                less_likely=s.less_likely,
                items=s.items,
                person_specific=s.person_specific,
            )
            for number, s in enumerate(judgement.scenarios, start=1)
        ],
        scenarios_required=scenarios_required(
            [p.band for p in formulation.priorities], escalation_raised=raised
        ),
        summary_judgements=_summary_judgements(instrument, assessment, judgement, formulation),
        bias_check=_bias_check(judgement),
        review_suggestions=_review_suggestions(judgement, formulation),
        limitations=_limitations(instrument, assessment, formulation),
        assessor_limitations=_text(judgement.limitations),
    )
    return formulation.model_copy(
        update={"priorities": priorities, "five_p": five_p, "judgement": section}
    )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _reasons_by_area(judgement: Judgement) -> dict[str, list[PersonSpecificReason]]:
    reasons: dict[str, list[PersonSpecificReason]] = {}
    for ps_id, factor in judgement.person_specific.items():
        reason = PersonSpecificReason(
            id=ps_id, title=factor.title, presence=factor.presence, relevance=factor.relevance
        )
        for area in dict.fromkeys(factor.areas):
            reasons.setdefault(area, []).append(reason)
    return reasons


def _ps_phrase(reason: PersonSpecificReason) -> str:
    return f"{reason.title} ({reason.id}, {reason.presence}, {reason.relevance} relevance)"


def _with_reasons(priority: Priority, reasons: list[PersonSpecificReason]) -> Priority:
    if not reasons:
        return priority
    one = len(reasons) == 1
    sentence = (
        f" Person-specific {'factor' if one else 'factors'} linked by the assessor (not scored, "
        f"so the band is unchanged): {join([_ps_phrase(r) for r in reasons])}."
    )
    return priority.model_copy(
        update={"person_specific": reasons, "summary": priority.summary + sentence}
    )


def _person_specific(
    instrument: Instrument, ps_id: str, factor: PersonSpecificFactor
) -> PersonSpecificSummary:
    return PersonSpecificSummary(
        id=ps_id,
        title=factor.title,
        domain=factor.domain,
        domain_name=instrument.domain_by_id[factor.domain].name,
        presence=factor.presence,
        relevance=factor.relevance,
        role=factor.role,
        areas=list(dict.fromkeys(factor.areas)),
        evidence=_text(factor.evidence),
        sources=factor.sources,
    )


def _five_p(
    instrument: Instrument,
    ratings: Mapping[str, Rating],
    judgement: Judgement,
    formulation: Formulation,
    phrases: Mapping[str, str],
) -> list[FivePSection]:
    # Imported here: the formulation package imports this module.
    from instrument.formulation import _FIVE_P_LEAD as FIVE_P_LEAD

    placements = judgement.five_p.placements if judgement.five_p else {}
    headings = judgement.five_p.headings if judgement.five_p else {}
    summaries = {i.item: i for d in formulation.domains for i in d.items}
    under: dict[FiveP, list[str]] = {heading: [] for heading in FiveP}
    for item in instrument.items:
        if item.id in phrases:
            under[placements.get(item.id, item.role)].append(item.id)
    factors: dict[FiveP, list[PersonSpecificReason]] = {heading: [] for heading in FiveP}
    for ps_id, factor in judgement.person_specific.items():
        factors[factor.role].append(
            PersonSpecificReason(
                id=ps_id, title=factor.title, presence=factor.presence, relevance=factor.relevance
            )
        )
    sections = []
    for section in formulation.five_p:
        heading = section.heading
        ids = under[heading]
        named = [phrases[i] for i in ids]
        named += [f"person-specific: {_ps_phrase(r)}" for r in factors[heading]]
        lead = FIVE_P_LEAD[heading]
        summary = f"{lead}: {join(named)}." if named else f"{lead}: none rated present."
        moved = [
            i for i in ids if i in placements and placements[i] != instrument.item_by_id[i].role
        ]
        if moved:
            summary += f" Placed here by the assessor for this participant: {', '.join(moved)}."
        text = headings.get(heading)
        narrative = _text(text.narrative) if text else None
        reason = _text(text.not_applicable) if text else None
        # The judgement's text for a heading (a narrative, or why it does not apply) supersedes
        # a narrative written on the formulation page before the judgement was started.
        sections.append(
            section.model_copy(
                update={
                    "items": [summaries[i] for i in ids],
                    "summary": summary,
                    "narrative": narrative or (None if reason else section.narrative),
                    "not_applicable": reason,
                    "person_specific": factors[heading] or None,
                }
            )
        )
    del ratings  # the phrases already hold every rating shown
    return sections


def _good_lives(judgement: Judgement) -> GoodLivesSummary | None:
    panel = judgement.good_lives
    if panel is None:
        return None
    goods = [
        GoodSummary(
            good=good,
            name=GOOD_NAMES[good],
            importance=rating.importance,
            attainment=rating.attainment,
            means=rating.means,
            supplied_by_group=rating.supplied_by_group,
            note=_text(rating.note),
        )
        for good in Good
        if (rating := panel.goods.get(good)) is not None
    ]
    supplied = [g.good for g in goods if g.supplied_by_group]
    harmful = [g.good for g in goods if g.means is Means.HARMFUL]
    goals = [goal.strip() for goal in panel.approach_goals if goal.strip()]
    return GoodLivesSummary(
        goods=goods,
        unrated=[good for good in Good if good not in panel.goods],
        supplied_by_group=supplied,
        harmful_means=harmful,
        approach_goals=goals,
        summary=_good_lives_sentence(goods, supplied, harmful),
    )


def _good_names(goods: Sequence[Good]) -> str:
    return join([GOOD_NAMES[g][:1].lower() + GOOD_NAMES[g][1:] for g in goods])


def _good_lives_sentence(
    goods: Sequence[GoodSummary], supplied: Sequence[Good], harmful: Sequence[Good]
) -> str:
    if not goods:
        return "Good Lives: no primary good is rated yet."
    important = [g.good for g in goods if g.importance is Level.HIGH]
    parts = [f"Good Lives: {len(goods)} of {len(Good)} primary goods rated"]
    if important:
        parts.append(f"; of high importance to the participant: {_good_names(important)}")
    sentence = "".join(parts) + "."
    if supplied:
        sentence += (
            f" The group, cause or ideas supply {_good_names(supplied)}: leaving would cost the "
            "participant these unless the plan helps them find other, prosocial ways to attain "
            "them."
        )
    else:
        sentence += " No good is recorded as supplied by the group, cause or ideas."
    if harmful:
        sentence += f" Sought by harmful means now: {_good_names(harmful)}."
    return sentence


_JUDGEMENT_NAMES = {
    "priority": "Priority for intervention",
    "serious-harm": "Concern about serious harm",
    "urgency": "Urgency",
}


def _summary_judgements(
    instrument: Instrument, assessment: Assessment, judgement: Judgement, formulation: Formulation
) -> SummaryJudgementsSummary | None:
    # Shown even before the assessor judges: the items and scenarios that bear on each.
    given = judgement.summary or SummaryJudgements()
    ratings = assessment.ratings
    present = [
        item
        for item in instrument.items
        if (r := ratings.get(item.id)) is not None and r.presence in _PRESENT
    ]
    high_risk = [
        i.id
        for i in present
        if instrument.kind_of(i.id) is ItemKind.RISK and ratings[i.id].relevance is Relevance.HIGH
    ]
    harm = [i.id for i in present if i.informs in (SpjDomain.INTENT, SpjDomain.CAPABILITY)]
    capability = [i.id for i in present if instrument.kind_of(i.id) is ItemKind.CAPABILITY]
    escalation = formulation.escalation
    raised_items = (
        [i for reason in escalation.reasons for i in reason.items]
        if escalation is not None and escalation.raised
        else []
    )
    urgency_items = list(dict.fromkeys([*capability, *raised_items]))
    numbers = list(range(1, len(judgement.scenarios) + 1))
    choices = {
        "priority": (given.priority, high_risk, []),
        "serious-harm": (given.serious_harm, harm, numbers),
        "urgency": (
            given.urgency,
            [i for i in urgency_items if i in instrument.item_by_id],
            numbers,
        ),
    }
    views = [
        SummaryJudgementView(
            judgement=key,
            name=_JUDGEMENT_NAMES[key],
            level=None if value is None else value.level,
            rationale=None if value is None else _text(value.rationale),
            items=items,
            scenarios=scenarios,
        )
        for key, (value, items, scenarios) in choices.items()
    ]
    stated = [
        f"{v.name.lower() if n else v.name} {v.level}" for n, v in enumerate(views) if v.level
    ]
    if stated:
        summary = f"The assessor judges {join(stated)}."
        summary = summary.replace("judges Priority", "judges priority")
    else:
        summary = "The assessor has not recorded summary judgements yet."
    if given.no_intervention:
        summary += " The assessor's outcome: no intervention indicated."
    if stated or given.no_intervention:
        # Said only of judgements there are: none recorded is not "these are the assessor's".
        summary += " These are the assessor's judgements, not computed by the instrument."
    else:
        summary += " The instrument never computes them."
    return SummaryJudgementsSummary(
        judgements=views, no_intervention=given.no_intervention, summary=summary
    )


def _bias_check(judgement: Judgement) -> BiasCheckSummary | None:
    check = judgement.bias_check
    if check is None:
        return None
    answers = []
    for question in BiasQuestion:
        answer = check.answers.get(question)
        answers.append(
            BiasAnswerSummary(
                question=question,
                text=BIAS_QUESTIONS[question],
                applies=None if answer is None else answer.applies,
                note=None if answer is None else _text(answer.note),
            )
        )
    return BiasCheckSummary(answers=answers, confirmed=check.confirmed)


def _review_suggestions(judgement: Judgement, formulation: Formulation) -> list[str]:
    by_area = {p.area: p for p in formulation.priorities}
    suggestions = []
    for ps_id, factor in judgement.person_specific.items():
        if factor.relevance is not Relevance.HIGH:
            continue
        for area in dict.fromkeys(factor.areas):
            priority = by_area.get(area)
            if priority is not None and not priority.offered:
                band = priority.band.value.replace("-", " ")
                suggestions.append(
                    f"Consider reviewing the band of {priority.name}: the person-specific factor "
                    f"{factor.title} ({ps_id}), of high relevance, is linked to it and the area "
                    f"is not offered (its band is {band}). The factor does not change the score; "
                    "an override with a written rationale can set the band."
                )
    return suggestions


def _limitations(instrument: Instrument, assessment: Assessment, formulation: Formulation) -> str:
    judgement = assessment.judgement
    factors = judgement.person_specific.values() if judgement is not None else []
    used = sorted(
        {
            *(source for rating in assessment.ratings.values() for source in rating.sources),
            *(source for factor in factors for source in factor.sources),
        },
        key=list(Source).index,
    )
    parts = [
        "This formulation is a structured professional judgement aid, not a prediction of "
        "behaviour: it gives no risk score for the participant and must be read with the "
        "assessor's judgement, which decides."
    ]
    if used:
        parts.append(f"Sources available: {', '.join(s.value.replace('-', ' ') for s in used)}.")
    else:
        parts.append("No source of evidence is recorded.")
    if len(used) == 1:
        # Any one kind alone is a single source (SPJ practice asks for more than one).
        parts.append("All the evidence comes from one kind of source; corroborate it.")
    quality = formulation.data_quality
    missing = [*quality.omitted, *quality.unrated]
    if missing:
        parts.append(f"Omitted or not rated: {', '.join(missing)}.")
    short = [p.name for p in formulation.priorities if p.band is Band.INSUFFICIENT_INFORMATION]
    if short:
        parts.append(f"Not enough information to set a band for {join(short)}.")
    if quality.provisional:
        parts.append("The formulation is provisional.")
    parts.append(
        f"Made with {instrument.title} {instrument.version} on the "
        f"{assessment.case.pathway.value} pathway; it describes the participant at the time of "
        "the assessment and should be reviewed as circumstances change."
    )
    return " ".join(parts)


# --- redaction ----------------------------------------------------------------------------------


def redact_judgement(section: FormulationJudgement) -> FormulationJudgement:
    """Return the section for a redacted copy: titles, levels and links; no texts or rationales."""
    good_lives = section.good_lives
    if good_lives is not None:
        good_lives = good_lives.model_copy(
            update={
                "goods": [g.model_copy(update={"note": None}) for g in good_lives.goods],
                "approach_goals": [],
            }
        )
    summary = section.summary_judgements
    if summary is not None:
        summary = summary.model_copy(
            update={
                "judgements": [j.model_copy(update={"rationale": None}) for j in summary.judgements]
            }
        )
    bias = section.bias_check
    if bias is not None:
        bias = bias.model_copy(
            update={"answers": [a.model_copy(update={"note": None}) for a in bias.answers]}
        )
    return section.model_copy(
        update={
            "presenting_problem": None,
            "person_specific": [
                p.model_copy(update={"evidence": None}) for p in section.person_specific
            ],
            "good_lives": good_lives,
            "scenarios": [
                s.model_copy(
                    update={
                        "what": None,
                        "who": None,
                        "triggers": None,
                        "warning_signs": None,
                        "less_likely": None,
                    }
                )
                for s in section.scenarios
            ],
            "summary_judgements": summary,
            "bias_check": bias,
            "assessor_limitations": None,
        }
    )


def redact_five_p(sections: Sequence[FivePSection]) -> list[FivePSection]:
    """Return 5P sections whose `not applicable` reasons are withheld (the mark stays)."""
    return [
        s.model_copy(update={"not_applicable": NOT_APPLICABLE_WITHHELD}) if s.not_applicable else s
        for s in sections
    ]
