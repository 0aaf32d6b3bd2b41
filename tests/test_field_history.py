"""Field history of drafts: who changed which field, when, from what to what; access; no leak."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from instrument.assessment import Rating
from instrument.errors import ConflictError, NotFoundError, PermissionDeniedError
from instrument.service.changes import changed_fields
from instrument.store.records import FieldChange
from tests.store_support import Team, make_team

CANARY = "Canary evidence 7f3c: the participant said <script>x</script>"


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return make_team(tmp_path / "t.db")


def _rate(team: Team, evidence: str, presence: str = "yes") -> None:
    service, actor = team.service, team.psychologist
    draft = service.get_assessment(actor, "C-0001", 1)
    rating = Rating(
        presence=presence,
        relevance="high" if presence in ("partial", "yes") else None,
        evidence=evidence,
        sources=["interview"],
    )
    service.save_rating(actor, "C-0001", 1, "ID3", rating, base_revision=draft.revision)


@pytest.fixture
def edited(team: Team) -> Team:
    """C-0001 v1: ID3 rated yes with evidence, then the evidence changed an hour later."""
    team.service.create_case(team.psychologist, "C-0001", "engaged")
    team.service.start_assessment(team.psychologist, "C-0001")
    _rate(team, "First evidence.")
    team.clock.advance(hours=1)
    _rate(team, CANARY)
    return team


def test_a_supervisor_sees_who_changed_which_field_when_from_what_to_what(edited: Team) -> None:
    history = edited.service.field_history(edited.supervisor, "C-0001", 1)
    evidence = [c for c in history if c.field == "$.ratings.ID3.evidence"]
    assert [(c.before, c.after) for c in evidence] == [
        (None, "First evidence."),
        ("First evidence.", CANARY),
    ]
    assert {c.by for c in history} == {"pat"}
    assert (evidence[1].at - evidence[0].at).total_seconds() == 3600
    assert evidence[0].revision < evidence[1].revision
    first_save = {c.field for c in history if c.revision == evidence[0].revision}
    assert {"$.ratings.ID3.presence", "$.ratings.ID3.relevance"} <= first_save
    # The second save changed the evidence only.
    assert {c.field for c in history if c.revision == evidence[1].revision} == {
        "$.ratings.ID3.evidence"
    }


def test_review_changes_are_in_the_history_too(edited: Team) -> None:
    service, actor = edited.service, edited.psychologist
    draft = service.get_assessment(actor, "C-0001", 1)
    service.save_narrative(
        actor, "C-0001", 1, "presenting", "A narrative.", base_revision=draft.revision
    )
    history = service.field_history(actor, "C-0001", 1)
    assert history[-1].field == "$.review.narratives.presenting"
    assert (history[-1].before, history[-1].after) == (None, "A narrative.")


def test_viewers_admins_and_other_teams_cannot_read_it(edited: Team) -> None:
    with pytest.raises(PermissionDeniedError):
        edited.service.field_history(edited.viewer, "C-0001", 1)
    with pytest.raises(PermissionDeniedError):
        edited.service.field_history(edited.admin, "C-0001", 1)
    with pytest.raises(NotFoundError):
        edited.service.field_history(edited.other, "C-0001", 1)
    with pytest.raises(NotFoundError):
        edited.service.field_history(edited.supervisor, "C-0001", 9)


def test_the_audit_log_stays_free_of_content_and_the_history_is_append_only(
    edited: Team,
) -> None:
    edited.service.field_history(edited.supervisor, "C-0001", 1)
    path = edited.service.store.path
    with sqlite3.connect(path) as conn:
        audit = "\n".join(str(row) for row in conn.execute("SELECT * FROM audit_log"))
        assert "Canary evidence 7f3c" not in audit
        assert "ratings" not in audit
        stored = conn.execute("SELECT count(*) FROM field_history").fetchone()[0]
        assert stored > 0
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE field_history SET after = 'forged'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM field_history")


def test_a_refused_save_records_no_history(edited: Team) -> None:
    service, actor = edited.service, edited.psychologist
    before = len(service.field_history(actor, "C-0001", 1))
    stale = service.get_assessment(actor, "C-0001", 1).revision - 1
    with pytest.raises(ConflictError):
        service.save_rating(actor, "C-0001", 1, "ID4", Rating(presence="no"), base_revision=stale)
    assert len(service.field_history(actor, "C-0001", 1)) == before


def test_changed_fields_names_each_field_that_differs() -> None:
    from instrument.assessment import Assessment
    from instrument.formulation import Review

    document = {
        "instrument": {"id": "ifi", "version": "1.0.0"},
        "case": {"reference": "C-1", "pathway": "engaged"},
        "assessment": {"version": 1, "status": "draft"},
        "ratings": {"ID1": {"presence": "no"}},
    }
    before = Assessment.model_validate(document)
    after = Assessment.model_validate(
        {**document, "ratings": {"ID1": {"presence": "yes", "relevance": "low"}}}
    )
    assert changed_fields(before, Review(), after, Review()) == [
        FieldChange("$.ratings.ID1.presence", '"no"', '"yes"'),
        FieldChange("$.ratings.ID1.relevance", "null", '"low"'),
    ]
    assert changed_fields(before, Review(), before, Review()) == []
