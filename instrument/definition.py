"""The instrument definition: domains, items, scales, intervention areas and the priority rule.

A definition is data (`instrument/definitions/*.yaml`); these models are its shape, and
`check_definition` holds the semantic rules a JSON Schema cannot say (unique ids, weights that
name real items and areas, every area driven by at least two items, no protective or capability
item driving an area).
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instrument.errors import DefinitionError, Problem
from instrument.vocabulary import (
    AreaId,
    FiveP,
    Good,
    ItemId,
    ItemKind,
    OmitReason,
    Pathway,
    Presence,
    Relevance,
    SemanticVersion,
    SessionId,
    ShortText,
    Source,
    SpjDomain,
    Text,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Cached(BaseModel):
    # Frozen but able to hold cached lookups: used for the top-level Instrument only.
    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))


class ScaleValue(_Frozen):
    """One value of a rating scale, with the label and meaning shown to assessors."""

    value: str = Field(description="The value exactly as stored in documents, e.g. `partial`.")
    label: ShortText = Field(description="A short label for forms and reports.")
    description: Text = Field(description="What choosing this value means.")


class Scales(_Frozen):
    """The rating scales the instrument uses, with their labels and meanings."""

    presence: list[ScaleValue] = Field(description="Presence: `no`, `partial`, `yes`, `omit`.")
    relevance: list[ScaleValue] = Field(description="Relevance: `low`, `moderate`, `high`.")
    sources: list[ScaleValue] = Field(description="Sources of evidence.")
    timeframe: list[ScaleValue] = Field(description="Timeframe of the evidence.")
    relevance_by_pathway: dict[Pathway, list[ScaleValue]] | None = Field(
        default=None,
        description=(
            "Relevance anchors worded for each pathway (1.1 on): relevance to susceptibility "
            "(prevention), to interest or involvement (engaged), to offending (convicted)."
        ),
    )
    strength_relevance: list[ScaleValue] | None = Field(
        default=None,
        description="Relevance anchors for protective items: their value as a strength (1.1 on).",
    )
    omit_reasons: list[ScaleValue] | None = Field(
        default=None,
        description=(
            "Why an item may be omitted (1.1 on): `not-asked`, `declined`, `no-records`, "
            "`conflicting-information`, `other` (with text). When listed, omit needs a reason."
        ),
    )

    def relevance_for(self, pathway: Pathway | str, kind: ItemKind) -> list[ScaleValue]:
        """Return the relevance anchors an assessor sees for an item of this kind on a pathway."""
        if kind is ItemKind.PROTECTIVE and self.strength_relevance:
            return self.strength_relevance
        if self.relevance_by_pathway:
            return self.relevance_by_pathway.get(Pathway(pathway), self.relevance)
        return self.relevance


class PathwayDefinition(_Frozen):
    """A referral pathway and how it shapes the offer of intervention areas."""

    id: Pathway = Field(description="The pathway id: `prevention`, `engaged` or `convicted`.")
    label: ShortText = Field(description="A short label for forms and reports.")
    description: Text = Field(description="Who is referred on this pathway.")
    always_offered: list[AreaId] = Field(
        default_factory=list,
        description="Areas offered on this pathway whatever their band.",
    )
    tie_order: list[AreaId] = Field(
        default_factory=list,
        description=(
            "Order in which areas of equal band and score are listed on this pathway; areas not "
            "named follow in the definition's order."
        ),
    )


class Domain(_Frozen):
    """A group of items rated together, such as identity or beliefs."""

    id: str = Field(pattern=r"^[a-z][a-z-]*$", description="The domain id, e.g. `identity`.")
    name: ShortText = Field(description="The domain's name for forms and reports.")
    description: Text = Field(description="What the domain covers.")
    kind: ItemKind = Field(description="What the domain's items do: risk, protective, capability.")


class Guidance(_Frozen):
    """Rating guidance for one item: what `no`, `partial` and `yes` look like."""

    no: Text = Field(description="What a rating of `no` looks like.")
    partial: Text = Field(description="What a rating of `partial` looks like.")
    yes: Text = Field(description="What a rating of `yes` looks like.")
    note: Text | None = Field(
        default=None,
        description="A caution for the rater, e.g. what the item is not (1.1 on).",
    )


class Item(_Frozen):
    """One factor the assessor rates for presence and relevance."""

    id: ItemId = Field(description="The fixed item id, e.g. `ID1`.")
    domain: str = Field(description="The id of the domain the item belongs to.")
    name: ShortText = Field(description="The factor's working name.")
    description: Text = Field(description="What the factor is, in plain professional English.")
    guidance: Guidance = Field(description="Rating guidance for `no`, `partial` and `yes`.")
    role: FiveP = Field(description="The 5P heading the item pre-fills when rated present.")
    informs: SpjDomain | None = Field(
        default=None,
        description="The SPJ domain (engagement, intent, capability) the item informs, if any.",
    )
    weights: dict[AreaId, float] = Field(
        default_factory=dict,
        description="Weight of the item in each area it drives (risk items only).",
    )
    phrase: ShortText | None = Field(
        default=None,
        description=(
            "How the factor reads inside a generated sentence, subject included, e.g. `a group's "
            "influence and control over the participant` (1.1 on)."
        ),
    )
    phrase_partial: ShortText | None = Field(
        default=None,
        description="The phrase for a `partial` rating, when `some signs of …` reads wrongly.",
    )

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for area, weight in value.items():
            if not 0 < weight <= 1:
                raise ValueError(f"weight for {area} must be greater than 0 and at most 1")
        return value


class Session(_Frozen):
    """One session of the catalogue (1.1 on): what it is for and whom it suits."""

    id: SessionId = Field(
        description="`<area-id>.<n>` for an area's sessions, `foundation.<n>` for foundation ones."
    )
    title: ShortText = Field(description="The session's title.")
    aims: list[Text] = Field(min_length=1, max_length=6, description="What the session aims at.")
    items: list[ItemId] = Field(
        default_factory=list, description="The items the session addresses (none for foundation)."
    )
    pathways: list[Pathway] = Field(min_length=1, description="The pathways the session suits.")


class GoodDefinition(_Frozen):
    """A Good Lives good: something people seek in life, met lawfully in the plan (1.1 on)."""

    id: Good = Field(description="The fixed id of the good, e.g. `relatedness`.")
    name: ShortText = Field(description="The good's name.")
    description: Text = Field(description="What the good is.")


class InterventionArea(_Frozen):
    """An area of intervention work that ratings may make a priority."""

    id: AreaId = Field(description="The fixed area id, e.g. `identity`.")
    name: ShortText = Field(description="The area's name for forms and reports.")
    description: Text = Field(description="What the work in this area addresses.")
    sessions: list[Text] = Field(
        default_factory=list,
        max_length=6,
        description="Suggested session topics, three to six (1.0; 1.1 uses `catalogue`).",
    )
    catalogue: list[Session] = Field(
        default_factory=list,
        max_length=6,
        description="The area's sessions, three to six, with ids `<area-id>.<n>` (1.1 on).",
    )
    goods: list[Good] = Field(
        default_factory=list, description="The Good Lives goods the work in this area serves."
    )
    strengths: list[ItemId] = Field(
        description="Protective items that, when present, are strengths to build on in this area."
    )

    @property
    def session_titles(self) -> list[str]:
        """Return the session topics as shown in a formulation: the catalogue's titles in 1.1."""
        return [session.title for session in self.catalogue] or list(self.sessions)


