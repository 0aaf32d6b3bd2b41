"""The assessor's judgement: models, formulation, finalisation rules, redaction and round trips."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from instrument.assessment import Assessment, check_assessment
from instrument.definition import Instrument
from instrument.definitions import catalogue, current_instrument, default_instrument
from instrument.errors import DocumentError
from instrument.exchange.assessments import parse_assessment, parse_formulation
from instrument.formulation import Formulation, Review, formulate, formulation_json, redact
from instrument.formulation.finalising import judgement_problems, judgement_required
from instrument.formulation.judgement import NOT_APPLICABLE_WITHHELD, scenarios_required
from instrument.vocabulary import Band, FiveP

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
CASE = FORMULATIONS / "1.1" / "wc-09-judgement.assessment.json"
AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'


@pytest.fixture
def instrument() -> Instrument:
    """The worked case of the judgement (WC-09) is assessed under instrument 1.1."""
    return current_instrument()


def case_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CASE.read_text(encoding="utf-8"))
    return document


def load(document: dict[str, Any]) -> Assessment:
    return parse_assessment(json.dumps(document).encode("utf-8"), catalogue())


def without_judgement(document: dict[str, Any]) -> dict[str, Any]:
    plain = copy.deepcopy(document)
    plain.pop("judgement")
    return plain


def problems_at(instrument: Instrument, document: dict[str, Any]) -> list[str]:
    return [p.where for p in judgement_problems(instrument, load(document))]


# --- the 1.0 document stays as it was ------------------------------------------------------------


def test_an_assessment_of_1_0_without_the_section_formulates_without_it() -> None:
    one_zero = default_instrument()
    plain = load(json.loads((FORMULATIONS / "wc-02-grievance.assessment.json").read_text("utf-8")))
    text = formulation_json(formulate(one_zero, plain, generated_at=AT))
    assert '"judgement"' not in text
    assert '"person_specific"' not in text
    assert '"not_applicable"' not in text
    assert not judgement_required(one_zero, plain)
    assert judgement_problems(one_zero, plain) == []


def test_from_instrument_1_1_the_judgement_is_required(instrument: Instrument) -> None:
    plain = load(without_judgement(case_document()))
    assert judgement_required(instrument, plain)
    assert judgement_problems(instrument, plain) != []


# --- person-specific factors never change a score ------------------------------------------------


def test_person_specific_factors_are_reasons_but_never_move_a_score(instrument: Instrument) -> None:
    document = case_document()
    with_it = formulate(instrument, load(document), generated_at=AT)
    plain = formulate(instrument, load(without_judgement(document)), generated_at=AT)
    for judged, bare in zip(with_it.priorities, plain.priorities, strict=True):
        assert (judged.area, judged.rank, judged.band, judged.score) == (
            bare.area,
            bare.rank,
            bare.band,
            bare.score,
        )
        assert judged.contributors == bare.contributors
    emotion = next(p for p in with_it.priorities if p.area == "emotion-management")
    assert emotion.person_specific is not None
    assert [r.id for r in emotion.person_specific] == ["PS1"]
    assert "Person-specific factor linked by the assessor (not scored" in emotion.summary


def test_a_high_relevance_factor_linked_to_an_area_not_offered_suggests_a_review(
    instrument: Instrument,
) -> None:
    document = case_document()
    document["judgement"]["person_specific"]["PS1"]["areas"] = ["entitlement-to-harm"]
    formulation = formulate(instrument, load(document), generated_at=AT)
    assert formulation.judgement is not None
    [suggestion] = formulation.judgement.review_suggestions
    assert "Entitlement to harm" in suggestion
    assert "(PS1)" in suggestion
    entitlement = next(p for p in formulation.priorities if p.area == "entitlement-to-harm")
    assert entitlement.band is Band.LOW
    assert not entitlement.offered
    document["judgement"]["person_specific"]["PS1"]["relevance"] = "moderate"
    again = formulate(instrument, load(document), generated_at=AT)
    assert again.judgement is not None
    assert again.judgement.review_suggestions == []


# --- the 5P ---------------------------------------------------------------------------------------


def test_the_5p_honours_placements_person_specific_factors_and_narratives(
    instrument: Instrument,
) -> None:
    formulation = formulate(instrument, load(case_document()), generated_at=AT)
    sections = {s.heading: s for s in formulation.five_p}
    assert "EM1" in [i.item for i in sections[FiveP.PRECIPITATING].items]
    assert "EM1" not in [i.item for i in sections[FiveP.PREDISPOSING].items]
    assert "Placed here by the assessor" in sections[FiveP.PRECIPITATING].summary
    perpetuating = sections[FiveP.PERPETUATING]
    assert perpetuating.person_specific is not None
    assert [r.id for r in perpetuating.person_specific] == ["PS1"]
    assert all(s.narrative for s in formulation.five_p)
    assert formulation.judgement is not None
    assert formulation.judgement.presenting_problem is not None


def test_a_heading_needs_a_narrative_or_a_reason_and_not_both(instrument: Instrument) -> None:
    document = case_document()
    headings = document["judgement"]["five_p"]["headings"]
    headings["protective"] = {}
    assert "$.judgement.five_p.headings.protective.narrative" in problems_at(instrument, document)
    headings["protective"] = {"not_applicable": "No strengths could be identified yet."}
    assert problems_at(instrument, document) == []
    formulation = formulate(instrument, load(document), generated_at=AT)
    protective = next(s for s in formulation.five_p if s.heading is FiveP.PROTECTIVE)
    assert protective.not_applicable == "No strengths could be identified yet."
    headings["protective"]["narrative"] = "Some text."
    assert "$.judgement.five_p.headings.protective" in problems_at(instrument, document)


def test_a_narrative_written_in_the_review_counts(instrument: Instrument) -> None:
    document = case_document()
    del document["judgement"]["five_p"]["headings"]["predisposing"]
    assessment = load(document)
    assert judgement_problems(instrument, assessment) != []
    review = Review(narratives={FiveP.PREDISPOSING: "Written on the formulation page."})
    assert judgement_problems(instrument, assessment, review) == []


def test_the_presenting_problem_is_needed(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["five_p"]["presenting_problem"] = "   "
    assert "$.judgement.five_p.presenting_problem" in problems_at(instrument, document)


# --- Good Lives -----------------------------------------------------------------------------------


def test_good_lives_names_what_leaving_would_cost(instrument: Instrument) -> None:
    formulation = formulate(instrument, load(case_document()), generated_at=AT)
    assert formulation.judgement is not None
    panel = formulation.judgement.good_lives
    assert panel is not None
    assert panel.supplied_by_group == ["knowledge", "agency", "relatedness", "community"]
    assert panel.unrated == []
    assert "leaving would cost" in panel.summary
    assert len(panel.approach_goals) == 3


def test_a_good_outside_the_eleven_is_refused() -> None:
    document = case_document()
    document["judgement"]["good_lives"]["goods"]["wealth"] = document["judgement"]["good_lives"][
        "goods"
    ]["life"]
    with pytest.raises(DocumentError) as raised:
        load(document)
    assert any("good_lives.goods" in p.where for p in raised.value.problems())


# --- scenarios ------------------------------------------------------------------------------------


def test_scenarios_are_required_by_a_high_band_or_the_escalation_prompt() -> None:
    assert scenarios_required([Band.LOW, Band.HIGH], escalation_raised=False)
    assert not scenarios_required([Band.LOW, Band.MODERATE], escalation_raised=False)
    assert scenarios_required([Band.LOW], escalation_raised=True)
    assert not scenarios_required([], escalation_raised=False)


def test_a_high_area_without_a_scenario_blocks_finalising(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["scenarios"] = []
    assert "$.judgement.scenarios" in problems_at(instrument, document)


def _quieten(document: dict[str, Any]) -> None:
    """Rate every risk item `partial` with low relevance: no area can be high."""
    for item_id, rating in document["ratings"].items():
        if item_id[:2] not in ("PF", "CA") and rating["presence"] in ("partial", "yes"):
            rating["presence"] = "partial"
            rating["relevance"] = "low"


def test_no_scenario_is_needed_when_no_area_is_high(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["scenarios"] = []
    _quieten(document)
    document["judgement"]["person_specific"]["PS1"]["relevance"] = "low"
    formulation = formulate(instrument, load(document), generated_at=AT)
    assert all(p.band is not Band.HIGH for p in formulation.priorities)
    assert formulation.judgement is not None
    assert not formulation.judgement.scenarios_required
    assert "$.judgement.scenarios" not in problems_at(instrument, document)


def test_an_override_to_high_makes_a_scenario_needed(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["scenarios"] = []
    _quieten(document)
    assessment = load(document)
    review = Review(
        overrides={
            "identity": {
                "band": "high",
                "rationale": "The loss of role dominates every session and must come first.",
                "by": "Dr G. Placeholder",
                "at": "2026-09-14T10:00:00Z",
            }
        }
    )
    wheres = [p.where for p in judgement_problems(instrument, assessment, review)]
    assert "$.judgement.scenarios" in wheres


def test_a_scenario_needs_every_text_and_a_link(instrument: Instrument) -> None:
    document = case_document()
    scenario = document["judgement"]["scenarios"][0]
    scenario["warning_signs"] = " "
    scenario["items"] = []
    scenario["person_specific"] = []
    wheres = problems_at(instrument, document)
    assert "$.judgement.scenarios[0].warning_signs" in wheres
    assert "$.judgement.scenarios[0].items" in wheres


def test_a_scenario_has_no_place_for_a_probability() -> None:
    document = case_document()
    document["judgement"]["scenarios"][0]["probability"] = 0.3
    with pytest.raises(DocumentError) as raised:
        load(document)
    assert raised.value.problems()[0].where == "$.judgement.scenarios[0].probability"


def test_scenario_links_must_name_known_items_and_factors(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["scenarios"][0]["items"] = ["ZZ9"]
    document["judgement"]["scenarios"][0]["person_specific"] = ["PS7"]
    document["judgement"]["person_specific"]["PS1"]["areas"] = ["nowhere"]
    document["judgement"]["person_specific"]["PS2"]["domain"] = "astrology"
    document["judgement"]["five_p"]["placements"] = {"XX1": "presenting"}
    wheres = [p.where for p in check_assessment(instrument, Assessment.model_validate(document))]
    assert wheres == [
        "$.judgement.person_specific.PS1.areas[0]",
        "$.judgement.person_specific.PS2.domain",
        "$.judgement.five_p.placements.XX1",
        "$.judgement.scenarios[0].items[0]",
        "$.judgement.scenarios[0].person_specific[0]",
    ]
    with pytest.raises(DocumentError):
        formulate(instrument, Assessment.model_validate(document), generated_at=AT)


# --- summary judgements and the bias check --------------------------------------------------------


def test_summary_judgements_are_carried_with_what_bears_on_them(instrument: Instrument) -> None:
    formulation = formulate(instrument, load(case_document()), generated_at=AT)
    assert formulation.judgement is not None
    summary = formulation.judgement.summary_judgements
    assert summary is not None
    levels = {j.judgement: j.level for j in summary.judgements}
    assert levels == {"priority": "high", "serious-harm": "low", "urgency": "moderate"}
    harm = next(j for j in summary.judgements if j.judgement == "serious-harm")
    assert harm.scenarios == [1, 2]
    assert "CA2" in harm.items
    assert "not computed" in summary.summary


def test_every_summary_judgement_needs_a_rationale(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["summary"]["urgency"]["rationale"] = ""
    del document["judgement"]["summary"]["serious_harm"]
    wheres = problems_at(instrument, document)
    assert "$.judgement.summary.urgency.rationale" in wheres
    assert "$.judgement.summary.serious_harm" in wheres


def test_no_intervention_indicated_needs_a_low_priority(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["summary"]["no_intervention"] = True
    assert "$.judgement.summary.no_intervention" in problems_at(instrument, document)
    document["judgement"]["summary"]["priority"]["level"] = "low"
    assert "$.judgement.summary.no_intervention" not in problems_at(instrument, document)


def test_the_bias_check_must_be_answered_and_confirmed(instrument: Instrument) -> None:
    document = case_document()
    check = document["judgement"]["bias_check"]
    check["confirmed"] = False
    del check["answers"]["cultural-or-religious"]
    check["answers"]["single-source"]["note"] = ""
    wheres = problems_at(instrument, document)
    assert "$.judgement.bias_check.confirmed" in wheres
    assert "$.judgement.bias_check.answers.cultural-or-religious" in wheres
    assert "$.judgement.bias_check.answers.single-source.note" in wheres


def test_a_person_specific_factor_needs_evidence_and_a_source(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"]["person_specific"]["PS1"]["evidence"] = ""
    document["judgement"]["person_specific"]["PS2"]["sources"] = []
    wheres = problems_at(instrument, document)
    assert "$.judgement.person_specific.PS1.evidence" in wheres
    assert "$.judgement.person_specific.PS2.sources" in wheres


def test_an_empty_judgement_lists_everything_missing(instrument: Instrument) -> None:
    document = case_document()
    document["judgement"] = {}
    wheres = problems_at(instrument, document)
    assert "$.judgement.five_p.presenting_problem" in wheres
    assert sum(w.startswith("$.judgement.five_p.headings.") for w in wheres) == 5
    assert "$.judgement.scenarios" in wheres
    assert "$.judgement.bias_check.confirmed" in wheres
    assert sum(w.startswith("$.judgement.summary.") for w in wheres) == 3


def test_person_specific_ids_are_fixed_in_shape() -> None:
    document = case_document()
    factors = document["judgement"]["person_specific"]
    factors["X1"] = factors.pop("PS1")
    with pytest.raises(DocumentError) as raised:
        load(document)
    assert "person_specific" in raised.value.problems()[0].where


# --- redaction, escaping and round trips ----------------------------------------------------------


def _marked(document: dict[str, Any], mark: str) -> dict[str, Any]:
    """Put `mark` into every free text of the judgement section."""
    judgement = document["judgement"]
    for factor in judgement["person_specific"].values():
        factor["evidence"] = f"{mark} evidence"
    judgement["five_p"]["presenting_problem"] = f"{mark} presenting"
    judgement["five_p"]["headings"]["protective"] = {"not_applicable": f"{mark} reason"}
    for good in judgement["good_lives"]["goods"].values():
        good["note"] = f"{mark} note"
    judgement["good_lives"]["approach_goals"] = [f"{mark} goal"]
    for scenario in judgement["scenarios"]:
        for key in ("what", "who", "triggers", "warning_signs", "less_likely"):
            scenario[key] = f"{mark} {key}"
    for key in ("priority", "serious_harm", "urgency"):
        judgement["summary"][key]["rationale"] = f"{mark} rationale"
    for answer in judgement["bias_check"]["answers"].values():
        answer["note"] = f"{mark} bias"
    judgement["limitations"] = f"{mark} limits"
    return document


def test_a_redacted_formulation_keeps_titles_and_judgements_only(instrument: Instrument) -> None:
    document = _marked(case_document(), "CANARY-JUDGEMENT")
    formulation = formulate(instrument, load(document), generated_at=AT)
    full = formulation_json(formulation)
    assert full.count("CANARY-JUDGEMENT") >= 20
    shown = redact(formulation)
    text = formulation_json(shown)
    assert "CANARY-JUDGEMENT" not in text
    assert shown.judgement is not None
    assert [s.title for s in shown.judgement.scenarios] == [
        "Online hostility turning into harassment",
        "Drifting deeper into the network",
    ]
    assert shown.judgement.summary_judgements is not None
    assert [j.level for j in shown.judgement.summary_judgements.judgements] == [
        "high",
        "low",
        "moderate",
    ]
    protective = next(s for s in shown.five_p if s.heading is FiveP.PROTECTIVE)
    assert protective.not_applicable == NOT_APPLICABLE_WITHHELD
    assert parse_formulation(text.encode("utf-8")) == shown


def test_the_section_round_trips_through_export_with_markup_and_any_language(
    instrument: Instrument,
) -> None:
    document = _marked(case_document(), f'{SCRIPT} {IMG} tab\there & "quoted" \u00e9\u4e2d')
    assessment = load(document)
    assert assessment.to_document() == document
    again = parse_assessment(json.dumps(assessment.to_document()).encode("utf-8"), catalogue())
    assert again == assessment
    formulation = formulate(instrument, assessment, generated_at=AT)
    data = formulation_json(formulation).encode("utf-8")
    assert formulation_json(parse_formulation(data)).encode("utf-8") == data


def test_the_formulation_of_the_worked_case_is_a_formulation(instrument: Instrument) -> None:
    formulation = formulate(instrument, load(case_document()), generated_at=AT)
    assert isinstance(formulation, Formulation)
    assert formulation.judgement is not None
    assert "structured professional judgement aid" in formulation.judgement.limitations
    assert "interview, file review, collateral, self report" in formulation.judgement.limitations


def test_a_bidirectional_character_in_the_section_is_refused_with_every_path() -> None:
    document = _marked(case_document(), "looks \u202eright")
    with pytest.raises(DocumentError) as caught:
        load(document)
    wheres = [p.where for p in caught.value.problems()]
    assert "$.judgement.limitations" in wheres
    assert "$.judgement.scenarios[0].what" in wheres
    assert all("U+202E" in p.message for p in caught.value.problems())
