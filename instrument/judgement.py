"""The assessor's structured professional judgement after the ratings: the optional sections.

In structured professional judgement the ratings are the first half. The assessor then adds
what the list missed (person-specific factors, the "+" of ERG22+), writes the 5P as a
formulation (presenting problem, items moved to another P for this person, a narrative under
each P), rates the Good Lives primary goods, imagines what could happen (scenarios, never
probabilities), records their own summary judgements (never computed), and confirms a short bias
check. All of it lives in the assessment document under `judgement`, which is optional: an
assessment of instrument 1.0 without it validates, formulates and exports exactly as before.

This module holds the models and the checks that need only the instrument (ids that must
exist); what blocks finalising, which needs the priorities, is in
`instrument.formulation.judgement`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from instrument.definition import Instrument
from instrument.errors import Problem
from instrument.vocabulary import (
    AreaId,
    FiveP,
    Good,
    ItemId,
    Relevance,
    ShortText,
    Source,
    Text,
)

PERSON_SPECIFIC_PATTERN = r"^PS[1-9][0-9]?$"
PersonSpecificId = Annotated[str, StringConstraints(pattern=PERSON_SPECIFIC_PATTERN)]
MAX_PERSON_SPECIFIC = 20
MAX_SCENARIOS = 10
MAX_APPROACH_GOALS = 10
MAX_LINKS = 40


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Level(StrEnum):
    """A three-step judgement: low, moderate or high."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class FactorPresence(StrEnum):
    """Presence of a person-specific factor: it is recorded because it is at least partly there."""

    PARTIAL = "partial"
    YES = "yes"


# Names for reports and forms (the 1.1 definition names its goods too; 1.0 has none).
GOOD_NAMES: dict[Good, str] = {
    Good.LIFE: "Life (healthy living and functioning)",
    Good.KNOWLEDGE: "Knowledge",
    Good.PLAY: "Excellence in play",
    Good.WORK: "Excellence in work",
    Good.AGENCY: "Excellence in agency (autonomy and self-direction)",
    Good.INNER_PEACE: "Inner peace",
    Good.RELATEDNESS: "Relatedness",
    Good.COMMUNITY: "Community",
    Good.SPIRITUALITY: "Spirituality (meaning and purpose)",
    Good.PLEASURE: "Pleasure",
    Good.CREATIVITY: "Creativity",
}


class Means(StrEnum):
    """How the participant seeks a good now."""

    PROSOCIAL = "prosocial"
    HARMFUL = "harmful"
    NONE = "none"


class BiasQuestion(StrEnum):
    """The four questions of the bias check asked at finalising."""

    SINGLE_SOURCE = "single-source"
    SYMPATHY_OR_ANTIPATHY = "sympathy-or-antipathy"
    CULTURAL_OR_RELIGIOUS = "cultural-or-religious"
    POWER_OR_LANGUAGE = "power-or-language"


BIAS_QUESTIONS: dict[BiasQuestion, str] = {
    BiasQuestion.SINGLE_SOURCE: "Do my judgements rely on a single source of information?",
    BiasQuestion.SYMPATHY_OR_ANTIPATHY: (
        "Could sympathy or antipathy towards the ideology, cause or group have coloured my "
        "ratings or judgements?"
    ),
    BiasQuestion.CULTURAL_OR_RELIGIOUS: (
        "Could I have misread cultural or religious practice, belief or language as a risk factor?"
    ),
    BiasQuestion.POWER_OR_LANGUAGE: (
        "Could a difference of power or of language between the participant and me have shaped "
        "what was said or how I understood it?"
    ),
}


class PersonSpecificFactor(_Frozen):
    """A factor the instrument's list does not hold that matters for this participant."""

    title: ShortText = Field(description="A short title for the factor, in the assessor's words.")
    domain: str = Field(
        pattern=r"^[a-z][a-z-]*$",
        description="The id of the instrument domain the factor belongs with, e.g. `identity`.",
    )
    presence: FactorPresence = Field(description="`partial` or `yes`.")
    relevance: Relevance = Field(description="Its relevance: `low`, `moderate` or `high`.")
    evidence: Text | None = Field(
        default=None, description="What the factor rests on; required before finalising."
    )
    sources: list[Source] = Field(
        default_factory=list, max_length=6, description="Where the evidence came from."
    )
    role: FiveP = Field(description="The 5P heading the factor belongs under.")
    areas: list[AreaId] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "Intervention areas the assessor links the factor to. The link never changes a "
            "score: the factor is listed among the area's reasons, marked person-specific."
        ),
    )


