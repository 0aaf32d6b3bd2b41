"""The Cases page for every role: the team's table, filters, the new-case form, what is hidden."""

from __future__ import annotations

import urllib.parse

import pytest
from streamlit.testing.v1 import AppTest

from instrument.definition import Instrument
from instrument.ui import state
from instrument.ui.navigation import PAGES, menu_names
from tests.ui.conftest import ROLES, Web, audit_actions, infos, table, texts

NEW = state.NEW_CASE_FORM


def _key(name: str) -> str:
    return state.widget_key(state.CASE_FILTERS, name)


def _button(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def seed(web: Web) -> None:
    """North: C-0001 (prevention, with a draft), C-0002, C-0003 (convicted); south: S-0001."""
    north = web.actor("psychologist")
    south = web.actor("other-team")
    with web.service() as service:
        service.create_case(north, "C-0001", "prevention")
        service.start_assessment(north, "C-0001")
        service.create_case(north, "C-0002", "engaged")
        service.create_case(north, "C-0003", "convicted")
        service.create_case(south, "S-0001", "engaged")


def test_the_menu_of_each_role() -> None:
    def titles(role: str) -> dict[str, list[str]]:
        return {
            section: [PAGES[name].title for name in names if PAGES[name].listed]
            for section, names in menu_names(role).items()
        }

    clinical = {"Work": ["Cases", "Case conference"], "Reference": ["Instrument"]}
    assert titles("psychologist") == clinical
    assert titles("supervisor") == clinical
    assert titles("viewer") == clinical
    assert titles("admin") == {
        "Administration": ["Users", "Teams", "Audit log"],
        "Reference": ["Instrument"],
    }
    assert menu_names("admin")["Administration"][0] == "users"
    assert menu_names("viewer")["Work"] == [
        "cases",
        "case",
        "assessment",
        "formulation",
        "conference",
    ]


@pytest.mark.parametrize("role", ["psychologist", "supervisor", "viewer"])
def test_each_clinical_role_sees_only_its_teams_cases(web: Web, role: str) -> None:
    seed(web)
    at = web.app(role)
    assert not at.exception
    assert [t.value for t in at.title] == ["Cases"]
    frame = table(at)
    assert list(frame["Reference"]) == ["C-0001", "C-0002", "C-0003"]
    assert "S-0001" not in texts(at)
    assert list(frame["Status"]) == ["draft (v1)", "not assessed", "not assessed"]
    names = role != "viewer"
    assert ("Assessor" in frame.columns) is names
    assert (_key("assessor") in [t.key for t in at.text_input]) is names


def test_only_a_psychologist_gets_the_new_case_form(web: Web) -> None:
    for role in ROLES[:3]:
        at = web.app(role)
        form_keys = [t.key for t in at.text_input]
        assert (f"{NEW}.reference" in form_keys) is (role == "psychologist"), role


def test_the_pathways_are_explained_from_the_definition(web: Web, instrument: Instrument) -> None:
    at = web.app("psychologist")
    captions = " ".join(str(c.value) for c in at.caption)
    for pathway in instrument.pathways:
        assert f"**{pathway.label}**" in captions
        assert " ".join(pathway.description.split())[:40] in captions.replace("\\", "")


def test_creating_a_case_opens_it_with_one_audited_view(web: Web) -> None:
    at = web.app("psychologist")
    at.text_input(key=f"{NEW}.reference").input("C-0100")
    at.selectbox(key=f"{NEW}.pathway").select("engaged")
    _button(at, "Create case")
    assert not at.exception
    assert [t.value for t in at.title] == ["Case C-0100"]
    assert [s.value for s in at.success] == ["Case C-0100 created."]
    assert at.query_params == {"case": "C-0100"}
    at.run()
    at.run()
    assert audit_actions(web, "create") == ["create"]
    assert audit_actions(web, "view") == ["view"]
    with web.service() as service:
        rows = service.list_cases(web.actor("psychologist"))
    assert [(r.reference, r.pathway.value, r.team) for r in rows] == [
        ("C-0100", "engaged", "north")
    ]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "Enter a reference for the case, e.g. C-0042."),
        ("Jane Smith", "Reference: A case reference is 1 to 40 letters"),
        ("<script>alert(1)</script>", "Reference: A case reference is 1 to 40 letters"),
    ],
)
def test_a_bad_reference_is_refused_beside_the_form(web: Web, reference: str, message: str) -> None:
    at = web.app("psychologist")
    at.text_input(key=f"{NEW}.reference").input(reference)
    _button(at, "Create case")
    assert not at.exception
    assert [t.value for t in at.title] == ["Cases"]
    assert len(at.error) == 1
    assert at.error[0].value.replace("\\", "").startswith(message)
    with web.service() as service:
        assert service.list_cases(web.actor("psychologist")) == []


def test_a_duplicate_reference_is_refused(web: Web) -> None:
    seed(web)
    at = web.app("psychologist")
    at.text_input(key=f"{NEW}.reference").input("C-0002")
    _button(at, "Create case")
    assert [t.value for t in at.title] == ["Cases"]
    assert "already exists in team north" in at.error[0].value