class ResponsivityItem(_Frozen):
    """A consideration that shapes how an intervention is delivered; never part of a priority."""

    id: ItemId = Field(description="The fixed id, e.g. `RS1`.")
    name: ShortText = Field(description="The consideration's name.")
    description: Text = Field(description="What to look for.")
    adaptations: list[Text] = Field(
        min_length=1, description="Suggested adaptations to delivery when it applies."
    )


class Rule(_Frozen):
    """The one rule that turns ratings into area priorities; its numbers live in the definition.

    For an area with weighted items W, an item's contribution is
    `weight × presence value × relevance value / Σ weights of W`; the score is the sum of the
    contributions. Omitted and unrated items contribute nothing and lower the coverage
    (`Σ weights of rated items / Σ weights of W`).
    """

    presence_values: dict[Presence, float] = Field(
        description="Value of each presence; `omit` is not listed because it never scores."
    )
    relevance_values: dict[Relevance, float] = Field(description="Value of each relevance.")
    high_from: float = Field(gt=0, le=1, description="Scores at or above this are `high`.")
    moderate_from: float = Field(gt=0, le=1, description="Scores at or above this are `moderate`.")
    min_coverage: float = Field(
        gt=0,
        le=1,
        description=(
            "Below this coverage an area that would be `low` is `insufficient-information`: its "
            "score is only a lower bound."
        ),
    )
    provisional_omitted_share: float = Field(
        gt=0,
        le=1,
        description="A formulation is provisional when more than this share of items is omitted.",
    )
    decimals: int = Field(ge=2, le=6, description="Decimal places of scores and contributions.")
    score_basis: Literal["area-weight", "reference-weight"] = Field(
        default="area-weight",
        description=(
            "What a contribution is divided by: `area-weight` (1.0: the area's total weight) or "
            "`reference-weight` (1.1: one fixed weight for every area, so that a band means the "
            "same however many items an area has; the score is capped at 1)."
        ),
    )
    reference_weight: float | None = Field(
        default=None,
        gt=0,
        description="The fixed divisor of `reference-weight` scoring, e.g. 3 main drivers.",
    )
    focus_size: int | None = Field(
        default=None,
        ge=1,
        le=3,
        description="How many offered areas the formulation names as its focus (1.1 on).",
    )
    main_drivers_omitted_limit: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description=(
            "Finalising is refused while more than this share of an area's main drivers is "
            "omitted, unless the formulation is recorded as provisional with a reason (1.1 on)."
        ),
    )
    what_would_change: int | None = Field(
        default=None,
        ge=1,
        le=3,
        description="How many sets of rating changes a priority lists each way (1.1 on).",
    )


