"""Declared migrations: `upgrade_assessment`, `instrument upgrade` and `Service.upgrade`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from instrument.assessment import Assessment, AssessmentInfo, CaseInfo, InstrumentRef, Rating
from instrument.cli import cli
from instrument.cli import main as cli_main
from instrument.definition import Instrument, Migration
from instrument.definitions import current_instrument, default_instrument
from instrument.errors import ConflictError, DocumentError
from instrument.migration import can_upgrade, upgrade_assessment
from instrument.vocabulary import AssessmentStatus, Pathway, Presence, Relevance
from tests.store_support import PASSWORD, Team, complete, make_team

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
YES = Rating(presence=Presence.YES, relevance=Relevance.HIGH, evidence="Fictional.")


def old_assessment(ratings: dict[str, Rating]) -> Assessment:
    return Assessment(
        instrument=InstrumentRef(id="ifi", version="1.0.0"),
        case=CaseInfo(reference="C-9", pathway=Pathway.ENGAGED),
        assessment=AssessmentInfo(version=3, status="final"),
        ratings=ratings,
    )


def test_the_11_definition_declares_its_migration_from_10() -> None:
    migration = current_instrument().migration_from("1.0.0")
    assert migration is not None
    assert migration.split == {"CA3": ["CA3", "CA4"]}
    assert migration.new == ["IA1", "IA2", "IA3", "IA4"]
    assert can_upgrade(current_instrument(), old_assessment({}))


def test_an_upgrade_moves_ratings_leaves_new_items_unrated_and_flags_what_to_check() -> None:
    upgraded = upgrade_assessment(current_instrument(), old_assessment({"CA3": YES, "EM1": YES}))
    assert upgraded.instrument.version == "1.1.0"
    assert upgraded.assessment.status is AssessmentStatus.DRAFT
    assert upgraded.assessment.version == 3  # the caller numbers it (the service: next version)
    assert upgraded.ratings == {"EM1": YES, "CA3": YES, "CA4": YES}
    record = upgraded.assessment.upgraded_from
    assert record is not None
    assert record.from_version == "1.0.0"
    assert record.new_items == ["IA1", "IA2", "IA3", "IA4"]
    assert record.review_items == ["EM1", "CA3", "CA4"]


def _renaming(instrument: Instrument) -> Instrument:
    """The 1.1 definition declaring, for a made-up 0.9.0, a rename ID9 → ID1."""
    migration = Migration(
        from_version="0.9.0", renamed={"ID9": "ID1"}, new=["IA1"], note="Fictional test migration."
    )
    return instrument.model_copy(update={"migrations": [*instrument.migrations, migration]})


def test_a_renamed_item_takes_its_rating_to_the_new_id() -> None:
    target = _renaming(current_instrument())
    old = old_assessment({"ID9": YES}).model_copy(
        update={"instrument": InstrumentRef(id="ifi", version="0.9.0")}
    )
    upgraded = upgrade_assessment(target, old)
    assert upgraded.ratings == {"ID1": YES}


def test_an_item_with_no_place_in_the_new_version_is_refused_not_dropped() -> None:
    target = _renaming(current_instrument())
    old = old_assessment({"XX1": YES}).model_copy(
        update={"instrument": InstrumentRef(id="ifi", version="0.9.0")}
    )
    with pytest.raises(DocumentError) as caught:
        upgrade_assessment(target, old)
    assert [p.where for p in caught.value.problems()] == ["$.ratings.XX1"]


def test_no_declared_migration_or_already_current_is_refused_clearly() -> None:
    target = current_instrument()
    other = old_assessment({}).model_copy(
        update={"instrument": InstrumentRef(id="ifi", version="0.5.0")}
    )
    with pytest.raises(DocumentError, match=r"declares no migration from ifi 0\.5\.0"):
        upgrade_assessment(target, other)
    current = old_assessment({}).model_copy(
        update={"instrument": InstrumentRef(id="ifi", version="1.1.0")}
    )
    with pytest.raises(DocumentError, match=r"already uses ifi 1\.1\.0"):
        upgrade_assessment(target, current)
    with pytest.raises(DocumentError, match=r"1\.0\.0 declares no migration from ifi 1\.1\.0"):
        upgrade_assessment(default_instrument(), current)  # never downwards


def test_the_cli_upgrades_a_file_and_leaves_it_unchanged(tmp_path: Path) -> None:
    source = FORMULATIONS / "wc-02-grievance.assessment.json"
    before = source.read_bytes()
    out = tmp_path / "wc-02-1.1.json"
    result = CliRunner().invoke(cli, ["upgrade", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "to rate: IA1, IA2, IA3, IA4" in result.stderr
    assert source.read_bytes() == before
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["instrument"]["version"] == "1.1.0"
    assert document["assessment"]["status"] == "draft"
    assert out.read_text(encoding="utf-8") == (
        FORMULATIONS / "1.1" / "wc-02-grievance.assessment.json"
    ).read_text(encoding="utf-8")


def test_the_cli_refuses_an_already_current_or_broken_file_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = FORMULATIONS / "1.1" / "wc-07-intent-prompt.assessment.json"
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["upgrade", str(current)])
    assert exit_info.value.code == 2
    assert "$.instrument: the assessment already uses ifi 1.1.0" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"instrument": {"id": "ifi", "version": "1.0.0"}}', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["upgrade", str(broken)])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "t.db")


def test_the_service_upgrades_a_final_version_into_a_new_draft(
    team: Team, instrument: Instrument
) -> None:
    s, pat = team.service, team.psychologist
    s.import_assessment(pat, (FORMULATIONS / "wc-02-grievance.assessment.json").read_bytes())
    view = s.open_case(pat, "WC-02")
    version = view.open_draft
    assert version is not None
    draft = s.get_assessment(pat, "WC-02", version)
    assert draft.assessment.instrument.version == "1.0.0"
    with pytest.raises(ConflictError, match="is a draft"):
        s.upgrade(pat, "WC-02", version)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "WC-02", version)
    final_before = s.get_assessment(pat, "WC-02", version)
    upgraded = s.upgrade(pat, "WC-02", version)
    assert upgraded.version == version + 1
    assert upgraded.status is AssessmentStatus.DRAFT
    assert upgraded.assessment.instrument.version == "1.1.0"
    assert upgraded.assessment.assessment.upgraded_from is not None
    assert s.get_assessment(pat, "WC-02", version) == final_before  # untouched
    formulation = s.formulation(pat, "WC-02", upgraded.version)
    assert formulation.change is not None  # the 1.0 final is upgraded to compare with
    assert formulation.escalation is not None
    with pytest.raises(ConflictError, match="open draft"):
        s.upgrade(pat, "WC-02", version)
    complete(s, pat, "WC-02", upgraded.version, instrument)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "WC-02", upgraded.version)
    with pytest.raises(ConflictError, match=r"already uses ifi 1\.1\.0"):
        s.upgrade(pat, "WC-02", upgraded.version)
    with pytest.raises(Exception, match=r"not found|may not"):
        s.upgrade(team.viewer, "WC-02", version)


def test_the_case_list_says_no_area_offered_instead_of_a_tie_order_winner(team: Team) -> None:
    s, pat = team.service, team.psychologist
    document = (FORMULATIONS / "1.1" / "wc-08-nothing-offered.assessment.json").read_bytes()
    s.import_assessment(pat, document)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "WC-08", 1)
    row = next(r for r in s.list_cases(pat) if r.reference == "WC-08")
    assert row.top_priority is None
    assert row.no_area_offered
    s.import_assessment(pat, (FORMULATIONS / "wc-03-entitlement.assessment.json").read_bytes())
    s.finalise(pat, "WC-03", 1)
    row = next(r for r in s.list_cases(pat) if r.reference == "WC-03")
    assert (row.top_priority, row.no_area_offered) == ("entitlement-to-harm", False)


def test_focus_and_withdrawal_are_set_through_the_service_on_11_drafts_only(team: Team) -> None:
    s, pat = team.service, team.psychologist
    document = (FORMULATIONS / "1.1" / "wc-07-intent-prompt.assessment.json").read_bytes()
    s.import_assessment(pat, document)
    reason = "Hostility is what the participant asked to work on first."
    s.set_focus(pat, "WC-07", 1, ["group-identity-hostility", "identity"], reason)
    formulation = s.formulation(pat, "WC-07", 1)
    assert formulation.focus is not None
    assert formulation.focus.adjusted
    assert formulation.focus.areas == ["group-identity-hostility", "identity"]
    with pytest.raises(DocumentError, match="at most three areas"):
        s.set_focus(pat, "WC-07", 1, ["identity", "emotion-management", "identity", "x-y"], reason)
    with pytest.raises(DocumentError, match="rationale"):
        s.set_focus(pat, "WC-07", 1, ["identity"], "too short")
    s.set_focus(pat, "WC-07", 1, [], "")
    assert s.formulation(pat, "WC-07", 1).focus.adjusted is False  # type: ignore[union-attr]
    s.set_override(
        pat,
        "WC-07",
        1,
        "emotion-management",
        "low",
        "Covered by the anger group already.",
        withdraw=True,
    )
    emotion = next(
        p for p in s.formulation(pat, "WC-07", 1).priorities if p.area == "emotion-management"
    )
    assert not emotion.offered
    assert emotion.override is not None
    assert emotion.override.withdrawn
    s.import_assessment(pat, (FORMULATIONS / "wc-02-grievance.assessment.json").read_bytes())
    with pytest.raises(DocumentError, match="names no focus"):
        s.set_focus(pat, "WC-02", 1, ["identity"], reason)
    with pytest.raises(DocumentError, match="cannot withdraw"):
        s.set_override(pat, "WC-02", 1, "identity", "low", reason, withdraw=True)


def test_change_reports_the_assessors_overrides_across_finalised_11_versions(team: Team) -> None:
    s, pat = team.service, team.psychologist
    document = (FORMULATIONS / "1.1" / "wc-07-intent-prompt.assessment.json").read_bytes()
    s.import_assessment(pat, document)
    reason = "The participant's fear of the channel drives the anger."
    s.set_override(pat, "WC-07", 1, "emotion-management", "high", reason)
    s.confirm_password(pat, PASSWORD)
    s.finalise(pat, "WC-07", 1)
    s.import_assessment(pat, document)  # the next occasion: version 2, a draft
    s.set_override(pat, "WC-07", 2, "identity", "moderate", reason)
    change = s.formulation(pat, "WC-07", 2).change
    assert change is not None
    assert [(o.area, o.band_before, o.band_after) for o in change.overrides or []] == [
        ("identity", None, "moderate"),
        ("emotion-management", "high", None),
    ]
    assert "overrides changed for Identity and belonging and Managing powerful feelings" in (
        change.summary
    )
