"""Autosaving the assessor's judgement through the service, finalising with it, exporting it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from instrument.definition import Instrument
from instrument.errors import ConflictError, DocumentError, PermissionDeniedError
from instrument.exchange.case import case_json
from instrument.judgement import Judgement
from instrument.service import Draft
from tests.store_support import PASSWORD, Team, complete, dump, make_team
from tests.test_judgement import FORMULATIONS, _marked, case_document

REF = "C-J1"
PAYLOAD = '<script>alert(1)</script> <img src=x onerror=alert(1)> tab\there & "quotes"'


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "j.db")


def judged(mark: str | None = None) -> dict[str, Any]:
    """The worked case's judgement section as JSON data (every text marked when asked)."""
    document = case_document()
    if mark is not None:
        document = _marked(document, mark)
    section: dict[str, Any] = document["judgement"]
    return section


def started(team: Team, instrument: Instrument) -> Draft:
    s, pat = team.service, team.psychologist
    s.create_case(pat, REF, "engaged")
    s.start_assessment(pat, REF)
    return complete(s, pat, REF, 1, instrument, judgement=False)


def save_all(team: Team, draft: Draft, section: dict[str, Any]) -> Draft:
    for part, value in section.items():
        draft = team.service.save_judgement(
            team.psychologist, REF, 1, part, value, base_revision=draft.revision
        )
    return draft


def test_each_part_saves_and_reaches_the_formulation(team: Team, instrument: Instrument) -> None:
    draft = save_all(team, started(team, instrument), judged())
    assert draft.assessment.judgement is not None
    assert draft.assessment.judgement == Judgement.model_validate(judged())
    formulation = team.service.formulation(team.psychologist, REF, 1)
    assert formulation.judgement is not None
    assert formulation.judgement.scenarios[0].title.startswith("Online hostility")


def test_clearing_every_part_removes_the_section(team: Team, instrument: Instrument) -> None:
    draft = save_all(team, started(team, instrument), {"limitations": "Some limits."})
    assert draft.assessment.judgement is not None
    draft = team.service.save_judgement(
        team.psychologist, REF, 1, "limitations", None, base_revision=draft.revision
    )
    assert draft.assessment.judgement is None
    assert "judgement" not in draft.assessment.to_document()


@pytest.mark.parametrize(
    ("part", "value", "where"),
    [
        ("wishes", "x", "$.judgement.wishes"),
        ("scenarios", [{"title": "t"}], "$.judgement.scenarios[0]."),
        ("scenarios", [{**judged()["scenarios"][0], "items": ["ZZ1"]}], "$.judgement.scenarios"),
        ("person_specific", {"PS1": {**judged()["person_specific"]["PS1"], "areas": ["x"]}}, ""),
        ("summary", {"priority": {"level": "extreme", "rationale": "r"}}, "$.judgement.summary"),
        ("good_lives", {"goods": {"wealth": {}}}, "$.judgement.good_lives.goods"),
    ],
)
def test_a_bad_part_is_refused_with_its_path_and_nothing_is_written(
    team: Team, instrument: Instrument, part: str, value: Any, where: str
) -> None:
    draft = started(team, instrument)
    with pytest.raises(DocumentError) as refused:
        team.service.save_judgement(
            team.psychologist, REF, 1, part, value, base_revision=draft.revision
        )
    assert refused.value.problems()[0].where.startswith(where or "$.judgement.person_specific")
    again = team.service.get_assessment(team.psychologist, REF, 1)
    assert again.revision == draft.revision
    assert again.assessment.judgement is None


def test_a_stale_revision_is_refused(team: Team, instrument: Instrument) -> None:
    draft = started(team, instrument)
    team.service.save_judgement(
        team.psychologist, REF, 1, "limitations", "First tab.", base_revision=draft.revision
    )
    with pytest.raises(ConflictError, match="was changed by pat"):
        team.service.save_judgement(
            team.psychologist, REF, 1, "limitations", "Second tab.", base_revision=draft.revision
        )


def _content(db: Path) -> list[str]:
    return [line for line in dump(db) if "audit_" not in line]


def _tab_save(team: Team, read: Draft, part: str, value: Any) -> Draft:
    """Save as a tab that last read `read` does: merged, with the part it started from."""
    return team.service.save_judgement(
        team.psychologist,
        REF,
        1,
        part,
        value,
        base_revision=read.revision,
        merge=True,
        base=getattr(read.assessment.judgement, part, None),
    )


SCENARIOS = [{**scenario, "person_specific": []} for scenario in judged()["scenarios"]]
SUMMARY = {
    key: {"level": "moderate", "rationale": f"The first rationale of {key}."}
    for key in ("priority", "serious_harm", "urgency")
}