def test_search_and_filters_narrow_the_table(web: Web) -> None:
    seed(web)
    at = web.app("psychologist")
    at.text_input(key=_key("text")).input("0002").run()
    assert list(table(at)["Reference"]) == ["C-0002"]
    at.text_input(key=_key("text")).input("").run()
    at.selectbox(key=_key("pathway")).select("convicted").run()
    assert list(table(at)["Reference"]) == ["C-0003"]
    at.selectbox(key=_key("pathway")).select("All").run()
    at.selectbox(key=_key("status")).select("draft").run()
    assert list(table(at)["Reference"]) == ["C-0001"]
    at.text_input(key=_key("assessor")).input("nobody at all").run()
    assert not at.table
    assert infos(at) == ["No case matches these filters."]
    assert "search" in audit_actions(web)


def test_typed_markup_in_the_search_is_only_text(web: Web) -> None:
    seed(web)
    at = web.app("psychologist")
    at.text_input(key=_key("text")).input('<img src=x onerror="alert(1)">').run()
    assert not at.exception
    assert infos(at) == ["No case matches these filters."]
    assert "<img" not in "".join(str(e.proto.body) for e in at.get("html") if "img" in str(e))


def test_an_empty_team_is_told_so(web: Web) -> None:
    at = web.app("viewer")
    assert infos(at) == ["Your team has no cases yet."]


def test_each_case_of_the_page_has_a_link_in_the_same_tab(web: Web) -> None:
    seed(web)
    at = web.app("supervisor")
    links = [
        (link.proto.label, dict(urllib.parse.parse_qsl(link.proto.query_string)))
        for link in at.get("page_link")
    ]
    assert [label for label, _ in links if label.startswith("C\\-")] == [
        "C\\-0001",
        "C\\-0002",
        "C\\-0003",
    ]
    assert {"case": "C-0003"} in [query for _, query in links]
    assert not at.dataframe  # no canvas grid


def test_an_administrator_never_reaches_the_case_list(web: Web) -> None:
    seed(web)
    at = web.app("admin", "cases")
    assert not at.exception
    assert [t.value for t in at.title] == ["Users"]
    shown = texts(at)
    assert "C-0001" not in shown
    assert all("Reference" not in frame.value.columns for frame in at.dataframe)
    assert "list" not in audit_actions(web)


def many(web: Web, count: int = 120) -> None:
    """North: C-0000 to C-<count - 1>, every other one convicted (the rest engaged)."""
    north = web.actor("psychologist")
    with web.service() as service:
        for number in range(count):
            pathway = "convicted" if number % 2 else "engaged"
            service.create_case(north, f"C-{number:04d}", pathway)


def _pager_button(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.key == _key(label.lower())).click().run()


def test_the_table_shows_one_page_with_the_total_and_moves_through_pages(web: Web) -> None:
    many(web)
    at = web.app("psychologist")
    assert list(table(at)["Reference"]) == [f"C-{n:04d}" for n in range(50)]
    assert "120 cases. Showing 1 to 50." in texts(at)
    assert "Page 1 of 3" in texts(at)
    previous = next(b for b in at.button if b.key == _key("previous"))
    assert previous.disabled
    at = _pager_button(at, "Next")
    assert list(table(at)["Reference"]) == [f"C-{n:04d}" for n in range(50, 100)]
    assert "Showing 51 to 100." in texts(at)
    at = _pager_button(at, "Next")
    assert list(table(at)["Reference"]) == [f"C-{n:04d}" for n in range(100, 120)]
    assert next(b for b in at.button if b.key == _key("next")).disabled
    linked = [link.proto.label for link in at.get("page_link") if "\\-" in link.proto.label]
    assert linked == [f"C\\-{n:04d}" for n in range(100, 120)]  # this page's cases
    at = _pager_button(at, "Previous")
    assert table(at)["Reference"].iloc[0] == "C-0050"
    # Every page is one audited list of the team, never another team's cases.
    assert audit_actions(web, "list").count("list") == 4


def test_a_filter_pages_through_matching_cases_and_starts_at_page_one(web: Web) -> None:
    many(web)
    at = web.app("psychologist")
    at = _pager_button(at, "Next")
    at.selectbox(key=_key("pathway")).select("convicted").run()
    convicted = [f"C-{n:04d}" for n in range(1, 120, 2)]
    assert list(table(at)["Reference"]) == convicted[:50]  # back at the first page
    assert "60 cases. Showing 1 to 50." in texts(at)
    at = _pager_button(at, "Next")
    assert list(table(at)["Reference"]) == convicted[50:]
    at.text_input(key=_key("text")).input("C-011").run()
    assert list(table(at)["Reference"]) == [f"C-011{n}" for n in (1, 3, 5, 7, 9)]
    assert not [b for b in at.button if b.key in (_key("next"), _key("previous"))]
    assert "5 cases. Open a case with its link" in texts(at)
