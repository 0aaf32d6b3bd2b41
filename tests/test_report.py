"""Reports and pictures: escaped user text, redaction, PDF text, PNG for every worked case, CLI."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from instrument import profile as P
from instrument import report as R
from instrument.cli import main
from instrument.errors import InstrumentError
from instrument.exchange.assessments import load_formulation
from instrument.formulation import Formulation, formulation_json, set_narrative
from tests.test_profile import RATINGS, WORKED, make_formulation

PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
)
EVIDENCE = "EVIDENCE-{item} <script>alert(1)</script> <img src=x onerror=alert(1)>"
NOTE = "NOTE-CANARY <img src=x onerror=alert(1)>"


class Markup(HTMLParser):
    """Collects the elements and attributes a browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def live_markup(html: str) -> list[str]:
    """Return every piece of active markup in a page: scripts, images, handlers, js: links."""
    parser = Markup()
    parser.feed(html)
    found = [tag for tag in parser.tags if tag in {"script", "img", "iframe", "object", "embed"}]
    found += [name for name, _ in parser.attributes if name.lower().startswith("on")]
    found += [
        value for _, value in parser.attributes if value.strip().lower().startswith("javascript:")
    ]
    return found


def hostile_formulation() -> Formulation:
    """A formulation with markup typed into every text field a user can fill."""
    base = make_formulation(
        evidence=EVIDENCE,
        overrides={"emotion-management": "high"},
        assessor="Dr <img src=x onerror=alert(1)> Example",
        responsivity={
            "RS1": {"presence": "yes", "note": NOTE, "adaptation": PAYLOADS[0]},
            "RS3": {"presence": "yes", "note": NOTE, "adaptation": PAYLOADS[3]},
        },
    )
    review = base.review
    for heading, payload in zip(("presenting", "perpetuating"), PAYLOADS[:2], strict=True):
        review = set_narrative(review, heading, payload)
    five_p = [
        section.model_copy(update={"narrative": review.narratives.get(section.heading)})
        for section in base.five_p
    ]
    priorities = [
        p.model_copy(
            update={
                "override": p.override.model_copy(update={"rationale": PAYLOADS[1] * 3})
                if p.override
                else None
            }
        )
        for p in base.priorities
    ]
    # Names from another system's definition are outside text too.
    first = base.domains[0]
    items = [first.items[0].model_copy(update={"name": PAYLOADS[0]}), *first.items[1:]]
    domains = [first.model_copy(update={"items": items, "name": PAYLOADS[2]}), *base.domains[1:]]
    priorities[0] = priorities[0].model_copy(update={"name": PAYLOADS[1]})
    return base.model_copy(
        update={"five_p": five_p, "priorities": priorities, "domains": domains, "review": review}
    )


@pytest.fixture(scope="module")
def hostile() -> Formulation:
    return hostile_formulation()


@pytest.fixture(scope="module")
def hostile_html(hostile: Formulation) -> str:
    return R.render_html(hostile)


def evidence_texts(formulation: Formulation) -> list[str]:
    texts = [c.evidence for p in formulation.priorities for c in p.contributors if c.evidence]
    texts += [s.evidence for p in formulation.priorities for s in p.strengths if s.evidence]
    return texts


# --- the HTML report --------------------------------------------------------------------------


def test_the_report_has_every_section_and_chart() -> None:
    formulation = make_formulation(overrides={"emotion-management": "high"})
    html = R.render_html(formulation)
    assert "Case C-0001" in html
    assert str(escape(formulation.notice)) in html
    for priority in formulation.priorities:
        assert priority.name in html
    for heading in (
        "Intervention priorities",
        "Profile",
        "Priorities with their reasons",
        "Strengths",
        "5P formulation",
        "Responsivity",
        "Data quality",
        "Change",
    ):
        assert heading in html, heading
    assert html.count("<svg") == sum(chart.applies(formulation) for chart in P.CHARTS.values())
    assert "✎ Override by A. Assessor" in html
    assert "the chart as a table" in html


