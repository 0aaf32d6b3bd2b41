"""Attacks on the assessor's judgement (issue 13) from outside: forged imports, leaks, wording.

Each test here failed before the fix it guards.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrument.access import SYSTEM
from instrument.assessment import Assessment
from instrument.errors import DocumentError
from instrument.exchange.case import case_json
from instrument.formulation import Review, formulate
from tests.store_support import PASSWORD, Team, complete, dump, make_team
from tests.test_wording import LABEL, PREDICTION, strings

REPO = Path(__file__).resolve().parent.parent
REF = "C-JA1"


@pytest.fixture
def finalised(tmp_path: Path) -> tuple[Team, dict[str, Any]]:
    """A team with one finalised 1.1 version (with its judgement), and the case's export."""
    team = make_team(tmp_path / "a.db")
    s, pat = team.service, team.psychologist
    s.create_case(pat, REF, "engaged")
    s.start_assessment(pat, REF)
    draft = s.get_assessment(pat, REF, 1)
    from instrument.definitions import get_instrument

    ref = draft.assessment.instrument
    complete(s, pat, REF, 1, get_instrument(ref.id, ref.version))
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, REF, 1)
    return team, s.export_case(pat, REF)


def _forged(document: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The export with the final version's judgement changed and everything made consistent.

    The forger recomputes the formulation (the code is public), so that the hash and the
    recomputation checks pass, and drops the installation's signature.
    """
    forged = copy.deepcopy(document)
    forged.pop("signature")
    version = forged["versions"][0]
    change(version["assessment"]["judgement"])
    assessment = Assessment.model_validate(version["assessment"])
    from instrument.definitions import get_instrument

    ref = assessment.instrument
    stored = version["formulation"]
    again = formulate(
        get_instrument(ref.id, ref.version),
        assessment,
        generated_at=dt.datetime.fromisoformat(stored["header"]["generated_at"]),
        review=Review.model_validate(version["review"]),
    ).model_dump(mode="json", exclude_none=True)
    again["header"]["generator"] = stored["header"]["generator"]
    version["formulation"] = again
    return forged


def _no_rationale(judgement: dict[str, Any]) -> None:
    judgement["summary"]["priority"]["rationale"] = " "


def _no_intervention_with_high_priority(judgement: dict[str, Any]) -> None:
    judgement["summary"]["no_intervention"] = True
    judgement["summary"]["priority"]["level"] = "high"


def _unconfirmed_bias_check(judgement: dict[str, Any]) -> None:
    judgement["bias_check"]["confirmed"] = False


def _narrative_and_reason(judgement: dict[str, Any]) -> None:
    judgement["five_p"]["headings"]["protective"]["not_applicable"] = "A fictional reason."


FORGERIES = {
    "summary.priority.rationale": _no_rationale,
    "summary.no_intervention": _no_intervention_with_high_priority,
    "bias_check.confirmed": _unconfirmed_bias_check,
    "five_p.headings.protective": _narrative_and_reason,
}


def test_an_untouched_final_version_with_its_judgement_still_imports(
    finalised: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = finalised
    elsewhere = make_team(tmp_path / "b.db")
    elsewhere.service.import_case(SYSTEM, case_json(_forged(document, lambda _: None)).encode())
    assert elsewhere.service.get_assessment(SYSTEM, REF, 1).assessment.judgement is not None


@pytest.mark.parametrize("field", list(FORGERIES))
def test_a_final_version_whose_judgement_could_not_be_finalised_is_refused(
    finalised: tuple[Team, dict[str, Any]], tmp_path: Path, field: str
) -> None:
    _, document = finalised
    forged = _forged(document, FORGERIES[field])
    elsewhere = make_team(tmp_path / "b.db")
    before = dump(tmp_path / "b.db")
    with pytest.raises(DocumentError) as refused:
        elsewhere.service.import_case(SYSTEM, case_json(forged).encode(), "north")
    wheres = [p.where for p in refused.value.problems()]
    assert any(w.startswith(f"$.versions[0].assessment.judgement.{field}") for w in wheres)
    assert "a final version cannot have this" in refused.value.problems()[0].message
    assert dump(tmp_path / "b.db") == before


def test_the_cli_refuses_a_forged_final_judgement_with_exit_2_and_its_path(
    finalised: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = finalised
    path = tmp_path / "forged.case.json"
    path.write_text(case_json(_forged(document, _no_rationale)), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "import", "--db", str(tmp_path / "c.db"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "$.versions[0].assessment.judgement.summary.priority.rationale" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reason_supersedes_a_narrative_written_earlier_on_the_formulation_page() -> None:
    """The report never shows a heading as both narrated and not applicable."""
    from instrument.definitions import current_instrument
    from instrument.formulation.finalising import judgement_problems
    from instrument.vocabulary import FiveP
    from tests.test_judgement import AT, case_document, load

    document = case_document()
    document["judgement"]["five_p"]["headings"]["protective"] = {"not_applicable": "A reason."}
    instrument = current_instrument()
    review = Review(narratives={FiveP.PROTECTIVE: "Written on the formulation page."})
    assert judgement_problems(instrument, load(document), review) == []
    formulation = formulate(instrument, load(document), generated_at=AT, review=review)
    protective = next(s for s in formulation.five_p if s.heading is FiveP.PROTECTIVE)
    assert protective.not_applicable == "A reason."
    assert protective.narrative is None
    # Without a reason, the narrative of the formulation page still stands for its heading.
    del document["judgement"]["five_p"]["headings"]["protective"]
    formulation = formulate(instrument, load(document), generated_at=AT, review=review)
    protective = next(s for s in formulation.five_p if s.heading is FiveP.PROTECTIVE)
    assert protective.narrative == "Written on the formulation page."
    assert judgement_problems(instrument, load(document), review) == []


@pytest.mark.parametrize("key", ["PS0", "PS00", "PS01", "PS100", "ps1"])
def test_a_person_specific_id_is_one_of_ps1_to_ps99_written_one_way(key: str) -> None:
    from tests.test_judgement import case_document, load

    document = case_document()
    factors = document["judgement"]["person_specific"]
    factors[key] = factors.pop("PS2")
    with pytest.raises(DocumentError) as refused:
        load(document)
    problems = refused.value.problems()
    assert [(p.where, p.message) for p in problems] == [
        (f"$.judgement.person_specific.{key}", "this key is not allowed here")
    ]
    assert "PS1 to PS99" in problems[0].fix


def test_a_scenario_cannot_link_a_person_specific_id_written_with_a_leading_zero() -> None:
    from tests.test_judgement import case_document, load

    document = case_document()
    document["judgement"]["scenarios"][0]["person_specific"] = ["PS01"]
    with pytest.raises(DocumentError) as refused:
        load(document)
    assert [p.where for p in refused.value.problems()] == [
        "$.judgement.scenarios[0].person_specific[0]"
    ]


def test_no_summary_judgement_recorded_is_not_called_the_assessors_judgements() -> None:
    from instrument.definitions import current_instrument
    from tests.test_judgement import AT, case_document, load

    document = case_document()
    del document["judgement"]["summary"]
    formulation = formulate(current_instrument(), load(document), generated_at=AT)
    assert formulation.judgement is not None
    assert formulation.judgement.summary_judgements is not None
    summary = formulation.judgement.summary_judgements.summary
    assert summary.startswith("The assessor has not recorded summary judgements yet.")
    assert "These are the assessor's judgements" not in summary
    assert "never computes" in summary


@pytest.mark.parametrize(
    ("where", "change"),
    [
        (
            "$.judgement.person_specific.PS1.title",
            lambda j: j["person_specific"]["PS1"].update(title="   "),
        ),
        ("$.judgement.scenarios[1].title", lambda j: j["scenarios"][1].update(title=" ")),
    ],
)
def test_a_title_of_spaces_only_is_refused_with_its_path(
    where: str, change: Callable[[dict[str, Any]], None]
) -> None:
    from tests.test_judgement import case_document, load

    document = case_document()
    change(document["judgement"])
    with pytest.raises(DocumentError) as refused:
        load(document)
    assert [(p.where, p.message) for p in refused.value.problems()] == [
        (where, "the title is blank")
    ]


def test_an_upgrade_moves_the_judgements_item_ids_with_the_ratings() -> None:
    """A later definition that renames or splits an item keeps the judgement's links to it."""
    import json

    from instrument.definition import Instrument as Definition
    from instrument.definitions import current_instrument
    from instrument.migration import upgrade_assessment
    from tests.test_judgement import case_document, load

    current = current_instrument()
    text = json.dumps(current.model_dump(mode="json", by_alias=True, exclude_none=True))
    data = json.loads(text.replace('"EM1"', '"EM9"'))
    data["version"] = "1.2.0"
    data["migrations"] = [
        {
            "from_version": current.version,
            "renamed": {"EM1": "EM9"},
            "split": {"GA1": ["GA1", "GA7"]},
            "note": "EM1 is now EM9; GA1 became GA1 and GA7.",
        }
    ]
    data["items"].append({**next(i for i in data["items"] if i["id"] == "GA1"), "id": "GA7"})
    target = Definition.model_validate(data)
    document = case_document()
    assessment = load(document)
    judgement = assessment.judgement
    assert judgement is not None
    assert judgement.five_p is not None
    assert judgement.five_p.placements == {"EM1": "precipitating"}
    assert "EM1" in judgement.scenarios[0].items
    assert "GA1" in judgement.scenarios[0].items
    upgraded = upgrade_assessment(target, assessment)
    moved = upgraded.judgement
    assert moved is not None
    assert moved.five_p is not None
    assert moved.five_p.placements == {"EM9": "precipitating"}
    items = moved.scenarios[0].items
    assert "EM1" not in items
    assert "EM9" in items
    assert items.index("GA1") + 1 == items.index("GA7")
    assert moved.person_specific == judgement.person_specific
    assert moved.summary == judgement.summary


def test_removing_a_factor_a_scenario_rests_on_says_to_unlink_it_first(tmp_path: Path) -> None:
    from instrument.definitions import current_instrument
    from tests.test_service_judgement import REF as SREF
    from tests.test_service_judgement import judged, save_all, started

    team = make_team(tmp_path / "j.db")
    draft = save_all(team, started(team, current_instrument()), judged())
    factors = judged()["person_specific"]
    del factors["PS1"]  # scenario 1 rests on PS1
    before = dump(tmp_path / "j.db")
    with pytest.raises(DocumentError) as refused:
        team.service.save_judgement(
            team.psychologist, SREF, 1, "person_specific", factors, base_revision=draft.revision
        )
    problem = refused.value.problems()[0]
    assert problem.where == "$.judgement.scenarios[0].person_specific[0]"
    assert "the scenario links PS1" in problem.message
    assert "remove PS1 from the scenario's links first" in problem.fix
    assert dump(tmp_path / "j.db") == before


@pytest.mark.parametrize("source", ["file-review", "collateral", "observation", "other"])
def test_evidence_from_any_one_kind_of_source_is_called_a_single_source(source: str) -> None:
    from instrument.definitions import current_instrument
    from tests.test_judgement import AT, case_document, load

    document = case_document()
    for rating in document["ratings"].values():
        if rating.get("sources"):
            rating["sources"] = [source]
    for factor in document["judgement"]["person_specific"].values():
        factor["sources"] = [source]
    formulation = formulate(current_instrument(), load(document), generated_at=AT)
    assert formulation.judgement is not None
    assert "one kind of source; corroborate it" in formulation.judgement.limitations


def test_a_review_suggestion_names_the_band_in_words() -> None:
    from instrument.definitions import current_instrument
    from instrument.formulation.judgement import _review_suggestions
    from instrument.vocabulary import Band
    from tests.test_judgement import AT, case_document, load

    assessment = load(case_document())
    formulation = formulate(current_instrument(), assessment, generated_at=AT)
    priorities = [
        p.model_copy(update={"band": Band.INSUFFICIENT_INFORMATION, "offered": False})
        if p.area == "emotion-management"
        else p
        for p in formulation.priorities
    ]
    assert assessment.judgement is not None
    shown = formulation.model_copy(update={"priorities": priorities})
    [suggestion] = _review_suggestions(assessment.judgement, shown)
    assert "(PS1)" in suggestion
    assert "its band is insufficient information" in suggestion
    assert "insufficient-information" not in suggestion


def test_an_amendment_asks_for_the_bias_check_again(
    finalised: tuple[Team, dict[str, Any]],
) -> None:

    team, _ = finalised
    s, pat = team.service, team.psychologist
    final = s.get_assessment(pat, REF, 1).assessment.judgement
    assert final is not None
    assert final.bias_check is not None
    assert final.bias_check.confirmed
    amended = s.amend(pat, REF, 1, "New information from the training provider.")
    kept = amended.assessment.judgement
    assert kept is not None
    assert kept.bias_check is not None
    assert not kept.bias_check.confirmed
    assert kept.bias_check.answers == final.bias_check.answers
    wheres = [p.where for p in s.finalisation_problems(pat, REF, amended.version)]
    assert wheres == ["$.judgement.bias_check.confirmed"]


def test_an_upgraded_1_0_assessment_keeps_its_judgement_but_not_the_confirmation(
    tmp_path: Path,
) -> None:
    import json

    from tests.test_judgement import FORMULATIONS, case_document

    team = make_team(tmp_path / "u.db")
    s, pat = team.service, team.psychologist
    document = json.loads((FORMULATIONS / "wc-02-grievance.assessment.json").read_text("utf-8"))
    judgement = case_document()["judgement"]
    for scenario in judgement["scenarios"]:
        scenario["items"] = [i for i in scenario["items"] if i[:2] not in ("IA",)]
    document["judgement"] = judgement
    document["assessment"]["status"] = "draft"
    draft = s.import_assessment(pat, json.dumps(document).encode(), "north")
    reference = document["case"]["reference"]
    draft = s.save_judgement(
        pat, reference, 1, "bias_check", judgement["bias_check"], base_revision=draft.revision
    )
    assert s.finalisation_problems(pat, reference, 1) == []
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, reference, 1)
    upgraded = s.upgrade(pat, reference, 1)
    assert upgraded.assessment.instrument.version == "1.1.0"
    kept = upgraded.assessment.judgement
    assert kept is not None
    assert kept.bias_check is not None
    assert not kept.bias_check.confirmed
    before = draft.assessment.judgement
    assert before is not None
    assert kept.scenarios == before.scenarios
    assert kept.person_specific == before.person_specific
    assert kept.summary == before.summary


