"""formulate and the review: sections, wording, overrides, redaction, properties, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import instrument as package
from instrument.assessment import Assessment, Rating, assessment_hash
from instrument.definition import Instrument
from instrument.errors import ConflictError, DocumentError, InstrumentError
from instrument.exchange.documents import schema_problems
from instrument.formulation import (
    Formulation,
    Review,
    apply_override,
    clear_override,
    formulate,
    formulation_json,
    redact,
    set_narrative,
)
from instrument.vocabulary import BAND_ORDER, Band, FiveP, Pathway, Presence, Relevance
from tests.conftest import assessment_document, make_assessment
from tests.test_golden import FORMULATIONS, worked_cases
from tests.test_priorities import INSTRUMENT, assessments

REPO = Path(__file__).resolve().parent.parent
AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
RATIONALE = "The participant's account in three sessions shows this matters more."


def rated(**ratings: Any) -> dict[str, Any]:
    """Ratings documents: ID1=("yes", "high") or ID1="no"."""
    out: dict[str, Any] = {}
    for item, value in ratings.items():
        if isinstance(value, str):
            out[item] = {"presence": value}
        else:
            presence, relevance = value
            out[item] = {
                "presence": presence,
                "relevance": relevance,
                "evidence": f"Fictional evidence for {item}.",
                "sources": ["interview"],
                "timeframe": "current",
            }
    return out


def every_item(presence: str = "no") -> dict[str, Any]:
    return rated(**{item.id: presence for item in INSTRUMENT.items})


def build(
    instrument: Instrument, now: dt.datetime, previous: Assessment | None = None, **changes: Any
) -> Formulation:
    review = changes.pop("review", None)
    return formulate(
        instrument, make_assessment(**changes), previous, generated_at=now, review=review
    )


def priority(formulation: Formulation, area: str) -> Any:
    return next(p for p in formulation.priorities if p.area == area)


# --- header, sections ---------------------------------------------------------------------------


def test_the_header_carries_provenance(instrument: Instrument, now: dt.datetime) -> None:
    assessment = make_assessment()
    formulation = formulate(instrument, assessment, generated_at=now)
    header = formulation.header
    assert header.instrument.id == "ifi"
    assert header.instrument.version == "1.0.0"
    assert header.generator.name == "instrument"
    assert header.generator.version == package.__version__
    assert header.generated_at == now
    assert header.assessment_sha256 == assessment_hash(assessment)
    assert header.case_reference == "C-0001"
    assert header.status.value == "draft"
    assert formulation.notice == instrument.notice
    assert not formulation.redacted


def test_generated_at_is_stored_in_utc(instrument: Instrument) -> None:
    plus_two = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    formulation = formulate(instrument, make_assessment(), generated_at=plus_two)
    assert '"generated_at": "2026-11-23T12:00:00Z"' in formulation_json(formulation)
    with pytest.raises(ValueError, match="timezone"):
        formulate(instrument, make_assessment(), generated_at=dt.datetime(2026, 11, 23))


def test_domain_summaries_list_every_item_and_count(
    instrument: Instrument, now: dt.datetime
) -> None:
    ratings = every_item() | rated(ID1=("yes", "high"), ID2=("partial", "high"), ID3="omit")
    ratings |= rated(ID4=("yes", "moderate"), ID5=("partial", "moderate"))
    formulation = build(instrument, now, ratings=ratings)
    identity = formulation.domains[0]
    assert [d.domain for d in formulation.domains] == [d.id for d in instrument.domains]
    assert [i.item for i in identity.items] == ["ID1", "ID2", "ID3", "ID4", "ID5"]
    assert identity.counts.model_dump() == {
        "yes": 2,
        "partial": 2,
        "no": 0,
        "omit": 1,
        "unrated": 0,
    }
    assert identity.high_relevance == 2
    assert identity.key_factors == ["ID1", "ID2", "ID4"]
    assert identity.summary == (
        "Identity: 4 of 5 factors rated present (2 yes and 2 partial), 2 of high relevance; 1 "
        "omitted or not rated. Key factors: need for identity, meaning or belonging (ID1), "
        "identity uncertainty or life transition (ID2) and fusion with one group identity (ID4)."
    )


def test_five_p_takes_items_by_role_and_the_assessors_narrative(
    instrument: Instrument, now: dt.datetime
) -> None:
    review = set_narrative(Review(), FiveP.PRECIPITATING, "  Loss of work came first.  ")
    formulation = build(
        instrument,
        now,
        ratings=rated(ID2=("yes", "high"), PF1=("yes", "moderate"), ID1="no"),
        review=review,
    )
    sections = {s.heading: s for s in formulation.five_p}
    assert list(sections) == list(FiveP)
    assert [i.item for i in sections[FiveP.PRECIPITATING].items] == ["ID2"]
    assert sections[FiveP.PRECIPITATING].narrative == "Loss of work came first."
    assert [i.item for i in sections[FiveP.PROTECTIVE].items] == ["PF1"]
    assert sections[FiveP.PREDISPOSING].items == []
    assert sections[FiveP.PRECIPITATING].summary == (
        "Events or circumstances that may have set off the participant's interest or "
        "involvement: identity uncertainty or life transition (ID2, yes, high relevance)."
    )


def test_capability_is_reported_as_notes_and_never_as_a_priority(
    instrument: Instrument, now: dt.datetime
) -> None:
    plain = build(instrument, now, ratings=every_item())
    capable = build(
        instrument, now, ratings=every_item() | rated(CA1=("yes", "high"), CA3=("yes", "high"))
    )
    assert [(p.area, p.score, p.band) for p in plain.priorities] == [
        (p.area, p.score, p.band) for p in capable.priorities
    ]
    assert capable.risk_management[0].startswith(
        "Capability factors rated present: knowledge, skills or training that could enable harm "
        "(CA1, yes, high relevance) and history of violence or other offending (CA3, yes, high "
        "relevance). They call for greater urgency and intensity"
    )
    assert plain.risk_management[0] == (
        "No capability factor is rated present: the urgency and intensity of the plan follow "
        "the priorities."
    )
    spj = {s.domain.value: s for s in capable.spj}
    assert [i.item for i in spj["capability"].present] == ["CA1", "CA3"]


def test_responsivity_suggests_adaptations_only_where_it_applies(
    instrument: Instrument, now: dt.datetime
) -> None:
    formulation = build(
        instrument, now, responsivity={"RS1": {"presence": "yes"}, "RS2": {"presence": "no"}}
    )
    by_id = {r.id: r for r in formulation.responsivity}
    assert list(by_id) == [r.id for r in instrument.responsivity]
    assert by_id["RS1"].suggested == instrument.responsivity_by_id["RS1"].adaptations
    assert by_id["RS2"].suggested == []
    assert by_id["RS3"].presence is None


@pytest.mark.parametrize(("missing", "provisional"), [(8, False), (9, True)])
def test_provisional_when_more_than_a_quarter_is_omitted(
    instrument: Instrument, now: dt.datetime, missing: int, provisional: bool
) -> None:
    ratings = every_item()
    for item in list(ratings)[:missing]:
        ratings[item] = {"presence": "omit"}
    quality = build(instrument, now, ratings=ratings).data_quality
    assert quality.provisional is provisional
    assert len(quality.omitted) == missing
    assert quality.omitted_share == round(missing / 35, 4)
    assert any("provisional" in w for w in quality.warnings) is provisional


def test_data_quality_names_missing_evidence_and_historical_evidence(
    instrument: Instrument, now: dt.datetime
) -> None:
    ratings = every_item() | {
        "ID1": {"presence": "yes", "relevance": "high"},
        "GA1": {
            "presence": "partial",
            "relevance": "low",
            "evidence": "Past contact only.",
            "sources": ["file-review"],
            "timeframe": "historical",
        },
    }
    quality = build(instrument, now, ratings=ratings).data_quality
    assert quality.missing_evidence == ["ID1"]
    assert quality.warnings == [
        "No evidence recorded for ID1, rated present: add what each rating rests on before "
        "finalising.",
        "Rated present on historical evidence only: GA1. Check that each still applies.",
        "Made from a draft assessment: the formulation may change before it is finalised.",
    ]


# --- change -------------------------------------------------------------------------------------


def test_change_lists_every_area_and_the_items_that_moved(
    instrument: Instrument, now: dt.datetime
) -> None:
    before = make_assessment(ratings=every_item() | rated(ID1=("yes", "high"), ID2=("yes", "high")))
    info = {**assessment_document()["assessment"], "version": 2, "assessed_on": "2026-11-20"}
    formulation = build(
        instrument,
        now,
        before,
        assessment=info,
        ratings=every_item() | rated(ID1=("partial", "low"), ID2="omit"),
    )
    change = formulation.change
    assert change is not None
    assert [a.area for a in change.areas] == [a.id for a in instrument.areas]
    identity = next(a for a in change.areas if a.area == "identity")
    assert (identity.band_before, identity.band_after) == (Band.MODERATE, Band.LOW)
    assert (identity.score_before, identity.score_after) == (0.4, 0.04)
    assert [(i.item, i.presence_before, i.presence_after) for i in change.items] == [
        ("ID1", Presence.YES, Presence.PARTIAL),
        ("ID2", Presence.YES, Presence.OMIT),
    ]
    assert change.summary == (
        "Since version 1 (assessed on 2026-11-01), Understanding susceptibility moved from "
        "moderate to low and Identity and belonging from moderate to low; 2 factors changed "
        "presence (ID1, ID2)."
    )


def test_previous_must_be_an_earlier_version_of_the_same_case(
    instrument: Instrument, now: dt.datetime
) -> None:
    other = make_assessment(case={"reference": "C-0002", "pathway": "engaged"})
    with pytest.raises(ConflictError) as caught:
        formulate(instrument, make_assessment(), other, generated_at=now)
    assert caught.value.where == "$.previous.case.reference"
    with pytest.raises(ConflictError) as caught:
        formulate(instrument, make_assessment(), make_assessment(), generated_at=now)
    assert caught.value.where == "$.previous.assessment.version"


def test_an_assessment_that_does_not_fit_the_instrument_is_refused(
    instrument: Instrument, now: dt.datetime
) -> None:
    with pytest.raises(DocumentError) as caught:
        formulate(
            instrument,
            make_assessment(instrument={"id": "ifi", "version": "9.0.0"}),
            generated_at=now,
        )
    assert caught.value.where == "$.instrument"
    bad = make_assessment().model_copy(update={"ratings": {"ID1": Rating(presence=Presence.YES)}})
    with pytest.raises(DocumentError) as caught:
        formulate(instrument, bad, generated_at=now)
    assert caught.value.where == "$.ratings.ID1.relevance"


# --- overrides and the review -------------------------------------------------------------------


def test_an_override_counts_and_keeps_the_computed_band(
    instrument: Instrument, now: dt.datetime
) -> None:
    review = apply_override(Review(), "entitlement-to-harm", "high", RATIONALE, "Dr A. Example", AT)
    formulation = build(instrument, now, ratings=every_item(), review=review)
    first = formulation.priorities[0]
    assert (first.area, first.band, first.computed_band) == (
        "entitlement-to-harm",
        Band.HIGH,
        Band.LOW,
    )
    assert first.override is not None
    assert first.override.rationale == RATIONALE
    assert first.offered
    assert first.summary.endswith(
        "The assessor set the band to high (computed from the ratings: low)."
    )
    assert formulation.review == review


@pytest.mark.parametrize(
    "rationale", ["", "too short", "  a b c d e f g h i j k l m n o p q r s  ", "\n" * 40]
)
def test_an_override_needs_a_written_rationale(rationale: str) -> None:
    with pytest.raises(InstrumentError) as caught:
        apply_override(Review(), "identity", "high", rationale, "Dr A. Example", AT)
    assert caught.value.where == "$.review.overrides.identity.rationale"
    assert caught.value.fix


def test_twenty_non_blank_characters_are_enough() -> None:
    review = apply_override(Review(), "identity", "low", "  " + "x" * 20 + "  ", "B. Sample", AT)
    assert review.overrides["identity"].rationale == "x" * 20


@pytest.mark.parametrize(
    ("area", "band", "by", "at", "where"),
    [
        ("nowhere", "high", "A", AT, "$.review.overrides.nowhere"),
        ("identity", "urgent", "A", AT, "$.review.overrides.identity.band"),
        ("identity", "high", "  ", AT, "$.review.overrides.identity.by"),
        ("identity", "high", "A", dt.datetime(2026, 1, 1), "$.review.overrides.identity.at"),
    ],
)
def test_a_bad_override_is_refused_with_its_path(
    instrument: Instrument, area: str, band: str, by: str, at: dt.datetime, where: str
) -> None:
    with pytest.raises(InstrumentError) as caught:
        apply_override(Review(), area, band, RATIONALE, by, at, instrument=instrument)
    assert caught.value.where == where


def test_formulate_refuses_an_override_of_an_unknown_area(
    instrument: Instrument, now: dt.datetime
) -> None:
    review = apply_override(Review(), "nowhere", "high", RATIONALE, "A", AT)
    with pytest.raises(DocumentError) as caught:
        build(instrument, now, review=review)
    assert caught.value.where == "$.review.overrides.nowhere"


def test_clearing_overrides_and_narratives() -> None:
    review = apply_override(Review(), "identity", "high", RATIONALE, "A", AT)
    review = set_narrative(review, "presenting", "Text.")
    assert clear_override(review, "identity").overrides == {}
    assert clear_override(review, "identity").narratives == {FiveP.PRESENTING: "Text."}
    assert set_narrative(review, "presenting", "   ").narratives == {}
    with pytest.raises(InstrumentError) as caught:
        set_narrative(review, "prologue", "Text.")
    assert caught.value.where == "$.review.narratives.prologue"


def test_the_order_of_review_entries_does_not_change_the_bytes(
    instrument: Instrument, now: dt.datetime
) -> None:
    one = apply_override(Review(), "identity", "high", RATIONALE, "A", AT)
    one = apply_override(one, "emotion-management", "low", RATIONALE, "A", AT)
    one = set_narrative(set_narrative(one, "protective", "P."), "presenting", "Q.")
    other = apply_override(Review(), "emotion-management", "low", RATIONALE, "A", AT)
    other = apply_override(other, "identity", "high", RATIONALE, "A", AT)
    other = set_narrative(set_narrative(other, "presenting", "Q."), "protective", "P.")
    assert formulation_json(build(instrument, now, review=one)) == formulation_json(
        build(instrument, now, review=other)
    )


# --- redaction and serialisation ----------------------------------------------------------------


def test_redact_removes_evidence_everywhere_and_keeps_the_rest() -> None:
    formulation = worked_formulation("wc-02-grievance")
    redacted = redact(formulation)
    document = json.loads(formulation_json(redacted))
    assert document["redacted"] is True
    assert '"evidence"' not in formulation_json(redacted)
    assert '"evidence"' in formulation_json(formulation)
    assert all("note" not in r for r in document["responsivity"])
    assert schema_problems("formulation", document) == []
    assert [(p.area, p.score, p.band) for p in redacted.priorities] == [
        (p.area, p.score, p.band) for p in formulation.priorities
    ]
    assert redacted.domains == formulation.domains


def test_the_serialisation_keeps_text_as_written(instrument: Instrument, now: dt.datetime) -> None:
    ratings = rated(ID1=("yes", "high"))
    ratings["ID1"]["evidence"] = "Said « je suis seul » — felt alone."
    text = formulation_json(build(instrument, now, ratings=ratings))
    assert "« je suis seul » — felt alone." in text
    assert text.endswith("}\n")
    assert "null" not in text


def worked_formulation(name: str) -> Formulation:
    case = worked_cases()[name]
    return formulate(
        INSTRUMENT,
        case.assessment,
        case.previous,
        generated_at=dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC),
        review=case.review,
    )


# --- properties ---------------------------------------------------------------------------------

GENERATED = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def assessment_of(ratings: dict[str, Rating], pathway: Pathway = Pathway.ENGAGED) -> Assessment:
    return make_assessment(case={"reference": "P-1", "pathway": pathway.value}).model_copy(
        update={"ratings": ratings}
    )


overrides_strategy = st.dictionaries(
    st.sampled_from([a.id for a in INSTRUMENT.areas]), st.sampled_from(Band), max_size=3
)


def review_of(overrides: dict[str, Band]) -> Review:
    review = Review()
    for area, band in overrides.items():
        review = apply_override(review, area, band, RATIONALE, "A", AT)
    return review


@settings(max_examples=100, deadline=None)
@given(ratings=assessments(), pathway=st.sampled_from(Pathway), overrides=overrides_strategy)
def test_the_same_input_gives_byte_identical_json(
    ratings: dict[str, Rating], pathway: Pathway, overrides: dict[str, Band]
) -> None:
    assessment = assessment_of(ratings, pathway)
    again = Assessment.model_validate(json.loads(json.dumps(assessment.to_document())))
    review = review_of(overrides)
    first = formulation_json(
        formulate(INSTRUMENT, assessment, generated_at=GENERATED, review=review)
    )
    second = formulation_json(formulate(INSTRUMENT, again, generated_at=GENERATED, review=review))
    assert first == second


# Fewer examples: validating a whole formulation against the schema takes tens of milliseconds.
@settings(max_examples=40, deadline=None)
@given(ratings=assessments(), pathway=st.sampled_from(Pathway), overrides=overrides_strategy)
def test_every_formulation_is_valid_and_its_contributions_add_up(
    ratings: dict[str, Rating], pathway: Pathway, overrides: dict[str, Band]
) -> None:
    formulation = formulate(
        INSTRUMENT,
        assessment_of(ratings, pathway),
        generated_at=GENERATED,
        review=review_of(overrides),
    )
    document = json.loads(formulation_json(formulation))
    assert schema_problems("formulation", document) == []
    decimals = INSTRUMENT.rule.decimals
    for p in formulation.priorities:
        total = sum(round(c.contribution * 10**decimals) for c in p.contributors)
        assert total == round(p.score * 10**decimals)
        assert round(sum(c.contribution for c in p.contributors), decimals) == p.score


@settings(max_examples=100, deadline=None)
@given(ratings=assessments(), overrides=overrides_strategy, pathway=st.sampled_from(Pathway))
def test_overrides_reorder_by_the_band_that_counts_and_keep_the_computed_band(
    ratings: dict[str, Rating], overrides: dict[str, Band], pathway: Pathway
) -> None:
    assessment = assessment_of(ratings, pathway)
    plain = formulate(INSTRUMENT, assessment, generated_at=GENERATED)
    reviewed = formulate(
        INSTRUMENT, assessment, generated_at=GENERATED, review=review_of(overrides)
    )
    computed = {p.area: (p.band, p.score) for p in plain.priorities}
    keys = [(BAND_ORDER[p.band], p.score) for p in reviewed.priorities]
    assert keys == sorted(keys, reverse=True)
    assert [p.rank for p in reviewed.priorities] == list(range(1, len(keys) + 1))
    for p in reviewed.priorities:
        assert (p.computed_band, p.score) == computed[p.area]
        assert p.band is overrides.get(p.area, p.computed_band)
        assert (p.override is not None) == (p.area in overrides)


@settings(max_examples=100, deadline=None)
@given(ratings=assessments())
def test_the_pathway_never_changes_a_rating_band_or_score(ratings: dict[str, Rating]) -> None:
    always = {a for p in INSTRUMENT.pathways for a in p.always_offered}
    results = {
        pathway: formulate(INSTRUMENT, assessment_of(ratings, pathway), generated_at=GENERATED)
        for pathway in Pathway
    }
    reference = {p.area: p for p in results[Pathway.ENGAGED].priorities}
    for formulation in results.values():
        keys = [(BAND_ORDER[p.band], p.score) for p in formulation.priorities]
        assert keys == [(BAND_ORDER[p.band], p.score) for p in results[Pathway.ENGAGED].priorities]
        for p in formulation.priorities:
            other = reference[p.area]
            assert (p.band, p.score, p.coverage, p.contributors, p.strengths) == (
                other.band,
                other.score,
                other.coverage,
                other.contributors,
                other.strengths,
            )
            if p.area not in always:
                assert p.offered == other.offered
        assert formulation.domains == results[Pathway.ENGAGED].domains


@settings(max_examples=100, deadline=None)
@given(
    ratings=assessments(),
    item=st.sampled_from([i.id for i in INSTRUMENT.items if i.id.startswith("PF")]),
    presence=st.sampled_from([Presence.PARTIAL, Presence.YES]),
    relevance=st.sampled_from(Relevance),
)
def test_a_strength_never_raises_a_priority(
    ratings: dict[str, Rating], item: str, presence: Presence, relevance: Relevance
) -> None:
    without = {k: v for k, v in ratings.items() if k != item}
    strength = without | {item: Rating(presence=presence, relevance=relevance)}
    a = formulate(INSTRUMENT, assessment_of(without), generated_at=GENERATED)
    b = formulate(INSTRUMENT, assessment_of(strength), generated_at=GENERATED)
    assert [(p.area, p.band, p.score) for p in a.priorities] == [
        (p.area, p.band, p.score) for p in b.priorities
    ]
    for p in b.priorities:
        if item in INSTRUMENT.area_by_id[p.area].strengths:
            assert item in [s.item for s in p.strengths]


# --- the command line ---------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instrument", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    document["header"].pop("generated_at")
    return document


def test_cli_formulate_prints_the_golden_formulation() -> None:
    name = "wc-02-grievance"
    result = run("formulate", f"formulations/{name}.assessment.json")
    assert result.returncode == 0, result.stderr
    golden = json.loads((FORMULATIONS / f"{name}.formulation.json").read_text(encoding="utf-8"))
    assert without_time(json.loads(result.stdout)) == without_time(golden)


def test_cli_formulate_with_previous_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run(
        "formulate",
        "formulations/wc-01-transition-v2.assessment.json",
        "--previous",
        "formulations/wc-01-transition-v1.assessment.json",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["change"]["previous_version"] == 1
    assert run("validate", "formulation", str(out)).returncode == 0


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["bad.json"], "$.ratings.ID1.relevance: required when presence is 'yes'"),
        (["missing.json"], "$: file not found"),
        (["good.json", "--previous", "other.json"], "$.previous.case.reference: "),
        (["good.json", "--previous", "bad.json"], "$.ratings.ID1.relevance: previous assessment"),
    ],
)
def test_cli_formulate_refuses_bad_input_like_validate(
    tmp_path: Path, files: list[str], expected: str
) -> None:
    documents = {
        "bad.json": assessment_document(ratings={"ID1": {"presence": "yes"}}),
        "good.json": assessment_document(
            assessment={"version": 2, "status": "draft", "assessed_on": "2026-11-01"}
        ),
        "other.json": assessment_document(case={"reference": "C-0002", "pathway": "engaged"}),
    }
    for name, document in documents.items():
        (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    args = [str(tmp_path / f) if f.endswith(".json") else f for f in files]
    result = run("formulate", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