class ItemTest(_Frozen):
    """A test on ratings: one of `items` has one of `presence` (and of `relevance`, if given)."""

    items: list[ItemId] = Field(min_length=1, description="The items tested; any one may match.")
    presence: list[Presence] = Field(min_length=1, description="The presences that match.")
    relevance: list[Relevance] | None = Field(
        default=None, description="The relevances that match; any when absent."
    )


class EscalationCondition(_Frozen):
    """One way the escalation prompt is raised: every test in `all_of` holds."""

    all_of: list[ItemTest] = Field(min_length=1, description="Tests that must all hold.")
    reason: ShortText = Field(description="What the condition is, for the prompt's reasons.")


class Escalation(_Frozen):
    """When the formulation raises its escalation prompt, and what the prompt says (1.1 on)."""

    any_of: list[EscalationCondition] = Field(
        min_length=1, description="The prompt is raised when any condition holds."
    )
    prompt: Text = Field(
        description=(
            "The prompt: asks for the assessor's summary judgement and the local safeguarding or "
            "referral procedure; never a score or a prediction."
        )
    )


class Migration(_Frozen):
    """How an assessment of an earlier version becomes one of this version (1.1 on)."""

    from_version: SemanticVersion = Field(description="The earlier version, e.g. `1.0.0`.")
    renamed: dict[ItemId, ItemId] = Field(
        default_factory=dict, description="Old item id → new item id; the rating moves as is."
    )
    split: dict[ItemId, list[ItemId]] = Field(
        default_factory=dict,
        description=(
            "Old item id → the new items it became; the rating is copied to each and flagged for "
            "the assessor to check."
        ),
    )
    new: list[ItemId] = Field(
        default_factory=list, description="Items new in this version: they arrive unrated."
    )
    review: list[ItemId] = Field(
        default_factory=list,
        description="Items whose guidance changed enough that their rating should be checked.",
    )
    note: Text = Field(description="What changed, for the assessor who upgrades.")


class Contradiction(_Frozen):
    """Two items that contradict each other when both are rated `yes` (1.1 on)."""

    items: list[ItemId] = Field(min_length=2, max_length=2, description="The two item ids.")
    why: Text = Field(description="Why both `yes` is unlikely, for the data-quality warning.")