# --- wording of random judgements ----------------------------------------------------------------

_LEVELS = ["low", "moderate", "high"]
_NEUTRAL = "Fictional text."


@st.composite
def _judgements(draw: st.DrawFn) -> dict[str, Any]:
    """A random judgement of instrument 1.1 whose own texts are neutral (so that any label or
    prediction found is generated)."""
    from instrument.definitions import current_instrument
    from instrument.judgement import BiasQuestion
    from instrument.vocabulary import FiveP, Good, Source

    instrument = current_instrument()
    items = [i.id for i in instrument.items]
    headings = [h.value for h in FiveP]
    ids = [f"PS{n}" for n in draw(st.lists(st.integers(1, 99), max_size=3, unique=True))]
    level = st.sampled_from(_LEVELS)
    judgement: dict[str, Any] = {
        "person_specific": {
            ps_id: {
                "title": _NEUTRAL,
                "domain": draw(st.sampled_from(list(instrument.domain_by_id))),
                "presence": draw(st.sampled_from(["partial", "yes"])),
                "relevance": draw(level),
                "role": draw(st.sampled_from(headings)),
                "areas": draw(
                    st.lists(st.sampled_from(list(instrument.area_by_id)), max_size=3, unique=True)
                ),
                "sources": draw(st.lists(st.sampled_from([s.value for s in Source]), max_size=2)),
                "evidence": _NEUTRAL,
            }
            for ps_id in ids
        },
        "five_p": {
            "presenting_problem": _NEUTRAL,
            "placements": draw(
                st.dictionaries(st.sampled_from(items), st.sampled_from(headings), max_size=4)
            ),
            "headings": {
                h: {"narrative": _NEUTRAL} for h in draw(st.sets(st.sampled_from(headings)))
            },
        },
        "good_lives": {
            "goods": draw(
                st.dictionaries(
                    st.sampled_from([g.value for g in Good]),
                    st.fixed_dictionaries(
                        {
                            "importance": level,
                            "attainment": level,
                            "means": st.sampled_from(["prosocial", "harmful", "none"]),
                            "supplied_by_group": st.booleans(),
                        }
                    ),
                )
            ),
            "approach_goals": [_NEUTRAL],
        },
        "scenarios": [
            {
                "title": _NEUTRAL,
                **{
                    k: _NEUTRAL for k in ("what", "who", "triggers", "warning_signs", "less_likely")
                },
                "items": draw(st.lists(st.sampled_from(items), max_size=3, unique=True)),
                "person_specific": draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
                if ids
                else [],
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
        "summary": {
            **{
                key: {"level": draw(level), "rationale": _NEUTRAL}
                for key in draw(st.sets(st.sampled_from(["priority", "serious_harm", "urgency"])))
            },
            "no_intervention": draw(st.booleans()),
        },
        "bias_check": {
            "answers": {q.value: {"applies": draw(st.booleans())} for q in BiasQuestion},
            "confirmed": draw(st.booleans()),
        },
    }
    return judgement


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_judgements())
def test_random_judgements_are_worded_without_labels_predictions_or_computed_judgements(
    judgement: dict[str, Any],
) -> None:
    from instrument.definitions import current_instrument
    from instrument.formulation import formulation_json, redact
    from tests.test_judgement import AT, case_document, load

    document = case_document()
    document["judgement"] = judgement
    formulation = formulate(current_instrument(), load(document), generated_at=AT)
    for shown in (formulation, redact(formulation)):
        for where, text in strings(json.loads(formulation_json(shown))):
            assert not LABEL.search(text), (where, text)
            assert not PREDICTION.search(text), (where, text)
    section = formulation.judgement
    assert section is not None
    assert section.summary_judgements is not None
    given = judgement["summary"]
    for view in section.summary_judgements.judgements:
        key = view.judgement.replace("-", "_")
        assert view.level == (given[key]["level"] if key in given else None)
    for factor in section.person_specific:
        worded = [p.summary for p in formulation.priorities if p.area in factor.areas]
        assert all(f"({factor.id}, {factor.presence}," in s for s in worded)


@pytest.mark.parametrize(
    ("where", "change"),
    [
        (
            "$.judgement.scenarios[0].items[1]",
            lambda j: j["scenarios"][0].update(items=["EM1"] * 2),
        ),
        (
            "$.judgement.scenarios[0].person_specific[1]",
            lambda j: j["scenarios"][0].update(person_specific=["PS1", "PS1"]),
        ),
        (
            "$.judgement.person_specific.PS2.areas[1]",
            lambda j: j["person_specific"]["PS2"].update(areas=["identity", "identity"]),
        ),
    ],
)
def test_a_link_named_twice_is_refused_at_its_second_place(
    where: str, change: Callable[[dict[str, Any]], None]
) -> None:
    from tests.test_judgement import case_document, load

    document = case_document()
    change(document["judgement"])
    with pytest.raises(DocumentError) as refused:
        load(document)
    assert [p.where for p in refused.value.problems()] == [where]
    assert "linked twice" in refused.value.problems()[0].message
