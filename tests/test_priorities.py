"""The priority rule: worked numbers, bands, ranking, wording, and its properties (hypothesis)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument.assessment import Rating
from instrument.definition import Instrument
from instrument.definitions import default_instrument
from instrument.priorities import (
    AreaScore,
    as_float,
    band_for,
    exact,
    factor_name,
    priority_summary,
    rank_areas,
    score_area,
    score_areas,
    to_units,
)
from instrument.vocabulary import BAND_ORDER, Band, ItemKind, Pathway, Presence, Relevance

INSTRUMENT = default_instrument()
RISK = [i.id for i in INSTRUMENT.items if INSTRUMENT.kind_of(i.id) is ItemKind.RISK]
NOT_RISK = [i.id for i in INSTRUMENT.items if INSTRUMENT.kind_of(i.id) is not ItemKind.RISK]
WEIGHTED = [i.id for i in INSTRUMENT.items if i.weights]
PRESENT = (Presence.PARTIAL, Presence.YES)
PRESENCE_RANK = {Presence.NO: 0, Presence.PARTIAL: 1, Presence.YES: 2}
RELEVANCE_RANK = {Relevance.LOW: 0, Relevance.MODERATE: 1, Relevance.HIGH: 2}


def rate(presence: str, relevance: str | None = None) -> Rating:
    return Rating(
        presence=Presence(presence),
        relevance=Relevance(relevance) if relevance else None,
        evidence="Fictional evidence.",
    )


def by_area(ratings: dict[str, Rating]) -> dict[str, AreaScore]:
    return {s.area.id: s for s in score_areas(INSTRUMENT, ratings)}


# --- strategies ---------------------------------------------------------------------------------

ratings_of_item = st.one_of(
    st.sampled_from([Presence.NO, Presence.OMIT]).map(lambda p: Rating(presence=p)),
    st.builds(Rating, presence=st.sampled_from(PRESENT), relevance=st.sampled_from(Relevance)),
)


# Every possible rating of one item (None: not rated), drawn by index: much faster to generate
# than nested strategies, and it shrinks towards "not rated".
CHOICES: list[Rating | None] = [
    None,
    Rating(presence=Presence.NO),
    Rating(presence=Presence.OMIT),
    *(Rating(presence=p, relevance=r) for p in PRESENT for r in Relevance),
]


def assessments() -> st.SearchStrategy[dict[str, Rating]]:
    """Random valid ratings: every presence value, relevance exactly when present, some unrated."""
    items = [item.id for item in INSTRUMENT.items]

    def build(choices: list[int]) -> dict[str, Rating]:
        ratings = {}
        for item, choice in zip(items, choices, strict=True):
            rating = CHOICES[choice]
            if rating is not None:
                ratings[item] = rating
        return ratings

    index = st.integers(0, len(CHOICES) - 1)
    return st.lists(index, min_size=len(items), max_size=len(items)).map(build)


rated_not_omitted = st.one_of(
    st.just(Rating(presence=Presence.NO)),
    st.builds(Rating, presence=st.sampled_from(PRESENT), relevance=st.sampled_from(Relevance)),
)


def at_least(rating: Rating) -> st.SearchStrategy[Rating]:
    """Ratings that raise (or keep) presence and relevance relative to `rating`."""
    floor = PRESENCE_RANK[rating.presence]
    options = [p for p, rank in PRESENCE_RANK.items() if rank >= floor]

    def build(presence: Presence) -> st.SearchStrategy[Rating]:
        if presence is Presence.NO:
            return st.just(Rating(presence=presence))
        low = RELEVANCE_RANK[rating.relevance] if rating.relevance else 0
        relevances = [r for r, rank in RELEVANCE_RANK.items() if rank >= low]
        return st.sampled_from(relevances).map(lambda r: Rating(presence=presence, relevance=r))

    return st.sampled_from(options).flatmap(build)


def key(score: AreaScore) -> tuple[int, int]:
    return (BAND_ORDER[score.band], score.score_units)


# --- worked numbers -----------------------------------------------------------------------------


def test_a_worked_example_by_hand(instrument: Instrument) -> None:
    ratings = {
        "ID1": rate("yes", "high"),
        "ID2": rate("yes", "moderate"),
        "GA4": rate("partial", "low"),
        "ID3": rate("no"),
        "ID4": rate("no"),
        "ID5": rate("omit"),
        "PF2": rate("yes", "high"),
    }
    score = score_area(instrument, ratings, "identity")
    # ΣW = 1 + 1 + 1 + 1 + 0.5 + 0.5 = 5
    assert [(c.item.id, c.units) for c in score.contributions] == [
        ("ID1", 2000),  # 1.0 × 1.0 × 1.0 / 5 = 0.2
        ("ID2", 1400),  # 1.0 × 1.0 × 0.7 / 5 = 0.14
        ("GA4", 200),  # 0.5 × 0.5 × 0.4 / 5 = 0.02
    ]
    assert score.score_units == 3600
    assert score.coverage_units == 9000  # ID5 (0.5 of 5) omitted
    assert score.band is Band.MODERATE
    assert score.omitted == ("ID5",)
    assert [item.id for item, _ in score.strengths] == ["PF2"]


def test_rule_numbers_are_read_as_written_decimals() -> None:
    assert exact(0.7) == Fraction(7, 10)
    assert exact(0.45) == Fraction(9, 20)


@pytest.mark.parametrize(
    ("value", "units"),
    [
        (Fraction(1, 20000), 0),  # 0.00005 → 0.0000 (half to even)
        (Fraction(3, 20000), 2),  # 0.00015 → 0.0002
        (Fraction(1, 3), 3333),
        (Fraction(2, 3), 6667),
        (Fraction(1), 10000),
    ],
)
def test_rounding_is_half_to_even(value: Fraction, units: int) -> None:
    assert to_units(value, 4) == units


def test_units_become_short_floats() -> None:
    assert as_float(4523, 4) == 0.4523
    assert repr(as_float(1, 4)) == "0.0001"


@pytest.mark.parametrize(
    ("score", "coverage", "band"),
    [
        (4500, 10000, Band.HIGH),
        (4499, 10000, Band.MODERATE),
        (2000, 10000, Band.MODERATE),
        (2000, 0, Band.MODERATE),
        (1999, 10000, Band.LOW),
        (1999, 5000, Band.LOW),
        (1999, 4999, Band.INSUFFICIENT_INFORMATION),
        (0, 0, Band.INSUFFICIENT_INFORMATION),
        (4500, 1000, Band.HIGH),
    ],
)
def test_band_thresholds(instrument: Instrument, score: int, coverage: int, band: Band) -> None:
    assert band_for(instrument.rule, score, coverage) is band


def test_everything_absent_gives_low_in_the_pathways_tie_order(instrument: Instrument) -> None:
    ratings = {item.id: rate("no") for item in instrument.items}
    for pathway in instrument.pathways:
        ranked = rank_areas(instrument, score_areas(instrument, ratings), pathway)
        assert [r.score.area.id for r in ranked] == pathway.tie_order
        assert {r.band for r in ranked} == {Band.LOW}
        offered = [r.score.area.id for r in ranked if r.offered]
        assert offered == pathway.always_offered


def test_everything_omitted_asks_for_information(instrument: Instrument) -> None:
    ratings = {item.id: rate("omit") for item in instrument.items}
    ranked = rank_areas(
        instrument, score_areas(instrument, ratings), instrument.pathway_by_id["engaged"]
    )
    assert {r.band for r in ranked} == {Band.INSUFFICIENT_INFORMATION}
    assert not any(r.offered for r in ranked)
    assert all("gather information" in r.offered_reason for r in ranked)


def test_an_override_counts_for_the_rank_and_keeps_the_computed_band(
    instrument: Instrument,
) -> None:
    ratings = {"BE6": rate("yes", "high"), "BE4": rate("yes", "high")}
    scores = score_areas(instrument, ratings)
    pathway = instrument.pathway_by_id["convicted"]
    plain = rank_areas(instrument, scores, pathway)
    assert plain[0].score.area.id == "entitlement-to-harm"
    overridden = rank_areas(instrument, scores, pathway, {"entitlement-to-harm": Band.LOW})
    moved = next(r for r in overridden if r.score.area.id == "entitlement-to-harm")
    assert moved.band is Band.LOW
    assert moved.score.band is Band.HIGH
    assert moved.overridden
    assert not moved.offered
    assert moved.offered_reason == "Not a priority at present: the assessor set the band to low."


# --- wording ------------------------------------------------------------------------------------


def summary_of(ratings: dict[str, Rating], area: str, pathway: str = "engaged") -> str:
    ranked = rank_areas(
        INSTRUMENT, score_areas(INSTRUMENT, ratings), INSTRUMENT.pathway_by_id[pathway]
    )
    return priority_summary(next(r for r in ranked if r.score.area.id == area))


def test_wording_of_a_moderate_band_with_strengths() -> None:
    ratings = {item: rate("no") for item in RISK}
    ratings |= {
        "BE6": rate("yes", "high"),
        "BE4": rate("partial", "moderate"),
        "PF8": rate("partial", "moderate"),
    }
    assert summary_of(ratings, "entitlement-to-harm") == (
        "Rated moderate because of the participant's entitlement to change society through "
        "harm (BE6, yes, high relevance) and belief that harmful or illegal means are "
        "necessary (BE4, partial, moderate relevance). Strengths to build on: the "
        "participant's legitimate, non-violent ways of pursuing goals (PF8)."
    )


def test_wording_names_three_drivers_and_counts_the_rest() -> None:
    ratings = {item: rate("no") for item in RISK}
    for item in ("ID1", "ID2", "ID3", "ID4"):
        ratings[item] = rate("yes", "high")
    ratings["GA4"] = rate("partial", "low")
    assert summary_of(ratings, "identity").startswith(
        "Rated high mainly because of the participant's need for identity, meaning or belonging "
        "(ID1, yes, high "
        "relevance), identity uncertainty or life transition (ID2, yes, high relevance) and need "
        "for status, significance or recognition (ID3, yes, high relevance); 2 other rated "
        "factors add to the score."
    )


def test_wording_of_insufficient_information() -> None:
    ratings = {"EM1": rate("partial", "low"), "EM5": rate("no")}
    assert summary_of(ratings, "emotion-management") == (
        "Not enough information to rate: 4 of the 6 factors behind this area are omitted or not "
        "rated (EM2, EM3, EM4, EM6), so its score is only a lower bound. Rated present so far: "
        "grievance and perceived injustice (EM1, partial, low relevance)."
    )


def test_wording_of_low_bands() -> None:
    ratings = {item: rate("no") for item in RISK}
    assert summary_of(ratings, "identity") == (
        "Rated low: none of the factors behind this area is rated present."
    )
    ratings["GA2"] = rate("partial", "low")
    ratings["BE7"] = rate("omit")
    assert summary_of(ratings, "indoctrination-resilience") == (
        "Rated low: only group influence and control (GA2, partial, low relevance) is rated "
        "present in this area. BE7 is omitted or not rated, so the score may understate this area."
    )


def test_wording_of_always_offered_areas(instrument: Instrument) -> None:
    ratings = {item: rate("no") for item in RISK}
    ranked = rank_areas(
        instrument, score_areas(instrument, ratings), instrument.pathway_by_id["prevention"]
    )
    assert ranked[0].offered_reason == (
        "Offered whatever its band: the prevention pathway always offers this area."
    )


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.data(), ratings=assessments(), item=st.sampled_from(WEIGHTED))
def test_raising_a_risk_rating_never_lowers_any_area(
    data: st.DataObject, ratings: dict[str, Rating], item: str
) -> None:
    before_rating = data.draw(rated_not_omitted, label="before")
    after_rating = data.draw(at_least(before_rating), label="after")
    before = by_area(ratings | {item: before_rating})
    after = by_area(ratings | {item: after_rating})
    for area, score in before.items():
        assert key(after[area]) >= key(score), area
        assert after[area].score_units >= score.score_units, area
        assert BAND_ORDER[after[area].band] >= BAND_ORDER[score.band], area


@settings(max_examples=200, deadline=None)
@given(ratings=assessments(), item=st.sampled_from(WEIGHTED))
def test_omit_scores_like_no_and_unrated_and_only_lowers_coverage(
    ratings: dict[str, Rating], item: str
) -> None:
    rest = {k: v for k, v in ratings.items() if k != item}
    omitted = by_area(rest | {item: Rating(presence=Presence.OMIT)})
    absent = by_area(rest | {item: Rating(presence=Presence.NO)})
    unrated = by_area(rest)
    for area in omitted:
        assert omitted[area].score_units == absent[area].score_units == unrated[area].score_units
        assert omitted[area].coverage_units == unrated[area].coverage_units
        assert omitted[area].coverage_units <= absent[area].coverage_units
        if omitted[area].band is not Band.INSUFFICIENT_INFORMATION:
            assert omitted[area].band is absent[area].band


@settings(max_examples=200, deadline=None)
@given(ratings=assessments(), item=st.sampled_from(NOT_RISK), rating=ratings_of_item)
def test_protective_and_capability_items_never_move_a_priority(
    ratings: dict[str, Rating], item: str, rating: Rating
) -> None:
    rest = {k: v for k, v in ratings.items() if k != item}
    without = by_area(rest)
    with_it = by_area(rest | {item: rating})
    for area in without:
        assert key(with_it[area]) == key(without[area])
        assert with_it[area].coverage_units == without[area].coverage_units
        assert with_it[area].contributions == without[area].contributions


@settings(max_examples=200, deadline=None)
@given(ratings=assessments())
def test_contributions_add_up_to_the_score_within_bounds(ratings: dict[str, Rating]) -> None:
    scale = 10**INSTRUMENT.rule.decimals
    for score in score_areas(INSTRUMENT, ratings):
        assert sum(c.units for c in score.contributions) == score.score_units
        assert 0 <= score.score_units <= scale
        assert 0 <= score.coverage_units <= scale
        assert all(c.units > 0 for c in score.contributions)
        assert all(c.rating.presence in PRESENT for c in score.contributions)
        units = [c.units for c in score.contributions]
        assert units == sorted(units, reverse=True)


@settings(max_examples=200, deadline=None)
@given(
    ratings=assessments(),
    overrides=st.dictionaries(
        st.sampled_from([a.id for a in INSTRUMENT.areas]), st.sampled_from(Band), max_size=3
    ),
)
def test_the_pathway_changes_only_ties_and_what_is_always_offered(
    ratings: dict[str, Rating], overrides: dict[str, Band]
) -> None:
    scores = score_areas(INSTRUMENT, ratings)
    results = {
        pathway.id: rank_areas(INSTRUMENT, scores, pathway, overrides)
        for pathway in INSTRUMENT.pathways
    }
    always = {area for p in INSTRUMENT.pathways for area in p.always_offered}
    reference = results[Pathway.ENGAGED]
    for ranked in results.values():
        assert [(BAND_ORDER[r.band], r.score.score_units) for r in ranked] == [
            (BAND_ORDER[r.band], r.score.score_units) for r in reference
        ]
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        same = {r.score.area.id: r for r in reference}
        for r in ranked:
            other = same[r.score.area.id]
            assert (r.band, r.score) == (other.band, other.score)
            if r.score.area.id not in always:
                assert r.offered == other.offered


@settings(max_examples=200, deadline=None)
@given(
    ratings=assessments(),
    overrides=st.dictionaries(
        st.sampled_from([a.id for a in INSTRUMENT.areas]), st.sampled_from(Band), max_size=4
    ),
    pathway=st.sampled_from(INSTRUMENT.pathways),
)
def test_overrides_rank_by_the_band_that_counts(
    ratings: dict[str, Rating], overrides: dict[str, Band], pathway: object
) -> None:
    scores = score_areas(INSTRUMENT, ratings)
    ranked = rank_areas(INSTRUMENT, scores, pathway, overrides)  # type: ignore[arg-type]
    keys = [(BAND_ORDER[r.band], r.score.score_units) for r in ranked]
    assert keys == sorted(keys, reverse=True)
    computed = {s.area.id: s.band for s in scores}
    for r in ranked:
        assert r.score.band is computed[r.score.area.id]
        assert r.band is overrides.get(r.score.area.id, computed[r.score.area.id])
        assert r.overridden == (r.score.area.id in overrides)
        if r.band in (Band.HIGH, Band.MODERATE):
            assert r.offered


# --- the README explains the rule with the real numbers -----------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def rule_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section: rule -->")
    return " ".join(text[start : text.index("<!-- end section: rule -->")].split())


def test_the_readme_states_the_rules_numbers(instrument: Instrument) -> None:
    rule = instrument.rule
    text = rule_section()
    for phrase in [
        f"`partial` {rule.presence_values[Presence.PARTIAL]:g} and `yes` "
        f"{rule.presence_values[Presence.YES]:.1f}",
        f"relevance `low` {rule.relevance_values[Relevance.LOW]:g}, `moderate` "
        f"{rule.relevance_values[Relevance.MODERATE]:g} and `high` "
        f"{rule.relevance_values[Relevance.HIGH]:.1f}",
        f"A score of {rule.high_from:g} or more is `high`; {rule.moderate_from:g} or more",
        f"coverage below {rule.min_coverage:g}",
        f"{['no', 'one', 'two', 'three', 'four'][rule.decimals]} decimal places",
        "more than a quarter of all items" if rule.provisional_omitted_share == 0.25 else "?",
    ]:
        assert phrase in text, phrase


def test_the_readme_worked_example_is_what_formulate_says(instrument: Instrument) -> None:
    golden = json.loads(
        (README.parent / "formulations" / "wc-01-transition-v1.formulation.json").read_text(
            encoding="utf-8"
        )
    )
    identity = next(p for p in golden["priorities"] if p["area"] == "identity")
    total = sum(weight for _, weight in instrument.area_items("identity"))
    text = rule_section()
    rule = instrument.rule
    for c in identity["contributors"]:
        item = instrument.item_by_id[c["item"]]
        row = (
            f"| {item.id} {factor_name(item)} | {c['presence']}, {c['relevance']} | "
            f"{c['weight']:.1f} × {rule.presence_values[Presence(c['presence'])]:.1f} × "
            f"{rule.relevance_values[Relevance(c['relevance'])]:.1f} ÷ {total:g} | "
            f"{c['contribution']:.4f} |"
        )
        assert row in text, row
    assert f"Score {identity['score']:g}, coverage {identity['coverage']:.1f}" in text
    assert f"band `{identity['band']}`" in text
    assert f'"{identity["summary"]}"' in text