class FivePHeadingText(_Frozen):
    """The assessor's text under one 5P heading: a narrative, or why the heading does not apply."""

    narrative: Text | None = Field(default=None, description="The assessor's narrative.")
    not_applicable: Text | None = Field(
        default=None,
        description="Why the heading does not apply to this participant (instead of a narrative).",
    )


class FivePFormulation(_Frozen):
    """The 5P as a formulation: the presenting problem, items moved, a text under each heading."""

    presenting_problem: Text | None = Field(
        default=None,
        description="What brought the participant to this assessment, in the assessor's words.",
    )
    placements: dict[ItemId, FiveP] = Field(
        default_factory=dict,
        description=(
            "Items the assessor places under another 5P heading for this participant; the "
            "definition's heading is the default."
        ),
    )
    headings: dict[FiveP, FivePHeadingText] = Field(
        default_factory=dict,
        description="Per 5P heading: a narrative, or `not_applicable` with the reason.",
    )


class GoodRating(_Frozen):
    """One primary good: how much it matters, how far it is attained, how it is sought."""

    importance: Level = Field(description="How important the good is to the participant.")
    attainment: Level = Field(description="How far the participant attains the good now.")
    means: Means = Field(description="The means used now: `prosocial`, `harmful` or `none`.")
    supplied_by_group: bool = Field(
        description="Whether the group, cause or ideas supply this good to the participant now."
    )
    note: Text | None = Field(default=None, description="The assessor's note on this good.")


class GoodLives(_Frozen):
    """The Good Lives panel: the primary goods and the approach goals the assessor writes."""

    goods: dict[Good, GoodRating] = Field(
        default_factory=dict, description="Ratings keyed by good id, e.g. `relatedness`."
    )
    approach_goals: list[Text] = Field(
        default_factory=list,
        max_length=MAX_APPROACH_GOALS,
        description="Approach goals: what the participant could move towards, in plain words.",
    )


class Scenario(_Frozen):
    """What could happen (HCR-20 V3 step 5), in general terms; never a probability."""

    title: ShortText = Field(description="A short title for the scenario.")
    what: Text = Field(description="What could happen, in general terms (no operational detail).")
    who: Text = Field(description="Who could be harmed, in general terms (never a named person).")
    triggers: Text = Field(description="The triggers and destabilisers that could bring it about.")
    warning_signs: Text = Field(description="The warning signs that it may be coming closer.")
    less_likely: Text = Field(description="What would make it less likely.")
    items: list[ItemId] = Field(
        default_factory=list, max_length=MAX_LINKS, description="Items the scenario rests on."
    )
    person_specific: list[PersonSpecificId] = Field(
        default_factory=list,
        max_length=MAX_PERSON_SPECIFIC,
        description="Person-specific factors the scenario rests on, by id (e.g. `PS1`).",
    )


class SummaryJudgement(_Frozen):
    """One of the assessor's summary judgements: a level and the written rationale."""

    level: Level = Field(description="`low`, `moderate` or `high`.")
    rationale: Text = Field(description="Why the assessor judges it so.")


class SummaryJudgements(_Frozen):
    """The assessor's own summary judgements: made by the assessor, never computed."""

    priority: SummaryJudgement | None = Field(
        default=None, description="Priority for intervention."
    )
    serious_harm: SummaryJudgement | None = Field(
        default=None, description="Concern about serious harm to others."
    )
    urgency: SummaryJudgement | None = Field(
        default=None, description="Urgency of action (how soon work or safeguarding must start)."
    )
    no_intervention: bool = Field(
        default=False,
        description="True when the assessor's outcome is that no intervention is indicated.",
    )


class BiasAnswer(_Frozen):
    """The assessor's answer to one bias-check question."""

    applies: bool = Field(description="Whether the assessor thinks it may apply here.")
    note: Text | None = Field(
        default=None,
        description="What the assessor did about it; required before finalising when it applies.",
    )


class BiasCheck(_Frozen):
    """The short bias check confirmed at finalising; the answers are kept with the assessment."""

    answers: dict[BiasQuestion, BiasAnswer] = Field(
        default_factory=dict, description="Answers keyed by question id, e.g. `single-source`."
    )
    confirmed: bool = Field(
        default=False, description="True once the assessor confirms they have considered each."
    )