class QualityChecks(_Frozen):
    """Checks of the ratings' consistency that data quality reports (1.1 on)."""

    contradictions: list[Contradiction] = Field(
        default_factory=list, description="Pairs of items that should not both be `yes`."
    )
    sole_sources: list[Source] = Field(
        default_factory=list,
        description="Sources that, as a present item's only source, are flagged for corroboration.",
    )


class Instrument(_Cached):
    """A whole instrument definition, as loaded from YAML and checked."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="The instrument id, e.g. `ifi`.")
    version: SemanticVersion = Field(description="The definition's version, e.g. `1.0.0`.")
    title: ShortText = Field(description="The instrument's full name.")
    description: Text = Field(description="What the instrument is for and what it is not.")
    notice: Text = Field(description="The judgement caution shown on every screen and report.")
    scales: Scales = Field(description="The rating scales.")
    pathways: list[PathwayDefinition] = Field(description="The referral pathways.")
    domains: list[Domain] = Field(description="The domains, in display order.")
    items: list[Item] = Field(description="The rated items, in display order.")
    areas: list[InterventionArea] = Field(description="The intervention areas, in display order.")
    responsivity: list[ResponsivityItem] = Field(description="The responsivity considerations.")
    rule: Rule = Field(description="The priority rule's numbers.")
    escalation: Escalation | None = Field(
        default=None, description="When the escalation prompt is raised (1.1 on)."
    )
    goods: list[GoodDefinition] = Field(
        default_factory=list, description="The Good Lives goods (1.1 on)."
    )
    foundation: list[Session] = Field(
        default_factory=list,
        description="Foundation sessions (engagement, working relationship, safety and goals).",
    )
    quality: QualityChecks | None = Field(
        default=None, description="Consistency checks data quality reports (1.1 on)."
    )
    change_detail: Literal["presence", "full"] = Field(
        default="presence",
        description=(
            "What change since the previous assessment reports: `presence` (1.0) or `full` "
            "(1.1: presence and relevance, strengths and overrides)."
        ),
    )
    migrations: list[Migration] = Field(
        default_factory=list,
        description="How assessments of earlier versions become assessments of this one.",
    )

    @cached_property
    def session_by_id(self) -> dict[str, Session]:
        """Map session id to session: foundation sessions, then each area's catalogue."""
        sessions = list(self.foundation)
        for area in self.areas:
            sessions += area.catalogue
        return {session.id: session for session in sessions}

    def migration_from(self, version: str) -> Migration | None:
        """Return the declared migration from an earlier version, or None."""
        return next((m for m in self.migrations if m.from_version == version), None)

    def main_drivers(self, area_id: str) -> list[Item]:
        """Return the items that mainly drive an area: those of its highest weight."""
        rows = self.area_items(area_id)
        top = max((weight for _, weight in rows), default=0)
        return [item for item, weight in rows if weight == top]

    @cached_property
    def item_by_id(self) -> dict[str, Item]:
        """Map item id to item."""
        return {item.id: item for item in self.items}

    @cached_property
    def area_by_id(self) -> dict[str, InterventionArea]:
        """Map area id to area."""
        return {area.id: area for area in self.areas}

    @cached_property
    def domain_by_id(self) -> dict[str, Domain]:
        """Map domain id to domain."""
        return {domain.id: domain for domain in self.domains}

    @cached_property
    def responsivity_by_id(self) -> dict[str, ResponsivityItem]:
        """Map responsivity id to responsivity item."""
        return {item.id: item for item in self.responsivity}

    @cached_property
    def pathway_by_id(self) -> dict[str, PathwayDefinition]:
        """Map pathway id to pathway."""
        return {pathway.id.value: pathway for pathway in self.pathways}

    def items_of(self, domain_id: str) -> list[Item]:
        """Return the items of one domain, in definition order."""
        return [item for item in self.items if item.domain == domain_id]

    def kind_of(self, item_id: str) -> ItemKind:
        """Return what kind of item this is (risk, protective or capability)."""
        return self.domain_by_id[self.item_by_id[item_id].domain].kind

    def area_items(self, area_id: str) -> list[tuple[Item, float]]:
        """Return the items that drive an area with their weights, in definition order."""
        return [(item, item.weights[area_id]) for item in self.items if area_id in item.weights]

    @property
    def key(self) -> tuple[str, str]:
        """Return the (id, version) pair that assessments record."""
        return (self.id, self.version)