def test_history_adds_the_change_chart() -> None:
    first = make_formulation({**RATINGS, "EM5": ("no", None)}, assessed_on="2026-03-01")
    second = make_formulation(version=2, previous={**RATINGS, "EM5": ("no", None)})
    html = R.render_html(second, history=[first])
    assert html.count("<svg") == sum(chart.applies(second) for chart in P.CHARTS.values()) + 1
    assert "Change across assessments" in html


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_user_markup_comes_out_escaped(hostile_html: str, payload: str) -> None:
    assert payload not in hostile_html
    assert payload.replace("<", "&lt;").replace(">", "&gt;")[:12] in hostile_html.replace(
        "&#34;", '"'
    )


def test_no_user_text_becomes_live_markup_in_the_html_or_its_charts(hostile_html: str) -> None:
    assert live_markup(hostile_html) == []


TEXT_FIELDS = {
    "notice",
    "name",
    "summary",
    "evidence",
    "narrative",
    "rationale",
    "by",
    "note",
    "adaptation",
    "suggested",
    "sessions",
    "offered_reason",
    "warnings",
    "risk_management",
}


def with_payload_in_every_text(formulation: Formulation, payload: str) -> Formulation:
    """The formulation with `payload` appended to every free text, as another system may send."""

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and key in TEXT_FIELDS:
            return node + " " + payload
        return node

    document = walk(formulation.model_dump(mode="json", exclude_none=True))
    document["review"]["narratives"] = {
        heading: text + " " + payload for heading, text in document["review"]["narratives"].items()
    }
    return Formulation.model_validate(document)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_every_text_field_stays_text(payload: str) -> None:
    base = make_formulation(
        overrides={"emotion-management": "high"},
        previous=RATINGS,
        version=2,
        responsivity={"RS1": {"presence": "yes", "note": "n", "adaptation": "a"}},
    )
    hostile = with_payload_in_every_text(base, payload)
    for redacted in (False, True):
        html = R.render_html(hostile, redact=redacted)
        assert live_markup(html) == []
        if "<" in payload:
            assert payload not in html
        assert html.count(str(escape(payload))) > 10


def test_javascript_links_stay_text(hostile_html: str) -> None:
    assert "javascript:alert(1)" in hostile_html  # shown as typed, never as a link
    assert "href" not in hostile_html.replace("xlink:href", "")


def test_the_redacted_report_holds_no_evidence_text(hostile: Formulation) -> None:
    html = R.render_html(hostile, redact=True)
    assert "EVIDENCE-" not in html
    assert "NOTE-CANARY" not in html
    assert "redacted: no evidence text" in html
    assert live_markup(html) == []
    full = R.render_html(hostile)
    assert "EVIDENCE-ID1" in full.replace("&lt;", "<")
    assert "NOTE-CANARY" in full


def test_a_formulation_marked_redacted_never_shows_evidence(hostile: Formulation) -> None:
    # A document from elsewhere may say it is redacted while still carrying evidence.
    claimed = hostile.model_copy(update={"redacted": True})
    assert evidence_texts(claimed)
    html = R.render_html(claimed)
    assert "EVIDENCE-" not in html
    assert "NOTE-CANARY" not in html


# --- SVG and PNG ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<a xlink:href="javascript:alert(1)"/></svg>',
        "<svg><unclosed></svg>",
    ],
    ids=["script", "onload", "foreignObject", "javascript-link", "broken"],
)
def test_active_svg_is_refused(svg: str) -> None:
    with pytest.raises(InstrumentError):
        R.checked_svg(svg)


def test_the_charts_svg_escapes_user_text(hostile: Formulation) -> None:
    svg = R.chart_svg(P.heatmap(hostile))
    assert R.checked_svg(svg) == svg
    assert "<script" not in svg
    assert "&lt;" in svg  # the hostile domain name, as text