class Judgement(_Frozen):
    """Everything the assessor adds after the ratings; every part optional while drafting."""

    person_specific: dict[PersonSpecificId, PersonSpecificFactor] = Field(
        default_factory=dict,
        max_length=MAX_PERSON_SPECIFIC,
        description="Person-specific factors keyed by id, `PS1` to `PS99`.",
    )
    five_p: FivePFormulation | None = Field(default=None, description="The 5P as a formulation.")
    good_lives: GoodLives | None = Field(default=None, description="The Good Lives panel.")
    scenarios: list[Scenario] = Field(
        default_factory=list, max_length=MAX_SCENARIOS, description="Scenarios, in order."
    )
    summary: SummaryJudgements | None = Field(
        default=None, description="The assessor's summary judgements."
    )
    bias_check: BiasCheck | None = Field(default=None, description="The bias check.")
    limitations: Text | None = Field(
        default=None,
        description="The assessor's own note on the limits of this assessment, for the report.",
    )


def unconfirmed(judgement: Judgement | None) -> Judgement | None:
    """Return the judgement for a new draft: every answer kept, the bias check not confirmed.

    The confirmation belongs to the finalising it was given for: an amendment or an upgrade of a
    final version is finalised anew, perhaps by someone else, who confirms the check again. (An
    imported assessment document keeps what it says, like its other answers.)
    """
    if judgement is None or judgement.bias_check is None or not judgement.bias_check.confirmed:
        return judgement
    check = judgement.bias_check.model_copy(update={"confirmed": False})
    return judgement.model_copy(update={"bias_check": check})


def check_judgement(instrument: Instrument, judgement: Judgement) -> list[Problem]:
    """Return every id in the judgement that the instrument does not know (empty when none)."""
    problems: list[Problem] = []
    base = "$.judgement"
    domains = instrument.domain_by_id
    for ps_id, factor in judgement.person_specific.items():
        where = f"{base}.person_specific.{ps_id}"
        problems.extend(_blank_title(f"{where}.title", factor.title, "the factor"))
        if factor.domain not in domains:
            problems.append(
                Problem(
                    f"{where}.domain",
                    f"unknown domain {factor.domain!r}",
                    "choose one of: " + ", ".join(domains),
                )
            )
        problems.extend(_areas(instrument, f"{where}.areas", factor.areas))
        problems.extend(_repeated(f"{where}.areas", factor.areas))
    if judgement.five_p is not None:
        for item_id in judgement.five_p.placements:
            if item_id not in instrument.item_by_id:
                problems.append(
                    Problem(
                        f"{base}.five_p.placements.{item_id}",
                        f"unknown item id {item_id!r}",
                        f"use an item id of {instrument.id} {instrument.version}, e.g. ID1",
                    )
                )
    for index, scenario in enumerate(judgement.scenarios):
        where = f"{base}.scenarios[{index}]"
        problems.extend(_blank_title(f"{where}.title", scenario.title, "the scenario"))
        problems.extend(_repeated(f"{where}.items", scenario.items))
        problems.extend(_repeated(f"{where}.person_specific", scenario.person_specific))
        for position, item_id in enumerate(scenario.items):
            if item_id not in instrument.item_by_id:
                problems.append(
                    Problem(
                        f"{where}.items[{position}]",
                        f"unknown item id {item_id!r}",
                        f"use an item id of {instrument.id} {instrument.version}, e.g. ID1",
                    )
                )
        for position, ps_id in enumerate(scenario.person_specific):
            if ps_id not in judgement.person_specific:
                problems.append(
                    Problem(
                        f"{where}.person_specific[{position}]",
                        f"the scenario links {ps_id}, but no person-specific factor {ps_id} is "
                        "recorded",
                        f"remove {ps_id} from the scenario's links first, or keep (or record) the "
                        "factor",
                    )
                )
    return problems


def _areas(instrument: Instrument, where: str, areas: list[str]) -> list[Problem]:
    return [
        Problem(
            f"{where}[{position}]",
            f"unknown intervention area {area!r}",
            "choose one of: " + ", ".join(instrument.area_by_id),
        )
        for position, area in enumerate(areas)
        if area not in instrument.area_by_id
    ]


def _blank_title(where: str, title: str, what: str) -> list[Problem]:
    """A title of spaces only names nothing: it is refused like a missing one."""
    if title.strip():
        return []
    return [Problem(where, "the title is blank", f"give {what} a short title")]


def _repeated(where: str, links: list[str]) -> list[Problem]:
    """A link named twice is refused at its second place (the report would list it twice)."""
    seen: set[str] = set()
    problems = []
    for position, link in enumerate(links):
        if link in seen:
            problems.append(
                Problem(f"{where}[{position}]", f"{link} is linked twice", "link it once")
            )
        seen.add(link)
    return problems
