"""The Judgement tab, the bias check at finalising, and the judgement on the other pages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from instrument.formulation import Review
from instrument.judgement import Judgement
from instrument.ui import judgement_fields as F
from instrument.ui import state
from instrument.vocabulary import FiveP
from tests.test_judgement import case_document
from tests.ui.app_support import CASE, draft, fill, finalise, new_case
from tests.ui.conftest import Web, texts

XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"


ONE_ZERO_CASE = (
    Path(__file__).resolve().parents[2] / "formulations" / "wc-02-grievance.assessment.json"
)


def field(name: str, *, case: str = CASE, version: int = 1) -> str:
    """Return the widget key of a judgement field, as the page spells it."""
    return state.widget_key(state.JUDGEMENT_FORM, f"{case}.{version}.f.{name}")


def open_tab(web: Web, section: str = "Judgement", who: str = "psychologist") -> AppTest:
    at = web.app(who, "assessment", case=CASE, v="1", section=section)
    assert not at.exception, [e.value for e in at.exception]
    return at


def raw_markup(at: AppTest) -> list[str]:
    bodies = [str(m.value) for m in [*at.markdown, *at.caption, *at.error, *at.warning]]
    return [b for b in bodies if re.search(r"(?<!\\)<(script|img)|!\[|\]\((http|javascript)", b)]


def judgement_section() -> dict[str, Any]:
    section: dict[str, Any] = case_document()["judgement"]
    section["scenarios"][0]["items"] = ["ID1"]
    section["scenarios"][1]["items"] = ["ID1"]
    return section


def store_judgement(web: Web, section: dict[str, Any]) -> None:
    actor = web.actor("psychologist")
    with web.service() as service:
        current = service.get_assessment(actor, CASE, 1)
        for part, value in section.items():
            current = service.save_judgement(
                actor, CASE, 1, part, value, base_revision=current.revision
            )


# --- the fields, without a browser ----------------------------------------------------------------


def test_fields_round_trip_the_worked_case() -> None:
    stored = Judgement.model_validate(judgement_section())
    values = F.fields_of(stored)
    get = values.get
    rebuilt = {
        "person_specific": F.person_specific_value(get, list(stored.person_specific)),
        "five_p": F.five_p_value(get, [("EM1", FiveP.PREDISPOSING), ("ID1", FiveP.PREDISPOSING)]),
        "good_lives": F.good_lives_value(get),
        "scenarios": F.scenarios_value(get, len(stored.scenarios)),
        "summary": F.summary_value(get),
        "bias_check": F.bias_check_value(get),
        "limitations": F.limitations_value(get),
    }
    assert Judgement.model_validate(rebuilt) == stored


def test_a_review_narrative_fills_an_empty_heading() -> None:
    review = Review(narratives={FiveP.PROTECTIVE: "From the formulation page."})
    values = F.fields_of(None, review)
    assert values["five_p.protective.text"] == "From the formulation page."
    assert values["five_p.protective.na"] is False


def test_an_incomplete_good_is_not_saved_and_ids_are_not_reused() -> None:
    values = {"gl.life.importance": "high", "gl.work.importance": "low"}
    values |= {"gl.work.attainment": "low", "gl.work.means": "none"}
    value = F.good_lives_value(values.get)
    assert value is not None
    assert list(value["goods"]) == ["work"]
    assert F.next_person_specific_id(["PS1", "PS3"]) == "PS2"
    assert F.scenarios_value({"sc.0.title": "a", "sc.1.title": "b"}.get, 2, drop=0)[0]["title"] == (
        "b"
    )


# --- the Judgement tab ----------------------------------------------------------------------------


def test_the_tab_saves_each_part_as_it_changes(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    at = open_tab(web)
    assert not raw_markup(at)
    assert "optional for an assessment of instrument 1.0" not in texts(at)  # a 1.1 draft
    at.text_area(key=field("five_p.presenting_problem")).input("Referred by the college.").run()
    stored = draft(web).assessment.judgement
    assert stored is not None
    assert stored.five_p is not None
    assert stored.five_p.presenting_problem == "Referred by the college."
    at.toggle(key=field("five_p.protective.na")).set_value(True).run()
    at.text_area(key=field("five_p.protective.text")).input("No strengths known yet.").run()
    at.segmented_control(key=field("sum.urgency.level")).set_value("moderate").run()
    at.text_area(key=field("sum.urgency.rationale")).input("Start this month.").run()
    at.segmented_control(key=field("gl.work.importance")).set_value("high").run()
    assert draft(web).assessment.judgement.good_lives is None  # type: ignore[union-attr]
    at.segmented_control(key=field("gl.work.attainment")).set_value("low").run()
    at.segmented_control(key=field("gl.work.means")).set_value("prosocial").run()
    # The partly chosen good kept its values through each save.
    assert at.segmented_control(key=field("gl.work.importance")).value == "high"
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    assert judgement.five_p is not None
    assert judgement.five_p.headings[FiveP.PROTECTIVE].not_applicable == "No strengths known yet."
    assert judgement.summary is not None
    assert judgement.summary.urgency is not None
    assert judgement.summary.urgency.rationale == "Start this month."
    assert judgement.good_lives is not None
    assert list(judgement.good_lives.goods) == ["work"]


def test_factors_and_scenarios_are_added_and_removed(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    at = open_tab(web)
    at.text_input(key=field("new_ps.title")).input("Night-time online immersion").run()
    at.button(key=state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.add_ps")).click().run()
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    assert list(judgement.person_specific) == ["PS1"]
    at.text_input(key=field("new_sc.title")).input("Drifting deeper").run()
    at.button(key=state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.add_sc")).click().run()
    at.text_input(key=field("new_sc.title")).input("Second").run()
    at.button(key=state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.add_sc")).click().run()
    at.text_area(key=field("sc.1.what")).input("Something general.").run()
    at.button(key=state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.remove_sc.0")).click().run()
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    assert [s.title for s in judgement.scenarios] == ["Second"]
    assert judgement.scenarios[0].what == "Something general."
    assert at.text_input(key=field("sc.0.title")).value == "Second"
    assert not at.exception


def test_typed_markup_stays_text_and_a_bad_value_is_refused_beside_it(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    store_judgement(web, {"limitations": XSS})
    at = open_tab(web)
    assert at.text_area(key=field("limitations")).value == XSS
    assert not raw_markup(at)
    at.text_input(key=field("new_ps.title")).input("x" * 10).run()
    at.button(key=state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.add_ps")).click().run()
    at.text_input(key=field("ps.PS1.title")).input("").run()
    assert any("title" in str(e.value) for e in at.error)
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    assert judgement.person_specific["PS1"].title == "x" * 10


def test_a_change_in_another_tab_is_merged_and_shown(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    at = open_tab(web)
    store_judgement(web, {"limitations": "Saved in another tab."})
    at.text_area(key=field("five_p.presenting_problem")).input("Mine.").run()
    assert not at.error
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    assert judgement.limitations == "Saved in another tab."
    assert judgement.five_p is not None
    assert judgement.five_p.presenting_problem == "Mine."
    assert at.text_area(key=field("limitations")).value == "Saved in another tab."
    assert at.text_area(key=field("five_p.presenting_problem")).value == "Mine."


@pytest.mark.parametrize("choice", ["keep", "reload"])
def test_the_same_field_changed_in_another_tab_asks_which_to_keep(web: Web, choice: str) -> None:
    new_case(web)
    fill(web, judgement=False)
    at = open_tab(web)
    store_judgement(web, {"limitations": "Theirs, saved in another tab."})
    at.text_area(key=field("limitations")).input("Mine, typed here.").run()
    shown = [str(e.value) for e in at.error]
    assert any("another tab or by another person" in text for text in shown)
    assert not any("revision" in text for text in shown)
    key = state.widget_key(state.JUDGEMENT_FORM, f"{CASE}.1.{choice}.limitations")
    at.button(key=key).click().run()
    judgement = draft(web).assessment.judgement
    assert judgement is not None
    expected = "Mine, typed here." if choice == "keep" else "Theirs, saved in another tab."
    assert judgement.limitations == expected
    assert at.text_area(key=field("limitations")).value == expected
    assert not at.error


def test_finalising_asks_for_the_bias_check_and_lists_judgement_problems(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    store_judgement(web, {"limitations": "Some limits."})
    at = open_tab(web, "Finalise")
    assert "Bias check" in [s.value for s in at.subheader]
    at.button[0].click().run()  # Check and finalise…
    shown = texts(at)
    assert "Judgement" in shown
    assert "Bias check" in shown
    at.segmented_control(key=field("bias.single-source.applies")).set_value("no").run()
    at.checkbox(key=field("bias.confirmed")).check().run()
    check = draft(web).assessment.judgement.bias_check  # type: ignore[union-attr]
    assert check is not None
    assert check.confirmed
    assert check.answers["single-source"].applies is False


def test_a_1_0_draft_shows_no_bias_check_and_says_the_judgement_is_optional(web: Web) -> None:
    # A case of instrument 1.0, which has no judgement section.
    document = json.loads(ONE_ZERO_CASE.read_text("utf-8"))
    document["case"]["reference"] = CASE
    with web.service() as service:
        imported = service.import_assessment(
            web.actor("psychologist"), json.dumps(document).encode()
        )
    assert imported.assessment.instrument.version == "1.0.0"
    at = open_tab(web, "Finalise")
    assert "Bias check" not in [s.value for s in at.subheader]
    at = open_tab(web)
    assert "optional for an assessment of instrument 1.0" in texts(at)


# --- the formulation page and the conference view ------------------------------------------------

JUDGEMENT_TAB, PART = state.FORMULATION_PART, "Scenarios and judgement"


def _judged_final(web: Web) -> None:
    new_case(web)
    fill(web, judgement=False)
    store_judgement(web, judgement_section())
    finalise(web)


def test_the_formulation_page_shows_the_judgement(web: Web) -> None:
    _judged_final(web)
    at = web.app("psychologist", "formulation", case=CASE, v="1")
    assert not at.exception, [e.value for e in at.exception]
    # At the top, after the escalation prompt and the focus: the summary judgements.
    headers = [h.value for h in at.header]
    assert "The assessor's summary judgements" in headers
    assert "Where to start" in [s.value for s in at.subheader]
    assert "Scenarios" not in headers  # the rest is in its own tab, drawn only when open
    assert not raw_markup(at)
    at = web.app("psychologist", "formulation", case=CASE, v="1", **{JUDGEMENT_TAB: PART})
    assert not at.exception, [e.value for e in at.exception]
    headers = [h.value for h in at.header]
    for header in (
        "Scenarios",
        "Person-specific factors",
        "Good Lives",
        "Limitations and bias check",
    ):
        assert header in headers
    shown = re.sub(r"\\(.)", r"\1", texts(at))
    assert "Sleeps through most mornings" in shown
    assert not raw_markup(at)


def test_a_viewer_sees_titles_and_judgements_only(web: Web) -> None:
    _judged_final(web)
    at = web.app("viewer", "formulation", case=CASE, v="1", **{JUDGEMENT_TAB: PART})
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert "Online hostility turning into harassment" in shown
    assert "Sleeps through most mornings" not in shown
    assert "Several needs of high relevance" not in shown
    assert "Not shown for your role" in shown


def test_the_conference_puts_judgements_first_for_psychologists_and_supervisors(
    web: Web,
) -> None:
    _judged_final(web)
    for who, first in (("psychologist", True), ("supervisor", True), ("viewer", False)):
        at = web.app(who, "conference", case=CASE, v="1")
        assert not at.exception, [e.value for e in at.exception]
        headers = [h.value for h in at.header]
        judged = headers.index("The assessor's summary judgements")
        reasons = headers.index("Priorities and their reasons")
        assert (judged < reasons) is first, (who, headers)
        assert headers.index("Scenarios") == judged + 1
    assert "Sleeps through" not in json.dumps(texts(at))