def test_two_tabs_changing_different_parts_or_fields_both_keep_their_change(
    team: Team, instrument: Instrument
) -> None:
    read = save_all(team, started(team, instrument), {"summary": SUMMARY})
    # Tab B changes the priority and the limitations; tab A, still on the older read, changes
    # the urgency, then the scenarios: nothing is refused and nothing is lost.
    b = _tab_save(
        team, read, "summary", {**SUMMARY, "priority": {"level": "high", "rationale": "B's view."}}
    )
    b = _tab_save(team, b, "limitations", "Tab B's note on limits.")
    a = _tab_save(
        team, read, "summary", {**SUMMARY, "urgency": {"level": "low", "rationale": "A's view."}}
    )
    a = _tab_save(team, read, "scenarios", SCENARIOS)
    judgement = a.assessment.judgement
    assert judgement is not None
    assert judgement.summary is not None
    assert judgement.summary.priority is not None
    assert judgement.summary.priority.rationale == "B's view."
    assert judgement.summary.urgency is not None
    assert judgement.summary.urgency.rationale == "A's view."
    assert judgement.limitations == "Tab B's note on limits."
    assert len(judgement.scenarios) == 2


@pytest.mark.parametrize(
    ("part", "theirs", "mine", "where"),
    [
        (
            "summary",
            {**SUMMARY, "priority": {"level": "high", "rationale": "B's view."}},
            {**SUMMARY, "priority": {"level": "low", "rationale": "A's view."}},
            "$.judgement.summary.priority",
        ),
        ("limitations", "Tab B's limits.", "Tab A's limits.", "$.judgement.limitations"),
        (
            "scenarios",
            SCENARIOS[:1],
            SCENARIOS[1:],
            "$.judgement.scenarios",
        ),
    ],
)
def test_the_same_field_changed_in_two_tabs_is_refused_and_nothing_is_written(
    tmp_path: Path,
    team: Team,
    instrument: Instrument,
    part: str,
    theirs: Any,
    mine: Any,
    where: str,
) -> None:
    read = save_all(team, started(team, instrument), {"summary": SUMMARY})
    _tab_save(team, read, part, theirs)
    before = _content(tmp_path / "j.db")
    with pytest.raises(ConflictError) as refused:
        _tab_save(team, read, part, mine)
    assert refused.value.where == where
    assert "another tab or by another person" in refused.value.message
    assert "revision" not in refused.value.message
    assert _content(tmp_path / "j.db") == before  # the refusal itself is audited
    # Keeping mine is an explicit save based on what is stored now.
    stored = team.service.get_assessment(team.psychologist, REF, 1)
    kept = team.service.save_judgement(
        team.psychologist, REF, 1, part, mine, base_revision=stored.revision
    )
    assert getattr(kept.assessment.judgement, part) is not None


def test_a_tab_that_saves_what_is_stored_already_is_no_conflict(
    team: Team, instrument: Instrument
) -> None:
    read = save_all(team, started(team, instrument), {"summary": SUMMARY})
    _tab_save(team, read, "limitations", "The same words.")
    again = _tab_save(team, read, "limitations", "The same words.")
    assert again.assessment.judgement is not None
    assert again.assessment.judgement.limitations == "The same words."


def test_viewers_may_not_save_and_see_no_judgement_text(team: Team, instrument: Instrument) -> None:
    draft = save_all(team, started(team, instrument), judged("CANARY-VIEW"))
    with pytest.raises(PermissionDeniedError):
        team.service.save_judgement(
            team.viewer, REF, 1, "limitations", "x", base_revision=draft.revision
        )
    formulation = team.service.formulation(team.viewer, REF, 1)
    assert formulation.judgement is not None
    assert "CANARY-VIEW" not in formulation.model_dump_json()
    assert formulation.judgement.summary_judgements is not None
    assert [j.level for j in formulation.judgement.summary_judgements.judgements] == [
        "high",
        "low",
        "moderate",
    ]


def test_no_judgement_text_reaches_the_audit_log(
    tmp_path: Path, team: Team, instrument: Instrument
) -> None:
    save_all(team, started(team, instrument), judged("CANARY-JUDGEMENT"))
    lines = dump(tmp_path / "j.db")
    assert any("CANARY-JUDGEMENT" in line for line in lines)  # the draft holds it
    audit = [line for line in lines if line.startswith('INSERT INTO "audit_log"')]
    assert audit
    assert not any("CANARY-JUDGEMENT" in line for line in audit)
    actions = [row.action for row in team.service.audit_entries(team.admin)]
    assert actions.count("save") >= len(judged())


