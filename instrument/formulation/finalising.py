"""What the assessor's judgement needs before an assessment may be finalised.

The rules apply to an assessment that has a `judgement` section, and to every assessment of
instrument 1.1 or later (whose drafts are expected to hold one); an assessment of 1.0 without the
section finalises as it always did. They are:

- a presenting problem, and under each 5P heading a narrative or a reason why it does not apply;
- evidence and a source for every person-specific factor;
- at least one complete scenario when any area's band (after overrides) is high or the
  escalation prompt is raised (`scenarios_required`);
- the three summary judgements, each with a written rationale; "no intervention indicated" only
  with a low priority for intervention;
- the bias check: every question answered (with a note where it may apply) and confirmed.
"""

from __future__ import annotations

import datetime as dt

from instrument.assessment import Assessment, check_assessment
from instrument.definition import Instrument
from instrument.errors import Problem
from instrument.formulation import Formulation, Review, formulate
from instrument.formulation.judgement import escalation_raised, scenarios_required
from instrument.judgement import BIAS_QUESTIONS, BiasQuestion, Judgement, Level

FIRST_JUDGEMENT_VERSION = (1, 1, 0)
# Formulating only to read the bands: the time is never shown.
_ANY_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_SCENARIO_TEXTS = {
    "what": "what could happen",
    "who": "who could be harmed",
    "triggers": "the triggers and destabilisers",
    "warning_signs": "the warning signs",
    "less_likely": "what would make it less likely",
}


def judgement_required(instrument: Instrument, assessment: Assessment) -> bool:
    """Return True when finalising needs the assessor's judgement sections.

    True when the assessment holds a `judgement` section, or its instrument is 1.1 or later.
    """
    if assessment.judgement is not None:
        return True
    version = tuple(int(part) for part in instrument.version.split("."))
    return version >= FIRST_JUDGEMENT_VERSION


def judgement_problems(
    instrument: Instrument, assessment: Assessment, review: Review | None = None
) -> list[Problem]:
    """Return what in the assessor's judgement blocks finalising (empty when nothing does).

    `review` holds the overrides (the band that counts decides whether a scenario is needed) and
    any 5P narrative written on the formulation page. The assessment must fit the instrument.
    """
    if not judgement_required(instrument, assessment) or check_assessment(instrument, assessment):
        # An assessment that does not fit its instrument is refused for that reason first.
        return []
    judgement = assessment.judgement or Judgement()
    formulation = formulate(instrument, assessment, generated_at=_ANY_TIME, review=review)
    problems: list[Problem] = []
    base = "$.judgement"
    five_p = judgement.five_p
    if five_p is None or not (five_p.presenting_problem or "").strip():
        problems.append(
            Problem(
                f"{base}.five_p.presenting_problem",
                "the presenting problem is missing",
                "write what brought the participant to this assessment",
            )
        )
    for section in formulation.five_p:
        where = f"{base}.five_p.headings.{section.heading.value}"
        text = five_p.headings.get(section.heading) if five_p else None
        has_reason = text is not None and bool((text.not_applicable or "").strip())
        # The section's narrative is the judgement's, or else (without a reason) the one written
        # on the formulation page (the review), which a reason supersedes.
        has_own = bool((section.narrative or "").strip())
        if has_own and has_reason:
            problems.append(
                Problem(
                    where,
                    f"the {section.heading.value} heading has both a narrative and a reason why "
                    "it does not apply",
                    "keep one of them",
                )
            )
        elif not has_reason and not has_own:
            problems.append(
                Problem(
                    f"{where}.narrative",
                    f"the {section.heading.value} heading has no narrative",
                    "write the narrative, or mark it not applicable with the reason",
                )
            )
    for ps_id, factor in judgement.person_specific.items():
        where = f"{base}.person_specific.{ps_id}"
        if not (factor.evidence or "").strip():
            problems.append(
                Problem(
                    f"{where}.evidence",
                    f"evidence is required for the person-specific factor {ps_id}",
                    "describe what the factor rests on",
                )
            )
        elif not factor.sources:
            problems.append(
                Problem(
                    f"{where}.sources",
                    f"at least one source is required for {ps_id}",
                    "choose where the evidence came from",
                )
            )
    problems.extend(_scenario_problems(judgement, formulation))
    problems.extend(_summary_problems(judgement))
    problems.extend(_bias_problems(judgement))
    return problems


def _scenario_problems(judgement: Judgement, formulation: Formulation) -> list[Problem]:
    problems = []
    raised = escalation_raised(formulation)
    bands = [p.band for p in formulation.priorities]
    if not judgement.scenarios and scenarios_required(bands, escalation_raised=raised):
        why = "the escalation prompt is raised" if raised else "an area's band is high"
        problems.append(
            Problem(
                "$.judgement.scenarios",
                f"at least one scenario is needed because {why}",
                "describe what could happen, to whom, the triggers, the warning signs and what "
                "would make it less likely (general terms, no probabilities)",
            )
        )
    for index, scenario in enumerate(judgement.scenarios):
        where = f"$.judgement.scenarios[{index}]"
        for field, words in _SCENARIO_TEXTS.items():
            if not str(getattr(scenario, field)).strip():
                problems.append(
                    Problem(f"{where}.{field}", f"{words} is missing", f"write {words}")
                )
        if not scenario.items and not scenario.person_specific:
            problems.append(
                Problem(
                    f"{where}.items",
                    "the scenario is linked to no item or person-specific factor",
                    "link the items and person-specific factors it rests on",
                )
            )
    return problems


def _summary_problems(judgement: Judgement) -> list[Problem]:
    summary = judgement.summary
    problems = []
    names = {
        "priority": "priority for intervention",
        "serious_harm": "concern about serious harm",
        "urgency": "urgency",
    }
    for field, words in names.items():
        value = None if summary is None else getattr(summary, field)
        where = f"$.judgement.summary.{field}"
        if value is None:
            problems.append(
                Problem(where, f"the summary judgement of {words} is missing", "judge it")
            )
        elif not value.rationale.strip():
            problems.append(
                Problem(
                    f"{where}.rationale",
                    f"the rationale for {words} is missing",
                    "write why you judge it so",
                )
            )
    if (
        summary is not None
        and summary.no_intervention
        and summary.priority is not None
        and summary.priority.level is not Level.LOW
    ):
        problems.append(
            Problem(
                "$.judgement.summary.no_intervention",
                "no intervention is indicated, but the priority for intervention is "
                f"{summary.priority.level}",
                "judge the priority low, or clear 'no intervention indicated'",
            )
        )
    return problems


def _bias_problems(judgement: Judgement) -> list[Problem]:
    check = judgement.bias_check
    where = "$.judgement.bias_check"
    problems = []
    for question in BiasQuestion:
        answer = None if check is None else check.answers.get(question)
        if answer is None:
            problems.append(
                Problem(
                    f"{where}.answers.{question.value}",
                    f"not answered: {BIAS_QUESTIONS[question]}",
                    "answer yes or no",
                )
            )
        elif answer.applies and not (answer.note or "").strip():
            problems.append(
                Problem(
                    f"{where}.answers.{question.value}.note",
                    "it may apply, but there is no note of what was done about it",
                    "say how you took it into account",
                )
            )
    if check is None or not check.confirmed:
        problems.append(
            Problem(
                f"{where}.confirmed",
                "the bias check is not confirmed",
                "confirm that you have considered each question",
            )
        )
    return problems
