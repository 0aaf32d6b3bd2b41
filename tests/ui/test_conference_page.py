"""The case-conference page for every role, moving through the list, presenter mode, downloads."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from instrument.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from instrument.formulation import Formulation
from instrument.profile import FONT, priorities_spec, profile_spec, strengths_spec
from instrument.service import VersionRow
from instrument.service.documents import formulation_document
from instrument.ui import charts as screen
from instrument.ui import state
from instrument.ui.exports import file_name
from instrument.ui.pages import conference as page
from instrument.vocabulary import AssessmentStatus
from tests.ui.app_support import CASE, fill, finalise, new_case
from tests.ui.conftest import PASSWORD, Web, audit_actions, texts

XSS = "<img src=x onerror=alert(1)> <script>alert(2)</script> [link](javascript:alert(3))"
ASSESSOR = "Dr A. Assessor"
SECOND = "C-0002"
WORKED = Path(__file__).resolve().parents[2] / "formulations"


def key(name: str) -> str:
    return state.widget_key(state.CONFERENCE, name)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def live_markup(at: AppTest) -> list[str]:
    """Return the Markdown bodies holding markup or links that were not escaped."""
    bodies = [str(m.value) for m in [*at.markdown, *at.caption, *at.subheader, *at.title]]
    return [
        b
        for b in bodies
        if re.search(r"(?<!\\)<(script|img)|(?<!\\)\]\((http|javascript)", b) and "<style>" not in b
    ]


def docx_text(data: bytes) -> str:
    """Return every paragraph and table cell of a DOCX, one per line."""
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    lines += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(lines)


def charts(at: AppTest) -> list[dict[str, object]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def open_page(web: Web, who: str, **query: str) -> AppTest:
    at = web.app(who, "conference", **query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def final_case(web: Web) -> Web:
    """Case C-0001 of team north, finalised, every present item's evidence the payload."""
    new_case(web)
    fill(web, evidence=XSS)
    finalise(web)
    return web


# --- what each role sees -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["psychologist", "supervisor", "viewer"])
def test_each_role_sees_the_case_at_a_glance(final_case: Web, role: str) -> None:
    at = open_page(final_case, role, case=CASE)
    shown = unescape(texts(at))
    assert [unescape(t.value) for t in at.title] == [f"Case {CASE}"]
    assert "Pathway** engaged" in shown
    assert "Version** 1 (final)" in shown
    assert len(charts(at)) == 4
    titles = [str(m.value).strip("*").split(":")[0] for m in at.markdown]
    for title in (
        "Intervention areas ranked by priority",
        "How many factors are present in each domain",
        "Strengths to build on, by area",
        "Every rated item by domain",
    ):
        assert title in titles
    assert all(c.proto.theme == "" for c in at.get("vega_lite_chart"))  # the chart's own theme
    assert all(c.proto.alt for c in at.get("vega_lite_chart"))  # described in words too
    assert len([e for e in at.expander if e.label.endswith(": as a table")]) == 4
    assert len(at.table) == 4
    assert "first assessment: there is nothing to compare with" in shown
    ranked = [s.value for s in at.subheader if re.match(r"^\d+\\?\. ", str(s.value))]
    assert len(ranked) == 7
    headers = [h.value for h in at.header]
    assert headers[headers.index("Strengths to build on") :][:4] == [
        "Strengths to build on",
        "5P summary",
        "Every item",
        "Change across assessments",
    ]
    assert "Presenting." in shown
    assert not live_markup(at)
    if role == "viewer":
        assert "onerror" not in shown
        assert ASSESSOR not in shown
        assert "psy.north" not in shown
        assert "Evidence text is not shown for your role." in shown
    else:
        assert XSS in shown  # the evidence, as text
        assert f"Assessors** {ASSESSOR}" in shown
    assert audit_actions(final_case, "view") == ["view"]


def test_an_administrator_has_no_conference_view(final_case: Web) -> None:
    at = final_case.app("admin", "conference", case=CASE)
    assert not at.exception
    assert [t.value for t in at.title] == ["Users"]
    assert CASE not in texts(at)
    assert not at.get("vega_lite_chart")
    assert audit_actions(final_case, "view") == []


def test_another_teams_case_is_not_found(final_case: Web) -> None:
    at = open_page(final_case, "other-team", case=CASE)
    assert len(at.error) == 1
    assert "was not found" in str(at.error[0].value)
    assert not at.get("vega_lite_chart")


def test_the_case_page_leads_to_the_conference_view(final_case: Web) -> None:
    at = final_case.app("viewer", "case", case=CASE)
    click(at, "Case conference view")
    assert at.query_params == {"case": CASE}
    assert [unescape(t.value) for t in at.title] == [f"Case {CASE}"]
    assert at.get("vega_lite_chart")


# --- the conference list and next case -----------------------------------------------------------