def check_definition(instrument: Instrument) -> Instrument:
    """Check the semantic rules of a definition and return it unchanged when they hold.

    Raises:
        DefinitionError: listing every rule broken, each with its JSON path.
    """
    problems: list[Problem] = []
    problems += _unique("$.domains", [d.id for d in instrument.domains])
    problems += _unique("$.items", [i.id for i in instrument.items])
    problems += _unique("$.areas", [a.id for a in instrument.areas])
    problems += _unique("$.responsivity", [r.id for r in instrument.responsivity])
    problems += _unique("$.pathways", [p.id.value for p in instrument.pathways])
    clash = {i.id for i in instrument.items} & {r.id for r in instrument.responsivity}
    problems += [
        Problem("$.responsivity", f"id {c} is also an item id", "give it its own id")
        for c in sorted(clash)
    ]
    problems += _check_items(instrument)
    problems += _check_areas(instrument)
    problems += _check_pathways(instrument)
    problems += _check_rule(instrument)
    problems += _check_sessions(instrument)
    problems += _check_goods(instrument)
    problems += _check_escalation(instrument)
    problems += _check_migrations(instrument)
    problems += _check_scales(instrument)
    problems += _check_phrases(instrument)
    if problems:
        raise DefinitionError(problems)
    return instrument


