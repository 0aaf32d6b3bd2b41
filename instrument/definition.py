"""The instrument definition: domains, items, scales, intervention areas and the priority rule.

A definition is data (`instrument/definitions/*.yaml`); these models are its shape, and
`check_definition` holds the semantic rules a JSON Schema cannot say (unique ids, weights that
name real items and areas, every area driven by at least two items, no protective or capability
item driving an area).
"""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from instrument.errors import DefinitionError, Problem
from instrument.vocabulary import (
    AreaId,
    FiveP,
    ItemId,
    ItemKind,
    Pathway,
    Presence,
    Relevance,
    SemanticVersion,
    ShortText,
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

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for area, weight in value.items():
            if not 0 < weight <= 1:
                raise ValueError(f"weight for {area} must be greater than 0 and at most 1")
        return value


class InterventionArea(_Frozen):
    """An area of intervention work that ratings may make a priority."""

    id: AreaId = Field(description="The fixed area id, e.g. `identity`.")
    name: ShortText = Field(description="The area's name for forms and reports.")
    description: Text = Field(description="What the work in this area addresses.")
    sessions: list[Text] = Field(
        min_length=3, max_length=6, description="Suggested session topics, three to six."
    )
    strengths: list[ItemId] = Field(
        description="Protective items that, when present, are strengths to build on in this area."
    )


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