def test_next_case_is_one_click_through_the_list_in_the_order_chosen(final_case: Web) -> None:
    new_case(final_case, SECOND, "prevention")
    fill(final_case, SECOND)
    finalise(final_case, SECOND)
    at = open_page(final_case, "supervisor")
    assert [t.value for t in at.title] == ["Case conference"]
    at.multiselect(key=key("chooser")).select(SECOND).select(CASE).run()
    click(at, "Start the conference")
    assert at.query_params == {"case": SECOND}
    assert [unescape(t.value) for t in at.title] == [f"Case {SECOND}"]
    assert "Case 1 of 2" in texts(at)
    buttons = {b.label: b for b in at.button}
    assert buttons["Previous case"].disabled
    assert not buttons["Next case"].disabled
    click(at, "Next case")
    assert at.query_params == {"case": CASE}
    assert [unescape(t.value) for t in at.title] == [f"Case {CASE}"]
    assert "Case 2 of 2" in texts(at)
    assert next(b for b in at.button if b.label == "Next case").disabled
    click(at, "Previous case")
    assert at.query_params == {"case": SECOND}
    assert audit_actions(final_case, "view") == ["view", "view", "view"]  # one per opening
    assert audit_actions(final_case, "list") == ["list"]  # the team's cases, read once


def test_presenter_mode_hides_everything_not_needed(final_case: Web) -> None:
    at = open_page(final_case, "psychologist", case=CASE)
    assert at.multiselect
    assert at.get("download_button")
    at.toggle(key=key("presenter")).set_value(True).run()
    assert not at.exception
    styles = [str(m.value) for m in at.markdown if "<style>" in str(m.value)]
    assert len(styles) == 1
    assert 'data-testid="stSidebar"' in styles[0]
    assert all(m.proto.allow_html is False for m in at.markdown if "<style>" not in str(m.value))
    assert not at.multiselect
    assert not at.get("download_button")
    assert "Take the case away" not in texts(at)
    assert len(at.get("vega_lite_chart")) == 4
    assert {b.label for b in at.button} == {"Previous case", "Next case"}
    at.toggle(key=key("presenter")).set_value(False).run()
    assert at.get("download_button")


# --- downloads: built on click, audited, redacted for viewers ------------------------------------


def test_downloads_are_offered_after_the_password(web: Web) -> None:
    new_case(web)
    fill(web)
    finalise(web)
    web.clock.advance(minutes=6)
    at = open_page(web, "viewer", case=CASE)
    assert not at.get("download_button")
    at.text_input(key=key("password")).input(PASSWORD)
    click(at, "Confirm password")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [label for label, _, _ in page.DOCUMENTS.values()]
    assert audit_actions(web, "export") == []  # nothing is built before a click


def test_each_document_is_audited_and_a_viewers_report_has_no_evidence(final_case: Web) -> None:
    psychologist = final_case.actor("psychologist")
    viewer = final_case.actor("viewer")
    with final_case.service() as service:
        with pytest.raises(AuthenticationError):
            formulation_document(service, viewer, CASE, 1, "html")
        service.confirm_password(viewer, PASSWORD)
        service.confirm_password(psychologist, PASSWORD)
        full = formulation_document(service, psychologist, CASE, 1, "html").decode()
        redacted = formulation_document(service, viewer, CASE, 1, "html").decode()
        svg = formulation_document(service, viewer, CASE, 1, "svg")
        png = formulation_document(service, viewer, CASE, 1, "png")
        pdf = formulation_document(service, viewer, CASE, 1, "pdf")
        docx_full = formulation_document(service, psychologist, CASE, 1, "docx")
        docx_redacted = formulation_document(service, viewer, CASE, 1, "docx")
    assert "&lt;img src=x onerror=alert(1)&gt;" in full
    assert "<img src=x" not in full
    assert "<script>alert" not in full
    assert ASSESSOR in full
    assert "onerror" not in redacted
    assert ASSESSOR not in redacted
    assert CASE in redacted
    assert svg.startswith(b"<svg")
    assert CASE.encode() in svg
    assert png.startswith(b"\x89PNG")
    assert pdf.startswith(b"%PDF")
    # The sign-off block: the finaliser with role and UTC time; no name for the viewer.
    assert "Finalised by</th><td>psy.north</td><td>psychologist</td>" in full
    assert "Finalised by</th><td>(not shown for your role)" in redacted
    assert 'class="unsigned"><th scope="row">Countersigned by' in full
    words = docx_text(docx_full)
    assert "<img src=x onerror=alert(1)>" in words  # typed text as text in Word
    assert ASSESSOR in words
    assert "psy.north" in words
    redacted_words = docx_text(docx_redacted)
    assert "onerror" not in redacted_words
    assert ASSESSOR not in redacted_words
    assert audit_actions(final_case, "export") == ["export"] * 8  # one refused, seven made
    assert file_name("NW/2026-7", "-v3-report.pdf") == "NW-2026-7-v3-report.pdf"