def test_finalising_needs_the_judgement_once_it_is_started(
    team: Team, instrument: Instrument
) -> None:
    s, pat = team.service, team.psychologist
    draft = save_all(team, started(team, instrument), {"limitations": "Some limits."})
    wheres = [p.where for p in s.finalisation_problems(pat, REF, 1)]
    assert "$.judgement.five_p.presenting_problem" in wheres
    assert "$.judgement.bias_check.confirmed" in wheres
    s.confirm_password(pat, PASSWORD)
    with pytest.raises(DocumentError):
        s.finalise(pat, REF, 1)
    section = judged()
    section["scenarios"][0]["items"] = ["ID1"]  # the items this draft rates present
    draft = save_all(team, draft, section)
    assert s.finalisation_problems(pat, REF, 1) == []
    formulation = s.finalise(pat, REF, 1)
    assert formulation.judgement is not None
    assert formulation.judgement.bias_check is not None
    assert formulation.judgement.bias_check.confirmed
    stored = s.get_assessment(pat, REF, 1)
    assert stored.assessment.judgement == draft.assessment.judgement
    with pytest.raises(ConflictError):
        s.save_judgement(pat, REF, 1, "limitations", "late", base_revision=stored.revision)
    amended = s.amend(pat, REF, 1, "New information from the training provider.")
    kept = amended.assessment.judgement
    assert kept is not None
    assert kept.bias_check is not None
    assert not kept.bias_check.confirmed  # confirmed again at the amendment's finalising
    assert kept.bias_check.answers == formulation_answers(draft)
    confirmed = kept.model_copy(
        update={"bias_check": kept.bias_check.model_copy(update={"confirmed": True})}
    )
    assert confirmed == draft.assessment.judgement


def formulation_answers(draft: Draft) -> dict[Any, Any]:
    """The bias check's answers of a draft (empty without one)."""
    judgement = draft.assessment.judgement
    check = judgement.bias_check if judgement is not None else None
    return dict(check.answers) if check is not None else {}


def test_a_1_0_draft_without_judgement_finalises_as_before(team: Team) -> None:
    # A worked case of instrument 1.0, which has no judgement section.
    document = json.loads((FORMULATIONS / "wc-02-grievance.assessment.json").read_text("utf-8"))
    document["case"]["reference"] = REF
    draft = team.service.import_assessment(team.psychologist, json.dumps(document).encode())
    assert draft.assessment.instrument.version == "1.0.0"
    assert team.service.finalisation_problems(team.psychologist, REF, draft.version) == []


def test_a_1_1_draft_needs_the_judgement_to_finalise(team: Team, instrument: Instrument) -> None:
    draft = started(team, instrument)
    assert draft.assessment.instrument.version == "1.1.0"
    assert draft.assessment.judgement is None
    wheres = [p.where for p in team.service.finalisation_problems(team.psychologist, REF, 1)]
    assert "$.judgement.five_p.presenting_problem" in wheres
    assert "$.judgement.bias_check.confirmed" in wheres


def test_the_judgement_round_trips_through_the_case_export(
    tmp_path: Path, team: Team, instrument: Instrument
) -> None:
    save_all(team, started(team, instrument), judged(PAYLOAD))
    s, pat = team.service, team.psychologist
    s.confirm_password(pat, PASSWORD)
    exported = s.export_case(pat, REF)
    text = case_json(exported)
    assert json.loads(text)["versions"][0]["assessment"]["judgement"] == judged(PAYLOAD)
    other = make_team(tmp_path / "k.db")
    other.service.import_case(other.psychologist, text.encode("utf-8"))
    other.service.confirm_password(other.psychologist, PASSWORD)
    again = json.loads(case_json(other.service.export_case(other.psychologist, REF)))
    document = json.loads(text)
    assert again["signature"]["installation"] != document["signature"]["installation"]
    assert {**again, "signature": None} == {**document, "signature": None}
    assert (
        other.service.get_assessment(other.psychologist, REF, 1).assessment.judgement
        == s.get_assessment(pat, REF, 1).assessment.judgement
    )


@pytest.mark.parametrize("mark", ["\u202eevil\u202c", "nul\x00byte", "\u2066isolate\u2069"])
def test_a_control_or_bidirectional_character_is_refused_with_its_path_and_nothing_is_written(
    tmp_path: Path, team: Team, instrument: Instrument, mark: str
) -> None:
    draft = started(team, instrument)
    before = dump(tmp_path / "j.db")
    with pytest.raises(DocumentError) as caught:
        team.service.save_judgement(
            team.psychologist,
            REF,
            1,
            "limitations",
            f"Sources were limited {mark}",
            base_revision=draft.revision,
        )
    assert [p.where for p in caught.value.problems()] == ["$.judgement.limitations"]
    assert "control or bidirectional character (U+" in caught.value.problems()[0].message
    assert "pattern" not in caught.value.problems()[0].message
    assert dump(tmp_path / "j.db") == before
