"""The priority rule: from ratings to ranked intervention areas, each with its reasons.

One rule serves every area; its numbers live in the definition's `rule` block (see `Rule`). For
an area with weighted items W (total weight ΣW), a risk item rated `partial` or `yes` contributes

    weight × presence value × relevance value / ΣW

computed exactly (fractions) and rounded half-to-even to `rule.decimals` places; the score is the
sum of the rounded contributions, so the contributions shown add up to the score exactly and
raising a rating can never lower it. Coverage is the share of ΣW rated `no`, `partial` or `yes`.
The band follows from the score (`high_from`, `moderate_from`); a `low` area whose coverage is
below `min_coverage` is `insufficient-information`, because omitted items contribute nothing and
its score is only a lower bound.

`omit` never scores; protective items never enter a score (they are an area's strengths);
capability items never enter a priority. The pathway only breaks ties and says which areas are
always offered. Nothing here reads a file or a clock: everything comes in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from instrument.assessment import Rating
from instrument.definition import Instrument, InterventionArea, Item, PathwayDefinition, Rule
from instrument.vocabulary import BAND_ORDER, Band, Presence, Relevance

_SCORED = (Presence.PARTIAL, Presence.YES)
# Enum members as plain names: looked up once, not on every rating.
_OMIT = Presence.OMIT
_NO = Presence.NO
_OFFERED_BANDS = (Band.HIGH, Band.MODERATE)
# How many contributors a summary names before saying how many others there are.
_NAMED = 3


class Contribution(NamedTuple):
    """A rated risk item that moved an area's score, and by how many units."""

    item: Item
    rating: Rating
    weight: float
    units: int


class AreaScore(NamedTuple):
    """What the rule computes for one area from the ratings alone (no pathway, no override).

    `score_units` and `coverage_units` count units of 10^-decimals: 4523 means 0.4523 when the
    rule has four decimals.
    """

    area: InterventionArea
    score_units: int
    coverage_units: int
    band: Band
    contributions: tuple[Contribution, ...]
    strengths: tuple[tuple[Item, Rating], ...]
    omitted: tuple[str, ...]
    item_count: int
    # The sum before the cap at 1 (1.1 caps the score; 1.0 never reaches it): ranks areas whose
    # capped scores tie, so that a heavier area still comes first.
    raw_units: int = 0


class RankedArea(NamedTuple):
    """An area's place in the plan: its computed score, the band that counts, rank and offer."""

    score: AreaScore
    rank: int
    band: Band
    overridden: bool
    offered: bool
    offered_reason: str


def ratio(value: float) -> tuple[int, int]:
    """Return a rule number as the exact decimal it was written as: 0.7 → (7, 10), not a binary."""
    # repr gives the shortest text that reads back as the same float: the number as written.
    numerator, denominator = Decimal(repr(value)).as_integer_ratio()
    return numerator, denominator


def exact(value: float) -> Fraction:
    """Return a rule number as the exact decimal it was written as (0.7 is 7/10, not a binary)."""
    return Fraction(*ratio(value))


def _scale(decimals: int) -> int:
    """Return 10^decimals as an int (the number of units in 1)."""
    scale: int = 10**decimals
    return scale


def to_units(value: Fraction, decimals: int) -> int:
    """Round an exact value half-to-even to a whole number of 10^-decimals units."""
    return round(value * _scale(decimals))


def as_float(units: int, decimals: int) -> float:
    """Return a unit count as the float written to documents, e.g. 4523 → 0.4523."""
    return units / _scale(decimals)