def test_the_export_is_refused_beyond_the_team_and_for_admins(final_case: Web) -> None:
    with final_case.service() as service:
        for who, error in (("other-team", NotFoundError), ("admin", PermissionDeniedError)):
            actor = final_case.actor(who)
            service.confirm_password(actor, PASSWORD)
            with pytest.raises(error):
                service.export_formulation(actor, CASE, 1)


# --- pure helpers ------------------------------------------------------------------------------


def test_neighbours_and_the_version_presented() -> None:
    order = ["A", "B", "C"]
    assert page.neighbours(order, "A") == (None, "B")
    assert page.neighbours(order, "B") == ("A", "C")
    assert page.neighbours(order, "C") == ("B", None)
    assert page.neighbours(order, "X") == (None, "A")
    assert page.neighbours([], None) == (None, None)

    def row(version: int, status: AssessmentStatus) -> VersionRow:
        at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        return VersionRow(version, status, 1, None, None, None, at)

    final, draft = AssessmentStatus.FINAL, AssessmentStatus.DRAFT
    assert page.conference_version([row(1, final), row(2, draft)], None) == 1  # the signed one
    assert page.conference_version([row(1, final), row(2, draft)], 2) == 2  # as asked
    assert page.conference_version([row(1, draft)], None) == 1
    assert page.conference_version([], None) is None


def test_charts_on_screen_keep_their_type_and_leave_the_title_to_the_page() -> None:
    formulation = Formulation.model_validate_json(
        (WORKED / "wc-04-group-control.formulation.json").read_text(encoding="utf-8")
    )
    for chart in (priorities_spec(formulation), profile_spec(formulation)):
        spec = screen.for_screen(chart)
        assert "title" not in spec
        assert "title" in chart  # the spec given is left as it is
        assert screen.title_of(chart, "") == chart["title"]["text"]
        assert screen.subtitle_of(chart) == chart["title"]["subtitle"]
        assert spec["config"]["axis"]["labelFontSize"] == chart["config"]["axis"]["labelFontSize"]
        assert spec["config"]["legend"]["labelFont"] == FONT
        assert spec["config"]["legend"]["columns"] == 2
        texts_coloured = [
            layer["encoding"].get("color", {}).get("field")
            for layer in spec["layer"]
            if layer["mark"]["type"] == "text"
        ]
        assert "ink" not in texts_coloured
        closer = screen.for_screen(chart, height_scale=0.5)
        assert closer["height"]["step"] == round(spec["height"]["step"] * 0.5)


def test_notes_after_the_bars_fit_inside_the_plot_on_screen() -> None:
    formulation = Formulation.model_validate_json(
        (WORKED / "wc-04-group-control.formulation.json").read_text(encoding="utf-8")
    )
    chart = priorities_spec(formulation)
    spec = screen.for_screen(chart)
    reach = screen.reach_of_notes(chart)
    assert reach is not None
    assert reach > 1
    domains = [
        layer["encoding"]["x"]["scale"]["domain"]
        for layer in spec["layer"]
        if "scale" in layer["encoding"].get("x", {})
    ]
    assert domains
    assert all(d == [0, reach] for d in domains)
    notes = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert all(n["mark"]["clip"] and n["mark"]["lineBreak"] == "\n" for n in notes)
    assert spec["config"]["aria"] is False


def test_strength_labels_are_turned_so_that_they_never_overlap() -> None:
    formulation = Formulation.model_validate_json(
        (WORKED / "wc-01-transition-v2.formulation.json").read_text(encoding="utf-8")
    )
    spec = screen.for_screen(strengths_spec(formulation), turned=True)
    axes = [layer["encoding"]["x"]["axis"] for layer in spec["layer"]]
    assert axes
    assert all(a["labelAngle"] == -40 and "join" in a["labelExpr"] for a in axes)


def test_a_second_version_brings_the_change_chart_and_one_sentence(final_case: Web) -> None:
    from tests.ui.app_support import fill as fill_version

    actor = final_case.actor("psychologist")
    with final_case.service() as service:
        service.start_assessment(actor, CASE)
    fill_version(final_case, CASE, 2)
    with final_case.service() as service:
        service.confirm_password(actor, PASSWORD)
        service.finalise(actor, CASE, 2)
    at = open_page(final_case, "psychologist", case=CASE)
    shown = unescape(texts(at))
    assert "Since version 1" in shown
    assert "Since version 1: Since version 1" not in shown
    assert "Since version 1:** Since" not in shown
    assert len(charts(at)) == 5  # priorities, profile, strengths, heatmap and change
    assert any("Change across assessments: case" in str(m.value) for m in at.markdown)