def _unique(where: str, ids: list[str]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for index, value in enumerate(ids):
        if value in seen:
            problems.append(
                Problem(f"{where}[{index}].id", f"duplicate id {value!r}", "make every id unique")
            )
        seen.add(value)
    return problems


def _check_items(instrument: Instrument) -> list[Problem]:
    problems = []
    areas = {a.id for a in instrument.areas}
    for index, item in enumerate(instrument.items):
        where = f"$.items[{index}]"
        domain = instrument.domain_by_id.get(item.domain)
        if domain is None:
            problems.append(
                Problem(f"{where}.domain", f"unknown domain {item.domain!r}", "name a domain id")
            )
            continue
        for area in item.weights:
            if area not in areas:
                problems.append(
                    Problem(
                        f"{where}.weights.{area}",
                        f"unknown intervention area {area!r}",
                        "name an area listed under `areas`",
                    )
                )
        if item.weights and domain.kind is not ItemKind.RISK:
            problems.append(
                Problem(
                    f"{where}.weights",
                    f"{domain.kind.value} item {item.id} must not drive an intervention area",
                    "remove its weights; list protective items under an area's `strengths`",
                )
            )
    return problems


def _check_areas(instrument: Instrument) -> list[Problem]:
    problems = []
    for index, area in enumerate(instrument.areas):
        drivers = instrument.area_items(area.id)
        if not 3 <= len(area.sessions) + len(area.catalogue) <= 6 or (
            area.sessions and area.catalogue
        ):
            problems.append(
                Problem(
                    f"$.areas[{index}].sessions",
                    f"area {area.id!r} needs three to six sessions, as `sessions` or `catalogue`",
                    "list three to six sessions in one of them",
                )
            )
        if len(drivers) < 2:
            problems.append(
                Problem(
                    f"$.areas[{index}]",
                    f"area {area.id!r} is driven by {len(drivers)} item(s); at least 2 are needed",
                    "give the area weights on at least two risk items",
                )
            )
        for s_index, strength in enumerate(area.strengths):
            item = instrument.item_by_id.get(strength)
            if item is None or instrument.kind_of(strength) is not ItemKind.PROTECTIVE:
                problems.append(
                    Problem(
                        f"$.areas[{index}].strengths[{s_index}]",
                        f"{strength!r} is not a protective item",
                        "name a protective item id",
                    )
                )
    return problems


def _check_pathways(instrument: Instrument) -> list[Problem]:
    problems = []
    areas = {a.id for a in instrument.areas}
    for index, pathway in enumerate(instrument.pathways):
        for field in ("always_offered", "tie_order"):
            for a_index, area in enumerate(getattr(pathway, field)):
                if area not in areas:
                    problems.append(
                        Problem(
                            f"$.pathways[{index}].{field}[{a_index}]",
                            f"unknown intervention area {area!r}",
                            "name an area listed under `areas`",
                        )
                    )
    missing = sorted({p.value for p in Pathway} - set(instrument.pathway_by_id))
    if missing:
        problems.append(
            Problem("$.pathways", f"missing pathway(s): {', '.join(missing)}", "define them")
        )
    return problems


def _check_rule(instrument: Instrument) -> list[Problem]:
    rule = instrument.rule
    problems = []
    if rule.moderate_from >= rule.high_from:
        problems.append(
            Problem("$.rule.moderate_from", "must be below high_from", "lower moderate_from")
        )
    missing = {Presence.NO, Presence.PARTIAL, Presence.YES} - set(rule.presence_values)
    if missing or Presence.OMIT in rule.presence_values:
        problems.append(
            Problem(
                "$.rule.presence_values",
                "must give values for no, partial and yes, and none for omit",
                "list exactly no, partial and yes",
            )
        )
    elif not (
        rule.presence_values[Presence.NO]
        <= rule.presence_values[Presence.PARTIAL]
        <= rule.presence_values[Presence.YES]
    ):
        problems.append(
            Problem("$.rule.presence_values", "must not decrease from no to yes", "reorder them")
        )
    if rule.score_basis == "reference-weight":
        if rule.reference_weight is None:
            problems.append(
                Problem(
                    "$.rule.reference_weight",
                    "required when score_basis is reference-weight",
                    "give the fixed weight every area's contributions are divided by",
                )
            )
        elif Presence.YES in rule.presence_values and Relevance.HIGH in rule.relevance_values:
            # The rule must never bury a decisive factor: any driving item rated yes with high
            # relevance reaches at least `moderate` (offered) in every area it drives.
            top = rule.presence_values[Presence.YES] * rule.relevance_values[Relevance.HIGH]
            for index, item in enumerate(instrument.items):
                for area, weight in item.weights.items():
                    if weight * top / rule.reference_weight < rule.moderate_from - 1e-9:
                        problems.append(
                            Problem(
                                f"$.items[{index}].weights.{area}",
                                f"{item.id} rated yes with high relevance would leave {area} "
                                "below moderate",
                                "raise the weight, or lower reference_weight or moderate_from",
                            )
                        )
    if set(rule.relevance_values) != set(Relevance):
        problems.append(
            Problem("$.rule.relevance_values", "must give low, moderate and high", "list all three")
        )
    elif not (
        0
        < rule.relevance_values[Relevance.LOW]
        <= rule.relevance_values[Relevance.MODERATE]
        <= rule.relevance_values[Relevance.HIGH]
    ):
        problems.append(
            Problem(
                "$.rule.relevance_values",
                "must be positive and not decrease from low to high",
                "reorder them",
            )
        )
    return problems


def _check_sessions(instrument: Instrument) -> list[Problem]:
    problems = []
    items = set(instrument.item_by_id)
    seen: set[str] = set()
    places = [("$.foundation", "foundation", instrument.foundation)] + [
        (f"$.areas[{i}].catalogue", area.id, area.catalogue)
        for i, area in enumerate(instrument.areas)
    ]
    for where, prefix, sessions in places:
        for index, session in enumerate(sessions):
            expected = f"{prefix}.{index + 1}"
            if session.id != expected or session.id in seen:
                problems.append(
                    Problem(
                        f"{where}[{index}].id",
                        f"session id {session.id!r} should be {expected!r}",
                        "number sessions `<area-id>.<n>` (or `foundation.<n>`) from 1, in order",
                    )
                )
            seen.add(session.id)
            for i_index, item in enumerate(session.items):
                if item not in items:
                    problems.append(
                        Problem(
                            f"{where}[{index}].items[{i_index}]",
                            f"unknown item id {item!r}",
                            "name an item of this definition",
                        )
                    )
    return problems


def _check_goods(instrument: Instrument) -> list[Problem]:
    problems = _unique("$.goods", [good.id.value for good in instrument.goods])
    defined = {good.id for good in instrument.goods}
    for index, area in enumerate(instrument.areas):
        for g_index, good in enumerate(area.goods):
            if good not in defined:
                problems.append(
                    Problem(
                        f"$.areas[{index}].goods[{g_index}]",
                        f"good {good.value!r} is not defined under `goods`",
                        "define it under `goods`, or remove it",
                    )
                )
    return problems


def _check_escalation(instrument: Instrument) -> list[Problem]:
    escalation = instrument.escalation
    if escalation is None:
        return []
    problems = []
    for c_index, condition in enumerate(escalation.any_of):
        for t_index, test in enumerate(condition.all_of):
            for i_index, item in enumerate(test.items):
                if item not in instrument.item_by_id:
                    problems.append(
                        Problem(
                            f"$.escalation.any_of[{c_index}].all_of[{t_index}].items[{i_index}]",
                            f"unknown item id {item!r}",
                            "name an item of this definition",
                        )
                    )
    return problems


def _check_migrations(instrument: Instrument) -> list[Problem]:
    problems = []
    items = set(instrument.item_by_id)
    for index, migration in enumerate(instrument.migrations):
        where = f"$.migrations[{index}]"
        if migration.from_version == instrument.version:
            problems.append(
                Problem(f"{where}.from_version", "must be an earlier version", "name it")
            )
        targets = [
            ("renamed", list(migration.renamed.values())),
            ("split", [new for news in migration.split.values() for new in news]),
            ("new", migration.new),
            ("review", migration.review),
        ]
        for field, ids in targets:
            problems += [
                Problem(
                    f"{where}.{field}",
                    f"{item!r} is not an item of this version",
                    "name items of this definition",
                )
                for item in ids
                if item not in items
            ]
    return problems


def _check_scales(instrument: Instrument) -> list[Problem]:
    problems = []
    scales = instrument.scales
    relevance = {r.value for r in Relevance}
    anchors = [("$.scales.strength_relevance", scales.strength_relevance)]
    if scales.relevance_by_pathway is not None:
        missing = sorted(
            {p.value for p in Pathway} - {p.value for p in scales.relevance_by_pathway}
        )
        if missing:
            problems.append(
                Problem(
                    "$.scales.relevance_by_pathway",
                    f"missing pathway(s): {', '.join(missing)}",
                    "word the relevance anchors for every pathway",
                )
            )
        anchors += [
            (f"$.scales.relevance_by_pathway.{p.value}", values)
            for p, values in scales.relevance_by_pathway.items()
        ]
    for where, values in anchors:
        if values is not None and sorted(v.value for v in values) != sorted(relevance):
            problems.append(Problem(where, "must give low, moderate and high", "list all three"))
    if scales.omit_reasons is not None and sorted(v.value for v in scales.omit_reasons) != sorted(
        r.value for r in OmitReason
    ):
        problems.append(
            Problem(
                "$.scales.omit_reasons",
                "must give not-asked, declined, no-records, conflicting-information and other",
                "list all five",
            )
        )
    return problems


def _check_phrases(instrument: Instrument) -> list[Problem]:
    problems = []
    phrased = [item.phrase is not None for item in instrument.items]
    if any(phrased) and not all(phrased):
        problems += [
            Problem(
                f"$.items[{index}].phrase",
                f"{item.id} has no phrase while other items have one",
                "give every item a phrase, or none",
            )
            for index, item in enumerate(instrument.items)
            if item.phrase is None
        ]
    if instrument.quality is not None:
        for index, pair in enumerate(instrument.quality.contradictions):
            problems += [
                Problem(
                    f"$.quality.contradictions[{index}].items",
                    f"unknown item id {item!r}",
                    "name items of this definition",
                )
                for item in pair.items
                if item not in instrument.item_by_id
            ]
    return problems
