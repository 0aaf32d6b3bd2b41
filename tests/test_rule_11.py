"""The 1.1 rule: no decisive factor buried, bands alike in every area, focus, escalation, what-ifs.

Parametrised over the definition's own items and areas, so a new item is tested the day it is
added; hypothesis drives random ratings for the invariants.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument.assessment import (
    Assessment,
    AssessmentInfo,
    CaseInfo,
    InstrumentRef,
    Rating,
    finalisation_problems,
)
from instrument.definition import Instrument
from instrument.definitions import current_instrument, default_instrument
from instrument.formulation import (
    FocusChoice,
    Formulation,
    Review,
    apply_override,
    formulate,
)
from instrument.priorities import score_areas
from instrument.vocabulary import BAND_ORDER, Band, ItemKind, Pathway, Presence, Relevance

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
V11 = current_instrument()
RISK = [item.id for item in V11.items if V11.kind_of(item.id) is ItemKind.RISK]
INTENT = [item.id for item in V11.items if V11.kind_of(item.id) is ItemKind.INTENT]
LADDER = {Band.LOW: 0, Band.INSUFFICIENT_INFORMATION: 0, Band.MODERATE: 1, Band.HIGH: 2}
YES_HIGH = Rating(presence=Presence.YES, relevance=Relevance.HIGH)
NO = Rating(presence=Presence.NO)


def assessment(ratings: dict[str, Rating], pathway: str = "engaged", **info: Any) -> Assessment:
    return Assessment(
        instrument=InstrumentRef(id=V11.id, version=V11.version),
        case=CaseInfo(reference="C-11", pathway=Pathway(pathway)),
        assessment=AssessmentInfo(version=1, status="draft", **info),
        ratings=ratings,
    )


def all_no(**changes: Rating) -> dict[str, Rating]:
    ratings = {item.id: NO for item in V11.items}
    ratings.update(changes)
    return ratings


def formulation_of(ratings: dict[str, Rating], **kwargs: Any) -> Formulation:
    pathway = kwargs.pop("pathway", "engaged")
    return formulate(V11, assessment(ratings, pathway), generated_at=NOW, **kwargs)


RATING = st.one_of(
    st.just(NO),
    st.just(Rating(presence=Presence.OMIT)),
    st.builds(
        lambda p, r: Rating(presence=p, relevance=r),
        st.sampled_from([Presence.PARTIAL, Presence.YES]),
        st.sampled_from(list(Relevance)),
    ),
)
RATINGS = st.dictionaries(st.sampled_from([i.id for i in V11.items]), RATING)


def test_the_11_rule_is_data_in_the_definition_and_10_keeps_its_own() -> None:
    assert V11.rule.score_basis == "reference-weight"
    assert V11.rule.reference_weight == 3.0
    old = default_instrument().rule
    assert old.score_basis == "area-weight"
    assert (old.high_from, old.moderate_from) == (0.45, 0.2)
    assert old.focus_size is None
    assert default_instrument().escalation is None


# --- no decisive factor buried ------------------------------------------------------------


@pytest.mark.parametrize("item_id", [i.id for i in V11.items if i.weights])
def test_a_scoring_item_yes_with_high_relevance_alone_offers_an_area_it_drives(
    item_id: str,
) -> None:
    formulation = formulation_of(all_no(**{item_id: YES_HIGH}))
    driven = set(V11.item_by_id[item_id].weights)
    offered = {p.area for p in formulation.priorities if p.offered}
    assert driven & offered, f"{item_id} yes/high offers none of {sorted(driven)}"
    assert formulation.focus is not None
    assert set(formulation.focus.areas) & driven


@settings(max_examples=60, deadline=None)
@given(RATINGS, st.sampled_from([i.id for i in V11.items if i.weights]))
def test_whatever_else_is_rated_a_yes_high_item_offers_an_area_it_drives(
    ratings: dict[str, Rating], item_id: str
) -> None:
    ratings = {**ratings, item_id: YES_HIGH}
    formulation = formulation_of(ratings)
    driven = set(V11.item_by_id[item_id].weights)
    assert any(p.offered for p in formulation.priorities if p.area in driven)


# --- bands alike in every area ------------------------------------------------------------


@pytest.mark.parametrize("area_id", [a.id for a in V11.areas])
def test_a_band_means_the_same_in_every_area_however_many_items_it_has(area_id: str) -> None:
    mains = V11.main_drivers(area_id)
    scores = {s.area.id: s for s in score_areas(V11, all_no(**{mains[0].id: YES_HIGH}))}
    assert scores[area_id].band is Band.MODERATE  # one main driver yes/high: moderate
    two = all_no(**{mains[0].id: YES_HIGH, mains[1].id: YES_HIGH})
    scores = {s.area.id: s for s in score_areas(V11, two)}
    assert scores[area_id].band is Band.HIGH  # two main drivers yes/high: high, in every area
    assert scores[area_id].score_units == 6666  # 0.3333 + 0.3333: rounded contributions add up


@settings(max_examples=80, deadline=None)
@given(RATINGS, st.sampled_from([i.id for i in V11.items]), RATING)
def test_raising_a_rating_never_lowers_a_band(
    ratings: dict[str, Rating], item_id: str, raised: Rating
) -> None:
    before = ratings.get(item_id)
    if before is None or before.presence is Presence.OMIT or raised.presence is Presence.OMIT:
        return
    value = {Presence.NO: 0, Presence.PARTIAL: 1, Presence.YES: 2}
    order = list(Relevance)
    if value[raised.presence] < value[before.presence]:
        return  # not a raise
    if (
        before.relevance is not None
        and raised.relevance is not None
        and order.index(raised.relevance) < order.index(before.relevance)
    ):
        return  # relevance lowered: not a raise
    old = {s.area.id: s for s in score_areas(V11, ratings)}
    new = {s.area.id: s for s in score_areas(V11, {**ratings, item_id: raised})}
    for area_id, score in old.items():
        assert LADDER[new[area_id].band] >= LADDER[score.band]
        assert new[area_id].score_units >= score.score_units


@settings(max_examples=40, deadline=None)
@given(RATINGS, st.sampled_from([*INTENT, "CA1", "CA2", "CA3", "CA4"]), RATING)
def test_intent_and_capability_items_never_move_a_priority(
    ratings: dict[str, Rating], item_id: str, rating: Rating
) -> None:
    before = [(s.score_units, s.band) for s in score_areas(V11, ratings)]
    after = [(s.score_units, s.band) for s in score_areas(V11, {**ratings, item_id: rating})]
    assert before == after


# --- focus --------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(RATINGS, st.sampled_from(list(Pathway)))
def test_the_focus_is_at_most_three_offered_areas_in_rank_order(
    ratings: dict[str, Rating], pathway: Pathway
) -> None:
    formulation = formulation_of(ratings, pathway=pathway.value)
    focus = formulation.focus
    assert focus is not None
    offered = [p.area for p in formulation.priorities if p.offered]
    assert focus.areas == offered[:3]
    assert (focus.areas == []) == (offered == [])
    assert "No area offered" in focus.summary if not offered else "Start with" in focus.summary


def test_nothing_present_means_no_area_offered_and_no_focus() -> None:
    formulation = formulation_of(all_no(), pathway="convicted")
    assert formulation.focus is not None
    assert formulation.focus.areas == []
    assert not any(p.offered for p in formulation.priorities)
    assert formulation.focus.summary.startswith("No area offered")


def test_the_assessor_adjusts_the_focus_with_a_reason_and_unoffered_areas_drop_out() -> None:
    ratings = all_no(ID1=YES_HIGH, ID2=YES_HIGH, GA2=YES_HIGH, BE7=YES_HIGH, EM5=YES_HIGH)
    choice = FocusChoice(
        areas=["emotion-management", "entitlement-to-harm"],
        rationale="Anger is what stops every other piece of work at present.",
        by="Dr A. Placeholder",
        at=NOW,
    )
    formulation = formulation_of(ratings, review=Review(focus=choice))
    focus = formulation.focus
    assert focus is not None
    assert focus.adjusted
    assert focus.areas == ["emotion-management"]  # entitlement-to-harm is not offered
    assert focus.computed[0] in {
        "identity",
        "susceptibility-awareness",
        "indoctrination-resilience",
    }
    assert "no longer offered" in focus.summary
    assert focus.rationale == choice.rationale


def test_an_override_can_withdraw_an_always_offered_area_with_a_rationale() -> None:
    review = apply_override(
        Review(),
        "susceptibility-awareness",
        "low",
        "Already completed this work with another service last year.",
        "Dr A. Placeholder",
        NOW,
        instrument=V11,
        withdraw=True,
    )
    formulation = formulation_of(all_no(), pathway="prevention", review=review)
    by_area = {p.area: p for p in formulation.priorities}
    assert not by_area["susceptibility-awareness"].offered
    assert "withdrew" in by_area["susceptibility-awareness"].offered_reason
    assert by_area["indoctrination-resilience"].offered
    assert formulation.focus is not None
    assert formulation.focus.areas == ["indoctrination-resilience"]


# --- escalation ---------------------------------------------------------------------------


def _expected_raised(ratings: dict[str, Rating]) -> bool:
    def has(item: str, presence: Presence, relevance: Relevance | None = None) -> bool:
        r = ratings.get(item)
        return (
            r is not None
            and r.presence is presence
            and (relevance is None or r.relevance is relevance)
        )

    intent = any(has(i, Presence.YES) or has(i, Presence.PARTIAL, Relevance.HIGH) for i in INTENT)
    beliefs = any(has(i, Presence.YES) for i in ("BE4", "BE5", "BE6"))
    capability = any(has(i, Presence.YES) for i in ("CA1", "CA2"))
    return intent or (beliefs and capability)


@settings(max_examples=80, deadline=None)
@given(RATINGS)
def test_the_escalation_prompt_is_raised_exactly_when_the_definition_says(
    ratings: dict[str, Rating],
) -> None:
    formulation = formulation_of(ratings)
    prompt = formulation.escalation
    assert prompt is not None
    assert prompt.raised is _expected_raised(ratings)
    named = {item for reason in prompt.reasons for item in reason.items}
    for item in named:
        assert ratings[item].presence is not Presence.NO
    text = prompt.prompt.lower()
    assert "score" not in text.replace("not a score", "")
    assert "predict" not in text.replace("not a prediction", "")
    if prompt.raised:
        assert "safeguarding or referral procedure" in prompt.prompt


def test_beliefs_with_capability_raise_the_prompt_naming_the_items() -> None:
    ratings = all_no(BE4=YES_HIGH, CA2=Rating(presence=Presence.YES, relevance=Relevance.LOW))
    prompt = formulation_of(ratings).escalation
    assert prompt is not None
    assert prompt.raised
    assert [r.items for r in prompt.reasons] == [["BE4", "CA2"]]
    ratings["CA2"] = Rating(presence=Presence.PARTIAL, relevance=Relevance.HIGH)
    prompt = formulation_of(ratings).escalation
    assert prompt is not None
    assert not prompt.raised


def test_the_10_formulation_has_no_escalation_focus_or_what_ifs(instrument: Instrument) -> None:
    from tests.conftest import make_assessment

    formulation = formulate(instrument, make_assessment(), generated_at=NOW)
    assert formulation.escalation is None
    assert formulation.focus is None
    assert all(p.band_range is None and p.what_would_change is None for p in formulation.priorities)


# --- band range and what would change ------------------------------------------------------


def _apply(ratings: dict[str, Rating], changes: list[Any]) -> dict[str, Rating]:
    changed = dict(ratings)
    for step in changes:
        changed[step.item] = Rating(presence=step.presence_after, relevance=step.relevance_after)
    return changed


@settings(max_examples=40, deadline=None)
@given(RATINGS)
def test_what_would_change_moves_the_band_one_way_and_band_range_brackets_the_band(
    ratings: dict[str, Rating],
) -> None:
    formulation = formulation_of(ratings)
    for priority in formulation.priorities:
        span = priority.band_range
        moves = priority.what_would_change
        assert span is not None
        assert moves is not None
        band = priority.computed_band
        assert LADDER[span.lowest] <= max(LADDER[band], LADDER[span.lowest])
        assert LADDER[span.highest] >= LADDER[band]
        assert len(moves.up) <= 3
        assert len(moves.down) <= 3
        for direction, sets in (("up", moves.up), ("down", moves.down)):
            sizes = {len(m.changes) for m in sets}
            assert len(sizes) <= 1  # only the smallest sets
            for move in sets:
                changed = {s.area.id: s for s in score_areas(V11, _apply(ratings, move.changes))}
                after = changed[priority.area].band
                assert after is move.band
                if direction == "up":
                    assert LADDER[after] > LADDER[band]
                elif band is Band.INSUFFICIENT_INFORMATION:
                    assert after is Band.LOW
                else:
                    assert LADDER[after] < LADDER[band]


def test_what_would_change_names_the_least_change_of_one_item() -> None:
    ratings = all_no(ID1=YES_HIGH)
    priority = next(p for p in formulation_of(ratings).priorities if p.area == "identity")
    moves = priority.what_would_change
    assert moves is not None
    assert priority.band is Band.MODERATE
    assert all(len(m.changes) == 1 for m in moves.up)
    assert moves.down[0].changes[0].item == "ID1"
    assert "would move up to high if" in moves.summary
    assert "would move down to low if ID1 were rated" in moves.summary


def test_band_range_spans_what_the_omitted_items_could_do() -> None:
    omit = Rating(presence=Presence.OMIT)
    ratings = all_no(BE4=omit, BE5=omit, BE6=omit)
    priority = next(
        p for p in formulation_of(ratings).priorities if p.area == "entitlement-to-harm"
    )
    assert priority.band_range is not None
    assert (priority.band_range.lowest, priority.band_range.highest) == (Band.LOW, Band.HIGH)


# --- omission and finalising ---------------------------------------------------------------


def _complete(**changes: Rating) -> dict[str, Any]:
    evidence = {"evidence": "Fictional evidence.", "sources": ["interview"]}
    ratings = {item.id: NO for item in V11.items}
    ratings.update(changes)
    return {key: r.model_copy(update=evidence) if r.is_present else r for key, r in ratings.items()}


def _final_problems(ratings: dict[str, Rating], **info: Any) -> list[str]:
    document = assessment(
        ratings,
        assessed_on=dt.date(2026, 11, 1),
        assessors=[{"name": "A. Placeholder", "role": "psychologist"}],
        **info,
    )
    return [f"{p.where}: {p.message}" for p in finalisation_problems(V11, document)]


def test_omit_needs_a_reason_and_other_needs_its_text() -> None:
    assert _final_problems(_complete()) == []
    problems = _final_problems(_complete(EM5=Rating(presence=Presence.OMIT)))
    assert problems == [
        "$.ratings.EM5.omit_reason: EM5 (Difficulty managing powerful feelings) "
        "is omitted without a reason"
    ]
    other = Rating(presence=Presence.OMIT, omit_reason="other")
    assert _final_problems(_complete(EM5=other)) == [
        "$.ratings.EM5.evidence: the omit reason `other` needs its text"
    ]
    declined = Rating(presence=Presence.OMIT, omit_reason="declined")
    assert _final_problems(_complete(EM5=declined)) == []


def test_omit_reason_only_with_omit_and_only_in_11(instrument: Instrument) -> None:
    from instrument.assessment import check_assessment

    wrong = assessment({"EM5": Rating(presence=Presence.NO, omit_reason="declined")})
    assert [p.where for p in check_assessment(V11, wrong)] == ["$.ratings.EM5.omit_reason"]
    old = Assessment(
        instrument=InstrumentRef(id="ifi", version="1.0.0"),
        case=CaseInfo(reference="C-10", pathway=Pathway.ENGAGED),
        assessment=AssessmentInfo(version=1, status="draft"),
        ratings={"EM5": Rating(presence=Presence.OMIT, omit_reason="declined")},
    )
    problems = check_assessment(instrument, old)
    assert [p.where for p in problems] == ["$.ratings.EM5.omit_reason"]
    assert "records no omit reasons" in problems[0].message


def test_finalising_is_refused_with_most_main_drivers_omitted_unless_recorded_provisional() -> None:
    gone = Rating(presence=Presence.OMIT, omit_reason="no-records")
    ratings = _complete(BE4=gone, BE5=gone)  # two of the three main drivers of entitlement
    problems = _final_problems(ratings)
    assert problems == [
        "$.assessment.provisional_reason: more than half of the main drivers of Entitlement to "
        "harm are omitted or not rated (BE4, BE5)"
    ]
    reason = "Court records were not available; to be reviewed when they arrive."
    assert _final_problems(ratings, provisional_reason=reason) == []
    formulation = formulate(V11, assessment(ratings, provisional_reason=reason), generated_at=NOW)
    assert formulation.data_quality.provisional
    assert formulation.data_quality.provisional_reason == reason
    # One of three is not more than half.
    assert _final_problems(_complete(BE4=gone)) == []


def test_an_all_omit_assessment_cannot_be_signed_without_a_provisional_record() -> None:
    gone = Rating(presence=Presence.OMIT, omit_reason="declined")
    ratings = {item.id: gone for item in V11.items}
    problems = _final_problems(ratings)
    assert len(problems) == len(V11.areas)


# --- data quality and change ---------------------------------------------------------------


@pytest.mark.parametrize(
    "pair", [["GA4", "PF1"], ["ID4", "PF2"], ["EM5", "PF6"], ["BE4", "PF8"], ["BE7", "PF4"]]
)
def test_contradictory_pairs_are_flagged(pair: list[str]) -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.MODERATE, sources=["interview"])
    quality = formulation_of(all_no(**{pair[0]: yes, pair[1]: yes})).data_quality
    assert quality.contradictions is not None
    assert [c.items for c in quality.contradictions] == [pair]
    assert any(f"{pair[0]} and {pair[1]} are both rated yes" in w for w in quality.warnings)
    partial = Rating(presence=Presence.PARTIAL, relevance=Relevance.LOW)
    quality = formulation_of(all_no(**{pair[0]: yes, pair[1]: partial})).data_quality
    assert quality.contradictions == []


def test_items_resting_on_self_report_alone_are_flagged() -> None:
    alone = Rating(presence=Presence.YES, relevance=Relevance.HIGH, sources=["self-report"])
    both = Rating(
        presence=Presence.YES, relevance=Relevance.HIGH, sources=["self-report", "collateral"]
    )
    quality = formulation_of(all_no(ID1=alone, ID2=both)).data_quality
    assert quality.self_report_only == ["ID1"]
    assert any("self-report alone: ID1." in w for w in quality.warnings)


def test_change_reports_relevance_strengths_and_overrides() -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.LOW)
    before = assessment(all_no(ID1=yes, PF1=yes))
    later = Assessment.model_validate(
        {
            **assessment(all_no(ID1=YES_HIGH, PF3=yes)).model_dump(mode="json", exclude_none=True),
            "assessment": {"version": 2, "status": "draft"},
        }
    )
    review = apply_override(
        Review(), "identity", "high", "The loss of work is what matters most now.", "Dr A", NOW
    )
    formulation = formulate(V11, later, before, generated_at=NOW, review=review)
    change = formulation.change
    assert change is not None
    assert change.strengths_gained == ["PF3"]
    assert change.strengths_lost == ["PF1"]
    assert [(o.area, o.band_before, o.band_after) for o in change.overrides or []] == [
        ("identity", None, Band.HIGH)
    ]
    id1 = next(c for c in change.items if c.item == "ID1")
    assert (id1.relevance_before, id1.relevance_after) == (Relevance.LOW, Relevance.HIGH)
    assert "changed relevance only (ID1)" in change.summary
    assert "strengths now rated present: PF3" in change.summary
    assert "strengths no longer rated present: PF1" in change.summary
    assert "overrides changed for Identity and belonging" in change.summary


def test_a_10_previous_is_upgraded_before_change_is_reported() -> None:
    old = Assessment(
        instrument=InstrumentRef(id="ifi", version="1.0.0"),
        case=CaseInfo(reference="C-11", pathway=Pathway.ENGAGED),
        assessment=AssessmentInfo(version=1, status="final"),
        ratings={"ID1": YES_HIGH, "CA3": YES_HIGH},
    )
    later = Assessment.model_validate(
        {
            **assessment(all_no()).model_dump(mode="json", exclude_none=True),
            "assessment": {"version": 2, "status": "draft"},
        }
    )
    change = formulate(V11, later, old, generated_at=NOW).change
    assert change is not None
    assert {"ID1", "CA3", "CA4"} <= {c.item for c in change.items}


def test_bands_order_still_ranks_the_11_priorities() -> None:
    formulation = formulation_of(all_no(ID1=YES_HIGH, ID2=YES_HIGH, EM5=YES_HIGH))
    orders = [BAND_ORDER[p.band] for p in formulation.priorities]
    assert orders == sorted(orders, reverse=True)
