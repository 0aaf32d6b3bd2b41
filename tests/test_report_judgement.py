"""The report of a formulation with the assessor's judgement: sections, escaping, redaction, PDF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from markupsafe import escape

from instrument import report as R
from instrument.definition import Instrument
from instrument.definitions import catalogue, current_instrument
from instrument.exchange.assessments import parse_assessment
from instrument.formulation import Formulation, formulate, redact
from instrument.profile import CHARTS, describe_good_lives, good_lives_spec
from tests.test_judgement import AT, _marked, case_document
from tests.test_report import PAYLOADS, live_markup, pdf_text

CANARY = "JUDGEMENT-CANARY"


@pytest.fixture
def instrument() -> Instrument:
    """The worked case of the judgement (WC-09) is assessed under instrument 1.1."""
    return current_instrument()


def formulation_of(document: dict[str, Any], instrument: Instrument) -> Formulation:
    assessment = parse_assessment(json.dumps(document).encode("utf-8"), catalogue())
    return formulate(instrument, assessment, generated_at=AT)


def test_the_report_has_every_judgement_section(instrument: Instrument) -> None:
    html = R.render_html(formulation_of(case_document(), instrument))
    for anchor in (
        'id="summary-judgements"',
        'id="person-specific"',
        'id="good-lives"',
        'id="figure-good-lives"',
        'id="scenarios"',
        'id="limitations"',
    ):
        assert anchor in html, anchor
    assert html.index('id="summary-judgements"') < html.index('id="priorities"')
    assert "Person-specific factor linked by the assessor (not scored" in html
    assert "Presenting problem, in the assessor's words" in html
    assert "The assessor confirmed the bias check." in html
    assert "What leaving would cost" in html


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("wc-09-judgement", "an area's band is high."),
        ("wc-07-intent-prompt", "an area's band is high and the escalation prompt is raised."),
    ],
)
def test_the_report_says_which_condition_asks_for_a_scenario(name: str, why: str) -> None:
    from pathlib import Path

    from instrument.exchange.assessments import parse_formulation

    folder = Path(__file__).resolve().parent.parent / "formulations" / "1.1"
    formulation = parse_formulation((folder / f"{name}.formulation.json").read_bytes())
    assert f"At least one is needed here: {why}" in R.render_html(formulation)


def test_a_report_without_judgement_has_none_of_its_sections(instrument: Instrument) -> None:
    document = case_document()
    document.pop("judgement")
    html = R.render_html(formulation_of(document, instrument))
    for anchor in ('id="summary-judgements"', 'id="good-lives"', 'id="scenarios"'):
        assert anchor not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_every_judgement_text_stays_text(instrument: Instrument, payload: str) -> None:
    document = _marked(case_document(), payload)
    for key in ("title",):
        for scenario in document["judgement"]["scenarios"]:
            scenario[key] = f"{payload} title"
        for factor in document["judgement"]["person_specific"].values():
            factor[key] = f"{payload} title"
    formulation = formulation_of(document, instrument)
    for redacted in (False, True):
        html = R.render_html(formulation, redact=redacted)
        assert live_markup(html) == []
        if "<" in payload:
            assert payload not in html
        assert html.count(str(escape(payload))) >= (4 if redacted else 20)


def test_the_redacted_report_keeps_titles_and_judgements_only(instrument: Instrument) -> None:
    formulation = formulation_of(_marked(case_document(), CANARY), instrument)
    assert CANARY in R.render_html(formulation)
    html = R.render_html(formulation, redact=True)
    assert CANARY not in html
    assert "Online hostility turning into harassment" in html
    assert 'class="level level-high">high<' in html
    assert "left out of this redacted copy" in html


def test_a_formulation_claiming_to_be_redacted_shows_no_judgement_text(
    instrument: Instrument,
) -> None:
    # A document from elsewhere may say it is redacted while still carrying every text.
    formulation = formulation_of(_marked(case_document(), CANARY), instrument)
    claimed = formulation.model_copy(update={"redacted": True})
    html = R.render_html(claimed)
    texts = html.replace(CANARY + " reason", "")  # the 5P reason is not shown either
    assert CANARY not in texts


def test_the_good_lives_chart_draws_no_text_typed_by_the_assessor(instrument: Instrument) -> None:
    formulation = formulation_of(_marked(case_document(), CANARY), instrument)
    assert CHARTS["good-lives"].applies(formulation)
    spec = good_lives_spec(formulation)
    assert CANARY not in json.dumps(spec)
    assert good_lives_spec(redact(formulation)) == spec
    description = describe_good_lives(formulation)
    assert len(description.rows) == 11
    svg = R.chart_svg(spec)
    assert "Excellence in agency" in svg


def test_no_good_lives_panel_draws_no_chart(instrument: Instrument) -> None:
    document = case_document()
    del document["judgement"]["good_lives"]
    formulation = formulation_of(document, instrument)
    assert not CHARTS["good-lives"].applies(formulation)
    assert "not recorded" in json.dumps(good_lives_spec(formulation))  # the CLI still draws it
    assert "no Good Lives panel" in describe_good_lives(formulation).sentences[0]
    assert 'id="figure-good-lives"' not in R.render_html(formulation)


def test_the_worked_case_report_renders_as_pdf(instrument: Instrument) -> None:
    formulation = formulation_of(case_document(), instrument)
    flat = " ".join(pdf_text(R.render_pdf(formulation)).split())
    for heading in (
        "The assessor's summary judgements",
        "Person-specific factors",
        "Good Lives",
        "Scenario 1: Online hostility turning into harassment",
        "Limitations and bias check",
    ):
        assert heading in flat, heading
    redacted = " ".join(pdf_text(R.render_pdf(formulation, redact=True)).split())
    assert "Sleeps through most mornings" in flat
    assert "Sleeps through most mornings" not in redacted
    assert "Scenario 1: Online hostility turning into harassment" in redacted


def _docx_text(data: bytes) -> str:
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def test_the_word_report_has_the_judgement_and_redacts_its_texts(instrument: Instrument) -> None:
    formulation = formulation_of(_marked(case_document(), CANARY), instrument)
    text = _docx_text(R.render_docx(formulation))
    for heading in (
        "The assessor's summary judgements",
        "Person-specific factors",
        "Good Lives",
        "Scenarios",
        "Limitations and bias check",
        "Sign-off",
    ):
        assert heading in text, heading
    assert text.index("The assessor's summary judgements") < text.index("Profile")
    assert "Good Lives: case " in text  # the Good Lives chart's title, above its picture
    assert "carry no probabilities" in text
    assert CANARY in text
    redacted = _docx_text(R.render_docx(formulation, redact=True))
    assert "The assessor's summary judgements" in redacted
    assert CANARY not in redacted


def test_a_word_report_without_judgement_has_none_of_its_sections(instrument: Instrument) -> None:
    document = case_document()
    del document["judgement"]
    text = _docx_text(R.render_docx(formulation_of(document, instrument)))
    for heading in ("summary judgements", "Person-specific factors", "Good Lives", "Scenarios"):
        assert heading not in text, heading