def _divide_to_units(numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded half-to-even, in integers only (fast and exact)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


class RuleTables:
    """The rule's numbers as exact integer ratios, and each area's weights as whole numbers.

    Built once per computation (never shared between calls). Every weight of an area becomes a
    whole number of 1/lcd so that sums stay integers; a contribution is then
    `w × p × r / ΣW = (w_n × p_n × r_n) / (p_d × r_d × ΣW_n)`, computed exactly.
    """

    def __init__(self, instrument: Instrument, area_ids: Sequence[str]) -> None:
        rule = instrument.rule
        self.scale = _scale(rule.decimals)
        # presence value × relevance value, as one exact ratio per pair.
        relevance = {k: ratio(v) for k, v in rule.relevance_values.items()}
        self.values: dict[tuple[Presence, Relevance], tuple[int, int]] = {}
        for presence, p_value in rule.presence_values.items():
            p_n, p_d = ratio(p_value)
            for key, (r_n, r_d) in relevance.items():
                self.values[(presence, key)] = (p_n * r_n, p_d * r_d)
        self.high = ratio(rule.high_from)
        self.moderate = ratio(rule.moderate_from)
        self.min_coverage = ratio(rule.min_coverage)
        # One common denominator for every weight (a definition uses few distinct weights).
        distinct = {w for item in instrument.items for w in item.weights.values()}
        weights = {w: ratio(w) for w in distinct}
        reference = rule.reference_weight if rule.score_basis == "reference-weight" else None
        denominators = [d for _, d in weights.values()]
        if reference is not None:
            denominators.append(ratio(reference)[1])
        lcd = math.lcm(*denominators) if denominators else 1
        whole = {w: n * (lcd // d) for w, (n, d) in weights.items()}
        # 1.0 divides by each area's total weight; 1.1 by one reference weight for every area
        # (None here), and caps the score at 1.
        self.reference: int | None = None
        if reference is not None:
            n, d = ratio(reference)
            self.reference = n * (lcd // d)
        self.areas: dict[str, tuple[list[tuple[Item, float, int]], int]] = {
            area_id: ([], 0) for area_id in area_ids
        }
        rows_of = {area_id: self.areas[area_id][0] for area_id in area_ids}
        for item in instrument.items:
            for area_id, weight in item.weights.items():
                rows = rows_of.get(area_id)
                if rows is not None:
                    rows.append((item, weight, whole[weight]))
        for area_id, rows in rows_of.items():
            self.areas[area_id] = (rows, sum(row[2] for row in rows))

    def _at_least(self, units: int, threshold: tuple[int, int]) -> bool:
        return units * threshold[1] >= threshold[0] * self.scale

    def band(self, score_units: int, coverage_units: int) -> Band:
        """Return the band of a score, `insufficient-information` for low on low coverage."""
        if self._at_least(score_units, self.high):
            return Band.HIGH
        if self._at_least(score_units, self.moderate):
            return Band.MODERATE
        if not self._at_least(coverage_units, self.min_coverage):
            return Band.INSUFFICIENT_INFORMATION
        return Band.LOW


def band_for(rule: Rule, score_units: int, coverage_units: int) -> Band:
    """Return the band of a score, `insufficient-information` for a low score on low coverage."""
    scale = _scale(rule.decimals)
    score = Fraction(score_units, scale)
    if score >= exact(rule.high_from):
        return Band.HIGH
    if score >= exact(rule.moderate_from):
        return Band.MODERATE
    if Fraction(coverage_units, scale) < exact(rule.min_coverage):
        return Band.INSUFFICIENT_INFORMATION
    return Band.LOW


def score_area(instrument: Instrument, ratings: Mapping[str, Rating], area_id: str) -> AreaScore:
    """Apply the rule to one area: contributions, score, coverage, band, strengths, omissions."""
    return _score_area(instrument, ratings, area_id, RuleTables(instrument, [area_id]))


def score_areas(instrument: Instrument, ratings: Mapping[str, Rating]) -> list[AreaScore]:
    """Apply the rule to every area, in the definition's order."""
    tables = RuleTables(instrument, [area.id for area in instrument.areas])
    return [_score_area(instrument, ratings, area.id, tables) for area in instrument.areas]


def rule_tables(instrument: Instrument) -> RuleTables:
    """Return the rule's tables for every area, to score many variants of the ratings quickly."""
    return RuleTables(instrument, [area.id for area in instrument.areas])


def score_with(
    instrument: Instrument, ratings: Mapping[str, Rating], area_id: str, tables: RuleTables
) -> AreaScore:
    """Apply the rule to one area with tables built once by `rule_tables`."""
    return _score_area(instrument, ratings, area_id, tables)


def band_with(
    tables: RuleTables,
    area_id: str,
    ratings: Mapping[str, Rating],
    changed: Mapping[str, Rating],
) -> Band:
    """Return the band the rule gives an area when `changed` replaces some of `ratings`.

    The same arithmetic as `score_area` (rounded contributions summed, 1.1's cap, coverage), but
    without building contributions: what-if searches call it many times.
    """
    rows, total = tables.areas[area_id]
    divisor = total if tables.reference is None else tables.reference
    scale = tables.scale
    values = tables.values
    rated = 0
    units = 0
    for item, _, whole in rows:
        rating = changed.get(item.id) or ratings.get(item.id)
        if rating is None or rating.presence is _OMIT:
            continue
        rated += whole
        if rating.presence is not _NO and rating.relevance is not None:
            numerator, denominator = values[(rating.presence, rating.relevance)]
            units += _divide_to_units(whole * numerator * scale, denominator * divisor)
    if tables.reference is not None:
        units = min(units, scale)
    coverage = _divide_to_units(rated * scale, total) if total else 0
    return tables.band(units, coverage)


def _score_area(
    instrument: Instrument, ratings: Mapping[str, Rating], area_id: str, tables: RuleTables
) -> AreaScore:
    area = instrument.area_by_id[area_id]
    rows, total = tables.areas[area_id]
    divisor = total if tables.reference is None else tables.reference
    scale = tables.scale
    rated = 0
    contributions: list[tuple[int, int, Contribution]] = []
    omitted: list[str] = []
    values = tables.values
    for index, (item, weight, whole) in enumerate(rows):
        rating = ratings.get(item.id)
        if rating is None:
            omitted.append(item.id)
            continue
        presence = rating.presence
        if presence is _OMIT:
            omitted.append(item.id)
            continue
        rated += whole
        if presence is not _NO and rating.relevance is not None:
            numerator, denominator = values[(presence, rating.relevance)]
            units = _divide_to_units(whole * numerator * scale, denominator * divisor)
            contributions.append((-units, index, Contribution(item, rating, weight, units)))
    contributions.sort(key=lambda entry: entry[:2])
    raw_units = score_units = sum(entry[2].units for entry in contributions)
    if tables.reference is not None:
        score_units = min(score_units, scale)
    coverage_units = _divide_to_units(rated * scale, total) if total else 0
    strengths = tuple(
        (instrument.item_by_id[item_id], rating)
        for item_id in area.strengths
        if (rating := ratings.get(item_id)) is not None and rating.presence in _SCORED
    )
    return AreaScore(
        area=area,
        score_units=score_units,
        coverage_units=coverage_units,
        band=tables.band(score_units, coverage_units),
        contributions=tuple(entry[2] for entry in contributions),
        strengths=strengths,
        omitted=tuple(omitted),
        item_count=len(rows),
        raw_units=raw_units,
    )


def rank_areas(
    instrument: Instrument,
    scores: Sequence[AreaScore],
    pathway: PathwayDefinition,
    overrides: Mapping[str, Band] | None = None,
    withdrawn: frozenset[str] = frozenset(),
) -> list[RankedArea]:
    """Rank areas by the band that counts, then score, then the pathway's tie order, then order.

    `overrides` maps an area id to the band the assessor set; it counts instead of the computed
    band, which the result keeps in `score.band`. `withdrawn` names areas the assessor withdrew
    from the offer by an override with a rationale (1.1 on), even where the pathway always
    offers them.
    """
    overrides = overrides or {}
    definition_order = {area.id: index for index, area in enumerate(instrument.areas)}
    tie = {area_id: index for index, area_id in enumerate(pathway.tie_order)}
    after = len(tie)

    def counted(score: AreaScore) -> Band:
        return overrides.get(score.area.id, score.band)

    def key(score: AreaScore) -> tuple[int, int, int, int]:
        area_id = score.area.id
        return (
            -BAND_ORDER[counted(score)],
            -max(score.score_units, score.raw_units),
            tie.get(area_id, after),
            definition_order[area_id],
        )

    ranked = []
    for rank, score in enumerate(sorted(scores, key=key), start=1):
        band = counted(score)
        overridden = score.area.id in overrides
        if score.area.id in withdrawn:
            offered, reason = (
                False,
                "Not offered: the assessor withdrew this area (see the rationale).",
            )
        else:
            offered, reason = _offer(score.area.id, band, overridden, pathway)
        ranked.append(RankedArea(score, rank, band, overridden, offered, reason))
    return ranked


def _offer(
    area_id: str, band: Band, overridden: bool, pathway: PathwayDefinition
) -> tuple[bool, str]:
    always = area_id in pathway.always_offered
    on_pathway = f"the {pathway.id.value} pathway always offers this area"
    if band in _OFFERED_BANDS:
        who = "the assessor set the band to" if overridden else "the band is"
        reason = f"Offered because {who} {band.value}"
        return True, reason + (f"; {on_pathway} too." if always else ".")
    if always:
        reason = f"Offered whatever its band: {on_pathway}"
        if band is Band.INSUFFICIENT_INFORMATION:
            return True, f"{reason}; gather information on the omitted factors too."
        return True, f"{reason}."
    if band is Band.INSUFFICIENT_INFORMATION:
        return (
            False,
            "Not offered yet: gather information on the omitted factors first, then review.",
        )
    who = "the assessor set the band to low" if overridden else "the band is low"
    return False, f"Not a priority at present: {who}."


# --- Wording ------------------------------------------------------------------------------------


def factor_name(item: Item) -> str:
    """Return an item's name for use inside a sentence, e.g. `need for identity, ...`."""
    return item.name[:1].lower() + item.name[1:]


def item_phrase(item: Item, rating: Rating) -> str:
    """Return an item with its rating, e.g. `need for ... (ID1, yes, high relevance)`."""
    # Formatting a StrEnum member gives its value (`yes`), without the slower `.value` lookup.
    if rating.relevance is None:
        return f"{factor_name(item)} ({item.id}, {rating.presence})"
    return f"{factor_name(item)} ({item.id}, {rating.presence}, {rating.relevance} relevance)"


def join(parts: Sequence[str]) -> str:
    """Join phrases as English does: `a`, `a and b`, `a, b and c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return `1 factor` or `3 factors` (or the given plural)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def priority_summary(ranked: RankedArea, phrases: Mapping[str, str] | None = None) -> str:
    """Return the sentences that give an area's reasons: drivers, omissions, strengths, override.

    `phrases` may give each item's `item_phrase`, computed once for all areas.
    """
    score = ranked.score
    phrases = phrases or {}
    listed = [phrases.get(c.item.id) or item_phrase(c.item, c.rating) for c in score.contributions]
    sentences = []
    if score.band in _OFFERED_BANDS:
        if len(listed) > _NAMED:
            others = len(listed) - _NAMED
            sentences.append(
                f"Rated {score.band.value} mainly because of the participant's "
                f"{join(listed[:_NAMED])}; "
                f"{plural(others, 'other rated factor')} add{'s' if others == 1 else ''} to the "
                "score."
            )
        else:
            sentences.append(
                f"Rated {score.band.value} because of the participant's {join(listed)}."
            )
    elif score.band is Band.INSUFFICIENT_INFORMATION:
        missing = len(score.omitted)
        share = "all" if missing == score.item_count else f"{missing} of the"
        sentences.append(
            f"Not enough information to rate: {share} {score.item_count} factors behind this "
            f"area are omitted or not rated ({', '.join(score.omitted)}), so its score is only "
            "a lower bound."
        )
        if listed:
            sentences.append(f"Rated present so far: {join(listed)}.")
    elif listed:
        verb = "is" if len(listed) == 1 else "are"
        sentences.append(f"Rated low: only {join(listed)} {verb} rated present in this area.")
    else:
        sentences.append("Rated low: none of the factors behind this area is rated present.")
    if score.omitted and score.band is not Band.INSUFFICIENT_INFORMATION:
        verb = "is" if len(score.omitted) == 1 else "are"
        sentences.append(
            f"{join(list(score.omitted))} {verb} omitted or not rated, so the score may "
            "understate this area."
        )
    if score.strengths:
        strengths = [f"{factor_name(item)} ({item.id})" for item, _ in score.strengths]
        sentences.append(f"Strengths to build on: the participant's {join(strengths)}.")
    if ranked.overridden:
        sentences.append(
            f"The assessor set the band to {ranked.band.value} "
            f"(computed from the ratings: {score.band.value})."
        )
    return " ".join(sentences)