@pytest.mark.parametrize("path", WORKED, ids=lambda path: path.name.split(".")[0])
def test_every_chart_of_every_worked_case_renders_to_png(path: Path) -> None:
    formulation = load_formulation(path)
    for kind, chart in P.CHARTS.items():
        png = R.chart_png(chart.draw(formulation), scale=1)
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), kind
        assert len(png) > 5_000, kind


# --- the PDF ----------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    # `make test` installs poppler-utils; without it the PDF tests fail, never skip.
    assert pdftotext is not None, "pdftotext is missing: apt-get install poppler-utils"
    return subprocess.run(
        [pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")


@pytest.fixture(scope="module")
def pdf_of_a_case() -> tuple[Formulation, str]:
    formulation = make_formulation(
        evidence="Evidence canary {item}", overrides={"emotion-management": "high"}
    )
    return formulation, pdf_text(R.render_pdf(formulation))


def test_the_pdf_holds_the_case_reference_and_the_priorities(
    pdf_of_a_case: tuple[Formulation, str],
) -> None:
    formulation, text = pdf_of_a_case
    flat = " ".join(text.split())
    assert "C-0001" in flat
    for priority in formulation.priorities:
        assert priority.name in flat, priority.name
    assert "Structured professional judgement aid" in flat
    assert "Evidence canary ID1" in flat
    assert "page 1 of" in flat


def test_the_redacted_pdf_holds_no_evidence() -> None:
    formulation = make_formulation(evidence="Evidence canary {item}")
    text = " ".join(pdf_text(R.render_pdf(formulation, redact=True)).split())
    assert "Evidence canary" not in text
    assert "C-0001" in text


# --- the command line -------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    code = exit_.value.code
    return int(code) if isinstance(code, int) else 1, capsys.readouterr().err


@pytest.fixture
def formulation_file(tmp_path: Path) -> Path:
    path = tmp_path / "case.formulation.json"
    path.write_text(formulation_json(hostile_formulation()), encoding="utf-8")
    return path


def test_cli_report_writes_html(
    capsys: pytest.CaptureFixture[str], formulation_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, err = run_cli(capsys, "report", str(formulation_file), "-o", str(out))
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert live_markup(html) == []
    assert "EVIDENCE-" in html


def test_cli_report_redacts(
    capsys: pytest.CaptureFixture[str], formulation_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, err = run_cli(capsys, "report", str(formulation_file), "-o", str(out), "--redact")
    assert code == 0, err
    assert "EVIDENCE-" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_cli_chart_writes_the_picture(
    capsys: pytest.CaptureFixture[str], formulation_file: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"profile{suffix}"
    code, err = run_cli(capsys, "chart", str(formulation_file), "--kind", "profile", "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG" if suffix == ".png" else b"<svg")


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("report", "{file}", "-o", "{tmp}/report.txt"), "{tmp}/report.txt"),
        (("report", "{file}", "-o", "{tmp}/report"), "{tmp}/report"),
        (("chart", "{file}", "--kind", "profile", "-o", "{tmp}/x.pdf"), "{tmp}/x.pdf"),
        (("report", "{file}", "-o", "{tmp}/missing/report.html"), "{tmp}/missing/report.html"),
        (("report", "{tmp}/absent.json", "-o", "{tmp}/report.html"), "absent.json"),
    ],
    ids=["report-suffix", "no-suffix", "chart-suffix", "unwritable", "missing-input"],
)
def test_cli_bad_input_exits_2_naming_the_path(
    capsys: pytest.CaptureFixture[str],
    formulation_file: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    where: str,
) -> None:
    fill: dict[str, Any] = {"file": formulation_file, "tmp": tmp_path}
    code, err = run_cli(capsys, *(arg.format(**fill) for arg in args))
    assert code == 2
    assert where.format(**fill) in err
    assert "Traceback" not in err


def test_cli_refuses_an_invalid_formulation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"notice": 1}', encoding="utf-8")
    code, err = run_cli(capsys, "report", str(bad), "-o", str(tmp_path / "r.html"))
    assert code == 2
    assert "$" in err


# --- sign-off, Word, the blank form -------------------------------------------------------------


def docx_text(data: bytes) -> str:
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    lines += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(lines)


def test_the_sign_off_block_names_each_signature_or_leaves_a_row_to_sign_by_hand() -> None:
    import datetime as dt

    formulation = make_formulation()
    at = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    signed = [R.SignOff("finalised by", "psy.north", "psychologist", at)]
    html = R.render_html(formulation, signatures=signed)
    assert (
        "Finalised by</th><td>psy.north</td><td>psychologist</td><td>2026-11-30 09:15 UTC" in html
    )
    assert '<tr class="unsigned"><th scope="row">Countersigned by' in html
    assert "sign it by hand" in html
    blank = R.render_html(formulation)
    assert blank.count('class="unsigned"') == 2
    redacted = R.render_html(formulation, redact=True, signatures=signed)
    assert "psy.north" not in redacted
    assert "(not shown for your role)" in redacted
    both = [*signed, R.SignOff("countersigned by", "sup.north", "supervisor", at)]
    assert "sign it by hand" not in R.render_html(formulation, signatures=both)


def test_the_pdf_ends_on_a_page_with_content_and_holds_the_sign_off() -> None:
    formulation = make_formulation(evidence="Evidence canary {item}")
    pdf = R.render_pdf(formulation)
    pages = pdf_text(pdf).split("\f")
    last = [p for p in pages if p.strip()][-1]
    assert "Sign-off" in " ".join(pdf_text(pdf).split())
    # The last page holds more than a footer and a line or two.
    assert len(last.split()) > 60, last


def test_the_word_report_holds_the_same_content_as_text(hostile: Formulation) -> None:
    data = R.render_docx(hostile)
    assert data.startswith(b"PK")
    words = docx_text(data)
    for priority in hostile.priorities:
        assert priority.name in words
    assert "EVIDENCE-" in words
    assert "Sign-off" in words
    assert hostile.notice in words
    redacted = docx_text(R.render_docx(hostile, redact=True))
    assert "EVIDENCE-" not in redacted


def test_cli_report_writes_docx(
    capsys: pytest.CaptureFixture[str], formulation_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.docx"
    code, err = run_cli(capsys, "report", str(formulation_file), "-o", str(out))
    assert code == 0, err
    assert "Countersigned by" in docx_text(out.read_bytes())


def test_cli_blank_form_writes_every_item_to_fill_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from instrument.definitions import current_instrument

    out = tmp_path / "form.pdf"
    code, err = run_cli(capsys, "blank-form", "-o", str(out))
    assert code == 0, err
    text = " ".join(pdf_text(out.read_bytes()).split())
    instrument = current_instrument()
    for item in [*instrument.items, *instrument.responsivity]:
        assert f"{item.id} {item.name}" in text, item.id
    assert "Case reference" in text
    assert "Structured professional judgement aid" in text
    code, err = run_cli(capsys, "blank-form", "-o", str(tmp_path / "form.txt"))
    assert code == 2
    assert "form.txt" in err
    code, err = run_cli(capsys, "blank-form", "-o", str(out), "--definition", "ifi")
    assert code == 2
    assert "--definition" in err
    assert "Traceback" not in err


def test_a_11_report_shows_the_escalation_prompt_first_and_bars_not_decimal_scores() -> None:
    from instrument.exchange.assessments import load_formulation
    from instrument.report import render_html

    path = Path(__file__).resolve().parent.parent / "formulations" / "1.1"
    formulation = load_formulation(path / "wc-07-intent-prompt.formulation.json")
    html = render_html(formulation)
    assert html.index("Escalation prompt: raised") < html.index("Intervention priorities")
    assert "safeguarding or referral procedure" in html
    assert "<strong>Focus.</strong> Start with" in html
    assert "What would change this band." in html
    assert 'class="bar"' in html
    assert ">Score 0." not in html
    assert "Score 1.00" not in html
    nothing = render_html(load_formulation(path / "wc-08-nothing-offered.formulation.json"))
    assert "No area offered" in nothing
