"""The Case page for every role: history, the ways on, one audited view per opening."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import PASSWORD, REPO, Web, audit_actions, goto, infos, table, texts


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def _click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


@pytest.fixture
def finalised(web: Web) -> Web:
    """North's C-0001 with v1 final and v2 an open draft; C-0002 with no assessment."""
    actor = web.actor("psychologist")
    document = json.loads((REPO / "formulations" / "wc-02-grievance.assessment.json").read_text())
    document["case"]["reference"] = "C-0001"
    with web.service() as service:
        service.import_assessment(actor, json.dumps(document).encode())
        service.confirm_password(actor, PASSWORD)
        service.finalise(actor, "C-0001", 1)
        service.amend(actor, "C-0001", 1, "New information from the probation officer.")
        service.create_case(actor, "C-0002", "prevention")
    return web


def test_the_history_lists_every_version_newest_first(finalised: Web) -> None:
    at = finalised.app("psychologist", "case", case="C-0001")
    assert not at.exception
    assert [t.value for t in at.title] == ["Case C-0001"]
    frame = table(at)
    assert list(frame["Version"]) == ["v2", "v1"]
    assert list(frame["Status"]) == ["draft", "final"]
    assert list(frame["Amends"]) == ["v1", ""]
    assert frame["Signatures"][1].startswith("finalised by psy.north, 2026-")
    assert list(frame["Saved by"]) == ["psy.north", "psy.north"]


def test_opening_a_case_is_audited_once_however_many_reruns(finalised: Web) -> None:
    at = finalised.app("psychologist", "case", case="C-0001")
    for _ in range(4):
        at.run()
    at.selectbox(key="ifi.case.version").select(1).run()
    assert audit_actions(finalised, "view") == ["view"]
    goto(at, "cases")  # leaving for the case list ends the opening
    goto(at, "case", case="C-0001")
    assert audit_actions(finalised, "view") == ["view", "view"]


@pytest.mark.parametrize(
    ("role", "buttons"),
    [
        (
            "psychologist",
            [
                "Continue draft assessment v2",
                "Open formulation v1",
                "Case conference view",
                "Open assessment",
            ],
        ),
        (
            "supervisor",
            [
                "Open draft assessment v2",
                "Open formulation v1",
                "Case conference view",
                "Open assessment",
            ],
        ),
        ("viewer", ["Open formulation v1", "Case conference view"]),
    ],
)
def test_what_each_role_can_do_from_a_case(finalised: Web, role: str, buttons: list[str]) -> None:
    at = finalised.app(role, "case", case="C-0001")
    assert not at.exception
    assert [label for label in _labels(at) if label != "Open formulation"] == buttons
    frame = table(at)
    assert ("Saved by" in frame.columns) is (role != "viewer")
    if role == "viewer":
        assert "psy.north" not in texts(at)
        assert frame["Signatures"][1].startswith("finalised, 2026-")


def test_a_psychologist_starts_the_first_assessment(finalised: Web) -> None:
    at = finalised.app("psychologist", "case", case="C-0002")
    assert infos(at) == ["This case has no assessment yet."]
    assert "Start assessment" in _labels(at)
    _click(at, "Start assessment")
    assert at.query_params == {"case": "C-0002", "v": "1"}
    with finalised.service() as service:
        versions = service.case_history(finalised.actor("psychologist"), "C-0002")
    assert [(v.version, v.status.value) for v in versions] == [(1, "draft")]
    with finalised.service() as service:
        info = service.get_assessment(finalised.actor("psychologist"), "C-0002", 1)
    # Dated today, with the signed-in person as assessor; both can be changed on Details.
    assert info.assessment.assessment.assessed_on == info.saved_at.date()
    assert [a.name for a in info.assessment.assessment.assessors] == ["psy.north"]


def test_the_buttons_carry_the_case_and_version_to_the_next_page(finalised: Web) -> None:
    at = finalised.app("psychologist", "case", case="C-0001")
    _click(at, "Continue draft assessment v2")
    assert at.query_params == {"case": "C-0001", "v": "2"}
    at = finalised.app("viewer", "case", case="C-0001")
    _click(at, "Open formulation v1")
    assert at.query_params == {"case": "C-0001", "v": "1"}


@pytest.mark.parametrize("reference", ["C-9999", "S-0001", "<img src=x onerror=alert(1)>"])
def test_a_case_out_of_reach_shows_one_calm_message(finalised: Web, reference: str) -> None:
    south = finalised.actor("other-team")
    with finalised.service() as service:
        service.create_case(south, "S-0001", "engaged")
    at = finalised.app("psychologist", "case", case=reference)
    assert not at.exception
    assert [t.value for t in at.title] == ["Case"]
    assert len(at.error) == 1
    assert "was not found" in at.error[0].value
    assert "<img" not in at.error[0].value.replace("\\<", "")  # escaped: shown as text
    assert not at.dataframe
    assert "engaged" not in texts(at)


def test_without_a_case_the_page_points_to_the_list(finalised: Web) -> None:
    at = finalised.app("viewer", "case")
    assert infos(at) == ["Choose a case on the Cases page."]


def test_an_administrator_sees_no_case(finalised: Web) -> None:
    at = finalised.app("admin", "case", case="C-0001")
    assert [t.value for t in at.title] == ["Users"]
    assert "C-0001" not in texts(at)
    assert "view" not in audit_actions(finalised)


def test_a_supervisor_reads_a_versions_field_history_on_demand(finalised: Web) -> None:
    from instrument.assessment import Rating

    actor = finalised.actor("psychologist")
    with finalised.service() as service:
        draft = service.get_assessment(actor, "C-0001", 2)
        service.save_rating(
            actor, "C-0001", 2, "ID1", Rating(presence="no"), base_revision=draft.revision
        )
    at = finalised.app("supervisor", "case", case="C-0001")
    views = audit_actions(finalised, "view")
    assert not [t for t in at.table if "Field" in t.value.columns]  # closed: nothing read
    from instrument.ui import state

    at.session_state[state.widget_key(state.CASE_PAGE, "history.2")] = True
    at.run()
    at.run()  # a rerun while open reads nothing again
    assert not at.exception
    frame = next(t.value for t in at.table if "Field" in t.value.columns)
    assert list(frame.columns) == ["When", "Who", "Field", "Before", "After"]
    assert "ratings\\.ID1\\.presence" in list(frame["Field"])
    assert "psy\\.north" in list(frame["Who"])
    assert audit_actions(finalised, "view") == [*views, "view"]


def test_a_viewer_is_not_offered_the_field_history(finalised: Web) -> None:
    at = finalised.app("viewer", "case", case="C-0001")
    assert not [e for e in at.expander if "Field history" in e.label]
